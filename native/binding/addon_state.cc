#include "binding/addon_state.h"

namespace fmv::binding {

AddonState& stateOf(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

Napi::Value makeError(Napi::Env env, const std::string& code, const std::string& step, const std::string& message) {
  return makeError(env, fmv::Error(code, step, message));
}

Napi::Value makeError(Napi::Env env, const fmv::Error& error) {
  Napi::Object details = Napi::Object::New(env);
  details.Set("code", error.code());
  details.Set("step", error.step());
  if (error.averror() != 0) {
    details.Set("averror", error.averror());
    details.Set("averrorText", error.averrorText());
  }
  AddonState* state = env.GetInstanceData<AddonState>();
  if (state && !state->mediaErrorClass.IsEmpty()) {
    return state->mediaErrorClass.New({Napi::String::New(env, error.what()), details});
  }
  Napi::Error plain = Napi::Error::New(env, error.what());
  plain.Set("code", error.code());
  plain.Set("step", error.step());
  return plain.Value();
}

std::string optString(const Napi::Object& o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : fallback;
}

int64_t optInt(const Napi::Object& o, const char* key, int64_t fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : fallback;
}

double optNumber(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

bool optBool(const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : fallback;
}

}  // namespace fmv::binding
