#pragma once

// The threads every parallel step of a command runs on, started once and kept for the process.
//
// Why kept: a thread created for each step is placed by the kernel's fork balancing, which
// weighs each core by its recent load (a sum that decays over tens of milliseconds). Just after
// one parallel step, the core that ran it still looks loaded, and the next step's new thread
// can land on the caller's core while the other core sits idle until the load balancer moves
// it: 10-25 ms of one core in a 100 ms `isoscope score` (perf timeline on a 2-vCPU AMD EPYC).
// A kept thread that is woken goes back to its own core when that core is idle.

#include <functional>

namespace isoscope::native {

/// Calls work(0), ..., work(n - 1) at once, work(0) on the calling thread and the others on
/// the process's worker threads, and returns when every call has returned. When the workers
/// are already running another RunOnWorkers (a nested or concurrent call), that call runs on
/// threads of its own instead, so a caller never waits for another's work.
void RunOnWorkers(unsigned n, const std::function<void(unsigned)>& work);

}  // namespace isoscope::native
