// extractKlv(url, options, onEvent) → { cancel(), ack() }
// Runs the KLV scan on its own thread; units reach JS in batches ('klv' events, acknowledged with
// ack() for flow control), then one 'done' (stats) or 'error' (MediaError) event.
#include <memory>

#include "binding/addon_state.h"
#include "binding/convert.h"
#include "binding/probe_binding.h"
#include "binding/registry.h"
#include "binding/thread_job.h"
#include "core/klv_scan.h"

namespace fmv::binding {
namespace {

constexpr size_t kBatchesInFlight = 4;

Napi::Object statsToJs(Napi::Env env, const fmv::KlvScanStats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("units", static_cast<double>(s.units));
  o.Set("packets", static_cast<double>(s.packets));
  o.Set("bytes", static_cast<double>(s.bytes));
  o.Set("garbageBytes", static_cast<double>(s.garbageBytes));
  o.Set("truncatedUnits", static_cast<double>(s.truncatedUnits));
  o.Set("inferredPts", static_cast<double>(s.inferredPts));
  o.Set("rawInput", s.rawInput);
  o.Set("klvStreams", s.klvStreams);
  o.Set("damagedTail", s.damagedTail ? Napi::Value(Napi::String::New(env, s.damagedTailText)) : env.Null());
  return o;
}

Napi::Value ExtractKlv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string url = info[0].As<Napi::String>().Utf8Value();
  Napi::Object o = info[1].As<Napi::Object>();
  fmv::KlvScanOptions options;
  options.input = readInputOptions(o);
  options.batchSize = static_cast<size_t>(optInt(o, "batchSize", 1024));
  options.raw = optBool(o, "raw", false);
  const int64_t timeoutMs = optInt(o, "timeoutMs", 0);

  auto job = ThreadJob::start(env, "fmv-ingest:klv", info[2].As<Napi::Function>(), kBatchesInFlight, [url, options, timeoutMs](ThreadJob& self) {
    self.cancelToken().setTimeoutMs(timeoutMs);
    try {
      fmv::KlvScanStats stats = fmv::scanKlv(url, options, self.cancelToken(), [&self](std::vector<fmv::KlvUnit>&& batch) {
        auto shared = std::make_shared<std::vector<fmv::KlvUnit>>(std::move(batch));
        if (!self.deliver([shared](Napi::Env env, Napi::Function onEvent) { onEvent.Call({Napi::String::New(env, "klv"), klvBatchToJs(env, *shared)}); }, true)) {
          self.cancelToken().throwIfStopped("klv");
        }
      });
      self.deliver([stats](Napi::Env env, Napi::Function onEvent) { onEvent.Call({Napi::String::New(env, "done"), statsToJs(env, stats)}); }, false);
    } catch (const fmv::Error& e) {
      fmv::Error copy = e;
      self.deliver([copy](Napi::Env env, Napi::Function onEvent) { onEvent.Call({Napi::String::New(env, "error"), makeError(env, copy)}); }, false);
    } catch (const std::exception& e) {
      fmv::Error copy("ERR_INTERNAL", "klv", e.what());
      self.deliver([copy](Napi::Env env, Napi::Function onEvent) { onEvent.Call({Napi::String::New(env, "error"), makeError(env, copy)}); }, false);
    }
  });
  return job->handle(env);
}

static const ExportFunction kExtractKlv("extractKlv", ExtractKlv);

}  // namespace
}  // namespace fmv::binding
