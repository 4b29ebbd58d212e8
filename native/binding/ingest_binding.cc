// ingest(input, options, onEvent) → { cancel() } and capabilities() → Promise.
//
// A job runs on its own std::thread (a whole ladder would pin a libuv pool thread for minutes) and
// reports through a napi thread-safe function: progress coalesced to the latest value, KLV units in
// batches, warnings, steps, and one final 'done' or 'error'. On worker termination or process exit
// an environment cleanup hook cancels the running jobs and joins their threads; events that arrive
// while the environment is tearing down are dropped, never run.
#include "binding/ingest_binding.h"

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "binding/addon_state.h"
#include "binding/convert.h"
#include "binding/credits.h"
#include "binding/probe_binding.h"
#include "binding/thread_job.h"
#include "binding/registry.h"
#include "core/cancel.h"
#include "core/error.h"
#include "core/ingest_pipeline.h"

namespace fmv::binding {
namespace {

// ---- options → plain job struct (TypeScript validated them) ----

fmv::HwAccel hwAccelOf(const std::string& s) {
  if (s == "cpu") return fmv::HwAccel::Cpu;
  if (s == "cuda") return fmv::HwAccel::Cuda;
  if (s == "vaapi") return fmv::HwAccel::Vaapi;
  return fmv::HwAccel::Auto;
}

fmv::Tier tierOf(const std::string& s) {
  if (s == "sd") return fmv::Tier::Sd;
  if (s == "hd") return fmv::Tier::Hd;
  if (s == "uhd") return fmv::Tier::Uhd;
  return fmv::Tier::Fhd;
}

// ---- core structs → JS ----


Napi::Object renditionToJs(Napi::Env env, const fmv::RenditionResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", r.name);
  o.Set("width", r.width);
  o.Set("height", r.height);
  o.Set("frameRate", r.frameRate);
  o.Set("codecs", r.codecs);
  o.Set("videoEncoder", r.videoEncoder);
  o.Set("videoBitrate", static_cast<double>(r.videoBitrate));
  o.Set("maxBitrate", static_cast<double>(r.maxBitrate));
  o.Set("audioBitrate", static_cast<double>(r.audioBitrate));
  o.Set("bandwidth", static_cast<double>(r.bandwidth));
  o.Set("averageBandwidth", static_cast<double>(r.averageBandwidth));
  o.Set("playlist", r.playlist);
  o.Set("segments", r.segments);
  o.Set("duration", r.duration);
  o.Set("bytes", static_cast<double>(r.bytes));
  o.Set("frames", static_cast<double>(r.frames));
  o.Set("klvUnits", static_cast<double>(r.klvPackets));
  return o;
}

Napi::Object hardwareToJs(Napi::Env env, const fmv::HardwareResult& h) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("requested", h.requested);
  o.Set("used", h.used);
  o.Set("reason", h.reason);
  o.Set("fallback", h.fallback);
  o.Set("device", h.device.empty() ? env.Null() : Napi::Value(Napi::String::New(env, h.device)));
  o.Set("decoder", h.decoder);
  o.Set("scaler", h.scaler);
  o.Set("encoder", h.encoder);
  return o;
}

Napi::Array renditionsToJs(Napi::Env env, const std::vector<fmv::RenditionResult>& rs) {
  Napi::Array a = Napi::Array::New(env, rs.size());
  for (size_t i = 0; i < rs.size(); ++i) a.Set(i, renditionToJs(env, rs[i]));
  return a;
}

Napi::Array stringsToJs(Napi::Env env, const std::vector<std::string>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a.Set(i, v[i]);
  return a;
}

Napi::Object warningToJs(Napi::Env env, const fmv::IngestWarning& w) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("code", w.code);
  o.Set("message", w.message);
  return o;
}

