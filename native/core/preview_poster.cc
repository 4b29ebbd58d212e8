#include "core/preview_poster.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/jpeg_writer.h"

namespace fmv {
namespace {

constexpr const char* kCode = "ERR_POSTER";
constexpr const char* kStep = "poster";
// Frames looked at per second of input while the poster is pending: enough to catch a scene, cheap on long inputs.
constexpr double kSampleStep = 0.25;
// A small gray copy is all the black/flat test needs.
constexpr int kStatsWidth = 64;
constexpr int kStatsHeight = 48;
// Limited-range black is 16 and a dark night scene still has a mean well above 24; a picture whose
// luma varies by less than 6 levels is a test card, a blue screen or a fade.
constexpr double kDarkMean = 24.0;
constexpr double kFlatStddev = 6.0;
constexpr int kDefaultMaxWidth = 1920;

}  // namespace

LumaStats lumaStats(const AVFrame* gray) {
  double sum = 0;
  double sumSquares = 0;
  for (int y = 0; y < gray->height; ++y) {
    const uint8_t* row = gray->data[0] + static_cast<ptrdiff_t>(y) * gray->linesize[0];
    for (int x = 0; x < gray->width; ++x) {
      sum += row[x];
      sumSquares += static_cast<double>(row[x]) * row[x];
    }
  }
  const double n = static_cast<double>(gray->width) * gray->height;
  const double mean = sum / n;
  const double variance = sumSquares / n - mean * mean;
  return LumaStats{mean, variance > 0 ? std::sqrt(variance) : 0.0};
}

bool looksInteresting(const LumaStats& s) { return s.mean >= kDarkMean && s.stddev >= kFlatStddev; }

PosterPicker::PosterPicker(const PreviewOptions& o)
    : path_((std::filesystem::path(o.outDir) / o.posterName).string()),
      maxWidth_(o.posterMaxWidth > 0 ? o.posterMaxWidth : kDefaultMaxWidth),
      quality_(o.quality),
      darOverride_(o.displayAspectRatio),
      target_(o.posterTime >= 0 ? o.posterTime : (o.durationHint > 0 ? 0.1 * o.durationHint : 0.0)),
      searchEnd_(target_ + (o.posterSearchSeconds > 0 ? o.posterSearchSeconds : 0.0)),
      statsScaler_(SWS_FAST_BILINEAR),
      posterScaler_(SWS_BICUBIC) {}

void PosterPicker::offer(const AVFrame* frame, double rel) {
  // The tolerance keeps frame times like 3.9999999 on the sampling grid.
  if (written_ || rel + 1e-6 < nextSample_) return;
  // Sample on a fixed grid, and always look at the first frame at or after the target.
  const double next = (std::floor(rel / kSampleStep + 1e-6) + 1) * kSampleStep;
  nextSample_ = rel < target_ ? std::min(next, target_) : next;

  if (!gray_) gray_ = allocFrame(kStatsWidth, kStatsHeight, AV_PIX_FMT_GRAY8, kCode, kStep);
  statsScaler_.scale(frame, gray_.get(), kCode, kStep);
  const LumaStats stats = lumaStats(gray_.get());
  const bool interesting = looksInteresting(stats);
  if (!interesting) ++skipped_;

  if (interesting && rel >= target_) {
    keep(frame, rel, true, stats.stddev);
    write();
    return;
  }
  // Before the target (or when the target itself is dark) remember the first good frame, or else
  // the least flat one, as the fallback.
  if (interesting ? !candidateInteresting_ : (!candidateInteresting_ && stats.stddev > candidateStddev_)) {
    keep(frame, rel, interesting, stats.stddev);
  }
  if (rel >= searchEnd_ && candidateInteresting_) write();
}

void PosterPicker::keep(const AVFrame* frame, double rel, bool interesting, double stddev) {
  const PictureSize out = displaySize(frame->height, displayAspectOf(frame, darOverride_), maxWidth_);
  if (!candidate_ || candidate_->width != out.width || candidate_->height != out.height) {
    candidate_ = allocFrame(out.width, out.height, AV_PIX_FMT_YUVJ420P, kCode, kStep);
  }
  posterScaler_.scale(frame, candidate_.get(), kCode, kStep);
  candidateInteresting_ = interesting;
  candidateStddev_ = stddev;
  candidateTime_ = rel;
}

void PosterPicker::write() {
  const std::vector<uint8_t> jpeg = encodeJpeg(candidate_.get(), quality_, kCode, kStep);
  writeFileAtomically(path_, jpeg, kCode, kStep);
  written_ = true;
  width_ = candidate_->width;
  height_ = candidate_->height;
  bytes_ = static_cast<int64_t>(jpeg.size());
  candidate_.reset();
  gray_.reset();
}

void PosterPicker::finish() {
  if (written_) return;
  if (!candidate_) throw Error(kCode, kStep, "no video frame arrived to make a poster from");
  write();
}

void PosterPicker::fill(PreviewResult& r) const {
  if (!written_) return;
  r.posterPath = path_;
  r.posterWidth = width_;
  r.posterHeight = height_;
  r.posterBytes = bytes_;
  r.posterTime = candidateTime_;
  r.posterInteresting = candidateInteresting_;
  r.skippedDarkFrames = skipped_;
}

}  // namespace fmv
