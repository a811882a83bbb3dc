#include "worker_pool.h"

#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace isoscope::native {
namespace {

// A worker takes no signal sent to the process: a thread inherits its creator's mask, and a
// pool started before `serve` blocks SIGHUP for its sigwait (reading a --replay-csv) would let
// the kernel hand a SIGHUP to a worker, whose default action ends the process. The signals a
// thread raises itself stay as they were: SIGPIPE, so that a worker writing the output into a
// closed pipe (`isoscope score ... | head`) ends the process as the main thread would, and the
// faults, which blocking would not stop.
void BlockSignals() {
  sigset_t mask;
  sigfillset(&mask);
  for (int own : {SIGPIPE, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) {
    sigdelset(&mask, own);
  }
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
}

class WorkerPool {
 public:
  // Runs work(1) .. work(n - 1) on the pool's threads, work(0) here; false, running nothing,
  // when another call holds the pool.
  bool TryRun(unsigned n, const std::function<void(unsigned)>& work) {
    // A flag, not a mutex: a nested call comes from a thread that may hold it already.
    if (busy_.exchange(true)) return false;
    std::unique_lock<std::mutex> lock(mutex_);
    while (threads_.size() + 1 < n) {
      const auto id = static_cast<unsigned>(threads_.size() + 1);
      threads_.emplace_back([this, id] { Serve(id); });
    }
    work_ = &work;
    n_ = n;
    pending_ = n - 1;
    ++generation_;
    lock.unlock();
    wake_.notify_all();
    work(0);
    lock.lock();
    done_.wait(lock, [this] { return pending_ == 0; });
    work_ = nullptr;
    busy_ = false;
    return true;
  }

 private:
  // Thread `id` runs work(id) of every call with more than id parts. A thread that has not
  // woken for one call before the next starts skips it: that call did not need it, since
  // TryRun returns only after every part it handed out has run.
  [[noreturn]] void Serve(unsigned id) {
    BlockSignals();
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (id >= n_) continue;
      const std::function<void(unsigned)>* work = work_;
      lock.unlock();
      (*work)(id);
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::atomic<bool> busy_{false};  // set for a whole TryRun: one call at a time
  std::mutex mutex_;               // guards what follows
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  const std::function<void(unsigned)>* work_ = nullptr;
  unsigned n_ = 0;
  unsigned pending_ = 0;
  uint64_t generation_ = 0;
};

// Never destroyed: its threads wait on it until the process exits, and destroying it at exit
// would pull the mutex from under them.
WorkerPool& SharedPool() {
  static WorkerPool* pool = new WorkerPool;
  return *pool;
}

}  // namespace

void RunOnWorkers(unsigned n, const std::function<void(unsigned)>& work) {
  if (n <= 1) {
    if (n == 1) work(0);
    return;
  }
  if (SharedPool().TryRun(n, work)) return;
  std::vector<std::thread> threads;
  for (unsigned id = 1; id < n; ++id) {
    threads.emplace_back([&work, id] {
      BlockSignals();
      work(id);
    });
  }
  work(0);
  for (std::thread& t : threads) t.join();
}

}  // namespace isoscope::native
