// libavfilter graphs with one input and one output, described by a filter string
// ("scale=640:360,format=yuv420p"). Used for deinterlacing/downloading, per-rung scaling,
// audio conversion, and the capability checks.
#pragma once

#include <string>

#include "core/av_holders.h"

extern "C" {
#include <libavutil/channel_layout.h>
}

namespace fmv {

struct VideoFilterInput {
  int width = 0;
  int height = 0;
  int format = -1;  // AVPixelFormat (AV_PIX_FMT_CUDA / AV_PIX_FMT_VAAPI for device frames)
  AVRational timeBase{1, 90000};
  AVRational sampleAspect{1, 1};
  AVRational frameRate{0, 1};
  // Frames context of device frames, borrowed from the frame described: valid only while that frame
  // is, which is long enough to build a graph (the graph then holds its own reference).
  AVBufferRef* hwFrames = nullptr;
  // Identity of that frames context, for comparison only: never dereferenced. A graph built for it
  // keeps the context alive, so the address cannot be reused by another pool meanwhile.
  const void* hwFramesId = nullptr;
};

// The input description of a decoded frame.
VideoFilterInput describeFrame(const AVFrame* frame, AVRational timeBase, AVRational frameRate);
// True while a frame still matches the input a graph was built for (size, format, time base, device
// frames pool). Reads only values, so a description kept after its frame is gone compares safely.
bool sameInput(const VideoFilterInput& a, const VideoFilterInput& b);

struct AudioFilterInput {
  int sampleRate = 0;
  int format = -1;  // AVSampleFormat
  AVChannelLayout layout{};
  AVRational timeBase{1, 48000};
};

class FilterGraph {
 public:
  // description "" passes frames through unchanged (null / anull).
  // hwDevice, when given, is handed to every filter (hwupload needs it). step names errors.
  static FilterGraph video(const VideoFilterInput& in, const std::string& description, AVBufferRef* hwDevice, const char* step);
  // frameSize > 0 makes the sink return frames of exactly that many samples (AAC wants 1024).
  static FilterGraph audio(const AudioFilterInput& in, const std::string& description, int frameSize, const char* step);

  FilterGraph(FilterGraph&&) = default;
  FilterGraph& operator=(FilterGraph&&) = default;

  // Pushes a frame (nullptr at end of stream). The frame is referenced, not taken.
  void push(const AVFrame* frame);
  // Fills out with the next filtered frame; false when none is ready yet or at the end.
  bool pull(AVFrame* out);

  AVRational outputTimeBase() const;
  int outputFormat() const;
  int outputWidth() const;
  int outputHeight() const;
  int outputSampleRate() const;
  AVBufferRef* outputHwFrames() const;  // borrowed; nullptr for software frames
  const std::string& description() const { return description_; }

 private:
  FilterGraph() = default;
  void finish(const std::string& description, AVBufferRef* hwDevice, const char* step);

  FilterGraphPtr graph_;
  AVFilterContext* src_ = nullptr;
  AVFilterContext* sink_ = nullptr;
  std::string description_;
  std::string step_;
};

}  // namespace fmv
