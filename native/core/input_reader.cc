#include "core/input_reader.h"

#include <utility>

namespace fmv {

InputReader::InputReader(ReadFn read, std::function<void()> stop, size_t capacity)
    : read_(std::move(read)), stop_(std::move(stop)), capacity_(capacity), thread_([this] { loop(); }) {}

InputReader::~InputReader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
  // A read blocked on a silent input returns once told to stop.
  bool done;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done = done_;
  }
  if (!done && stop_) stop_();
  if (thread_.joinable()) thread_.join();
}

void InputReader::loop() {
  for (;;) {
    InputItem item;
    try {
      read_(item);
    } catch (...) {
      item.error = std::current_exception();
      if (item.ret >= 0) item.ret = -1;
    }
    const bool last = item.ret < 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return closed_ || items_.size() < capacity_; });
      if (closed_) return;
      items_.push_back(std::move(item));
      done_ = last;
    }
    changed_.notify_all();
    if (last) return;
  }
}

InputItem InputReader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !items_.empty(); });
  InputItem item = std::move(items_.front());
  items_.pop_front();
  lock.unlock();
  changed_.notify_all();
  return item;
}

}  // namespace fmv
