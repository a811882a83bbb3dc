// The demo history (cli/demo_data.h) holds what the demo says it does: daily and weekly cycles
// that the core's `auto` can see. Properties of the generator's design, read with the core's
// MeasureAutoContext (its arithmetic is checked by hand in tests/core/auto_context_test.cc).
#include <gtest/gtest.h>

#include <vector>

#include "demo_data.h"
#include "isoscope/features.h"

namespace isoscope::native {
namespace {

TEST(DemoData, ShowsDailyAndWeeklyCyclesToAuto) {
  const DemoData d = GenerateDemoData(28, 7);
  std::vector<const double*> series;
  for (const auto& x : d.series) series.push_back(x.data());
  const AutoContext c = MeasureAutoContext(d.times.data(), series, d.times.size(), false);
  EXPECT_TRUE(c.measured);
  EXPECT_EQ(c.step_ms, kMinuteMs);
  EXPECT_TRUE(c.daily);
  EXPECT_TRUE(c.weekly);
  // The first two days alone: too few cycles of either.
  const AutoContext short_c = MeasureAutoContext(d.times.data(), series, 2 * 1440, false);
  EXPECT_FALSE(short_c.daily);
  EXPECT_FALSE(short_c.weekly);
}

}  // namespace
}  // namespace isoscope::native
