#include "core/ingest_options.h"

#include "core/ingest_ladder.h"

namespace fmv {

const char* toString(HwAccel h) {
  switch (h) {
    case HwAccel::Auto: return "auto";
    case HwAccel::Cpu: return "cpu";
    case HwAccel::Cuda: return "cuda";
    case HwAccel::Vaapi: return "vaapi";
  }
  return "auto";
}

const char* toString(VideoCodec c) { return c == VideoCodec::Hevc ? "hevc" : "h264"; }

const char* toString(SegmentFormat f) { return f == SegmentFormat::Fmp4 ? "fmp4" : "ts"; }

const char* toString(Tier t) {
  for (const auto& d : tierDefaults())
    if (d.tier == t) return d.name;
  return "fhd";
}

}  // namespace fmv
