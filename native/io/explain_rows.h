#pragma once

// Attribution of many rows at once (`isoscope score --explain`, `demo`, `inspect`): the core's
// Explainer on every scored row, split over the machine's cores. Threads live here, never in
// the core.

#include <string>
#include <vector>

#include "isoscope/attribution.h"
#include "isoscope/features.h"
#include "isoscope/model.h"

namespace isoscope::native {

/// Explains the rows of `rows` whose score is ok (RowScore::ok()); the others stay empty.
/// `threads` 0: one per hardware thread.
std::vector<RowExplanation> ExplainRows(const Explainer& explainer, const FeatureRows& rows,
                                        const std::vector<RowScore>& scores, unsigned threads = 0);

/// Explains n row-major feature vectors (spec width, all scoreable or reported by issue).
std::vector<RowExplanation> ExplainDense(const Explainer& explainer, const double* values, size_t n,
                                         unsigned threads = 0);

/// The CSV header cells score --explain appends: ",contribution:<feature>" per vector column
/// (CSV-quoted where a name holds a comma) and ",top_input".
std::string ExplanationHeader(const FeatureSpec& spec);
/// The matching cells of one row (all empty for a row without a score).
std::string ExplanationCells(const RowExplanation& e, const FeatureSpec& spec);

/// The input series with the largest contribution summed over rows [first, last) of `rows`
/// (those with a score); "" when none has one or the model has no inputs.
std::string TopInputOver(const Explainer& explainer, const FeatureRows& rows,
                         const FeatureSpec& spec, size_t first, size_t last);

/// Mean |contribution| per vector column over the rows that have one (global importance).
std::vector<double> MeanAbsContribution(const std::vector<RowExplanation>& explanations,
                                        size_t width);

}  // namespace isoscope::native
