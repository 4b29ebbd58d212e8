#include "core/input.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "core/error.h"

extern "C" {
#include <libavutil/dict.h>
#include <libavutil/mem.h>
}

namespace fmv {
namespace {

constexpr int kTapBufferSize = 64 * 1024;
// Program tables are read from the first bytes only; later PMT versions do not change carriage in practice.
constexpr int64_t kTapLimit = 16 * 1024 * 1024;

std::string localPathOf(const std::string& url) { return url.rfind("file:", 0) == 0 ? url.substr(5) : url; }

// A file descriptor closed when it goes out of scope.
class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  ScopedFd(ScopedFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ScopedFd& operator=(ScopedFd&&) = delete;

 private:
  int fd_;
};

// Opening a FIFO blocks in open(2) until a writer connects, where no interrupt callback reaches.
// Wait for the writer here instead, cancellably; the descriptor stays open until FFmpeg has opened
// the FIFO too (which then returns at once).
ScopedFd waitForFifoWriter(const std::string& path, const CancelToken& cancel) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw Error("ERR_INPUT_OPEN", "open", "cannot open input " + path + ": " + std::strerror(err), AVERROR(err));
  }
  ScopedFd held(fd);
  for (;;) {
    cancel.throwIfStopped("open");
    pollfd p{fd, POLLIN, 0};
    // POLLIN: a writer connected and wrote; POLLHUP: one connected and left (Linux reports no
    // hang-up before any writer has connected).
    const int ready = ::poll(&p, 1, 100);
    if (ready > 0 && (p.revents & (POLLIN | POLLHUP))) return held;
    if (ready < 0 && errno != EINTR) {
      const int err = errno;
      throw Error("ERR_INPUT_OPEN", "open", "cannot wait for a writer on " + path + ": " + std::strerror(err), AVERROR(err));
    }
  }
}

// Checks a local input before FFmpeg opens it; a FIFO is held open once a writer is there.
ScopedFd checkLocalPath(const std::string& url, const CancelToken& cancel) {
  const std::string path = localPathOf(url);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) throw Error("ERR_INPUT_NOT_FOUND", "open", "input file not found: " + path, AVERROR(err));
    throw Error("ERR_INPUT_OPEN", "open", "cannot open input " + path + ": " + std::strerror(err), AVERROR(err));
  }
  if (S_ISDIR(st.st_mode)) throw Error("ERR_INPUT_IS_DIRECTORY", "open", "input is a directory, not a media file: " + path);
  if (S_ISREG(st.st_mode) && st.st_size == 0) throw Error("ERR_INPUT_EMPTY", "open", "input file is empty: " + path);
  if (S_ISFIFO(st.st_mode)) return waitForFifoWriter(path, cancel);
  return ScopedFd();
}

bool insideRoot(const std::string& root, const std::string& path) {
  if (path.compare(0, root.size(), root) != 0) return false;
  return path.size() == root.size() || root.back() == '/' || path[root.size()] == '/';
}

// Why a URL the demuxer wants to open is refused under allowedRoots ("" when it is fine): only a
// local file (optionally through the crypto protocol) whose real path lies inside a root.
std::string refusalOf(std::string url, const std::vector<std::string>& roots) {
  for (const char* prefix : {"crypto+", "crypto:"}) {
    if (url.rfind(prefix, 0) == 0) url = url.substr(std::strlen(prefix));
  }
  if (url.rfind("file:", 0) == 0) url = url.substr(5);
  if (!isLocalPath(url)) return "only local files are read";
  // A relative path resolves against the working directory, as FFmpeg's file protocol opens it.
  char real[PATH_MAX];
  if (!::realpath(url.c_str(), real)) return std::string("it cannot be resolved (") + std::strerror(errno) + ")";
  for (const std::string& root : roots)
    if (insideRoot(root, real)) return {};
  return std::string("it lies outside the allowed input roots (") + real + ")";
}

