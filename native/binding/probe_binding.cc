// probe(url, options) → Promise<ProbeResult>
#include "binding/probe_binding.h"

#include <memory>

#include "binding/convert.h"
#include "binding/thread_job.h"
#include "binding/registry.h"
#include "core/probe.h"

namespace fmv::binding {
namespace {

Napi::Value rational(Napi::Env env, const fmv::Rational& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("num", r.num);
  o.Set("den", r.den);
  return o;
}

Napi::Object videoToJs(Napi::Env env, const fmv::VideoStreamInfo& v) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", v.index);
  o.Set("pid", v.pid >= 0 ? Napi::Value(Napi::Number::New(env, v.pid)) : env.Null());
  o.Set("codec", v.codec);
  o.Set("codecLongName", v.codecLongName);
  o.Set("profile", v.profile.empty() ? env.Null() : Napi::Value(Napi::String::New(env, v.profile)));
  o.Set("level", v.level >= 0 ? Napi::Value(Napi::Number::New(env, v.level)) : env.Null());
  o.Set("width", v.width);
  o.Set("height", v.height);
  o.Set("pixelFormat", v.pixelFormat);
  o.Set("frameRate", rational(env, v.frameRate));
  o.Set("realFrameRate", rational(env, v.realFrameRate));
  o.Set("sampleAspectRatio", rational(env, v.sampleAspectRatio));
  o.Set("displayAspectRatio", rational(env, v.displayAspectRatio));
  o.Set("fieldOrder", v.fieldOrder);
  o.Set("bitRate", orNull(env, static_cast<double>(v.bitRate), v.bitRate > 0));
  o.Set("duration", orNull(env, v.duration, v.duration >= 0));
  o.Set("startTime", v.startTime);
  o.Set("frames", orNull(env, static_cast<double>(v.frames), v.frames > 0));
  o.Set("timeBase", rational(env, v.timeBase));
  return o;
}

Napi::Object audioToJs(Napi::Env env, const fmv::AudioStreamInfo& a) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", a.index);
  o.Set("pid", a.pid >= 0 ? Napi::Value(Napi::Number::New(env, a.pid)) : env.Null());
  o.Set("codec", a.codec);
  o.Set("profile", a.profile.empty() ? env.Null() : Napi::Value(Napi::String::New(env, a.profile)));
  o.Set("channels", a.channels);
  o.Set("channelLayout", a.channelLayout);
  o.Set("sampleRate", a.sampleRate);
  o.Set("sampleFormat", a.sampleFormat);
  o.Set("bitRate", orNull(env, static_cast<double>(a.bitRate), a.bitRate > 0));
  o.Set("language", a.language.empty() ? env.Null() : Napi::Value(Napi::String::New(env, a.language)));
  return o;
}

Napi::Object klvToJs(Napi::Env env, const fmv::KlvStreamInfo& k) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", k.index);
  o.Set("pid", k.pid >= 0 ? Napi::Value(Napi::Number::New(env, k.pid)) : env.Null());
  o.Set("carriage", k.carriage);
  o.Set("streamType", k.streamType >= 0 ? Napi::Value(Napi::Number::New(env, k.streamType)) : env.Null());
  o.Set("registration", k.registration.empty() ? env.Null() : Napi::Value(Napi::String::New(env, k.registration)));
  o.Set("pesStreamId", k.pesStreamId >= 0 ? Napi::Value(Napi::Number::New(env, k.pesStreamId)) : env.Null());
  o.Set("pts", k.pts);
  o.Set("packets", k.packets);
  o.Set("bytes", static_cast<double>(k.bytes));
  o.Set("hybrid", k.hybrid);
  return o;
}

}  // namespace

Napi::Value probeResultToJs(Napi::Env env, const fmv::ProbeResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("url", r.url);
  o.Set("format", r.format);
  o.Set("formatLongName", r.formatLongName);
  o.Set("duration", orNull(env, r.duration, r.duration >= 0));
  o.Set("startTime", r.startTime);
  o.Set("bitRate", orNull(env, static_cast<double>(r.bitRate), r.bitRate > 0));
  o.Set("size", orNull(env, static_cast<double>(r.size), r.size >= 0));
  o.Set("video", r.video ? Napi::Value(videoToJs(env, *r.video)) : env.Null());
  Napi::Array others = Napi::Array::New(env, r.otherVideo.size());
  for (size_t i = 0; i < r.otherVideo.size(); ++i) others.Set(i, videoToJs(env, r.otherVideo[i]));
  o.Set("otherVideo", others);
  Napi::Array audio = Napi::Array::New(env, r.audio.size());
  for (size_t i = 0; i < r.audio.size(); ++i) audio.Set(i, audioToJs(env, r.audio[i]));
  o.Set("audio", audio);
  Napi::Array klv = Napi::Array::New(env, r.klv.size());
  for (size_t i = 0; i < r.klv.size(); ++i) klv.Set(i, klvToJs(env, r.klv[i]));
  o.Set("klv", klv);
  return o;
}

fmv::InputOptions readInputOptions(const Napi::Object& o) {
  fmv::InputOptions in;
  in.probeSize = optInt(o, "probeSize", 0);
  in.analyzeDurationUs = optInt(o, "analyzeDurationUs", 0);
  in.format = optString(o, "format");
  if (o.Has("inputRoots") && o.Get("inputRoots").IsArray()) {
    Napi::Array roots = o.Get("inputRoots").As<Napi::Array>();
    for (uint32_t i = 0; i < roots.Length(); ++i) in.allowedRoots.push_back(roots.Get(i).As<Napi::String>().Utf8Value());
  }
  if (o.Has("inputOptions") && o.Get("inputOptions").IsObject()) {
    const Napi::Object opts = o.Get("inputOptions").As<Napi::Object>();
    const Napi::Array keys = opts.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      const std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
      in.formatOptions.emplace_back(key, opts.Get(key).As<Napi::String>().Utf8Value());
    }
  }
  return in;
}

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string url = info[0].As<Napi::String>().Utf8Value();
  Napi::Object o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  fmv::ProbeOptions options;
  options.input = readInputOptions(o);
  options.klvScanBytes = optInt(o, "klvScanBytes", options.klvScanBytes);
  options.requireVideo = optBool(o, "requireVideo", true);
  const int64_t timeoutMs = optInt(o, "timeoutMs", 0);

  return startPromiseJob<fmv::ProbeResult>(
      env, "fmv-ingest:probe",
      [url, options, timeoutMs](fmv::CancelToken& cancel) {
        cancel.setTimeoutMs(timeoutMs);
        return fmv::probe(url, options, cancel);
      },
      probeResultToJs);
}

static const ExportFunction kProbe("probe", Probe);

}  // namespace fmv::binding
