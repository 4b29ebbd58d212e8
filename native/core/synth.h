// A synthetic FMV clip made in-process: libavfilter's testsrc2 encoded to H.264, a sine tone in
// AAC, and caller-supplied KLV units, muxed into MPEG-TS. Used by the demo and the tests, so the
// project needs no binary media in the repository.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/cancel.h"

namespace fmv {

struct SynthKlvUnit {
  double seconds = 0;  // presentation time relative to the start of the clip
  std::vector<uint8_t> data;
};

struct SynthOptions {
  std::string path;
  int width = 1280;
  int height = 720;
  int fpsNum = 30;
  int fpsDen = 1;
  double durationSeconds = 5;
  int sarNum = 1;
  int sarDen = 1;
  bool audio = true;
  bool interlaced = false;      // encode as interlaced (top field first)
  std::string preset = "ultrafast";
  int64_t videoBitRate = 0;     // 0: CRF 23
  int gopFrames = 0;            // 0: one keyframe per second
  bool klvSync = false;         // PMT stream_type 0x15 instead of 0x06 (FFmpeg writes no AU cell headers)
  std::vector<SynthKlvUnit> klv;
};

struct SynthResult {
  int64_t videoFrames = 0;
  int64_t audioFrames = 0;
  int64_t klvUnits = 0;
  int64_t bytes = 0;
};

SynthResult synthesizeClip(const SynthOptions& options, CancelToken& cancel);

}  // namespace fmv
