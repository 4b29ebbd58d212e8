#include "core/ingest_ladder.h"

#include <algorithm>
#include <cmath>

namespace fmv {
namespace {

constexpr double kMaxToTarget = 1.5;   // VBV peak over the target rate
constexpr double kBufferToTarget = 2.0;
constexpr int64_t kMinBitrate = 150000;

int evenDown(int v) { return std::max(2, v - (v % 2)); }

double aspectOf(const LadderSource& s) {
  if (s.displayAspect > 0) return s.displayAspect;
  return s.height > 0 ? static_cast<double>(s.width) / s.height : 16.0 / 9.0;
}

// A rate for a frame size from the tier whose height is nearest, scaled by pixel count.
int64_t bitrateFor(int width, int height) {
  const auto& tiers = tierDefaults();
  const TierDefaults* nearest = &tiers.front();
  for (const auto& t : tiers) {
    if (std::abs(t.height - height) < std::abs(nearest->height - height)) nearest = &t;
  }
  const double tierPixels = static_cast<double>(evenWidthFor(nearest->height, 16.0 / 9.0)) * nearest->height;
  const double scaled = static_cast<double>(nearest->videoBitrate) * (static_cast<double>(width) * height) / tierPixels;
  return std::max<int64_t>(kMinBitrate, static_cast<int64_t>(std::llround(scaled / 1000.0) * 1000));
}

Rung makeRung(std::string name, int width, int height, int64_t bitrate, int64_t maxBitrate) {
  Rung r;
  r.name = name.empty() ? std::to_string(height) + "p" : std::move(name);
  r.width = width;
  r.height = height;
  r.videoBitrate = bitrate;
  r.maxBitrate = maxBitrate > 0 ? maxBitrate : static_cast<int64_t>(bitrate * kMaxToTarget);
  r.bufferSize = static_cast<int64_t>(bitrate * kBufferToTarget);
  return r;
}

Rung sourceSizeRung(const LadderSource& s) {
  const int h = evenDown(s.height);
  const int w = evenWidthFor(h, aspectOf(s));
  return makeRung("", w, h, bitrateFor(w, h), 0);
}

}  // namespace

const std::vector<TierDefaults>& tierDefaults() {
  static const std::vector<TierDefaults> tiers = {
      {Tier::Sd, "sd", 480, 1200000},
      {Tier::Hd, "hd", 720, 3000000},
      {Tier::Fhd, "fhd", 1080, 6000000},
      {Tier::Uhd, "uhd", 2160, 16000000},
  };
  return tiers;
}

int evenWidthFor(int height, double displayAspect) {
  const double w = height * (displayAspect > 0 ? displayAspect : 16.0 / 9.0);
  return std::max(2, static_cast<int>(std::lround(w / 2.0)) * 2);
}

LadderPlan planLadder(Tier tier, const std::vector<RungSpec>& custom, const LadderSource& source) {
  LadderPlan plan;
  const double aspect = aspectOf(source);
  if (!custom.empty()) {
    for (const RungSpec& spec : custom) {
      if (spec.height > source.height) {
        plan.notes.push_back("rung " + (spec.name.empty() ? std::to_string(spec.height) + "p" : spec.name) + " (" + std::to_string(spec.height) +
                             " lines) skipped: the source has " + std::to_string(source.height) + " lines and is never upscaled");
        continue;
      }
      const int w = spec.width > 0 ? spec.width : evenWidthFor(spec.height, aspect);
      const int64_t rate = spec.videoBitrate > 0 ? spec.videoBitrate : bitrateFor(w, spec.height);
      plan.rungs.push_back(makeRung(spec.name, w, spec.height, rate, spec.maxBitrate));
    }
  } else {
    for (const auto& t : tierDefaults()) {
      if (static_cast<int>(t.tier) > static_cast<int>(tier)) break;
      if (t.height > source.height) {
        plan.notes.push_back(std::string("tier ") + t.name + " (" + std::to_string(t.height) + "p) skipped: the source has " +
                             std::to_string(source.height) + " lines and is never upscaled");
        continue;
      }
      const int w = evenWidthFor(t.height, aspect);
      plan.rungs.push_back(makeRung("", w, t.height, t.videoBitrate, 0));
    }
  }
  if (plan.rungs.empty()) plan.rungs.push_back(sourceSizeRung(source));
  std::stable_sort(plan.rungs.begin(), plan.rungs.end(), [](const Rung& a, const Rung& b) { return a.height > b.height; });
  return plan;
}

}  // namespace fmv
