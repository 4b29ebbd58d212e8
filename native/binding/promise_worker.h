// An AsyncWorker for short native calls (probe, scans): runs on the libuv pool, settles a Promise,
// and rejects with a MediaError built from the core's typed error.
#pragma once

#include <napi.h>

#include <functional>
#include <optional>

#include "binding/addon_state.h"
#include "core/error.h"

namespace fmv::binding {

template <typename Result>
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Run = std::function<Result()>;
  using Convert = std::function<Napi::Value(Napi::Env, const Result&)>;

  PromiseWorker(Napi::Env env, const char* name, Run run, Convert convert)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), run_(std::move(run)), convert_(std::move(convert)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      result_.emplace(run_());
    } catch (const fmv::Error& e) {
      error_.emplace(e);
      SetError(e.what());
    } catch (const std::exception& e) {
      error_.emplace("ERR_INTERNAL", "native", e.what());
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(convert_(Env(), *result_)); }
  void OnError(const Napi::Error&) override {
    Napi::HandleScope scope(Env());
    deferred_.Reject(makeError(Env(), *error_));
  }

 private:
  Napi::Promise::Deferred deferred_;
  Run run_;
  Convert convert_;
  std::optional<Result> result_;
  std::optional<fmv::Error> error_;
};

}  // namespace fmv::binding
