// One rung of the ladder: its filter graph (scale / scale_cuda / scale_vaapi, 8-bit 4:2:0, square
// pixels) and its encoder (libx264 / libx265 / NVENC / VAAPI), with closed GOPs and a forced IDR at
// every segment boundary so that all rungs switch at the same frames.
#pragma once

#include <functional>
#include <string>

#include "core/av_holders.h"
#include "core/ingest_filters.h"
#include "core/ingest_ladder.h"
#include "core/ingest_options.h"

namespace fmv {

// Segment boundaries on the input clock, shared by every rung: frame t starts segment
// floor((t - origin) / length). The pipeline sets origin from the first frame.
struct SegmentClock {
  double origin = 0;
  double length = 4;
  bool started = false;
  int64_t base = 0;  // index of the segment that starts at origin
  int64_t segmentOf(double seconds) const;
  // Starts a new segment at `at` (after a break in the input), numbered after the one that holds
  // `previous`; later boundaries are counted from `at`.
  void restartAt(double at, double previous);
};

struct EncoderSettings {
  std::string encoder;  // libx264 | libx265 | h264_nvenc | hevc_nvenc | h264_vaapi | hevc_vaapi
  VideoCodec codec = VideoCodec::H264;
  std::string preset = "veryfast";
  AVRational frameRate{0, 1};  // nominal; {0,1} when unknown
  bool globalHeader = true;    // the HLS muxer wants codec headers out of band
  bool fmp4 = false;           // tag HEVC as hvc1 for fMP4
  bool takesDeviceFrames = false;
  AVBufferRef* hwDevice = nullptr;  // borrowed: for hwupload in front of VAAPI encoders
  bool lowDelay = false;            // live: no lookahead or B-frames (libx264 tune=zerolatency)
};

class RungEncoder {
 public:
  using PacketFn = std::function<void(AVPacket*)>;
  using FrameFn = std::function<void(const AVFrame*)>;
  using OpenFn = std::function<void(const AVCodecContext*)>;

  RungEncoder(Rung rung, EncoderSettings settings, const SegmentClock& clock);
  RungEncoder(const RungEncoder&) = delete;
  RungEncoder& operator=(const RungEncoder&) = delete;

  // Scales one display frame for this rung and encodes it. The first frame opens the encoder and
  // calls onOpen before any packet. tap, when set, sees each scaled frame before it is encoded.
  void encode(const AVFrame* frame, const VideoFilterInput& input, const OpenFn& onOpen, const PacketFn& onPacket, const FrameFn& tap = nullptr);
  // Drains the graph and the encoder at the end of the input.
  void finish(const OpenFn& onOpen, const PacketFn& onPacket, const FrameFn& tap = nullptr);

  const Rung& rung() const { return rung_; }
  const AVCodecContext* codec() const { return enc_.get(); }
  AVRational timeBase() const;
  int64_t frames() const { return frames_; }
  const std::string& filterDescription() const { return filter_; }

 private:
  std::string describeFilter(const VideoFilterInput& input) const;
  void drainGraph(const OpenFn& onOpen, const PacketFn& onPacket, const FrameFn& tap);
  void open(const AVFrame* first);
  void send(AVFrame* frame, const PacketFn& onPacket);

  Rung rung_;
  EncoderSettings settings_;
  const SegmentClock& clock_;
  std::unique_ptr<FilterGraph> graph_;
  VideoFilterInput graphInput_;
  std::string filter_;
  CodecContextPtr enc_;
  FramePtr scaled_;
  PacketPtr packet_;
  int64_t lastSegment_ = -1;
  int64_t frames_ = 0;
  int64_t lastPts_ = AV_NOPTS_VALUE;
};

// x264 preset name → NVENC preset (p1 fastest … p7 slowest).
const char* nvencPreset(const std::string& x264Preset);

}  // namespace fmv