Napi::Object countsToJs(Napi::Env env, const fmv::IngestCounts& c) {
  Napi::Object o = Napi::Object::New(env);
  const std::pair<const char*, int64_t> fields[] = {
      {"packetsRead", c.packetsRead},       {"bytesRead", c.bytesRead},           {"videoPackets", c.videoPackets},
      {"framesDecoded", c.framesDecoded},   {"framesOut", c.framesOut},           {"decodeErrors", c.decodeErrors},
      {"corruptPackets", c.corruptPackets}, {"audioPackets", c.audioPackets},     {"audioDecodeErrors", c.audioDecodeErrors},
      {"klvPackets", c.klvPackets},         {"klvUnits", c.klvUnits},             {"klvBytes", c.klvBytes},
      {"klvPtsInferred", c.klvPtsInferred}, {"klvGarbageBytes", c.klvGarbageBytes}, {"klvTruncatedUnits", c.klvTruncatedUnits},
      {"previewFrames", c.previewFrames},   {"timestampJumps", c.timestampJumps},     {"framesShed", c.framesShed},
  };
  for (const auto& [k, v] : fields) o.Set(k, static_cast<double>(v));
  return o;
}

Napi::Object progressToJs(Napi::Env env, const fmv::IngestProgress& p) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", "progress");
  o.Set("frames", static_cast<double>(p.frames));
  o.Set("outTime", p.outTime);
  o.Set("fps", p.fps);
  o.Set("speed", p.speed);
  o.Set("percent", orNull(env, p.percent, p.percent >= 0));
  o.Set("etaSeconds", orNull(env, p.etaSeconds, p.etaSeconds >= 0));
  o.Set("bytesRead", static_cast<double>(p.bytesRead));
  o.Set("elapsedSeconds", p.elapsedSeconds);
  o.Set("segments", static_cast<double>(p.segments));
  o.Set("lagSeconds", orNull(env, p.lagSeconds, p.lagSeconds >= 0));
  return o;
}




Napi::Object planToJs(Napi::Env env, const fmv::IngestPlanInfo& p) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", "plan");
  o.Set("source", probeResultToJs(env, p.source));
  o.Set("renditions", renditionsToJs(env, p.renditions));
  o.Set("hardware", hardwareToJs(env, p.hardware));
  o.Set("audio", p.audio);
  o.Set("deinterlace", p.deinterlace);
  return o;
}

// ---- one job ----

struct JsEvent {
  enum class Kind { Plan, Progress, Klv, Warning, Step, Done, Failed };
  explicit JsEvent(Kind k) : kind(k) {}
  Kind kind;
  std::unique_ptr<fmv::IngestPlanInfo> plan;
  std::vector<fmv::KlvUnit> klv;
  fmv::IngestWarning warning;
  std::string step;
  std::unique_ptr<fmv::IngestResult> result;
  std::unique_ptr<fmv::Error> error;
};

class IngestJobHandle;

// The running jobs of one environment (main thread or worker), for its cleanup hook.
struct EnvJobs {
  napi_env env = nullptr;
  std::set<IngestJobHandle*> jobs;
};

std::mutex gEnvMutex;
std::map<napi_env, EnvJobs*> gEnvJobs;

// Every running job of the process. process.exit() on the main thread runs no environment cleanup
// hooks, so an atexit handler stops the jobs instead: they remove their files and their threads are
// joined before the process's static objects go away.
std::mutex gAllMutex;
std::set<IngestJobHandle*> gAllJobs;
void stopAllAtExit();

class IngestJobHandle final : public fmv::IngestObserver {
 public:
  explicit IngestJobHandle(fmv::IngestJob job) : job_(std::move(job)) {}
  ~IngestJobHandle() override { stopAndJoin(); }

  void start(napi_env env, napi_value onEvent, std::shared_ptr<IngestJobHandle> self);
  void cancel() {
    cancel_.cancel();
    klvCredits_.wake();
  }
  // A graceful end: the input is let go, the outputs are finished and 'done' reports them.
  void finishEarly() {
    cancel_.finishEarly();
  }
  void stopAndJoin() {
    cancel_.cancel();
    if (thread_.joinable()) thread_.join();
  }
  void detachFromEnv() { envJobs_ = nullptr; }
  void returnKlvCredit() { klvCredits_.release(); }

