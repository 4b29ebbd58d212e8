// Opening an input (file or URL) for demuxing, with the raw bytes tapped for the TS program tables.
#pragma once

#include <atomic>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

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
  // Real paths of directories. When given, the input and every file the demuxer opens on its
  // behalf (HLS segments, keys, nested playlists) must lie inside one of them, and nothing but
  // local files is read: the check is made where FFmpeg opens each file, so no pre-parse of a
  // playlist can be fooled.
  std::vector<std::string> allowedRoots;
  // Protocol and demuxer options by name, as the ffmpeg CLI takes them before -i (listen=1,
  // rtsp_flags=listen, timeout, ...). Each must be taken by the protocol or the demuxer.
  std::vector<std::pair<std::string, std::string>> formatOptions;
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
  // av_read_frame, then ERR_INPUT_REJECTED (step "open") when the demuxer tried to open a file
  // outside the allowed roots (HLS skips a segment it cannot open; the job must not).
  int readFrame(AVPacket* packet);

 private:
  static int readTapped(void* opaque, uint8_t* buf, int size);
  static int64_t seekTapped(void* opaque, int64_t offset, int whence);
  static int openNested(AVFormatContext* s, AVIOContext** pb, const char* url, int flags, AVDictionary** options);
  void throwIfRefused() const;
  // ERR_INPUT_TIMEOUT when the input watch found the input silent past its limit.
  void throwIfSilent(const char* step) const;

  CancelToken* cancel_ = nullptr;
  std::vector<std::string> allowedRoots_;
  int (*defaultIoOpen_)(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) = nullptr;
  mutable std::mutex refusedMutex_;
  std::string refused_;

  std::string url_;
  bool srtSecret_ = false;  // an SRT input with a passphrase (a mismatch shows only as silence)
  TsProgramTables tables_;
  int64_t tapPos_ = 0;
  std::atomic<int64_t> bytesRead_{0};  // the reader thread counts, the pass reports
  // Declared in this order so that the demuxer is closed before the I/O it reads from.
  std::unique_ptr<AVIOContext, AvioCloseFree> source_;
  IoContextPtr tap_;
  InputContextPtr fmt_;
};

// True when url names a local path (no scheme, or file:).
bool isLocalPath(const std::string& url);

}  // namespace fmv
