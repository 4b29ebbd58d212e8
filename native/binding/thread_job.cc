#include "binding/thread_job.h"

#include "binding/addon_state.h"

namespace fmv::binding {
namespace {

// Jobs still running per environment, cancelled and joined when the environment goes away
// (worker_threads termination, process exit).
struct RunningJobs {
  std::mutex mutex;
  std::set<std::shared_ptr<ThreadJob>> jobs;
};

RunningJobs& runningJobsOf(Napi::Env env) {
  AddonState& state = stateOf(env);
  if (!state.runningJobs) {
    auto* jobs = new RunningJobs();
    state.runningJobs = jobs;
    env.AddCleanupHook([jobs]() {
      std::set<std::shared_ptr<ThreadJob>> all;
      {
        std::lock_guard<std::mutex> lock(jobs->mutex);
        all.swap(jobs->jobs);
      }
      for (const auto& job : all) job->cancel();
      for (const auto& job : all) job->join();
      delete jobs;
    });
  }
  return *static_cast<RunningJobs*>(state.runningJobs);
}

}  // namespace

ThreadJob::~ThreadJob() { join(); }

void ThreadJob::join() {
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void ThreadJob::cancel() {
  cancel_.cancel();
  std::lock_guard<std::mutex> lock(mutex_);
  credits_.notify_all();
}

void ThreadJob::ack() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (inFlight_ > 0) --inFlight_;
  credits_.notify_all();
}

bool ThreadJob::deliver(Delivery delivery, bool flowControlled) {
  if (flowControlled) {
    std::unique_lock<std::mutex> lock(mutex_);
    credits_.wait(lock, [&] { return inFlight_ < maxInFlight_ || cancel_.stopRequested(); });
    if (cancel_.stopRequested()) return false;
    ++inFlight_;
  }
  auto* boxed = new Delivery(std::move(delivery));
  const napi_status status = tsfn_.NonBlockingCall(boxed, [](Napi::Env env, Napi::Function onEvent, Delivery* d) {
    std::unique_ptr<Delivery> owned(d);
    if (env == nullptr || onEvent.IsEmpty()) return;  // the environment is going away
    (*owned)(env, onEvent);
  });
  if (status != napi_ok) {
    delete boxed;
    return false;
  }
  return true;
}

std::shared_ptr<ThreadJob> ThreadJob::start(Napi::Env env, const char* name, Napi::Function onEvent, size_t maxInFlight, Body body) {
  std::shared_ptr<ThreadJob> job(new ThreadJob());
  job->maxInFlight_ = maxInFlight;
  job->tsfn_ = Napi::ThreadSafeFunction::New(env, onEvent, name, 0, 1);
  RunningJobs& running = runningJobsOf(env);
  RunningJobs* runningPtr = &running;
  // Held until thread_ is assigned: the thread may finish before std::thread's constructor returns,
  // and its last step (detaching itself) needs thread_ to be set.
  std::lock_guard<std::mutex> lock(running.mutex);
  running.jobs.insert(job);
  job->thread_ = std::thread([job, body = std::move(body), runningPtr]() {
    body(*job);
    job->tsfn_.Release();
    std::lock_guard<std::mutex> lock(runningPtr->mutex);
    auto it = runningPtr->jobs.find(job);
    // Not in the list: the environment is tearing down and joins this thread itself.
    if (it != runningPtr->jobs.end()) {
      job->thread_.detach();
      runningPtr->jobs.erase(it);
    }
  });
  return job;
}

Napi::Object ThreadJob::handle(Napi::Env env) {
  using Keep = std::shared_ptr<ThreadJob>;
  // Each function owns its own reference, released when it is collected: a caller may keep
  // `cancel` and drop the handle.
  auto bind = [&](const char* name, Napi::Function::Callback callback) {
    auto* keep = new Keep(shared_from_this());
    Napi::Function fn = Napi::Function::New(env, callback, name, keep);
    fn.AddFinalizer([](Napi::Env, Keep* p) { delete p; }, keep);
    return fn;
  };
  Napi::Object h = Napi::Object::New(env);
  h.Set("cancel", bind("cancel", [](const Napi::CallbackInfo& info) -> Napi::Value {
          static_cast<Keep*>(info.Data())->get()->cancel();
          return info.Env().Undefined();
        }));
  h.Set("ack", bind("ack", [](const Napi::CallbackInfo& info) -> Napi::Value {
          static_cast<Keep*>(info.Data())->get()->ack();
          return info.Env().Undefined();
        }));
  return h;
}

}  // namespace fmv::binding
