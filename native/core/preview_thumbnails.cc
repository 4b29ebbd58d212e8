#include "core/preview_thumbnails.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/jpeg_writer.h"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
}

namespace fmv {
namespace {

constexpr const char* kCode = "ERR_PREVIEWS";
constexpr const char* kStep = "previews";
// Baseline JPEG stores sizes in 16 bits.
constexpr int kMaxJpegSide = 65535;

std::string vttTime(double seconds) {
  const int64_t ms = std::llround(std::max(0.0, seconds) * 1000.0);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02d:%02d.%03d", static_cast<long long>(ms / 3600000), static_cast<int>(ms / 60000 % 60),
                static_cast<int>(ms / 1000 % 60), static_cast<int>(ms % 1000));
  return buf;
}

[[noreturn]] void throwErrno(const std::string& what, int err) {
  throw Error(kCode, kStep, what + ": " + std::strerror(err ? err : EIO), AVERROR(err ? err : EIO));
}

}  // namespace

ThumbnailTrack::ThumbnailTrack(const PreviewOptions& o)
    : outDir_(o.outDir),
      interval_(o.thumbnailInterval > 0 ? o.thumbnailInterval : 10.0),
      tileWidth_(std::max(2, o.thumbnailWidth & ~1)),
      columns_(std::max(1, std::min(o.spriteColumns, std::max(1, o.spriteMaxTiles)))),
      maxTiles_(std::max(1, o.spriteMaxTiles)),
      writeThumbs_(o.writeThumbnails),
      quality_(o.quality),
      darOverride_(o.displayAspectRatio),
      scaler_(SWS_BICUBIC),
      vttPath_((std::filesystem::path(o.outDir) / "thumbnails.vtt").string()) {
  if (writeThumbs_) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(outDir_) / "thumbs", ec);
    if (ec) throw Error(kCode, kStep, "cannot create " + (std::filesystem::path(outDir_) / "thumbs").string() + ": " + ec.message(), AVERROR(ec.value()));
  }
}

ThumbnailTrack::~ThumbnailTrack() {
  if (!finished_) discard();
}

std::string ThumbnailTrack::thumbPath(int number) const {
  char name[32];
  std::snprintf(name, sizeof name, "thumb_%05d.jpg", number);
  return (std::filesystem::path(outDir_) / "thumbs" / name).string();
}

void ThumbnailTrack::offer(const AVFrame* frame, double rel) {
  const int64_t slot = static_cast<int64_t>(std::floor(rel / interval_ + 1e-9));
  if (slot <= lastSlot_) return;
  lastSlot_ = slot;
  addTile(frame, static_cast<double>(slot) * interval_);
}

void ThumbnailTrack::addTile(const AVFrame* frame, double start) {
  if (!tile_) {
    // Every tile of the track has the size of the first one, so sheets stay a regular grid.
    tileHeight_ = heightForWidth(tileWidth_, displayAspectOf(frame, darOverride_));
    const int rows = (maxTiles_ + columns_ - 1) / columns_;
    if (static_cast<int64_t>(columns_) * tileWidth_ > kMaxJpegSide || static_cast<int64_t>(rows) * tileHeight_ > kMaxJpegSide) {
      throw Error(kCode, kStep, "a sprite sheet of " + std::to_string(columns_) + "x" + std::to_string(rows) + " tiles of " + std::to_string(tileWidth_) + "x" +
                                    std::to_string(tileHeight_) + " exceeds the JPEG size limit of 65535");
    }
    tile_ = allocFrame(tileWidth_, tileHeight_, AV_PIX_FMT_YUVJ420P, kCode, kStep);
  }
  scaler_.scale(frame, tile_.get(), kCode, kStep);
  ++tiles_;
  if (writeThumbs_) writeFileAtomically(thumbPath(tiles_), encodeJpeg(tile_.get(), quality_, kCode, kStep), kCode, kStep);

  // A cue lasts until the next tile starts, so gaps in the input stay covered.
  if (!pageCues_.empty()) pageCues_.back().end = start;
  if (static_cast<int>(pageCues_.size()) == maxTiles_) {
    paged_ = true;
    writePage();
  }
  pageCues_.push_back(Cue{start, -1, 0, 0});
  placeTile();
}

