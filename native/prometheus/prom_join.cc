#include "prom_join.h"

#include <algorithm>
#include <limits>
#include <map>

namespace isoscope::native {

std::string GroupKey(const std::map<std::string, std::string>& labels,
                     const std::vector<std::string>& group_by) {
  std::string key;
  GroupKeyInto(labels, group_by, key);
  return key;
}

void GroupKeyInto(const std::map<std::string, std::string>& labels,
                  const std::vector<std::string>& group_by, std::string& key) {
  // Appended in place: the daemon builds a key per series and query, a million a cycle at
  // 100,000 groups, and temporaries per piece cost more than the rest of the key's use.
  size_t size = 2;
  for (const std::string& name : group_by) {
    auto it = labels.find(name);
    size += name.size() + 4 + (it == labels.end() ? 0 : it->second.size());
  }
  key.clear();
  key.reserve(size);
  key += '{';
  for (size_t i = 0; i < group_by.size(); ++i) {
    auto it = labels.find(group_by[i]);
    if (i) key += ',';
    key += group_by[i];
    key += "=\"";
    if (it != labels.end()) key += it->second;
    key += '"';
  }
  key += '}';
}

Result<JoinedRows> JoinByGroup(
    const std::vector<std::pair<std::string, std::vector<PromSeries>>>& per_query,
    const std::vector<std::string>& group_by) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // group -> time -> one value per query
  std::map<std::string, std::map<TimeMs, std::vector<double>>> table;
  std::map<std::string, std::map<std::string, std::string>> labels_of;
  for (size_t q = 0; q < per_query.size(); ++q) {
    std::map<std::string, const PromSeries*> seen;
    for (const PromSeries& s : per_query[q].second) {
      const std::string key = GroupKey(s.labels, group_by);
      auto [it, inserted] = seen.emplace(key, &s);
      if (!inserted) {
        std::string by;
        for (const std::string& g : group_by) {
          by += (by.empty() ? "" : ", ") + g;
        }
        return Status(ErrorCode::kBadInput,
                      "query '" + per_query[q].first + "' returns more than one series for group " +
                          key + "; aggregate it to one series per group, e.g. sum by (" + by +
                          ") (...)");
      }
      auto& rows = table[key];
      if (q == 0 || labels_of.count(key) == 0) {
        std::map<std::string, std::string>& l = labels_of[key];
        for (const std::string& name : group_by) {
          auto v = s.labels.find(name);
          l[name] = v == s.labels.end() ? "" : v->second;
        }
      }
      for (size_t i = 0; i < s.times.size(); ++i) {
        auto& row = rows[s.times[i]];
        if (row.empty()) {
          row.assign(per_query.size(), nan);
        }
        row[q] = s.values[i];
      }
    }
  }
  JoinedRows out;
  out.series.resize(per_query.size());
  for (const auto& [key, rows] : table) {
    const auto g = static_cast<int32_t>(out.groups.size());
    out.groups.push_back(key);
    out.group_labels.push_back(std::move(labels_of[key]));
    for (const auto& [t, values] : rows) {
      out.times.push_back(t);
      out.group_of_row.push_back(g);
      for (size_t q = 0; q < values.size(); ++q) {
        out.series[q].push_back(values[q]);
      }
    }
  }
  return out;
}

}  // namespace isoscope::native
