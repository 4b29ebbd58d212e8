#include "core/ingest_log.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <unordered_map>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavutil/log.h>
}

namespace fmv {
namespace {

thread_local LogCapture* t_capture = nullptr;

// The least severe level any capture keeps: codecs log debug lines on hot paths, and those return
// before any lock is taken.
std::atomic<int> g_widestLevel{AV_LOG_QUIET};

// The FFmpeg objects claimed by a capture (see claimLogsOf). The mutex is held while a line is
// appended, so the capture cannot be destroyed meanwhile. Never destroyed: codec threads may still
// log while static objects are torn down at process exit.
struct Routes {
  std::mutex mutex;
  std::unordered_map<const void*, LogCapture*> claims;
};
Routes& routes() {
  static Routes* r = new Routes();
  return *r;
}

// The capture that claimed the object logging, if any. Caller holds routes().mutex.
LogCapture* claimantOf(void* avcl) {
  auto& claims = routes().claims;
  if (!avcl || claims.empty()) return nullptr;
  auto find = [&claims](const void* key) -> LogCapture* {
    if (!key) return nullptr;
    const auto it = claims.find(key);
    return it == claims.end() ? nullptr : it->second;
  };
  if (LogCapture* c = find(avcl)) return c;
  const AVClass* cls = *static_cast<const AVClass* const*>(avcl);
  if (cls == avcodec_get_class()) return find(static_cast<const AVCodecContext*>(avcl)->opaque);
  if (cls == avfilter_get_class()) return find(static_cast<const AVFilterContext*>(avcl)->graph);
  return nullptr;
}

void formatInto(LogCapture* capture, void* avcl, int level, const char* fmt, va_list vl);

// Called from FFmpeg's C code: nothing may escape (a line lost to bad_alloc is dropped).
void routeLog(void* avcl, int level, const char* fmt, va_list vl) noexcept {
  try {
    LogCapture* capture = t_capture;
    if (!capture) {
      if (level > g_widestLevel.load(std::memory_order_relaxed) && level > av_log_get_level()) return;
      {
        std::lock_guard<std::mutex> lock(routes().mutex);
        if (LogCapture* owner = claimantOf(avcl)) {
          if (level <= owner->maxLevel()) formatInto(owner, avcl, level, fmt, vl);
          return;
        }
      }
      av_log_default_callback(avcl, level, fmt, vl);
      return;
    }
    if (level > capture->maxLevel()) return;
    formatInto(capture, avcl, level, fmt, vl);
  } catch (...) {
  }
}

void formatInto(LogCapture* capture, void* avcl, int level, const char* fmt, va_list vl) {
  va_list copy;
  va_copy(copy, vl);
  capture->appendFormatted(avcl, level, fmt, copy);
  va_end(copy);
}

void installOnce() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(routeLog); });
}

}  // namespace

LogCapture::LogCapture(size_t maxLines, int maxLevel) : maxLines_(maxLines), maxLevel_(maxLevel), previous_(t_capture) {
  installOnce();
  int widest = g_widestLevel.load();
  while (maxLevel > widest && !g_widestLevel.compare_exchange_weak(widest, maxLevel)) {
  }
  t_capture = this;
}

LogCapture::~LogCapture() {
  {
    std::lock_guard<std::mutex> lock(routes().mutex);
    auto& claims = routes().claims;
    for (auto it = claims.begin(); it != claims.end();) it = it->second == this ? claims.erase(it) : std::next(it);
  }
  t_capture = previous_;
}

void claimLogsOf(const void* owner) {
  LogCapture* capture = t_capture;
  if (!owner || !capture) return;
  std::lock_guard<std::mutex> lock(routes().mutex);
  routes().claims[owner] = capture;
}

void releaseLogsOf(const void* owner) noexcept {
  if (!owner) return;
  std::lock_guard<std::mutex> lock(routes().mutex);
  routes().claims.erase(owner);
}

void LogCapture::appendFormatted(void* avcl, int level, const char* fmt, va_list vl) {
  std::string line;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    char text[1024];
    // FFmpeg builds some lines from several calls; the prefix state carries across them.
    av_log_format_line2(avcl, level, fmt, vl, text, sizeof text, &printPrefix_);
    pending_ += text;
    if (pending_.empty() || pending_.back() != '\n') return;
    line.swap(pending_);
  }
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  // "[h264 @ 0x55d0c1a2b3c0] msg" → "[h264] msg": addresses mean nothing to a reader.
  const auto at = line.find(" @ 0x");
  if (at != std::string::npos && line.compare(0, 1, "[") == 0) {
    const auto close = line.find(']', at);
    if (close != std::string::npos) line.erase(at, close - at);
  }
  if (!line.empty()) append(level, std::move(line));
}

void LogCapture::append(int level, std::string line) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (level <= AV_LOG_ERROR) lastError_ = line;
  lines_.push_back(std::move(line));
  while (lines_.size() > maxLines_) lines_.pop_front();
}

std::vector<std::string> LogCapture::lines() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {lines_.begin(), lines_.end()};
}

std::string LogCapture::lastError() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return lastError_;
}

void LogCapture::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  lines_.clear();
  lastError_.clear();
}

}  // namespace fmv