void ThumbnailTrack::placeTile() {
  if (!page_) {
    const int rows = (maxTiles_ + columns_ - 1) / columns_;
    page_ = allocFrame(columns_ * tileWidth_, rows * tileHeight_, AV_PIX_FMT_YUVJ420P, kCode, kStep);
  }
  const int index = static_cast<int>(pageCues_.size()) - 1;
  if (index == 0) fillBlack(page_.get());
  Cue& cue = pageCues_.back();
  cue.x = (index % columns_) * tileWidth_;
  cue.y = (index / columns_) * tileHeight_;
  for (int p = 0; p < 3; ++p) {
    const int shift = p == 0 ? 0 : 1;  // 4:2:0 chroma planes are half size both ways
    uint8_t* dst = page_->data[p] + static_cast<ptrdiff_t>(cue.y >> shift) * page_->linesize[p] + (cue.x >> shift);
    av_image_copy_plane(dst, page_->linesize[p], tile_->data[p], tile_->linesize[p], tileWidth_ >> shift, tileHeight_ >> shift);
  }
}

void ThumbnailTrack::writePage() {
  const int tiles = static_cast<int>(pageCues_.size());
  const std::string name = paged_ ? "sprite_" + std::to_string(sheets_.size()) + ".jpg" : "sprite.jpg";
  const std::string path = (std::filesystem::path(outDir_) / name).string();
  SpriteSheet sheet;
  sheet.path = path;
  sheet.tiles = tiles;
  sheet.columns = std::min(tiles, columns_);
  sheet.rows = (tiles + columns_ - 1) / columns_;
  sheet.width = sheet.columns * tileWidth_;
  sheet.height = sheet.rows * tileHeight_;
  sheet.firstTile = sheets_.empty() ? 0 : sheets_.back().firstTile + sheets_.back().tiles;
  // A view on the top-left of the page: a part-filled sheet is written without its empty rows.
  FramePtr view = makeFrame();
  checkAv(av_frame_ref(view.get(), page_.get()), kCode, kStep, "cannot reference the sprite sheet");
  view->width = sheet.width;
  view->height = sheet.height;
  writeFileAtomically(path, encodeJpeg(view.get(), quality_, kCode, kStep), kCode, kStep);
  sheets_.push_back(sheet);
  writeCues(name);
  pageCues_.clear();
}

void ThumbnailTrack::writeCues(const std::string& sheetName) {
  const std::string tmp = vttPath_ + ".tmp";
  if (!vtt_) {
    vtt_.reset(std::fopen(tmp.c_str(), "wb"));
    if (!vtt_) throwErrno("cannot create " + tmp, errno);
    if (std::fputs("WEBVTT\n\n", vtt_.get()) < 0) throwErrno("cannot write " + tmp, errno);
  }
  for (const Cue& c : pageCues_) {
    if (std::fprintf(vtt_.get(), "%s --> %s\n%s#xywh=%d,%d,%d,%d\n\n", vttTime(c.start).c_str(), vttTime(c.end).c_str(), sheetName.c_str(), c.x, c.y, tileWidth_,
                     tileHeight_) < 0) {
      throwErrno("cannot write " + tmp, errno);
    }
  }
}

void ThumbnailTrack::finish(double end) {
  if (finished_) return;
  if (tiles_ == 0) throw Error(kCode, kStep, "no video frame arrived to make preview images from");
  Cue& last = pageCues_.back();
  last.end = std::max(end, last.start + 0.001);
  writePage();
  const std::string tmp = vttPath_ + ".tmp";
  if (std::fflush(vtt_.get()) != 0 || std::ferror(vtt_.get())) throwErrno("cannot write " + tmp, errno);
  const bool closed = std::fclose(vtt_.release()) == 0;
  if (!closed) throwErrno("cannot write " + tmp, errno);
  if (std::rename(tmp.c_str(), vttPath_.c_str()) != 0) throwErrno("cannot rename " + tmp + " to " + vttPath_, errno);
  page_.reset();
  tile_.reset();
  finished_ = true;
}

void ThumbnailTrack::discard() noexcept {
  vtt_.reset();
  std::error_code ec;
  std::filesystem::remove(vttPath_ + ".tmp", ec);
  if (finished_) std::filesystem::remove(vttPath_, ec);
  for (const SpriteSheet& s : sheets_) std::filesystem::remove(s.path, ec);
  if (writeThumbs_) {
    for (int i = 1; i <= tiles_; ++i) std::filesystem::remove(thumbPath(i), ec);
    std::filesystem::remove(std::filesystem::path(outDir_) / "thumbs", ec);  // only when empty
  }
  sheets_.clear();
  tiles_ = 0;
  finished_ = false;
}

void ThumbnailTrack::fill(PreviewResult& r) const {
  r.thumbnails = tiles_;
  r.thumbnailWidth = tileWidth_;
  r.thumbnailHeight = tileHeight_;
  r.thumbnailDir = writeThumbs_ ? (std::filesystem::path(outDir_) / "thumbs").string() : "";
  r.sprites = sheets_;
  r.vttPath = finished_ ? vttPath_ : "";
}

}  // namespace fmv
