// One continuous timeline for inputs whose timestamps jump: recordings cut and joined, encoders
// restarted mid-stream. Formats that allow such jumps (MPEG-TS) get what the ffmpeg command does
// for them: a packet more than 10 s away from where its stream was heading, or more than 0.1 s
// behind where it has been, moves an offset applied to every stream from then on, so segments,
// playlists, KLV times and thumbnails follow one timeline.
#pragma once

#include <cstdint>
#include <vector>

extern "C" {
#include <libavformat/avformat.h>
}

namespace fmv {

class TimelineMender {
 public:
  // Mends timestamps only when the format allows discontinuities. Jumps are detected on the
  // streams marked as references (video and audio: continuous by nature); every stream is shifted.
  TimelineMender(const AVFormatContext* fmt, const std::vector<int>& referenceStreams);

  // Shifts the packet's timestamps onto the mended timeline. Returns the jump in seconds when this
  // packet moved the offset (positive: the input jumped forward), else 0.
  double mend(AVPacket* packet, const AVStream* stream);
  // After the input broke off and resumed: the next packet of a reference stream is placed this
  // many seconds after where its stream was heading, whatever its own time (a restarted sender
  // starts its clock again), so the break shows as a gap on one monotonic timeline.
  void breakAfterGap(double seconds) {
    gapUs_ = static_cast<int64_t>(seconds * AV_TIME_BASE);
    broken_ = true;
  }

 private:
  bool enabled_ = false;
  int64_t offset_ = 0;  // microseconds added to every timestamp
  int64_t gapUs_ = 0;   // pending break (breakAfterGap)
  bool broken_ = false; // a break happened: non-reference streams are kept monotonic from then on
  std::vector<bool> reference_;
  std::vector<int64_t> nextDts_;  // microseconds on the mended timeline; AV_NOPTS_VALUE when unknown
  std::vector<int64_t> lastDts_;
};

}  // namespace fmv
