#include "chunk_pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace isoscope::native {
namespace {

using Order = ChunkPipeline::Order;

// A few microseconds of work that differ by chunk and step, so that threads finish out of turn.
void Jitter(size_t chunk, size_t step) {
  std::this_thread::sleep_for(std::chrono::microseconds((chunk * 7 + step * 3) % 11 * 20));
}

// Three steps as `isoscope score` chains them: any order, then in order after it, then any
// order after both an in-order and an any-order step. Each (step, chunk) runs once, only after
// the steps it waits for finished that chunk, and an in-order step sees 0, 1, 2, ... in turn.
TEST(ChunkPipeline, EveryStepRunsEveryChunkOnceAfterWhatItWaitsFor) {
  for (unsigned workers : {1u, 2u, 3u, 8u}) {
    for (size_t chunks : {size_t{0}, size_t{1}, size_t{5}, size_t{37}}) {
      ChunkPipeline pipeline(chunks);
      std::vector<std::vector<std::atomic<int>>> runs(4);
      for (auto& r : runs) r = std::vector<std::atomic<int>>(chunks);
      std::mutex mutex;
      std::vector<size_t> in_order_seen, last_seen;
      std::atomic<int> in_order_running{0};
      const auto first = pipeline.Add(
          [&](size_t c) {
            Jitter(c, 0);
            ++runs[0][c];
          },
          Order::kAnyOrder);
      const auto second = pipeline.Add(
          [&](size_t c) {
            EXPECT_EQ(in_order_running++, 0) << "two chunks of an in-order step at once";
            EXPECT_EQ(runs[0][c].load(), 1);
            Jitter(c, 1);
            {
              const std::lock_guard<std::mutex> lock(mutex);
              in_order_seen.push_back(c);
            }
            ++runs[1][c];
            --in_order_running;
          },
          Order::kInOrder, {first});
      const auto third = pipeline.Add(
          [&](size_t c) {
            EXPECT_EQ(runs[0][c].load(), 1);
            Jitter(c, 2);
            ++runs[2][c];
          },
          Order::kAnyOrder, {first});
      pipeline.Add(
          [&](size_t c) {
            EXPECT_EQ(runs[1][c].load(), 1);
            EXPECT_EQ(runs[2][c].load(), 1);
            ++runs[3][c];
            const std::lock_guard<std::mutex> lock(mutex);
            last_seen.push_back(c);
          },
          Order::kInOrder, {second, third});
      pipeline.Run(workers);
      std::vector<size_t> in_turn(chunks);
      for (size_t c = 0; c < chunks; ++c) in_turn[c] = c;
      EXPECT_EQ(in_order_seen, in_turn) << workers << " workers, " << chunks << " chunks";
      EXPECT_EQ(last_seen, in_turn) << workers << " workers, " << chunks << " chunks";
      for (size_t s = 0; s < runs.size(); ++s) {
        for (size_t c = 0; c < chunks; ++c) EXPECT_EQ(runs[s][c].load(), 1) << s << " " << c;
      }
    }
  }
}

// The reason in-order steps exist: a value carried from chunk to chunk (here a running sum, as
// a stream's state) comes out as one thread in row order gives it, however many threads run.
TEST(ChunkPipeline, StateCarriedByAnInOrderStepIsTheSingleThreadedOne) {
  constexpr size_t kChunks = 23;
  std::vector<long> expected(kChunks);
  long sum = 0;
  for (size_t c = 0; c < kChunks; ++c) expected[c] = sum = sum * 3 + static_cast<long>(c * c);
  for (unsigned workers : {1u, 2u, 5u}) {
    std::vector<long> square(kChunks), carried(kChunks);
    long state = 0;
    ChunkPipeline pipeline(kChunks);
    const auto squared = pipeline.Add(
        [&](size_t c) {
          Jitter(kChunks - c, 0);  // later chunks finish first
          square[c] = static_cast<long>(c * c);
        },
        Order::kAnyOrder);
    pipeline.Add([&](size_t c) { carried[c] = state = state * 3 + square[c]; }, Order::kInOrder,
                 {squared});
    pipeline.Run(workers);
    EXPECT_EQ(carried, expected) << workers << " workers";
  }
}

}  // namespace
}  // namespace isoscope::native
