// FFmpeg log lines routed to the job that caused them. av_log is process-global and codec threads
// log too; lines logged on a thread with an active capture go to that capture (bounded) instead of
// stderr, so concurrent jobs do not mix and errors can carry FFmpeg's own explanation. Lines that
// codec and filter worker threads log go to the capture that was active where the codec context or
// filter graph was made (see claimLogsOf).
#pragma once

#include <cstdarg>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace fmv {

class LogCapture {
 public:
  // Captures lines at maxLevel or more severe (AV_LOG_WARNING = 24), keeping the last maxLines.
  explicit LogCapture(size_t maxLines = 64, int maxLevel = 24);
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<std::string> lines() const;
  // The most recent line at error level or worse, "" when none.
  std::string lastError() const;
  void clear();

  void append(int level, std::string line);
  // Formats one av_log call; a line FFmpeg builds from several calls is appended once complete.
  void appendFormatted(void* avcl, int level, const char* fmt, va_list vl);

  int maxLevel() const { return maxLevel_; }

 private:
  size_t maxLines_;
  int maxLevel_;
  mutable std::mutex mutex_;
  std::deque<std::string> lines_;
  std::string lastError_;
  LogCapture* previous_;
  std::string pending_;
  int printPrefix_ = 1;
};

// Lines that worker threads log on behalf of owner go to the capture active on the calling thread
// (none: nothing is claimed). An owner is a codec context (frame-threading copies are found through
// their shared opaque pointer), the opaque pointer itself, or a filter graph (found from its filters).
// The claim ends with releaseLogsOf, which the codec-context and filter-graph holders call on free,
// or when the capture ends.
void claimLogsOf(const void* owner);
void releaseLogsOf(const void* owner) noexcept;

// Claims an owner for as long as it lives (for an opaque pointer set on a codec context).
class LogClaim {
 public:
  explicit LogClaim(const void* owner) : owner_(owner) { claimLogsOf(owner); }
  ~LogClaim() { releaseLogsOf(owner_); }
  LogClaim(const LogClaim&) = delete;
  LogClaim& operator=(const LogClaim&) = delete;

 private:
  const void* owner_;
};

}  // namespace fmv
