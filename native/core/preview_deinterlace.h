// A small libavfilter graph (buffer → bwdif → buffersink) that turns interlaced frames into
// progressive ones at the same frame rate.
#pragma once

#include "core/av_holders.h"

namespace fmv {

class Deinterlacer {
 public:
  // timeBase: of the frames' pts.
  explicit Deinterlacer(AVRational timeBase) : timeBase_(timeBase) {}

  // Feeds one decoded frame (nullptr at the end) and hands each frame that comes out to emit,
  // with its time in seconds. The graph is rebuilt when the frame size or format changes.
  template <typename Emit>
  void push(const AVFrame* frame, Emit&& emit) {
    if (frame && (!graph_ || frame->width != width_ || frame->height != height_ || frame->format != format_)) {
      if (graph_) drain(nullptr, emit);
      build(frame);
    }
    if (graph_) drain(frame, emit);
  }

 private:
  void build(const AVFrame* frame);
  // Sends frame (nullptr: end of stream) and collects every output frame.
  void send(const AVFrame* frame);
  bool receive(AVFrame* out, double& seconds);

  template <typename Emit>
  void drain(const AVFrame* frame, Emit& emit) {
    send(frame);
    if (!out_) out_ = makeFrame();
    double seconds = 0;
    while (receive(out_.get(), seconds)) {
      emit(static_cast<const AVFrame*>(out_.get()), seconds);
      av_frame_unref(out_.get());
    }
    if (!frame) graph_.reset();
  }

  AVRational timeBase_;
  FilterGraphPtr graph_;
  AVFilterContext* source_ = nullptr;  // owned by graph_
  AVFilterContext* sink_ = nullptr;    // owned by graph_
  FramePtr out_;
  int width_ = 0;
  int height_ = 0;
  int format_ = -1;
};

}  // namespace fmv
