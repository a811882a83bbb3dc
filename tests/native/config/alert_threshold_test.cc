#include "alert_threshold.h"

#include <gtest/gtest.h>

namespace isoscope::native {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(AlertThreshold, SurpriseForm) {
  auto t = ParseAlertThreshold("surprise:4");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->kind, AlertThreshold::Kind::kSurprise);
  EXPECT_EQ(t->value, 4);
  EXPECT_EQ(t->text, "surprise:4");
  EXPECT_TRUE(t->on_surprise());
  EXPECT_FALSE(t->relative());  // the same number on every model: nothing to resolve
  auto fractional = ParseAlertThreshold("surprise:2.5");
  ASSERT_TRUE(fractional.ok());
  EXPECT_EQ(fractional->value, 2.5);
}

TEST(AlertThreshold, SurpriseFormRefusesWhatCannotPage) {
  for (const char* bad : {"surprise:", "surprise:0", "surprise:-1", "surprise:x", "surprise:4m",
                          "surprise:inf", "surprise4", "surprise"}) {
    auto t = ParseAlertThreshold(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), ErrorCode::kInvalidArgument) << bad;
    // Every refusal shows every form, the surprise's among them.
    EXPECT_TRUE(Contains(t.status().message(), "surprise:4")) << t.status().message();
  }
}

TEST(AlertThreshold, OtherFormsUnchanged) {
  const struct {
    const char* text;
    AlertThreshold::Kind kind;
    double value;
    bool relative;
  } cases[] = {{"0.6", AlertThreshold::Kind::kScore, 0.6, false},
               {"1%", AlertThreshold::Kind::kShare, 0.01, true},
               {"contamination", AlertThreshold::Kind::kContamination, 1, true},
               {"contamination/2", AlertThreshold::Kind::kContamination, 2, true}};
  for (const auto& c : cases) {
    auto t = ParseAlertThreshold(c.text);
    ASSERT_TRUE(t.ok()) << c.text;
    EXPECT_EQ(t->kind, c.kind) << c.text;
    EXPECT_EQ(t->value, c.value) << c.text;
    EXPECT_EQ(t->relative(), c.relative) << c.text;
    EXPECT_FALSE(t->on_surprise()) << c.text;
  }
}

TEST(AlertThreshold, SurpriseResolvesToItselfOnACalibratedModel) {
  Model model;
  model.calibration = {200, 0.42, 0.03};
  auto t = ParseAlertThreshold("surprise:6");
  ASSERT_TRUE(t.ok());
  auto resolved = t->Resolve(model);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(*resolved, 6);
  // A bundle older than format 1.3 has no calibration, hence no surprise to compare with.
  model.calibration = {};
  resolved = t->Resolve(model);
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(resolved.status().message(), "no score calibration"))
      << resolved.status().message();
}

TEST(AlertThreshold, HigherSurpriseIsStricter) {
  auto s3 = *ParseAlertThreshold("surprise:3");
  auto s5 = *ParseAlertThreshold("surprise:5");
  EXPECT_TRUE(s5.AtLeastAsStrictAs(s3));
  EXPECT_TRUE(s3.AtLeastAsStrictAs(s3));
  EXPECT_FALSE(s3.AtLeastAsStrictAs(s5));
  // A surprise and a score are on different scales: no order between them.
  EXPECT_TRUE(s3.AtLeastAsStrictAs(AlertThreshold::Score(0.9)));
}

}  // namespace
}  // namespace isoscope::native
