// A native job on its own thread that reports to JS through a ThreadSafeFunction.
// The thread never blocks inside the TSFN (NonBlockingCall); flow control is our own credit count,
// so an environment that is tearing down can always cancel and join it. Jobs run on their own
// threads rather than the libuv pool: a stalled network input must not hold a pool thread that
// the rest of the process needs, and an exiting process can cancel and join them.
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "binding/addon_state.h"
#include "binding/credits.h"
#include "core/cancel.h"
#include "core/error.h"

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
  // (returns false when the job was cancelled or timed out while waiting).
  bool deliver(Delivery delivery, bool flowControlled);

  // A JS object { cancel(), ack() } that keeps the job alive while JS holds it.
  Napi::Object handle(Napi::Env env);

  void join();

 private:
  ThreadJob() = default;
  static void callJs(Napi::Env env, Napi::Function onEvent, std::nullptr_t*, Delivery* delivery);
  using Channel = Napi::TypedThreadSafeFunction<std::nullptr_t, Delivery, &ThreadJob::callJs>;

  fmv::CancelToken cancel_;
  Channel channel_;
  std::thread thread_;
  Credits credits_{4};
};

// Runs run(cancel) on its own thread and settles the returned promise on the JS thread: resolved
// with convert(result), or rejected with a MediaError. `job`, when given, receives the job (for a
// cancel function).
template <typename Result>
Napi::Promise startPromiseJob(Napi::Env env, const char* name, std::function<Result(fmv::CancelToken&)> run,
                              std::function<Napi::Value(Napi::Env, const Result&)> convert, std::shared_ptr<ThreadJob>* job = nullptr) {
  auto deferred = std::make_shared<Napi::Promise::Deferred>(Napi::Promise::Deferred::New(env));
  Napi::Function none = Napi::Function::New(env, [](const Napi::CallbackInfo&) {}, name);
  auto started = ThreadJob::start(env, name, none, 1, [run = std::move(run), convert = std::move(convert), deferred](ThreadJob& self) {
    auto result = std::make_shared<std::optional<Result>>();
    auto error = std::make_shared<std::optional<fmv::Error>>();
    try {
      result->emplace(run(self.cancelToken()));
    } catch (const fmv::Error& e) {
      error->emplace(e);
    } catch (const std::exception& e) {
      error->emplace("ERR_INTERNAL", "native", e.what());
    }
    self.deliver(
        [result, error, convert, deferred](Napi::Env env, Napi::Function) {
          if (error->has_value()) deferred->Reject(makeError(env, **error));
          else deferred->Resolve(convert(env, **result));
        },
        false);
  });
  if (job) *job = started;
  return deferred->Promise();
}

}  // namespace fmv::binding
