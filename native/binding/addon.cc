// Module entry: registers the native functions and the per-environment state.
#include <napi.h>

#include "binding/addon_state.h"
#include "binding/registry.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/log.h>
}

namespace fmv::binding {
namespace {

// init(MediaError): the TypeScript layer hands over its error class so C++ errors arrive typed.
Napi::Value Init(const Napi::CallbackInfo& info) {
  if (info[0].IsFunction()) stateOf(info.Env()).mediaErrorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

std::string versionText(unsigned v) {
  return std::to_string(AV_VERSION_MAJOR(v)) + "." + std::to_string(AV_VERSION_MINOR(v)) + "." + std::to_string(AV_VERSION_MICRO(v));
}

Napi::Value Versions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("ffmpeg", av_version_info());
  o.Set("libavformat", versionText(avformat_version()));
  o.Set("libavcodec", versionText(avcodec_version()));
  o.Set("libavfilter", versionText(avfilter_version()));
  o.Set("libavutil", versionText(avutil_version()));
  return o;
}

}  // namespace

std::vector<ExportedFunction>& exportedFunctions() {
  static std::vector<ExportedFunction> functions;
  return functions;
}

namespace {

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  // FFmpeg's logging is process-global and chatty; jobs collect what they need themselves.
  av_log_set_level(AV_LOG_ERROR);
  auto* state = new AddonState();
  env.SetInstanceData<AddonState>(state);
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("versions", Napi::Function::New(env, Versions, "versions"));
  for (const ExportedFunction& f : exportedFunctions()) exports.Set(f.name, Napi::Function::New(env, f.fn, f.name));
  return exports;
}

}  // namespace
}  // namespace fmv::binding

static Napi::Object RegisterModule(Napi::Env env, Napi::Object exports) { return fmv::binding::Register(env, exports); }

NODE_API_MODULE(fmv_ingest, RegisterModule)
