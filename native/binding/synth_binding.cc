// synthesize(options) → Promise<{videoFrames, audioFrames, klvUnits, bytes}>
#include "binding/addon_state.h"
#include "binding/thread_job.h"
#include "binding/registry.h"
#include "core/synth.h"

namespace fmv::binding {
namespace {

Napi::Value Synthesize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  fmv::SynthOptions options;
  options.path = optString(o, "path");
  options.width = static_cast<int>(optInt(o, "width", options.width));
  options.height = static_cast<int>(optInt(o, "height", options.height));
  options.fpsNum = static_cast<int>(optInt(o, "fpsNum", options.fpsNum));
  options.fpsDen = static_cast<int>(optInt(o, "fpsDen", options.fpsDen));
  options.durationSeconds = optNumber(o, "durationSeconds", options.durationSeconds);
  options.sarNum = static_cast<int>(optInt(o, "sarNum", 1));
  options.sarDen = static_cast<int>(optInt(o, "sarDen", 1));
  options.audio = optBool(o, "audio", true);
  options.interlaced = optBool(o, "interlaced", false);
  options.preset = optString(o, "preset", options.preset);
  options.videoBitRate = optInt(o, "videoBitRate", 0);
  options.gopFrames = static_cast<int>(optInt(o, "gopFrames", 0));
  options.klvSync = optBool(o, "klvSync", false);
  Napi::Value klv = o.Get("klv");
  if (klv.IsArray()) {
    Napi::Array units = klv.As<Napi::Array>();
    options.klv.reserve(units.Length());
    for (uint32_t i = 0; i < units.Length(); ++i) {
      Napi::Object u = units.Get(i).As<Napi::Object>();
      Napi::Buffer<uint8_t> data = u.Get("data").As<Napi::Buffer<uint8_t>>();
      options.klv.push_back({optNumber(u, "seconds", 0), std::vector<uint8_t>(data.Data(), data.Data() + data.Length())});
    }
  }
  return startPromiseJob<fmv::SynthResult>(
      env, "fmv-ingest:synthesize", [options](fmv::CancelToken& cancel) { return fmv::synthesizeClip(options, cancel); },
      [](Napi::Env env, const fmv::SynthResult& r) {
        Napi::Object out = Napi::Object::New(env);
        out.Set("videoFrames", static_cast<double>(r.videoFrames));
        out.Set("audioFrames", static_cast<double>(r.audioFrames));
        out.Set("klvUnits", static_cast<double>(r.klvUnits));
        out.Set("bytes", static_cast<double>(r.bytes));
        return out;
      });
}

static const ExportFunction kSynthesize("synthesize", Synthesize);

}  // namespace
}  // namespace fmv::binding
