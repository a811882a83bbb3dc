#pragma once

// The validators of single values of isoscope.yml (names, PromQL brackets, URLs, addresses):
// each returns "" when the value is usable, else what is wrong and what to write instead.
// Internal to native/config; the cross-field checks other folders call (ShardLabelClash,
// AlertSampleWarnings) are declared in config.h.

#include <string>
#include <string_view>

namespace isoscope::native::config_detail {

// A detector name ([a-z0-9_-]+, `lower_only`) or a label or feature name
// ([A-Za-z_][A-Za-z0-9_]*).
bool IsName(std::string_view s, bool lower_only);
bool IsMetricName(std::string_view s);
// A detector name that would be accepted, derived from a rejected one.
std::string SuggestDetectorName(std::string_view bad);
// Brackets of a PromQL expression: strings and comments skipped. Empty when balanced.
std::string CheckBrackets(std::string_view q);
// "" when `url` is a usable Prometheus base URL, else what is wrong and what to write.
std::string CheckUrl(const std::string& url);
// "" when `address` is host:port (listen_address.h: the rule --web.listen-address follows).
std::string CheckListenAddress(const std::string& address);
std::string CheckCorsOrigin(const std::string& origin);

}  // namespace isoscope::native::config_detail
