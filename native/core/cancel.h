// Cancellation and timeouts that reach into blocking FFmpeg calls (through AVIOInterruptCB)
// and into our own loops (through stopRequested()); a graceful stop and a watch on a live input's
// silence, which interrupt the input alone so that the outputs can still be finished.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

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

  // A graceful end: the input is let go and what was read is finished, as at the end of a file.
  void finishEarly() noexcept { finishing_.store(true, std::memory_order_relaxed); }
  bool finishingEarly() const noexcept { return finishing_.load(std::memory_order_relaxed); }

  // Watches the input for silence: after stallMs without a byte the input counts as stalled (the
  // reader keeps waiting); after lostMs it counts as lost and reads are interrupted. 0 disables.
  void watchInput(int64_t stallMs, int64_t lostMs) noexcept;
  // Something arrived from the input (bytes, or a packet).
  void inputActivity() noexcept;
  // Silence state, for the reading loop: stalled since the last activity, lost, and whether the
  // input resumed after a stall (reported once).
  bool inputStalled() const noexcept { return stalled_.load(std::memory_order_relaxed); }
  bool inputLost() const noexcept { return lost_.load(std::memory_order_relaxed); }
  bool takeResumed() noexcept { return resumed_.exchange(false, std::memory_order_relaxed); }
  // How long the latest stall lasted, once the input resumed.
  int64_t lastStallMs() const noexcept { return lastStallNs_.load(std::memory_order_relaxed) / 1000000; }
  // Milliseconds since the last activity (since watchInput when nothing arrived yet).
  int64_t silenceMs() const noexcept;
  bool anyInput() const noexcept { return anyInput_.load(std::memory_order_relaxed); }
  // Called on the reading thread when the input goes silent for stallMs (once per silence), from
  // inside the blocked read, so the silence is reported while it lasts. Set before reading.
  void onInputStall(std::function<void(int64_t silenceMs)> hook) { stallHook_ = std::move(hook); }
  // Changes the lost threshold (e.g. from the first-connect timeout to the reconnect window).
  void setLostMs(int64_t lostMs) noexcept { lostNs_.store(lostMs * 1000000, std::memory_order_relaxed); }
  int64_t lostMs() const noexcept { return lostNs_.load(std::memory_order_relaxed) / 1000000; }

  // For outputs and work that must finish: cancel and timeout only.
  AVIOInterruptCB interruptCallback() noexcept { return AVIOInterruptCB{&CancelToken::interrupt, this}; }
  // For the input: also a graceful end and a lost input.
  AVIOInterruptCB inputInterruptCallback() noexcept { return AVIOInterruptCB{&CancelToken::interruptInput, this}; }

 private:
  static int interrupt(void* opaque) noexcept;
  static int interruptInput(void* opaque) noexcept;

  std::function<void(int64_t)> stallHook_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> finishing_{false};
  std::atomic<int64_t> deadlineNs_{0};
  std::atomic<int64_t> stallNs_{0};
  std::atomic<int64_t> lostNs_{0};
  std::atomic<int64_t> lastActivityNs_{0};
  std::atomic<int64_t> lastStallNs_{0};
  std::atomic<bool> anyInput_{false};
  std::atomic<bool> stalled_{false};
  std::atomic<bool> lost_{false};
  std::atomic<bool> resumed_{false};
};

}  // namespace fmv