  void onPlan(const fmv::IngestPlanInfo& p) override {
    auto* e = new JsEvent(JsEvent::Kind::Plan);
    e->plan = std::make_unique<fmv::IngestPlanInfo>(p);
    post(e);
  }
  void onProgress(const fmv::IngestProgress& p) override {
    std::lock_guard<std::mutex> lock(progressMutex_);
    latestProgress_ = p;
    if (progressQueued_) return;  // the queued event will carry this newer value
    progressQueued_ = true;
    post(new JsEvent(JsEvent::Kind::Progress));
  }
  void onKlv(std::vector<fmv::KlvUnit>&& units) override {
    // Flow control: at most kKlvBatchesInFlight batches wait for the JS thread; past that the
    // pass waits (a cancel or timeout still ends the wait), so a busy event loop bounds memory.
    if (!klvCredits_.acquire(cancel_)) return;
    auto* e = new JsEvent(JsEvent::Kind::Klv);
    e->klv = std::move(units);
    post(e);
  }
  void onWarning(const fmv::IngestWarning& w) override {
    auto* e = new JsEvent(JsEvent::Kind::Warning);
    e->warning = w;
    post(e);
  }
  void onStep(const std::string& step) override {
    auto* e = new JsEvent(JsEvent::Kind::Step);
    e->step = step;
    post(e);
  }

 private:
  void run();
  void post(JsEvent* e) {
    if (napi_call_threadsafe_function(tsfn_, e, napi_tsfn_nonblocking) != napi_ok) {
      if (e->kind == JsEvent::Kind::Klv) returnKlvCredit();
      delete e;
    }
  }
  static void callJs(napi_env env, napi_value callback, void* context, void* data);
  static void finalize(napi_env env, void* data, void* hint);
  void deliver(Napi::Env env, Napi::Function callback, const JsEvent& e);

  fmv::IngestJob job_;
  fmv::CancelToken cancel_;
  std::thread thread_;
  napi_threadsafe_function tsfn_ = nullptr;
  EnvJobs* envJobs_ = nullptr;
  std::mutex progressMutex_;
  fmv::IngestProgress latestProgress_;
  bool progressQueued_ = false;
  static constexpr size_t kKlvBatchesInFlight = 8;
  Credits klvCredits_{kKlvBatchesInFlight};
};

void cleanupEnv(void* arg) {
  auto* jobs = static_cast<EnvJobs*>(arg);
  {
    std::lock_guard<std::mutex> lock(gEnvMutex);
    gEnvJobs.erase(jobs->env);
  }
  // Every job is told to stop before any is waited for, so teardown takes the longest stop, not the sum.
  for (IngestJobHandle* job : jobs->jobs) job->cancel();
  for (IngestJobHandle* job : jobs->jobs) {
    job->stopAndJoin();
    job->detachFromEnv();
  }
  delete jobs;
}

EnvJobs* envJobsOf(napi_env env) {
  std::lock_guard<std::mutex> lock(gEnvMutex);
  auto it = gEnvJobs.find(env);
  if (it != gEnvJobs.end()) return it->second;
  auto* jobs = new EnvJobs();
  jobs->env = env;
  if (napi_add_env_cleanup_hook(env, cleanupEnv, jobs) != napi_ok) {
    delete jobs;
    throw Napi::Error::New(Napi::Env(env), "cannot register the ingest cleanup hook");
  }
  gEnvJobs[env] = jobs;
  return jobs;
}

void IngestJobHandle::start(napi_env env, napi_value onEvent, std::shared_ptr<IngestJobHandle> self) {
  Napi::Env e(env);
  // The thread-safe function owns one reference to the job; its finalizer joins the thread.
  auto* owner = new std::shared_ptr<IngestJobHandle>(std::move(self));
  napi_status s = napi_create_threadsafe_function(env, onEvent, nullptr, Napi::String::New(e, "fmv-ingest:ingest"), 0, 1, owner,
                                                  &IngestJobHandle::finalize, this, &IngestJobHandle::callJs, &tsfn_);
  if (s != napi_ok) {
    delete owner;
    throw Napi::Error::New(e, "cannot create the ingest event channel");
  }
  envJobs_ = envJobsOf(env);
  envJobs_->jobs.insert(this);
  {
    static std::once_flag atExit;
    std::call_once(atExit, [] { std::atexit(stopAllAtExit); });
    std::lock_guard<std::mutex> lock(gAllMutex);
    gAllJobs.insert(this);
  }
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    // The channel's finalizer takes the job out of both lists and frees the owner reference.
    napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
    throw Napi::Error::New(Napi::Env(env), std::string("cannot start the ingest thread: ") + e.what());
  }
}

