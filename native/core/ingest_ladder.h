// Ladder planning: which renditions an ingest produces for a source, from the requested tier or
// from custom rungs. Pure arithmetic, no FFmpeg objects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ingest_options.h"

namespace fmv {

struct Rung {
  std::string name;
  int width = 0;
  int height = 0;
  int64_t videoBitrate = 0;
  int64_t maxBitrate = 0;
  int64_t bufferSize = 0;
};

struct TierDefaults {
  Tier tier;
  const char* name;
  int height;
  int64_t videoBitrate;
};

// sd 480p 1.2 Mb/s, hd 720p 3 Mb/s, fhd 1080p 6 Mb/s, uhd 2160p 16 Mb/s (lowest first).
const std::vector<TierDefaults>& tierDefaults();

struct LadderSource {
  int width = 0;
  int height = 0;
  // Display aspect ratio (width / height as shown); 0 → width / height.
  double displayAspect = 0;
};

struct LadderPlan {
  std::vector<Rung> rungs;           // highest first
  std::vector<std::string> notes;    // rungs dropped (no upscaling) and why
};

// The requested tier and every lower one, never above the source height; a source below the
// lowest tier gets one rendition at its own size. Widths follow the display aspect, even.
LadderPlan planLadder(Tier tier, const std::vector<RungSpec>& custom, const LadderSource& source);

// Even width for a height at a display aspect ratio.
int evenWidthFor(int height, double displayAspect);

}  // namespace fmv
