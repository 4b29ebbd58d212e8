#include "binding/thread_job.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "binding/registry.h"

namespace fmv::binding {
namespace {

// Jobs still running per environment, cancelled and joined when the environment goes away
// (worker_threads termination).
struct RunningJobs {
  std::mutex mutex;
  std::set<std::shared_ptr<ThreadJob>> jobs;
  // Work directories of jobs still running, removed once the jobs are joined: a terminated worker
  // runs no more JS, so the job's own cleanup never comes (JS thread only).
  std::set<std::string> dirs;
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
      for (const auto& dir : jobs->dirs) {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
      }
      delete jobs;
    });
  }
  return *static_cast<RunningJobs*>(state.runningJobs);
}

// Every running job of the process. process.exit() on the main thread runs no environment cleanup
// hooks: an atexit handler cancels and joins the jobs before static objects go away. Never
// destroyed, since job threads may still reach it during exit.
struct AllJobs {
  std::mutex mutex;
  std::set<std::shared_ptr<ThreadJob>> jobs;
  bool exiting = false;
};

AllJobs& allJobs() {
  static AllJobs* all = new AllJobs();
  return *all;
}

void stopAllAtExit() {
  std::vector<std::shared_ptr<ThreadJob>> jobs;
  {
    AllJobs& all = allJobs();
    std::lock_guard<std::mutex> lock(all.mutex);
    all.exiting = true;
    jobs.assign(all.jobs.begin(), all.jobs.end());
  }
  for (const auto& job : jobs) job->cancel();
  for (const auto& job : jobs) job->join();
}

// removeAtTeardown(dir, remove): while remove is true, dir is deleted if this environment is torn
// down (after its native jobs are joined); false forgets it once the job has cleaned up itself.
Napi::Value RemoveAtTeardown(const Napi::CallbackInfo& info) {
  RunningJobs& running = runningJobsOf(info.Env());
  const std::string dir = info[0].As<Napi::String>().Utf8Value();
  if (info[1].As<Napi::Boolean>().Value()) running.dirs.insert(dir);
  else running.dirs.erase(dir);
  return info.Env().Undefined();
}

const ExportFunction kRemoveAtTeardown("removeAtTeardown", RemoveAtTeardown);

}  // namespace

ThreadJob::~ThreadJob() { join(); }

void ThreadJob::join() {
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void ThreadJob::cancel() {
  cancel_.cancel();
  credits_.wake();
}

void ThreadJob::ack() { credits_.release(); }

bool ThreadJob::deliver(Delivery delivery, bool flowControlled) {
  if (flowControlled && !credits_.acquire(cancel_)) return false;
  auto* boxed = new Delivery(std::move(delivery));
  if (channel_.NonBlockingCall(boxed) != napi_ok) {
    delete boxed;
    return false;
  }
  return true;
}

// Runs on the JS thread, or with a null env while the environment goes away: either way the
// delivery is freed here.
void ThreadJob::callJs(Napi::Env env, Napi::Function onEvent, std::nullptr_t*, Delivery* delivery) {
  std::unique_ptr<Delivery> owned(delivery);
  if (env == nullptr || onEvent.IsEmpty()) return;
  try {
    (*owned)(env, onEvent);
  } catch (const Napi::Error& e) {
    // A throwing event handler: reported as an uncaught exception, as from any callback.
    e.ThrowAsJavaScriptException();
  }
}

std::shared_ptr<ThreadJob> ThreadJob::start(Napi::Env env, const char* name, Napi::Function onEvent, size_t maxInFlight, Body body) {
  std::shared_ptr<ThreadJob> job(new ThreadJob());
  job->credits_.setLimit(maxInFlight);
  job->channel_ = Channel::New(env, onEvent, name, 0, 1);
  RunningJobs& running = runningJobsOf(env);
  RunningJobs* runningPtr = &running;
  {
    static std::once_flag atExit;
    std::call_once(atExit, [] { std::atexit(stopAllAtExit); });
    AllJobs& all = allJobs();
    std::lock_guard<std::mutex> lock(all.mutex);
    all.jobs.insert(job);
  }
  // Held until thread_ is assigned: the thread may finish before std::thread's constructor returns,
  // and its last step (detaching itself) needs thread_ to be set.
  std::lock_guard<std::mutex> lock(running.mutex);
  running.jobs.insert(job);
  try {
    job->thread_ = std::thread([job, body = std::move(body), runningPtr]() {
      body(*job);
      job->channel_.Release();
      {
        AllJobs& all = allJobs();
        std::lock_guard<std::mutex> lock(all.mutex);
        all.jobs.erase(job);
        if (all.exiting) return;  // the exit handler joins this thread
      }
      std::lock_guard<std::mutex> lock(runningPtr->mutex);
      auto it = runningPtr->jobs.find(job);
      // Not in the list: the environment is tearing down and joins this thread itself.
      if (it != runningPtr->jobs.end()) {
        job->thread_.detach();
        runningPtr->jobs.erase(it);
      }
    });
  } catch (const std::system_error& e) {
    running.jobs.erase(job);
    {
      AllJobs& all = allJobs();
      std::lock_guard<std::mutex> allLock(all.mutex);
      all.jobs.erase(job);
    }
    job->channel_.Abort();
    throw Napi::Error::New(env, std::string("cannot start a native thread: ") + e.what());
  }
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
