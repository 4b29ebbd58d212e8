// previews(url, options) → { promise: Promise<PreviewJobResult>, cancel(): void }
#include <memory>

#include "binding/convert.h"
#include "binding/probe_binding.h"
#include "binding/thread_job.h"
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
  std::shared_ptr<ThreadJob> job;
  Napi::Promise promise = startPromiseJob<fmv::PreviewJobResult>(
      env, "fmv-ingest:previews",
      [url, options, timeoutMs](fmv::CancelToken& cancel) {
        cancel.setTimeoutMs(timeoutMs);
        return fmv::runPreviewJob(url, options, cancel);
      },
      previewResultToJs, &job);
  Napi::Object handle = job->handle(env);
  handle.Set("promise", promise);
  return handle;
}

}  // namespace

static const ExportFunction kPreviews("previews", Previews);

}  // namespace fmv::binding
