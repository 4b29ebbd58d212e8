// Thumbnails every N seconds, tiled into sprite sheets, with a WebVTT track that points at each tile.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/av_holders.h"
#include "core/preview_scaler.h"
#include "core/preview_sink.h"

namespace fmv {

class ThumbnailTrack {
 public:
  explicit ThumbnailTrack(const PreviewOptions& options);
  ~ThumbnailTrack();
  ThumbnailTrack(const ThumbnailTrack&) = delete;
  ThumbnailTrack& operator=(const ThumbnailTrack&) = delete;

  // rel: seconds from the start. The first frame of each interval becomes a tile.
  void offer(const AVFrame* frame, double rel);
  // end: seconds from the start to the end of the last frame. Writes the last sheet and the track.
  void finish(double end);
  // Removes every file written so far (for a run that failed or was cancelled).
  void discard() noexcept;
  void fill(PreviewResult& result) const;

 private:
  struct Cue {
    double start;
    double end;
    int x;
    int y;
  };
  struct FileClose {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };

  void addTile(const AVFrame* frame, double start);
  void placeTile();
  void writePage();
  void writeCues(const std::string& sheetName);
  std::string thumbPath(int number) const;

  std::string outDir_;
  double interval_;
  int tileWidth_;
  int tileHeight_ = 0;
  int columns_;
  int maxTiles_;
  bool writeThumbs_;
  int quality_;
  AVRational darOverride_;

  FrameScaler scaler_;
  FramePtr tile_;
  FramePtr page_;            // the sheet being filled; the only one in memory
  std::vector<Cue> pageCues_;
  bool paged_ = false;       // more tiles than one sheet holds: sheets are sprite_<n>.jpg
  int64_t lastSlot_ = -1;
  int tiles_ = 0;
  std::vector<SpriteSheet> sheets_;

  std::string vttPath_;
  std::unique_ptr<std::FILE, FileClose> vtt_;  // streamed to vttPath_ + ".tmp", renamed by finish()
  bool finished_ = false;
};

}  // namespace fmv