void stopAllAtExit() {
  std::set<IngestJobHandle*> jobs;
  {
    std::lock_guard<std::mutex> lock(gAllMutex);
    jobs = gAllJobs;
  }
  for (IngestJobHandle* job : jobs) job->cancel();
  for (IngestJobHandle* job : jobs) job->stopAndJoin();
}

void IngestJobHandle::run() {
  auto* last = new JsEvent(JsEvent::Kind::Done);
  try {
    last->result = std::make_unique<fmv::IngestResult>(fmv::runIngest(job_, *this, cancel_));
  } catch (const fmv::Error& err) {
    last->kind = JsEvent::Kind::Failed;
    last->error = std::make_unique<fmv::Error>(err);
  } catch (const std::exception& err) {
    last->kind = JsEvent::Kind::Failed;
    last->error = std::make_unique<fmv::Error>("ERR_INTERNAL", "ingest", err.what());
  }
  post(last);
  napi_release_threadsafe_function(tsfn_, napi_tsfn_release);
}

void IngestJobHandle::finalize(napi_env env, void* data, void* hint) {
  auto* owner = static_cast<std::shared_ptr<IngestJobHandle>*>(data);
  IngestJobHandle* job = owner->get();
  // Normally the thread has already released the channel and is returning; during teardown it is
  // cancelled first so the join is short.
  job->stopAndJoin();
  if (job->envJobs_) job->envJobs_->jobs.erase(job);
  {
    std::lock_guard<std::mutex> lock(gAllMutex);
    gAllJobs.erase(job);
  }
  delete owner;
}

void IngestJobHandle::callJs(napi_env env, napi_value callback, void* context, void* data) {
  std::unique_ptr<JsEvent> event(static_cast<JsEvent*>(data));
  auto* job = static_cast<IngestJobHandle*>(context);
  // A KLV batch returns its credit once JS has handled it (or dropped it), however this returns.
  struct KlvCredit {
    IngestJobHandle* job;
    ~KlvCredit() {
      if (job) job->returnKlvCredit();
    }
  } credit{event->kind == JsEvent::Kind::Klv ? job : nullptr};
  // env is null when the environment is going away: drop the event without touching JS.
  if (env == nullptr || callback == nullptr) return;
  try {
    Napi::HandleScope scope(env);
    job->deliver(Napi::Env(env), Napi::Function(env, callback), *event);
  } catch (const Napi::Error& e) {
    // An exception thrown by the JS handler surfaces as an uncaught exception, as it would from an emitter.
    e.ThrowAsJavaScriptException();
  }
}

void IngestJobHandle::deliver(Napi::Env env, Napi::Function callback, const JsEvent& e) {
  Napi::Object ev;
  switch (e.kind) {
    case JsEvent::Kind::Plan:
      ev = planToJs(env, *e.plan);
      break;
    case JsEvent::Kind::Progress: {
      fmv::IngestProgress p;
      {
        std::lock_guard<std::mutex> lock(progressMutex_);
        p = latestProgress_;
        progressQueued_ = false;
      }
      ev = progressToJs(env, p);
      break;
    }
    case JsEvent::Kind::Klv:
      ev = Napi::Object::New(env);
      ev.Set("type", "klv");
      ev.Set("units", klvBatchToJs(env, e.klv));
      break;
    case JsEvent::Kind::Warning:
      ev = warningToJs(env, e.warning);
      ev.Set("type", "warning");
      break;
    case JsEvent::Kind::Step:
      ev = Napi::Object::New(env);
      ev.Set("type", "step");
      ev.Set("step", e.step);
      break;
    case JsEvent::Kind::Done:
      ev = Napi::Object::New(env);
      ev.Set("type", "done");
      ev.Set("result", ingestResultToJs(env, *e.result));
      break;
    case JsEvent::Kind::Failed:
      ev = Napi::Object::New(env);
      ev.Set("type", "error");
      ev.Set("error", makeError(env, *e.error));
      break;
  }
  callback.Call({ev});
}

}  // namespace

