// Choosing and writing the poster: a frame near the aimed-for time that is neither black nor flat.
#pragma once

#include <string>

#include "core/av_holders.h"
#include "core/preview_scaler.h"
#include "core/preview_sink.h"

namespace fmv {

struct LumaStats {
  double mean = 0;    // 0..255
  double stddev = 0;
};

// Mean and standard deviation of an 8-bit gray picture.
LumaStats lumaStats(const AVFrame* gray);
// Not black (mean luma) and not flat (luma spread): worth showing as a poster.
bool looksInteresting(const LumaStats& s);

class PosterPicker {
 public:
  explicit PosterPicker(const PreviewOptions& options);

  // rel: seconds from the start. Looks at a few frames a second until the poster is written.
  void offer(const AVFrame* frame, double rel);
  // Writes the best candidate when the poster is still pending; throws ERR_POSTER without one.
  void finish();
  bool written() const { return written_; }
  void fill(PreviewResult& result) const;

 private:
  void keep(const AVFrame* frame, double rel, bool interesting, double stddev);
  void write();

  std::string path_;
  int maxWidth_;
  int quality_;
  AVRational darOverride_;
  double target_;
  double searchEnd_;

  FrameScaler statsScaler_;
  FramePtr gray_;
  FrameScaler posterScaler_;
  FramePtr candidate_;  // the one frame copy: the candidate, already scaled to the poster size
  bool candidateInteresting_ = false;
  double candidateStddev_ = -1;
  double candidateTime_ = -1;
  double nextSample_ = 0;

  bool written_ = false;
  int width_ = 0;
  int height_ = 0;
  int64_t bytes_ = 0;
  int64_t skipped_ = 0;
};

}  // namespace fmv
