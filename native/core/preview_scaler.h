// Picture geometry and libswscale conversion for posters and thumbnails.
#pragma once

#include "core/av_holders.h"

extern "C" {
#include <libavutil/pixfmt.h>
#include <libavutil/rational.h>
}

namespace fmv {

struct PictureSize {
  int width = 0;
  int height = 0;
};

// The display aspect ratio of a frame: override when it is set (num and den > 0), else the
// frame's coded size times its sample aspect ratio (square pixels when that is unknown).
AVRational displayAspectOf(const AVFrame* frame, AVRational override);

// Square-pixel size that shows a picture of the given coded height at aspect dar: the height is
// kept and the width follows dar, then both shrink to fit maxWidth (0: no limit). Both even.
PictureSize displaySize(int codedHeight, AVRational dar, int maxWidth);

// The height (even, at least 2) of a picture of the given width at aspect dar.
int heightForWidth(int width, AVRational dar);

// A frame with its own buffers of the given size and format.
FramePtr allocFrame(int width, int height, AVPixelFormat format, const char* code, const char* step);

// Paints a full-range 4:2:0 frame black.
void fillBlack(AVFrame* yuvj420p);

// Converts any software frame into a frame whose size and format are already set; keeps one cached
// SwsContext so a steady stream of same-shaped frames sets up the conversion once.
class FrameScaler {
 public:
  explicit FrameScaler(int flags) : flags_(flags) {}
  void scale(const AVFrame* src, AVFrame* dst, const char* code, const char* step);

 private:
  int flags_;
  SwsPtr ctx_;
  int key_[8] = {};  // what ctx_ was made for: sizes, formats and ranges of both sides
};

}  // namespace fmv
