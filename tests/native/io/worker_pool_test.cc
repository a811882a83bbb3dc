#include "worker_pool.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace isoscope::native {
namespace {

// Waits until `count` reaches `n` (every part has arrived), for at most 10 s: parts that did
// not run at the same time would never all arrive while each waits for the others.
bool AllArrive(std::atomic<unsigned>& count, unsigned n) {
  ++count;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (count.load() < n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Each part runs once, all at the same time, part 0 on the caller; and the same threads serve
// the next call (kept, not started again).
TEST(RunOnWorkers, RunsEveryPartOnceAtTheSameTimeOnKeptThreads) {
  std::vector<std::thread::id> first_ids;
  for (unsigned n : {0u, 1u, 2u, 4u, 4u, 3u, 4u}) {
    std::vector<std::atomic<int>> runs(n);
    std::vector<std::thread::id> ids(n);
    std::atomic<unsigned> arrived{0};
    std::atomic<bool> together{true};
    RunOnWorkers(n, [&](unsigned i) {
      ++runs[i];
      ids[i] = std::this_thread::get_id();
      if (!AllArrive(arrived, n)) together = false;
    });
    EXPECT_TRUE(together) << n << " parts did not all run at once";
    for (unsigned i = 0; i < n; ++i) EXPECT_EQ(runs[i].load(), 1) << "part " << i << " of " << n;
    if (n == 0) continue;
    EXPECT_EQ(ids[0], std::this_thread::get_id()) << "part 0 runs on the caller";
    EXPECT_EQ(std::set<std::thread::id>(ids.begin(), ids.end()).size(), n);
    if (n == 4 && first_ids.empty()) {
      first_ids = ids;
    } else if (n >= 2 && !first_ids.empty()) {
      for (unsigned i = 1; i < n; ++i) EXPECT_EQ(ids[i], first_ids[i]) << "part " << i;
    }
  }
}

// A part that calls RunOnWorkers itself (the pool is busy with its caller) still gets all its
// parts run at once, on threads of their own, and returns.
TEST(RunOnWorkers, ANestedCallRunsOnThreadsOfItsOwn) {
  std::atomic<unsigned> inner_runs{0};
  std::atomic<bool> together{true};
  RunOnWorkers(2, [&](unsigned) {
    std::atomic<unsigned> arrived{0};
    RunOnWorkers(3, [&](unsigned) {
      ++inner_runs;
      if (!AllArrive(arrived, 3)) together = false;
    });
  });
  EXPECT_EQ(inner_runs.load(), 6u);
  EXPECT_TRUE(together);
}

// Two threads calling at once both get every part run.
TEST(RunOnWorkers, ConcurrentCallersBothFinish) {
  std::atomic<unsigned> runs{0};
  auto call = [&runs] {
    for (int k = 0; k < 50; ++k) {
      RunOnWorkers(3, [&runs](unsigned) { ++runs; });
    }
  };
  std::thread other(call);
  call();
  other.join();
  EXPECT_EQ(runs.load(), 2u * 50u * 3u);
}

bool SighupBlockedHere() {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, SIGHUP) == 1;
}

bool SigpipeBlockedHere() {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, SIGPIPE) == 1;
}

// Workers block every signal whatever their creator's mask: `serve` reads a --replay-csv on the
// pool before it blocks SIGHUP for its sigwait, and a SIGHUP the kernel handed to a worker with
// it unblocked ended the process (e2e.harden's SIGHUP storm). The caller's mask is its own.
// SIGPIPE, which a thread raises itself writing into a closed pipe, stays unblocked: a worker
// writing `score`'s output into `| head` ends the process as the main thread would.
TEST(RunOnWorkers, WorkersTakeNoSignals) {
  sigset_t hup;
  sigemptyset(&hup);
  sigaddset(&hup, SIGHUP);
  sigset_t before;
  pthread_sigmask(SIG_UNBLOCK, &hup, &before);
  std::vector<int> blocked(4, -1);
  std::vector<int> pipe_blocked(4, -1);
  RunOnWorkers(4, [&](unsigned i) {
    blocked[i] = SighupBlockedHere() ? 1 : 0;
    pipe_blocked[i] = SigpipeBlockedHere() ? 1 : 0;
  });
  EXPECT_EQ(blocked, (std::vector<int>{0, 1, 1, 1}));
  EXPECT_EQ(pipe_blocked, (std::vector<int>{0, 0, 0, 0}));
  std::vector<int> nested(3, -1);  // a nested call's threads of their own
  RunOnWorkers(2, [&](unsigned i) {
    if (i == 0) RunOnWorkers(3, [&](unsigned k) { nested[k] = SighupBlockedHere() ? 1 : 0; });
  });
  EXPECT_EQ(nested, (std::vector<int>{0, 1, 1}));
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

}  // namespace
}  // namespace isoscope::native