// An AVDictionary freed when it goes out of scope.
struct DictHolder {
  AVDictionary* d = nullptr;
  DictHolder() = default;
  DictHolder(const DictHolder&) = delete;
  DictHolder& operator=(const DictHolder&) = delete;
  ~DictHolder() { av_dict_free(&d); }
};

void setAll(AVDictionary** dict, const std::vector<std::pair<std::string, std::string>>& options) {
  for (const auto& [key, value] : options) {
    if (av_dict_set(dict, key.c_str(), value.c_str(), 0) < 0) throw Error("ERR_NO_MEMORY", "open", "out of memory setting input option " + key);
  }
}

bool left(const AVDictionary* dict, const std::string& key) { return av_dict_get(dict, key.c_str(), nullptr, 0) != nullptr; }

}  // namespace

bool isLocalPath(const std::string& url) {
  if (url.rfind("file:", 0) == 0) return true;
  const auto colon = url.find(':');
  if (colon == std::string::npos) return true;
  // A scheme is letters, digits, '+', '-' or '.' before the colon; a path like "./a:b" is not a URL.
  for (size_t i = 0; i < colon; ++i) {
    const char c = url[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.')) return true;
  }
  return colon == 0;
}

MediaInput::MediaInput(const std::string& url, const InputOptions& options, CancelToken& cancel) : url_(url) {
  allowedRoots_ = options.allowedRoots;
  const bool srt = url.rfind("srt://", 0) == 0;
  srtSecret_ = srt && (url.find("passphrase=") != std::string::npos ||
                       std::any_of(options.formatOptions.begin(), options.formatOptions.end(), [](const auto& entry) { return entry.first == "passphrase"; }));
  if (!allowedRoots_.empty()) {
    const std::string why = refusalOf(url, allowedRoots_);
    if (!why.empty()) throw Error("ERR_INPUT_REJECTED", "open", "input " + url + " is refused: " + why);
  }
  const ScopedFd fifo = isLocalPath(url) ? checkLocalPath(url, cancel) : ScopedFd();
  cancel_ = &cancel;
  const AVIOInterruptCB interrupt = cancel.inputInterruptCallback();

  // Read through our own AVIOContext so the program tables can be parsed from the raw bytes.
  AVIOContext* source = nullptr;
  DictHolder ioOptions;
  setAll(&ioOptions.d, options.formatOptions);
  const int openRet = avio_open2(&source, url.c_str(), AVIO_FLAG_READ, &interrupt, &ioOptions.d);
  protocolOptions_ = options.formatOptions;
  // A live feed over a connection (an SRT or TCP peer that goes away and comes back) is dialled
  // or listened for again when it closes; the demuxer reads on as over a gap.
  reconnectable_ = cancel.lostMs() > 0 && (srt || url.rfind("tcp://", 0) == 0);
  const bool protocolOpened = openRet >= 0;
  if (openRet >= 0) {
    source_.reset(source);
    auto* buffer = static_cast<uint8_t*>(av_malloc(kTapBufferSize));
    if (!buffer) throw Error("ERR_NO_MEMORY", "open", "out of memory opening " + url);
    AVIOContext* tap = avio_alloc_context(buffer, kTapBufferSize, 0, this, &MediaInput::readTapped, nullptr,
                                          (source->seekable & AVIO_SEEKABLE_NORMAL) ? &MediaInput::seekTapped : nullptr);
    if (!tap) {
      av_free(buffer);
      throw Error("ERR_NO_MEMORY", "open", "out of memory opening " + url);
    }
    tap->seekable = source->seekable;
    tap_.reset(tap);
  } else if (openRet != AVERROR_PROTOCOL_NOT_FOUND) {
    cancel.throwIfStopped("open");
    throwIfSilent("open");
    throw Error("ERR_INPUT_OPEN", "open", "cannot open input " + url + ": " + avErrorText(openRet), openRet);
  }
  // Else a demuxer-level protocol (rtsp, sdp): libavformat opens it itself, without the byte tap.

  AVFormatContext* fmt = avformat_alloc_context();
  if (!fmt) throw Error("ERR_NO_MEMORY", "open", "out of memory opening " + url);
  fmt->interrupt_callback = interrupt;
  if (tap_) {
    fmt->pb = tap_.get();
    fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  }
  AVDictionary* opts = nullptr;
  if (!allowedRoots_.empty()) {
    // Every further file goes through openNested; the whitelist also binds FFmpeg's own opens.
    defaultIoOpen_ = fmt->io_open;
    fmt->opaque = this;
    fmt->io_open = &MediaInput::openNested;
    av_dict_set(&opts, "protocol_whitelist", "file,crypto", 0);
  }
  setAll(&opts, options.formatOptions);
  if (options.probeSize > 0) av_dict_set_int(&opts, "probesize", options.probeSize, 0);
  if (options.analyzeDurationUs > 0) av_dict_set_int(&opts, "analyzeduration", options.analyzeDurationUs, 0);
  const AVInputFormat* forced = nullptr;
  if (!options.format.empty()) {
    forced = av_find_input_format(options.format.c_str());
    if (!forced) {
      av_dict_free(&opts);
      avformat_free_context(fmt);
      throw Error("ERR_INVALID_OPTION", "open", "unknown input format '" + options.format + "'");
    }
  }
  const int ret = avformat_open_input(&fmt, url.c_str(), forced, &opts);  // frees fmt on failure
  // An option neither the protocol nor the demuxer took is a mistake the caller should hear of.
  std::string unknown;
  for (const auto& entry : options.formatOptions) {
    if (left(opts, entry.first) && (!protocolOpened || left(ioOptions.d, entry.first))) unknown = entry.first;
  }
  av_dict_free(&opts);
  if (ret >= 0 && !unknown.empty()) {
    avformat_close_input(&fmt);
    throw Error("ERR_INVALID_OPTION", "open", "inputOptions." + unknown + " is not an option of the protocol or format of " + url);
  }
  if (ret < 0) {
    cancel.throwIfStopped("open");
    throwIfSilent("open");
    throwIfRefused();
    if (ret == AVERROR_INVALIDDATA)
      throw Error("ERR_INPUT_FORMAT", "open", "input is not a recognised media file: " + url + " (" + avErrorText(ret) + ")", ret);
    throw Error("ERR_INPUT_OPEN", "open", "cannot open input " + url + ": " + avErrorText(ret), ret);
  }
  fmt_.reset(fmt);
  // The tty demuxer claims any text file (as ANSI art) by its extension: that is never FMV.
  if (std::string(fmt->iformat->name) == "tty") {
    throw Error("ERR_INPUT_FORMAT", "open", "input is a text file, not a media file: " + url, AVERROR_INVALIDDATA);
  }

  const int infoRet = avformat_find_stream_info(fmt, nullptr);
  cancel.throwIfStopped("probe");
  throwIfSilent("probe");
  throwIfRefused();
  if (infoRet < 0) throw Error("ERR_STREAM_INFO", "probe", "cannot read stream information of " + url + ": " + avErrorText(infoRet), infoRet);
}

bool MediaInput::isTransportStream() const { return fmt_ && std::string(fmt_->iformat->name) == "mpegts"; }

int64_t MediaInput::size() const {
  if (fmt_ && fmt_->pb) {
    const int64_t s = source_ ? avio_size(source_.get()) : avio_size(fmt_->pb);
    return s >= 0 ? s : -1;
  }
  return -1;
}

int MediaInput::openNested(AVFormatContext* s, AVIOContext** pb, const char* url, int flags, AVDictionary** options) {
  auto* self = static_cast<MediaInput*>(s->opaque);
  const std::string why = refusalOf(url ? url : "", self->allowedRoots_);
  if (!why.empty()) {
    std::lock_guard<std::mutex> lock(self->refusedMutex_);
    if (self->refused_.empty()) self->refused_ = std::string("the input refers to ") + (url ? url : "?") + ", which is refused: " + why;
    return AVERROR(EACCES);
  }
  return self->defaultIoOpen_(s, pb, url, flags, options);
}

void MediaInput::throwIfSilent(const char* step) const {
  if (!cancel_->inputLost()) return;
  if (!cancel_->anyInput()) {
    // libsrt refuses a caller whose passphrase differs during the handshake: nothing ever arrives.
    throw Error("ERR_INPUT_TIMEOUT", step,
                "nothing arrived from " + url_ + " within " + std::to_string(cancel_->lostMs()) + " ms (inputTimeoutMs + reconnectWindowMs)" +
                    (srtSecret_ ? "; an SRT sender with another passphrase is refused before anything arrives" : ""),
                AVERROR_EXIT);
  }
  throw Error("ERR_INPUT_TIMEOUT", step, "the input " + url_ + " went silent for " + std::to_string(cancel_->silenceMs()) + " ms before its streams were known (inputTimeoutMs)",
              AVERROR_EXIT);
}

void MediaInput::throwIfRefused() const {
  std::lock_guard<std::mutex> lock(refusedMutex_);
  if (!refused_.empty()) throw Error("ERR_INPUT_REJECTED", "open", refused_, AVERROR(EACCES));
}

int MediaInput::readFrame(AVPacket* packet) {
  const int ret = av_read_frame(fmt_.get(), packet);
  if (!allowedRoots_.empty()) throwIfRefused();
  return ret;
}

bool MediaInput::reconnect() {
  AVIOInterruptCB interrupt = cancel_->inputInterruptCallback();
  int backoffMs = 100;
  for (;;) {
    source_.reset();
    // The interrupt callback ends the wait on a stop, a cancel, or when the watch calls it lost.
    for (int waited = 0; waited < backoffMs; waited += 20) {
      if (interrupt.callback(interrupt.opaque)) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    AVIOContext* source = nullptr;
    DictHolder options;
    setAll(&options.d, protocolOptions_);
    if (avio_open2(&source, url_.c_str(), AVIO_FLAG_READ, &interrupt, &options.d) >= 0) {
      source_.reset(source);
      ++reconnects_;
      return true;
    }
    if (interrupt.callback(interrupt.opaque)) return false;
    backoffMs = std::min(backoffMs * 2, 2000);
  }
}

int MediaInput::readTapped(void* opaque, uint8_t* buf, int size) {
  auto* self = static_cast<MediaInput*>(opaque);
  if (!self->source_ && !(self->reconnectable_ && self->reconnect())) return AVERROR_EOF;
  int64_t pos = avio_tell(self->source_.get());
  int n = avio_read_partial(self->source_.get(), buf, size);
  while (n <= 0 && n != AVERROR_EXIT && self->reconnectable_) {
    // The peer closed the connection: wait for it again (the silence is watched meanwhile).
    if (!self->reconnect()) return n == 0 ? AVERROR_EOF : n;
    pos = -1;  // a new connection: its bytes are not the start of the stream the tables tap reads
    n = avio_read_partial(self->source_.get(), buf, size);
  }
  if (n <= 0) return n == 0 ? AVERROR_EOF : n;
  self->bytesRead_ += n;
  self->cancel_->inputActivity();
  // Feed only the bytes that continue the stream where the tap left off.
  if (pos >= 0 && self->tapPos_ < kTapLimit && pos <= self->tapPos_ && pos + n > self->tapPos_) {
    const int64_t skip = self->tapPos_ - pos;
    self->tables_.feed(buf + skip, static_cast<size_t>(n - skip));
    self->tapPos_ = pos + n;
  }
  return n;
}

int64_t MediaInput::seekTapped(void* opaque, int64_t offset, int whence) {
  auto* self = static_cast<MediaInput*>(opaque);
  if (whence & AVSEEK_SIZE) return avio_size(self->source_.get());
  return avio_seek(self->source_.get(), offset, whence & ~AVSEEK_FORCE);
}

}  // namespace fmv
