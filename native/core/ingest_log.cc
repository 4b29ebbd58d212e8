#include "core/ingest_log.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>

extern "C" {
#include <libavutil/log.h>
}

namespace fmv {
namespace {

thread_local LogCapture* t_capture = nullptr;

void routeLog(void* avcl, int level, const char* fmt, va_list vl) {
  LogCapture* capture = t_capture;
  if (!capture) {
    av_log_default_callback(avcl, level, fmt, vl);
    return;
  }
  if (level > capture->maxLevel()) return;
  char line[1024];
  int printPrefix = 1;
  va_list copy;
  va_copy(copy, vl);
  av_log_format_line2(avcl, level, fmt, copy, line, sizeof line, &printPrefix);
  va_end(copy);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  // "[h264 @ 0x55d0c1a2b3c0] msg" → "[h264] msg": addresses mean nothing to a reader.
  const auto at = text.find(" @ 0x");
  if (at != std::string::npos && text.compare(0, 1, "[") == 0) {
    const auto close = text.find(']', at);
    if (close != std::string::npos) text.erase(at, close - at);
  }
  if (!text.empty()) capture->append(level, std::move(text));
}

void installOnce() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(routeLog); });
}

}  // namespace

LogCapture::LogCapture(size_t maxLines, int maxLevel) : maxLines_(maxLines), maxLevel_(maxLevel), previous_(t_capture) {
  installOnce();
  t_capture = this;
}

LogCapture::~LogCapture() { t_capture = previous_; }

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
