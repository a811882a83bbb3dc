#include "listen_address.h"

#include <cctype>

namespace isoscope::native {

Result<std::pair<std::string, int>> ParseListenAddress(const std::string& address) {
  auto bad = [&](const std::string& why) {
    return Status(ErrorCode::kInvalidArgument,
                  "'" + address + "'" + why +
                      " — use host:port, e.g. 127.0.0.1:8080 (loopback only), 0.0.0.0:8080 or "
                      ":8080 (every interface), [::1]:8080, or port 0 for any free port");
  };
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return bad(" has no port");
  std::string host = address.substr(0, colon);
  const std::string port_text = address.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port_text) > 65535) {
    return bad(": port '" + port_text + "' is not a number from 0 to 65535");
  }
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad(": bad IPv6 host (write [::1])");
    host = host.substr(1, host.size() - 2);
  } else {
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') {
        return bad(": '" + host + "' is not a host name or address (IPv6 goes in brackets)");
      }
    }
  }
  if (host.empty()) host = "0.0.0.0";
  return std::make_pair(host, std::stoi(port_text));
}

}  // namespace isoscope::native
