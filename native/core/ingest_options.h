// The ingest job: a plain description of one single-pass ingest (input → ABR ladder in HLS with KLV
// kept, poster and previews). Filled by the binding or the fmv-core tool from options that were
// validated before; the core trusts it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/input.h"
#include "core/live_playlist.h"
#include "core/preview_sink.h"

namespace fmv {

enum class HwAccel { Auto, Cpu, Cuda, Vaapi };
enum class VideoCodec { H264, Hevc };
enum class SegmentFormat { Ts, Fmp4 };

// Named ladder tiers; a request includes the named tier and every lower one.
enum class Tier { Sd, Hd, Fhd, Uhd };

// One custom rung (ladder override). Zero fields take the defaults described beside them.
struct RungSpec {
  std::string name;          // "" → "<height>p"
  int width = 0;             // 0 → from the source display aspect ratio, even
  int height = 0;            // required, even
  int64_t videoBitrate = 0;  // bits/s; 0 → scaled from the nearest tier by pixel count
  int64_t maxBitrate = 0;    // VBV peak; 0 → 1.5 × videoBitrate
};

struct IngestJob {
  std::string input;  // file path or any URL libavformat opens (udp://, srt://, rtsp://, http://)
  InputOptions inputOptions;
  std::string outDir;  // existing scratch directory owned by the caller

  Tier tier = Tier::Fhd;
  std::vector<RungSpec> ladder;  // non-empty replaces the tier ladder

  HwAccel hwaccel = HwAccel::Auto;
  std::string hwDevice;  // "" → default device (CUDA 0, /dev/dri/renderD128)

  VideoCodec codec = VideoCodec::H264;
  std::string preset = "veryfast";  // x264/x265 preset names; mapped for NVENC

  double segmentSeconds = 4;
  SegmentFormat segmentFormat = SegmentFormat::Ts;
  // A live input: outputs are written as they are produced (sliding-window or DVR playlists with
  // PROGRAM-DATE-TIME, rewritten per segment), encoders set for low delay, the input watched for
  // silence. Otherwise VOD playlists written at the end.
  struct Live {
    bool enabled = false;
    LivePlaylistSettings playlist;
    // Silence after which the input counts as stalled (warned; and, before the first byte, the
    // open fails), and how much longer it may stay silent before the run ends gracefully.
    int64_t inputTimeoutMs = 5000;
    int64_t reconnectWindowMs = 60000;
    // Frames waiting longer than this between arrival and encoding: every other one is shed until
    // the wait is under a third of it (0: never).
    double maxLagSeconds = 1.0;
  } live;

  bool audio = true;
  int64_t audioBitrate = 128000;

  bool klv = true;  // hand KLV unit batches to the observer (they are muxed either way)
  int klvBatchUnits = 100;
  int klvBatchMs = 250;

  // Poster, thumbnails, sprite sheets and WebVTT track from the decoded frames of the pass. outDir,
  // displayAspectRatio and durationHint are filled in from the job and the source.
  bool previews = true;
  PreviewOptions previewOptions;

  int64_t timeoutMs = 0;      // 0 → none
  int progressIntervalMs = 100;
};

const char* toString(HwAccel h);
const char* toString(VideoCodec c);
const char* toString(SegmentFormat f);
const char* toString(Tier t);

}  // namespace fmv