fmv::IngestJob readIngestJob(const std::string& input, const Napi::Object& o) {
  fmv::IngestJob job;
  job.input = input;
  job.inputOptions = readInputOptions(o);
  job.outDir = optString(o, "outDir");
  job.tier = tierOf(optString(o, "tier", "fhd"));
  job.hwaccel = hwAccelOf(optString(o, "hwaccel", "auto"));
  job.hwDevice = optString(o, "hwDevice");
  job.codec = optString(o, "codec", "h264") == "hevc" ? fmv::VideoCodec::Hevc : fmv::VideoCodec::H264;
  job.preset = optString(o, "preset", job.preset);
  job.segmentSeconds = optNumber(o, "segmentSeconds", job.segmentSeconds);
  job.segmentFormat = optString(o, "segmentFormat", "ts") == "fmp4" ? fmv::SegmentFormat::Fmp4 : fmv::SegmentFormat::Ts;
  if (Napi::Value live = o.Get("live"); live.IsObject()) {
    const Napi::Object l = live.As<Napi::Object>();
    job.live.enabled = true;
    job.live.playlist.kind = optBool(l, "dvr", false) ? fmv::LivePlaylistSettings::Kind::Dvr : fmv::LivePlaylistSettings::Kind::Window;
    job.live.playlist.windowSegments = static_cast<int>(optInt(l, "windowSegments", job.live.playlist.windowSegments));
    job.live.playlist.maxSeconds = optNumber(l, "maxSeconds", 0);
    job.live.playlist.maxBytes = optInt(l, "maxBytes", 0);
    job.live.playlist.partTarget = optNumber(l, "partSeconds", 0);
    job.live.maxLagSeconds = optNumber(l, "maxLagSeconds", job.live.maxLagSeconds);
    job.live.inputTimeoutMs = optInt(l, "inputTimeoutMs", job.live.inputTimeoutMs);
    job.live.reconnectWindowMs = optInt(l, "reconnectWindowMs", job.live.reconnectWindowMs);
  }
  job.audio = optBool(o, "audio", true);
  job.audioBitrate = optInt(o, "audioBitrate", job.audioBitrate);
  job.klv = optBool(o, "klv", true);
  job.klvBatchUnits = static_cast<int>(optInt(o, "klvBatchUnits", job.klvBatchUnits));
  job.klvBatchMs = static_cast<int>(optInt(o, "klvBatchMs", job.klvBatchMs));
  job.timeoutMs = optInt(o, "timeoutMs", 0);
  job.progressIntervalMs = static_cast<int>(optInt(o, "progressIntervalMs", job.progressIntervalMs));
  Napi::Value ladder = o.Get("ladder");
  if (ladder.IsArray()) {
    Napi::Array a = ladder.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Object r = a.Get(i).As<Napi::Object>();
      fmv::RungSpec spec;
      spec.name = optString(r, "name");
      spec.width = static_cast<int>(optInt(r, "width", 0));
      spec.height = static_cast<int>(optInt(r, "height", 0));
      spec.videoBitrate = optInt(r, "videoBitrate", 0);
      spec.maxBitrate = optInt(r, "maxBitrate", 0);
      job.ladder.push_back(spec);
    }
  }
  job.previews = optBool(o, "previews", true);
  Napi::Value previewOptions = o.Get("previewOptions");
  if (job.previews && previewOptions.IsObject()) {
    readPreviewOptions(previewOptions.As<Napi::Object>(), job.previewOptions);
  }
  return job;
}

