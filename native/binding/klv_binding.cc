// extractKlv(url, options, onEvent) → { cancel(), ack() }
// Runs the KLV scan on its own thread; units reach JS in batches ('klv' events, acknowledged with
// ack() for flow control), then one 'done' (stats) or 'error' (MediaError) event.
#include <cmath>
#include <memory>

#include "binding/addon_state.h"
#include "binding/probe_binding.h"
#include "binding/registry.h"
#include "binding/thread_job.h"
#include "core/klv_scan.h"

namespace fmv::binding {
namespace {

constexpr size_t kBatchesInFlight = 4;

// One Buffer with the units back to back and one Float64Array of per-unit fields: two JS objects
// per batch instead of several per unit (the JS side builds its unit objects far faster).
constexpr int kMetaFields = 7;  // stream, pid, sync, pts (NaN when none), ptsInferred, byteOffset, length

Napi::Object unitsToJs(Napi::Env env, const std::vector<fmv::KlvUnit>& units) {
  size_t total = 0;
  for (const auto& u : units) total += u.data.size();
  Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::New(env, total);
  Napi::Float64Array meta = Napi::Float64Array::New(env, units.size() * kMetaFields);
  double* m = meta.Data();
  uint8_t* d = data.Data();
  for (const auto& u : units) {
    m[0] = u.stream;
    m[1] = u.pid;
    m[2] = u.pid < 0 ? -1 : (u.sync ? 1 : 0);
    m[3] = u.hasPts ? u.pts : std::nan("");
    m[4] = u.ptsInferred ? 1 : 0;
    m[5] = static_cast<double>(u.byteOffset);
    m[6] = static_cast<double>(u.data.size());
    m += kMetaFields;
    std::copy(u.data.begin(), u.data.end(), d);
    d += u.data.size();
  }
  Napi::Object batch = Napi::Object::New(env);
  batch.Set("data", data);
  batch.Set("meta", meta);
  return batch;
}

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
        if (!self.deliver([shared](Napi::Env env, Napi::Function onEvent) { onEvent.Call({Napi::String::New(env, "klv"), unitsToJs(env, *shared)}); }, true)) {
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
