// Flow control between a job thread and the JS thread: at most `limit` deliveries wait for JS to
// handle them. The job thread waits for a credit; a cancel or a timeout (which nothing signals, so
// waits wake periodically to notice it) ends the wait.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

#include "core/cancel.h"

namespace fmv::binding {

class Credits {
 public:
  explicit Credits(size_t limit) : limit_(limit) {}

  void setLimit(size_t limit) {
    std::lock_guard<std::mutex> lock(mutex_);
    limit_ = limit;
  }

  // From the job thread: takes a credit, waiting while none is free. False when the job was
  // stopped meanwhile (no credit taken).
  bool acquire(const fmv::CancelToken& cancel) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!(inFlight_ < limit_ || cancel.stopRequested())) freed_.wait_for(lock, std::chrono::milliseconds(100));
    if (cancel.stopRequested()) return false;
    ++inFlight_;
    return true;
  }

  // JS handled (or dropped) one delivery.
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (inFlight_ > 0) --inFlight_;
    freed_.notify_all();
  }

  // After a cancel: waiters look again at once.
  void wake() {
    std::lock_guard<std::mutex> lock(mutex_);
    freed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  size_t inFlight_ = 0;
  size_t limit_;
};

}  // namespace fmv::binding
