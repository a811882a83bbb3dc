#pragma once

// A chain of steps over the same chunks of rows, run on several threads at once: while one
// thread scores chunk 9, another carries a stream through chunk 3 and a third formats chunk 2.
// Without it each step waits for the whole of the step before, and every step that must run in
// row order (a stream whose state passes from row to row) leaves a core idle for its length.

#include <cstddef>
#include <functional>
#include <vector>

namespace isoscope::native {

class ChunkPipeline {
 public:
  /// How a step may run its chunks: kAnyOrder, each on any thread, several at once (the rows
  /// of a chunk do not depend on other chunks); kInOrder, one at a time in index order (the
  /// step carries state from chunk to chunk).
  enum class Order { kAnyOrder, kInOrder };
  using StepId = size_t;

  explicit ChunkPipeline(size_t chunks) : chunks_(chunks) {}

  /// Adds `run(chunk)`, to be called once for every chunk, each after every step of `after`
  /// has finished that chunk. Returns the step's id, for the `after` of later steps.
  StepId Add(std::function<void(size_t chunk)> run, Order order, std::vector<StepId> after = {});

  /// Runs every step on every chunk on up to `workers` threads (the calling thread one of
  /// them) and returns when all are done. A chunk's results therefore never depend on timing:
  /// an in-order step sees the chunks as a single thread would, the others see only rows.
  void Run(unsigned workers) const;

  size_t chunks() const { return chunks_; }

 private:
  struct Step {
    std::function<void(size_t)> run;
    Order order;
    std::vector<StepId> after;
  };
  size_t chunks_;
  std::vector<Step> steps_;
};

}  // namespace isoscope::native
