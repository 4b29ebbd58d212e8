// A native job on its own thread that reports to JS through a ThreadSafeFunction.
// The thread never blocks inside the TSFN (NonBlockingCall); flow control is our own credit count,
// so an environment that is tearing down can always cancel and join it.
#pragma once

#include <napi.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "core/cancel.h"

namespace fmv::binding {

class ThreadJob : public std::enable_shared_from_this<ThreadJob> {
 public:
  using Body = std::function<void(ThreadJob&)>;
  // An event delivered on the JS thread: builds the arguments for onEvent(name, payload).
  using Delivery = std::function<void(Napi::Env, Napi::Function onEvent)>;

  virtual ~ThreadJob();

  // Starts body on a new thread; onEvent(name, payload) receives deliveries on the JS thread.
  static std::shared_ptr<ThreadJob> start(Napi::Env env, const char* name, Napi::Function onEvent, size_t maxInFlight, Body body);

  fmv::CancelToken& cancelToken() { return cancel_; }
  void cancel();
  // JS acknowledges a delivered batch, returning one credit.
  void ack();

  // From the job thread: deliver to JS. With flowControlled, waits for a credit first
  // (returns false when the job was cancelled while waiting).
  bool deliver(Delivery delivery, bool flowControlled);

  // A JS object { cancel(), ack() } that keeps the job alive while JS holds it.
  Napi::Object handle(Napi::Env env);

  void join();

 private:
  ThreadJob() = default;

  fmv::CancelToken cancel_;
  Napi::ThreadSafeFunction tsfn_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable credits_;
  size_t inFlight_ = 0;
  size_t maxInFlight_ = 4;
  bool released_ = false;
};

}  // namespace fmv::binding
