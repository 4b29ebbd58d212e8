// What an ingest reports while it runs (observer events) and when it ends (the result struct).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/klv_framing.h"
#include "core/preview_sink.h"
#include "core/probe.h"

namespace fmv {

struct RenditionResult {
  std::string name;       // "1080p"
  int width = 0;
  int height = 0;
  double frameRate = 0;
  std::string codecs;     // RFC 6381 CODECS value, e.g. "avc1.640028,mp4a.40.2"
  std::string videoEncoder;
  int64_t videoBitrate = 0;      // target
  int64_t maxBitrate = 0;        // VBV peak
  int64_t audioBitrate = 0;      // 0 without audio
  int64_t bandwidth = 0;         // measured peak segment bit rate (BANDWIDTH)
  int64_t averageBandwidth = 0;  // measured average (AVERAGE-BANDWIDTH)
  std::string playlist;          // relative to the output directory
  int segments = 0;
  double duration = 0;           // sum of segment durations, seconds
  int64_t bytes = 0;             // segments (+ init segment) on disk
  int64_t frames = 0;            // video frames encoded
  int64_t klvPackets = 0;        // KLV units muxed
};

struct HardwareResult {
  std::string requested;  // auto | cpu | cuda | vaapi
  std::string used;       // cpu | cuda | vaapi
  std::string reason;     // why this path ran (and why any fallback happened)
  std::string device;     // "" on cpu
  std::string decoder;    // e.g. "h264 (nvdec)" or "h264"
  std::string scaler;     // scale_cuda | scale_vaapi | swscale
  std::string encoder;    // libx264 | h264_nvenc | h264_vaapi | ...
  bool fallback = false;  // the path used differs from what was requested or planned
};

struct IngestWarning {
  // Stable: INPUT_DAMAGED, DECODE_ERRORS, INPUT_TRUNCATED, INPUT_ENDED, HW_FALLBACK, KLV_NOT_IN_SEGMENTS,
  // KLV_TRUNCATED, RUNG_SKIPPED, AUDIO_DROPPED, AUDIO_DECODE_ERRORS.
  std::string code;
  std::string message;
};

struct IngestCounts {
  int64_t packetsRead = 0;
  int64_t bytesRead = 0;
  int64_t videoPackets = 0;
  int64_t framesDecoded = 0;
  int64_t framesOut = 0;       // display frames after deinterlacing, fed to every rung
  int64_t framesShed = 0;      // live: display frames left out to catch up with the input
  int64_t decodeErrors = 0;
  int64_t corruptPackets = 0;  // packets the demuxer flagged corrupt
  int64_t timestampJumps = 0;  // discontinuities joined into one timeline
  int64_t audioPackets = 0;    // packets muxed per rendition
  int64_t audioDecodeErrors = 0;
  int64_t klvPackets = 0;      // KLV PES packets read
  int64_t klvUnits = 0;        // whole KLV units framed (and muxed into every TS rendition)
  int64_t klvBytes = 0;
  int64_t klvPtsInferred = 0;  // units that borrowed the latest video PTS
  int64_t klvGarbageBytes = 0;
  int64_t klvTruncatedUnits = 0;
  int64_t previewFrames = 0;   // frames handed to the preview sink
};

struct IngestTimings {
  double openMs = 0;      // open + stream info
  double transcodeMs = 0; // the single pass (demux → encode → mux)
  double finalizeMs = 0;  // trailers, previews, master playlist
  double totalMs = 0;
};

struct KlvCarriage {
  bool inSegments = false;  // KLV PIDs written into the segments
  std::string mode;         // "ts-pes" | "emsg" | "none"
  std::string reason;
};

struct IngestResult {
  ProbeResult source;
  std::vector<RenditionResult> renditions;
  std::string masterPlaylist;  // "ABR.m3u8"
  std::string abrInfo;         // "abr.json"
  std::vector<std::string> files;  // every file written, relative to the output directory
  HardwareResult hardware;
  IngestCounts counts;
  IngestTimings timings;
  KlvCarriage klv;
  std::vector<IngestWarning> warnings;
  bool hasPreviews = false;
  PreviewResult previews;  // poster, sprite sheets, WebVTT track (paths absolute)
  std::vector<std::string> ladderNotes;  // tiers left out (never upscaled)
  std::string audio;     // "copy" | "aac" | "none"
  bool deinterlaced = false;
  double duration = 0;   // output duration (first to last video frame), seconds
  double sourceStart = 0;
  std::vector<std::string> log;  // FFmpeg warnings and errors logged on the job thread (tail)
};

struct IngestProgress {
  int64_t frames = 0;
  double outTime = 0;    // seconds of video encoded
  double fps = 0;
  double speed = 0;      // outTime / wall time
  double percent = -1;   // -1 when the duration is unknown (live inputs)
  double etaSeconds = -1;
  int64_t bytesRead = 0;
  double elapsedSeconds = 0;
  // Live: segments listed in the top rendition's playlist, and how long the latest frame waited
  // between its arrival at the input and its encoding (-1 when not live).
  int64_t segments = 0;
  double lagSeconds = -1;
};

// Decisions taken once the input is open, before the pass starts.
struct IngestPlanInfo {
  ProbeResult source;
  std::vector<RenditionResult> renditions;  // name, size, bitrates filled
  HardwareResult hardware;
  std::string audio;
  bool deinterlace = false;
};

// Called on the job thread. Implementations must be quick; the binding queues to JS.
class IngestObserver {
 public:
  virtual ~IngestObserver() = default;
  virtual void onPlan(const IngestPlanInfo&) {}
  virtual void onProgress(const IngestProgress&) {}
  virtual void onKlv(std::vector<KlvUnit>&&) {}
  virtual void onWarning(const IngestWarning&) {}
  // streamInfo, videoInfo, transcode, klv, hls, poster, previews, abr
  virtual void onStep(const std::string&) {}
};

}  // namespace fmv
