#include "chunk_pipeline.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "worker_pool.h"

namespace isoscope::native {

ChunkPipeline::StepId ChunkPipeline::Add(std::function<void(size_t)> run, Order order,
                                         std::vector<StepId> after) {
  steps_.push_back({std::move(run), order, std::move(after)});
  return steps_.size() - 1;
}

namespace {

// What every worker sees, under `mutex`: which (step, chunk) pairs have started and finished.
struct Board {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::vector<char>> started, finished;  // [step][chunk]
  size_t left = 0;                                   // pairs not yet finished
};

}  // namespace

void ChunkPipeline::Run(unsigned workers) const {
  Board board;
  board.started.assign(steps_.size(), std::vector<char>(chunks_, 0));
  board.finished = board.started;
  board.left = steps_.size() * chunks_;
  auto ready = [&](size_t s, size_t c) {
    const Step& step = steps_[s];
    if (board.started[s][c] != 0) return false;
    // In order: the chunk before has finished, so only one runs at a time and in order.
    if (step.order == Order::kInOrder && c > 0 && board.finished[s][c - 1] == 0) return false;
    return std::all_of(step.after.begin(), step.after.end(),
                       [&](StepId a) { return board.finished[a][c] != 0; });
  };
  // The earliest chunk first, and within a chunk the latest step: a chunk goes through to the
  // end (its memory freed, the in-order steps behind it fed) before new ones start.
  auto next = [&](size_t* s_out, size_t* c_out) {
    for (size_t c = 0; c < chunks_; ++c) {
      for (size_t s = steps_.size(); s-- > 0;) {
        if (ready(s, c)) {
          *s_out = s;
          *c_out = c;
          return true;
        }
      }
    }
    return false;
  };
  auto work = [&] {
    std::unique_lock<std::mutex> lock(board.mutex);
    while (board.left > 0) {
      size_t s = 0, c = 0;
      if (!next(&s, &c)) {
        board.changed.wait(lock);
        continue;
      }
      board.started[s][c] = 1;
      lock.unlock();
      steps_[s].run(c);
      lock.lock();
      board.finished[s][c] = 1;
      --board.left;
      board.changed.notify_all();
    }
  };
  RunOnWorkers(std::max(1u, workers), [&work](unsigned) { work(); });
}

}  // namespace isoscope::native
