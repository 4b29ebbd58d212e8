// previews(url, options) → { promise: Promise<PreviewJobResult>, cancel(): void }
#include <memory>

#include "binding/convert.h"
#include "binding/probe_binding.h"
#include "binding/promise_worker.h"
#include "binding/registry.h"
#include "core/preview_job.h"

namespace fmv::binding {
namespace {

Napi::Value previewResultToJs(Napi::Env env, const fmv::PreviewJobResult& job) {
  Napi::Object o = previewsToJs(env, job.previews);
  o.Set("framesDecoded", static_cast<double>(job.framesDecoded));
  o.Set("decodeErrors", static_cast<double>(job.decodeErrors));
  o.Set("damagedFrames", static_cast<double>(job.damagedFrames));
  o.Set("lastDecodeError", stringOrNull(env, job.lastDecodeError));
  o.Set("deinterlaced", job.deinterlaced);
  o.Set("stoppedAtLimit", job.stoppedAtLimit);
  return o;
}

fmv::PreviewJobOptions readPreviewJobOptions(const Napi::Object& o) {
  fmv::PreviewJobOptions job;
  job.input = readInputOptions(o);
  job.durationLimit = optNumber(o, "durationLimit", -1);
  job.previews.outDir = optString(o, "outDir");
  readPreviewOptions(o, job.previews);
  return job;
}

Napi::Value Previews(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string url = info[0].As<Napi::String>().Utf8Value();
  Napi::Object o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  const fmv::PreviewJobOptions options = readPreviewJobOptions(o);
  const int64_t timeoutMs = optInt(o, "timeoutMs", 0);
  // Shared by the worker and the cancel function; whichever lives longer frees it.
  auto cancel = std::make_shared<fmv::CancelToken>();
  cancel->setTimeoutMs(timeoutMs);

  auto* worker = new PromiseWorker<fmv::PreviewJobResult>(
      env, "fmv-ingest:previews", [url, options, cancel]() { return fmv::runPreviewJob(url, options, *cancel); }, previewResultToJs);
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", worker->promise());
  handle.Set("cancel", Napi::Function::New(
                           env, [cancel](const Napi::CallbackInfo& ci) -> Napi::Value {
                             cancel->cancel();
                             return ci.Env().Undefined();
                           },
                           "cancel"));
  worker->Queue();
  return handle;
}

}  // namespace

static const ExportFunction kPreviews("previews", Previews);

}  // namespace fmv::binding
