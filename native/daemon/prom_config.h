#pragma once

#include "config.h"
#include "prom_client.h"

namespace isoscope::native {

/// Client options for the `prometheus:` section of isoscope.yml (URL, timeout, credentials);
/// retries keep the client's defaults unless the caller changes them.
inline PromClientOptions ClientOptionsFor(const PrometheusConfig& p) {
  PromClientOptions o;
  o.url = p.url;
  o.timeout_ms = p.timeout_ms;
  o.auth.bearer_token = p.bearer_token;
  if (p.has_basic_auth) {
    o.auth.username = p.username;
    o.auth.password = p.password;
  }
  return o;
}

}  // namespace isoscope::native
