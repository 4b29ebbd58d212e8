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

int CancelToken::interrupt(void* opaque) noexcept { return static_cast<CancelToken*>(opaque)->stopRequested() ? 1 : 0; }

}  // namespace fmv
