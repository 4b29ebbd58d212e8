// Cancellation and timeouts that reach into blocking FFmpeg calls (through AVIOInterruptCB)
// and into our own loops (through stopRequested()).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

extern "C" {
#include <libavformat/avio.h>
}

namespace fmv {

class CancelToken {
 public:
  void cancel() noexcept { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_relaxed); }

  // A deadline in milliseconds from now; 0 or less means none.
  void setTimeoutMs(int64_t ms) noexcept;
  bool timedOut() const noexcept;

  bool stopRequested() const noexcept { return cancelled() || timedOut(); }
  // Throws ERR_CANCELLED or ERR_TIMEOUT naming the step when a stop was requested.
  void throwIfStopped(const char* step) const;

  AVIOInterruptCB interruptCallback() noexcept { return AVIOInterruptCB{&CancelToken::interrupt, this}; }

 private:
  static int interrupt(void* opaque) noexcept;

  std::atomic<bool> cancelled_{false};
  std::atomic<int64_t> deadlineNs_{0};
};

}  // namespace fmv
