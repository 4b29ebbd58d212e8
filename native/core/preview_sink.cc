#include "core/preview_sink.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/preview_poster.h"
#include "core/preview_thumbnails.h"

extern "C" {
#include <libavutil/error.h>
}

namespace fmv {

PreviewSink::PreviewSink(PreviewOptions options) : options_(std::move(options)) {
  const char* code = options_.thumbnails ? "ERR_PREVIEWS" : "ERR_POSTER";
  const char* step = options_.thumbnails ? "previews" : "poster";
  if (options_.outDir.empty()) throw Error(code, step, "no output directory given for the preview images");
  std::error_code ec;
  createdOutDir_ = std::filesystem::create_directories(options_.outDir, ec);
  if (ec) throw Error(code, step, "cannot create " + options_.outDir + ": " + ec.message(), AVERROR(ec.value()));
  if (options_.poster) poster_ = std::make_unique<PosterPicker>(options_);
  if (options_.thumbnails) thumbnails_ = std::make_unique<ThumbnailTrack>(options_);
}

PreviewSink::~PreviewSink() {
  if (finished_) return;
  // An unfinished run publishes nothing: the thumbnail track removes its own files, the poster and
  // the output directory (when this sink made it and it is empty) go here.
  thumbnails_.reset();
  std::error_code ec;
  if (poster_ && poster_->written()) std::filesystem::remove(std::filesystem::path(options_.outDir) / options_.posterName, ec);
  if (createdOutDir_) std::filesystem::remove(options_.outDir, ec);
}

bool PreviewSink::posterWritten() const { return poster_ && poster_->written(); }

void PreviewSink::onFrame(const AVFrame* frame, double seconds) {
  if (finished_) return;
  // A frame without a usable time follows the previous one at the same spacing.
  if (!std::isfinite(seconds)) seconds = started_ ? lastSeconds_ + lastStep_ : options_.startTime.value_or(0.0);
  if (!started_) {
    result_.startTime = options_.startTime.value_or(seconds);
    started_ = true;
  } else if (seconds > lastSeconds_) {
    lastStep_ = seconds - lastSeconds_;
  }
  lastSeconds_ = std::max(seconds, lastSeconds_);
  ++result_.frames;
  // Nanosecond steps: clock arithmetic leaves noise such as 2.2e-16 for the first frame.
  const double rel = std::max(0.0, std::round((seconds - result_.startTime) * 1e9) / 1e9);
  if (poster_) poster_->offer(frame, rel);
  if (thumbnails_) thumbnails_->offer(frame, rel);
}

void PreviewSink::finish() {
  if (finished_) return;
  result_.duration = started_ ? std::max(0.0, std::round((lastSeconds_ + lastStep_ - result_.startTime) * 1e9) / 1e9) : 0.0;
  if (poster_) {
    poster_->finish();
    poster_->fill(result_);
  }
  if (thumbnails_) {
    thumbnails_->finish(result_.duration);
    thumbnails_->fill(result_);
  }
  finished_ = true;
}

}  // namespace fmv
