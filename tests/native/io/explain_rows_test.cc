#include "explain_rows.h"

#include <gtest/gtest.h>

#include "support/small_model.h"

namespace isoscope::native {
namespace {

TEST(ExplainRows, ThreadsGiveTheSameValuesAsOneRowAtATime) {
  const testing::SmallHistory h = testing::MakeSmallHistory();
  auto model = testing::TrainSmallModel(h);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto explainer = Explainer::Create(*model);
  ASSERT_TRUE(explainer.ok());
  auto scorer = ModelScorer::Create(*model);
  ASSERT_TRUE(scorer.ok());
  auto rows =
      BuildFeatureRows(model->spec, h.times.data(), {h.a.data(), h.b.data()}, h.times.size());
  ASSERT_TRUE(rows.ok());
  const std::vector<RowScore> scores = scorer->ScoreRows(*rows);
  const auto many = ExplainRows(*explainer, *rows, scores, 2);
  ASSERT_EQ(many.size(), rows->rows);
  size_t unscored = 0;
  for (size_t i = 0; i < rows->rows; ++i) {
    if (!scores[i].ok()) {
      EXPECT_FALSE(many[i].ok()) << i;
      EXPECT_EQ(ExplanationCells(many[i], model->spec), std::string(5, ','));
      ++unscored;
      continue;
    }
    const RowExplanation one = explainer->Explain(rows->values.data() + i * rows->width);
    EXPECT_EQ(many[i].contribution, one.contribution) << i;
    EXPECT_EQ(many[i].top_input, one.top_input) << i;
  }
  EXPECT_GT(unscored, 0u);  // the history's NaN rows
}

TEST(ExplainRows, HeaderQuotesNamesWithCommas) {
  FeatureSpec spec;
  spec.inputs = {"lat"};
  spec.derived = {{DerivedFeature::Kind::kDelta, 0, kHourMs}};
  EXPECT_EQ(ExplanationHeader(spec), ",contribution:lat,\"contribution:delta(lat,1h)\",top_input");
}

}  // namespace
}  // namespace isoscope::native