Napi::Value ingestResultToJs(Napi::Env env, const fmv::IngestResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("source", probeResultToJs(env, r.source));
  o.Set("renditions", renditionsToJs(env, r.renditions));
  o.Set("masterPlaylist", r.masterPlaylist);
  o.Set("abrInfo", r.abrInfo);
  o.Set("files", stringsToJs(env, r.files));
  o.Set("hardware", hardwareToJs(env, r.hardware));
  o.Set("counts", countsToJs(env, r.counts));
  Napi::Object t = Napi::Object::New(env);
  t.Set("openMs", r.timings.openMs);
  t.Set("transcodeMs", r.timings.transcodeMs);
  t.Set("finalizeMs", r.timings.finalizeMs);
  t.Set("totalMs", r.timings.totalMs);
  o.Set("timings", t);
  Napi::Object k = Napi::Object::New(env);
  k.Set("inSegments", r.klv.inSegments);
  k.Set("mode", r.klv.mode);
  k.Set("reason", r.klv.reason.empty() ? env.Null() : Napi::Value(Napi::String::New(env, r.klv.reason)));
  o.Set("klv", k);
  Napi::Array w = Napi::Array::New(env, r.warnings.size());
  for (size_t i = 0; i < r.warnings.size(); ++i) w.Set(i, warningToJs(env, r.warnings[i]));
  o.Set("warnings", w);
  o.Set("previews", r.hasPreviews ? previewsToJs(env, r.previews) : env.Null());
  o.Set("ladderNotes", stringsToJs(env, r.ladderNotes));
  o.Set("audio", r.audio);
  o.Set("deinterlaced", r.deinterlaced);
  o.Set("duration", r.duration);
  o.Set("sourceStart", r.sourceStart);
  o.Set("log", stringsToJs(env, r.log));
  return o;
}

Napi::Value capabilitiesToJs(Napi::Env env, const fmv::Capabilities& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ffmpeg", c.ffmpeg);
  Napi::Object paths = Napi::Object::New(env);
  for (const fmv::PathCapabilities& p : c.paths) {
    Napi::Object q = Napi::Object::New(env);
    q.Set("available", p.available);
    q.Set("device", p.device.empty() ? env.Null() : Napi::Value(Napi::String::New(env, p.device)));
    q.Set("reason", p.reason.empty() ? env.Null() : Napi::Value(Napi::String::New(env, p.reason)));
    q.Set("decoders", stringsToJs(env, p.decoders));
    q.Set("scale", p.scale);
    q.Set("encoders", stringsToJs(env, p.encoders));
    q.Set("notes", stringsToJs(env, p.notes));
    paths.Set(p.name, q);
  }
  o.Set("paths", paths);
  return o;
}

Napi::Value Ingest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsObject() || !info[2].IsFunction())
    throw Napi::TypeError::New(env, "ingest(input: string, options: object, onEvent: function)");
  const std::string input = info[0].As<Napi::String>().Utf8Value();
  Napi::Object options = info[1].As<Napi::Object>();
  Napi::Function onEvent = info[2].As<Napi::Function>();
  auto job = std::make_shared<IngestJobHandle>(readIngestJob(input, options));
  job->start(env, onEvent, job);

  Napi::Object handle = Napi::Object::New(env);
  std::weak_ptr<IngestJobHandle> weak = job;
  handle.Set("cancel", Napi::Function::New(
                           env,
                           [weak](const Napi::CallbackInfo& ci) -> Napi::Value {
                             if (auto j = weak.lock()) j->cancel();
                             return ci.Env().Undefined();
                           },
                           "cancel"));
  handle.Set("stop", Napi::Function::New(
                         env,
                         [weak](const Napi::CallbackInfo& ci) -> Napi::Value {
                           if (auto j = weak.lock()) j->finishEarly();
                           return ci.Env().Undefined();
                         },
                         "stop"));
  return handle;
}

Napi::Value Capabilities(const Napi::CallbackInfo& info) {
  const bool refresh = info.Length() > 0 && info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
  return startPromiseJob<fmv::Capabilities>(
      info.Env(), "fmv-ingest:capabilities", [refresh](fmv::CancelToken&) { return fmv::capabilities(refresh); }, capabilitiesToJs);
}

static const ExportFunction kIngest("ingest", Ingest);
static const ExportFunction kCapabilities("capabilities", Capabilities);

}  // namespace fmv::binding
