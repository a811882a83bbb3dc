#pragma once

#include <string>
#include <utility>

#include "isoscope/status.h"

namespace isoscope::native {

/// The one rule for a listen address, `web.listen_address` in isoscope.yml and
/// `--web.listen-address` alike: host:port, where the host is empty (every interface), a host
/// name or IPv4 address, or an IPv6 address in brackets, and the port is 0 to 65535. Port 0
/// asks the system for a free port; the daemon logs the one it got (tests use it). Returns the
/// host to bind ("0.0.0.0" for an empty one, IPv6 without brackets) and the port;
/// kInvalidArgument with what to write otherwise.
Result<std::pair<std::string, int>> ParseListenAddress(const std::string& address);

}  // namespace isoscope::native
