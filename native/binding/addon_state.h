// Per-environment addon state (one per main thread or worker thread that loads the addon).
#pragma once

#include <napi.h>

#include <string>

#include "core/error.h"

namespace fmv::binding {

struct AddonState {
  // The JS MediaError class, handed over by the TypeScript layer at load time.
  Napi::FunctionReference mediaErrorClass;
  // Native jobs on their own threads (thread_job.cc owns the type); cancelled and joined at teardown.
  void* runningJobs = nullptr;
};

AddonState& stateOf(Napi::Env env);

// Builds a JS MediaError (or a plain Error before init) from a core error.
Napi::Value makeError(Napi::Env env, const fmv::Error& error);
Napi::Value makeError(Napi::Env env, const std::string& code, const std::string& step, const std::string& message);

// Reading the plain option objects that TypeScript has already validated.
std::string optString(const Napi::Object& o, const char* key, const std::string& fallback = "");
int64_t optInt(const Napi::Object& o, const char* key, int64_t fallback = 0);
double optNumber(const Napi::Object& o, const char* key, double fallback = 0);
bool optBool(const Napi::Object& o, const char* key, bool fallback = false);

}  // namespace fmv::binding
