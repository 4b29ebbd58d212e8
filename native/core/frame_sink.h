// A consumer of decoded video frames, fed by the transcode pipeline or by a standalone decode loop.
#pragma once

extern "C" {
#include <libavutil/frame.h>
}

namespace fmv {

class FrameSink { public: virtual ~FrameSink() = default;
  // frame: software frame, any pixel format, display-ready (already deinterlaced); seconds: presentation time on the input clock
  virtual void onFrame(const AVFrame* frame, double seconds) = 0;
  virtual void finish() = 0; };

}  // namespace fmv
