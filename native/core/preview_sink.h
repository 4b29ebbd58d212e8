// Poster and preview images of an ingest, made from the decoded frames of the single pass.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/frame_sink.h"

extern "C" {
#include <libavutil/rational.h>
}

namespace fmv {

struct PreviewOptions {
  std::string outDir;  // created when missing
  bool poster = true;
  std::string posterName = "poster.jpg";
  int posterMaxWidth = 0;              // 0: the source display width, capped at 1920
  double posterTime = -1;              // seconds from the start to aim for; < 0: 10% of durationHint, or 0 when unknown
  double posterSearchSeconds = 30;     // how far past posterTime to look for a frame that is not black or flat
  bool thumbnails = true;              // thumbnails, sprite sheets and the WebVTT track
  double thumbnailInterval = 10;       // seconds
  int thumbnailWidth = 160;            // the height follows the display aspect ratio (even)
  int spriteColumns = 10;
  int spriteMaxTiles = 100;            // tiles per sprite sheet; more tiles start a new sheet
  bool writeThumbnails = false;        // also thumbs/thumb_00001.jpg, ...
  int quality = 80;                    // JPEG quality 1..100
  AVRational displayAspectRatio{0, 1}; // of the source; {0,1}: from each frame's sample aspect ratio
  std::optional<double> startTime;     // input clock time of the start; unset: the first frame's time
  double durationHint = -1;            // seconds, < 0 when unknown (live)
};

struct SpriteSheet {
  std::string path;
  int tiles = 0;
  int columns = 0;
  int rows = 0;
  int width = 0;
  int height = 0;
  int firstTile = 0;  // index of its first tile in the whole track
};

struct PreviewResult {
  std::string posterPath;  // "" when no poster was asked for
  int posterWidth = 0;
  int posterHeight = 0;
  int64_t posterBytes = 0;
  double posterTime = -1;  // seconds from the start of the frame chosen
  bool posterInteresting = false;  // false when every frame looked at was black or flat
  int thumbnails = 0;
  int thumbnailWidth = 0;
  int thumbnailHeight = 0;
  std::string thumbnailDir;  // "" unless individual thumbnails were written
  std::vector<SpriteSheet> sprites;
  std::string vttPath;
  int64_t skippedDarkFrames = 0;  // frames looked at for the poster and passed over as black or flat
  int64_t frames = 0;             // frames received
  double startTime = 0;           // input clock time that WebVTT time 0 stands for
  double duration = 0;            // seconds from the start to the end of the last frame
};

class PosterPicker;
class ThumbnailTrack;

// Sprite sheets: one `sprite.jpg` while every tile fits in spriteMaxTiles; past that, pages
// `sprite_0.jpg`, `sprite_1.jpg`, ... each written as soon as it is full, so memory holds one page
// whatever the input length. The WebVTT cues of a page are written with the page.
// Poster: keeps one candidate copy (already scaled to the poster size).
// Every failure throws Error with ERR_POSTER / step "poster" or ERR_PREVIEWS / step "previews".
// A sink that is destroyed without finish() removes its partial files.
class PreviewSink : public FrameSink {
 public:
  explicit PreviewSink(PreviewOptions options);
  ~PreviewSink() override;
  PreviewSink(const PreviewSink&) = delete;
  PreviewSink& operator=(const PreviewSink&) = delete;

  void onFrame(const AVFrame* frame, double seconds) override;
  // Writes what is still pending (poster, last sprite sheet, WebVTT). Throws ERR_POSTER when a
  // poster was asked for and no frame arrived.
  void finish() override;

  // True once poster.jpg is on disk (it may be written long before finish()).
  bool posterWritten() const;
  const PreviewResult& result() const { return result_; }

 private:
  PreviewOptions options_;
  PreviewResult result_;
  std::unique_ptr<PosterPicker> poster_;
  std::unique_ptr<ThumbnailTrack> thumbnails_;
  double lastSeconds_ = 0;
  double lastStep_ = 0;
  bool started_ = false;
  bool finished_ = false;
  bool createdOutDir_ = false;
};

}  // namespace fmv
