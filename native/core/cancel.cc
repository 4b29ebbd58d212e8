#include "core/cancel.h"

#include <string>

#include "core/error.h"

namespace fmv {
namespace {
int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void CancelToken::setTimeoutMs(int64_t ms) noexcept { deadlineNs_.store(ms > 0 ? nowNs() + ms * 1000000 : 0); }

bool CancelToken::timedOut() const noexcept {
  const int64_t deadline = deadlineNs_.load(std::memory_order_relaxed);
  return deadline != 0 && nowNs() >= deadline;
}

void CancelToken::throwIfStopped(const char* step) const {
  if (cancelled()) throw Error("ERR_CANCELLED", step, std::string("cancelled during ") + step);
  if (timedOut()) throw Error("ERR_TIMEOUT", step, std::string("timed out during ") + step);
}

void CancelToken::watchInput(int64_t stallMs, int64_t lostMs) noexcept {
  lastActivityNs_.store(nowNs(), std::memory_order_relaxed);
  stallNs_.store(stallMs * 1000000, std::memory_order_relaxed);
  lostNs_.store(lostMs * 1000000, std::memory_order_relaxed);
}

void CancelToken::inputActivity() noexcept {
  const int64_t now = nowNs();
  const int64_t before = lastActivityNs_.exchange(now, std::memory_order_relaxed);
  const bool firstByte = !anyInput_.exchange(true, std::memory_order_relaxed);
  // The wait for a feed's first byte is not a break in it: no resume, no discontinuity.
  if (stalled_.exchange(false, std::memory_order_relaxed) && !firstByte) {
    lastStallNs_.store(now - before, std::memory_order_relaxed);
    resumed_.store(true, std::memory_order_relaxed);
  }
}

int64_t CancelToken::silenceMs() const noexcept { return (nowNs() - lastActivityNs_.load(std::memory_order_relaxed)) / 1000000; }

int CancelToken::interrupt(void* opaque) noexcept { return static_cast<CancelToken*>(opaque)->stopRequested() ? 1 : 0; }

int CancelToken::interruptInput(void* opaque) noexcept {
  auto* self = static_cast<CancelToken*>(opaque);
  if (self->stopRequested() || self->finishingEarly() || self->lost_.load(std::memory_order_relaxed)) return 1;
  const int64_t stall = self->stallNs_.load(std::memory_order_relaxed);
  if (stall <= 0) return 0;
  const int64_t silent = nowNs() - self->lastActivityNs_.load(std::memory_order_relaxed);
  if (silent >= stall && !self->stalled_.exchange(true, std::memory_order_relaxed) && self->stallHook_) {
    try {
      self->stallHook_(silent / 1000000);
    } catch (...) {
      // A report that cannot be made must not break the read.
    }
  }
  const int64_t lost = self->lostNs_.load(std::memory_order_relaxed);
  if (lost > 0 && silent >= lost) {
    self->lost_.store(true, std::memory_order_relaxed);
    return 1;
  }
  return 0;
}

}  // namespace fmv
