#include "explain_rows.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "csv.h"
#include "isoscope/text.h"
#include "worker_pool.h"

namespace isoscope::native {
namespace {

// Runs body(i) for i in [0, n) on up to `threads` threads, in contiguous blocks.
template <typename F>
void ParallelFor(size_t n, unsigned threads, F&& body) {
  if (threads == 0) {
    threads = std::max(1u, std::thread::hardware_concurrency());
  }
  // Below a few hundred rows (about 0.3 ms each) a thread costs more than it saves.
  const size_t workers = std::min<size_t>(threads, std::max<size_t>(1, n / 256));
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) body(i);
    return;
  }
  const size_t block = (n + workers - 1) / workers;
  RunOnWorkers(static_cast<unsigned>(workers), [&](unsigned w) {
    for (size_t i = w * block; i < std::min(n, (w + 1) * block); ++i) body(i);
  });
}

}  // namespace

std::vector<RowExplanation> ExplainRows(const Explainer& explainer, const FeatureRows& rows,
                                        const std::vector<RowScore>& scores, unsigned threads) {
  std::vector<RowExplanation> out(rows.rows);
  ParallelFor(rows.rows, threads, [&](size_t i) {
    if (i < scores.size() && scores[i].ok()) {
      out[i] = explainer.Explain(rows.values.data() + i * rows.width);
    } else if (i < scores.size()) {
      out[i].issue = scores[i].issue;
      out[i].column = scores[i].column;
    }
  });
  return out;
}

std::vector<RowExplanation> ExplainDense(const Explainer& explainer, const double* values, size_t n,
                                         unsigned threads) {
  std::vector<RowExplanation> out(n);
  const size_t width = explainer.width();
  ParallelFor(n, threads, [&](size_t i) { out[i] = explainer.Explain(values + i * width); });
  return out;
}

std::string ExplanationHeader(const FeatureSpec& spec) {
  std::string out;
  for (const std::string& name : spec.ColumnNames()) {
    out += ',' + CsvCell("contribution:" + name);
  }
  return out + ",top_input";
}

std::string ExplanationCells(const RowExplanation& e, const FeatureSpec& spec) {
  const size_t width = spec.width();
  if (!e.ok() || e.contribution.size() != width) {
    return std::string(width + 1, ',');
  }
  std::string out;
  for (double c : e.contribution) {
    out += ',' + FormatShortest(c);
  }
  out += ',';
  if (e.top_input >= 0) {
    out += CsvCell(spec.inputs[static_cast<size_t>(e.top_input)]);
  }
  return out;
}

std::string TopInputOver(const Explainer& explainer, const FeatureRows& rows,
                         const FeatureSpec& spec, size_t first, size_t last) {
  std::vector<double> sum(spec.inputs.size(), 0.0);
  bool any = false;
  for (size_t i = first; i < std::min(last, rows.rows); ++i) {
    if (rows.problems[i].issue != RowIssue::kNone) continue;
    const RowExplanation e = explainer.Explain(rows.values.data() + i * rows.width);
    if (!e.ok()) continue;
    any = true;
    for (size_t k = 0; k < sum.size(); ++k) sum[k] += e.per_input[k];
  }
  if (!any || sum.empty()) return "";
  return spec.inputs[static_cast<size_t>(std::max_element(sum.begin(), sum.end()) - sum.begin())];
}

std::vector<double> MeanAbsContribution(const std::vector<RowExplanation>& explanations,
                                        size_t width) {
  std::vector<double> sum(width, 0.0);
  size_t n = 0;
  for (const RowExplanation& e : explanations) {
    if (!e.ok() || e.contribution.size() != width) continue;
    for (size_t i = 0; i < width; ++i) sum[i] += std::fabs(e.contribution[i]);
    ++n;
  }
  for (double& s : sum) s = n ? s / static_cast<double>(n) : 0.0;
  return sum;
}

}  // namespace isoscope::native
