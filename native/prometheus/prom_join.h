#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "isoscope/features.h"
#include "isoscope/status.h"
#include "prom_client.h"

namespace isoscope::native {

/// Feature rows assembled from several range queries: one row per (group, timestamp) seen by
/// any query, NaN where a query has no point there, so training drops and counts those rows.
struct JoinedRows {
  std::vector<std::string> groups;  ///< group label sets, e.g. {job="checkout"}
  /// Per group, its group_by labels (an absent one as ""), for the per-group models' hash.
  std::vector<std::map<std::string, std::string>> group_labels;
  std::vector<TimeMs> times;                ///< per row
  std::vector<int32_t> group_of_row;        ///< index into groups, per row
  std::vector<std::vector<double>> series;  ///< per query, per row
  size_t rows() const { return times.size(); }
};

/// "{job="checkout",zone="a"}" from the group_by labels of a label set (absent labels are
/// empty, as in PromQL's `by`); "{}" without group labels.
std::string GroupKey(const std::map<std::string, std::string>& labels,
                     const std::vector<std::string>& group_by);
/// GroupKey into `out` (cleared first), for a caller that reuses one buffer for a million
/// keys a cycle instead of allocating each.
void GroupKeyInto(const std::map<std::string, std::string>& labels,
                  const std::vector<std::string>& group_by, std::string& out);

/// Joins per-query results by group and timestamp. A query that returns two series for one
/// group is an error that names the group and says how to aggregate.
Result<JoinedRows> JoinByGroup(
    const std::vector<std::pair<std::string, std::vector<PromSeries>>>& per_query,
    const std::vector<std::string>& group_by);

}  // namespace isoscope::native
