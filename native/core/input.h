// Opening an input (file or URL) for demuxing, with the raw bytes tapped for the TS program tables.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/av_holders.h"
#include "core/cancel.h"
#include "core/ts_psi.h"

namespace fmv {

struct InputOptions {
  // libavformat probesize / analyzeduration; 0 keeps FFmpeg's defaults.
  int64_t probeSize = 0;
  int64_t analyzeDurationUs = 0;
  // Input format name to force ("mpegts"); empty lets FFmpeg detect it.
  std::string format;
};

struct AvioCloseFree {
  void operator()(AVIOContext* io) const { avio_closep(&io); }
};

class MediaInput {
 public:
  // Opens the input and reads its stream info. Throws Error with step "open" (ERR_INPUT_NOT_FOUND,
  // ERR_INPUT_IS_DIRECTORY, ERR_INPUT_EMPTY, ERR_INPUT_OPEN, ERR_INPUT_FORMAT) or "probe" (ERR_STREAM_INFO).
  MediaInput(const std::string& url, const InputOptions& options, CancelToken& cancel);
  MediaInput(const MediaInput&) = delete;
  MediaInput& operator=(const MediaInput&) = delete;

  AVFormatContext* ctx() const { return fmt_.get(); }
  const TsProgramTables& tables() const { return tables_; }
  const std::string& url() const { return url_; }
  // MPEG-TS (AVStream.id is then the PID).
  bool isTransportStream() const;
  // Bytes read from the underlying input so far.
  int64_t bytesRead() const { return bytesRead_; }
  // Size of the input in bytes, or -1 when unknown (live inputs).
  int64_t size() const;

 private:
  static int readTapped(void* opaque, uint8_t* buf, int size);
  static int64_t seekTapped(void* opaque, int64_t offset, int whence);

  std::string url_;
  TsProgramTables tables_;
  int64_t tapPos_ = 0;
  int64_t bytesRead_ = 0;
  // Declared in this order so that the demuxer is closed before the I/O it reads from.
  std::unique_ptr<AVIOContext, AvioCloseFree> source_;
  IoContextPtr tap_;
  InputContextPtr fmt_;
};

// True when url names a local path (no scheme, or file:).
bool isLocalPath(const std::string& url);

}  // namespace fmv
