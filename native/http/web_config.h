#pragma once

// `isoscope serve --web.config.file`: TLS and basic auth for every endpoint, in the format of the
// Prometheus exporter-toolkit (the file node_exporter and Prometheus itself read), so one file
// and one habit serve every exporter:
//
//   tls_server_config:
//     cert_file: server.crt          # relative paths are relative to the web config file
//     key_file: server.key
//     client_auth_type: RequireAndVerifyClientCert   # optional, with client_ca_file
//     client_ca_file: ca.crt
//     min_version: TLS12             # optional: TLS10, TLS11, TLS12, TLS13
//   http_server_config:
//     headers: {X-Frame-Options: deny}
//   basic_auth_users:
//     prometheus: $2y$10$...         # bcrypt only: htpasswd -nBC 10 prometheus
//
// Unknown fields are errors (as in exporter-toolkit, which parses strictly): a typo must not
// silently leave the endpoints open.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "isoscope/status.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace isoscope::native {

struct ExporterWebConfig {
  std::string cert_file;  ///< both empty: plain HTTP
  std::string key_file;
  std::string client_ca_file;  ///< with require_client_cert: mutual TLS
  bool require_client_cert = false;
  int min_tls_version = 0;  ///< OpenSSL TLS1_x_VERSION; 0 = OpenSSL's default
  int max_tls_version = 0;
  std::map<std::string, std::string> headers;           ///< sent on every answer
  std::map<std::string, std::string> basic_auth_users;  ///< user -> bcrypt hash

  bool tls() const { return !cert_file.empty(); }
  bool auth() const { return !basic_auth_users.empty(); }
};

/// Parses the YAML text of a web config; `base_dir` resolves relative file names. Errors are
/// kInvalidArgument and name the file and the field ("web config x.yml:
/// tls_server_config.key_file: ...").
Result<ExporterWebConfig> ParseWebConfig(const std::string& text, const std::string& path,
                                         const std::string& base_dir);
/// Reads and parses `path`, then checks that the certificate and key load and match (so a bad
/// file is a startup error, not a failed handshake at the first scrape).
Result<ExporterWebConfig> LoadWebConfig(const std::string& path);

/// Checks `Authorization: Basic ...` headers against bcrypt hashes (libxcrypt's crypt_r: $2a$,
/// $2b$, $2y$). A bcrypt check costs tens of milliseconds by design, so verified credentials are
/// remembered by their SHA-256 (as exporter-toolkit does): a scrape every 15 s pays it once.
///
/// Wrong passwords cannot monopolise the HTTP workers: at most one bcrypt runs at a time (a
/// request that finds it busy is refused at once, kBusy), and after a failure its client
/// address gets kDenied without a bcrypt for one second. Remembered credentials skip both.
class BasicAuth {
 public:
  enum class Result { kOk, kDenied, kBusy };

  explicit BasicAuth(std::map<std::string, std::string> users);
  /// Checks `authorization` (the header's value; the scheme "Basic" in any case, RFC 7617)
  /// from client address `client`.
  Result Verify(const std::string& authorization, const std::string& client) const;
  /// True if `authorization` names a user with the right password (Verify from no address,
  /// waiting for a busy bcrypt instead of refusing).
  bool Check(const std::string& authorization) const;

 private:
  Result Verify(const std::string& authorization, const std::string& client, bool wait) const;

  std::map<std::string, std::string> users_;
  mutable std::mutex mu_;
  mutable std::set<std::string> verified_;  // SHA-256 of user, password and hash
  mutable std::mutex bcrypt_mu_;            // one bcrypt at a time
  mutable std::map<std::string, std::chrono::steady_clock::time_point> penalty_;  // client ->
};

/// A TLS server context from the config's certificate, key and client CA (read as regular
/// files of bounded size, never by OpenSSL from a path), with its TLS versions. Null when the
/// config has no TLS.
Result<std::shared_ptr<ssl_ctx_st>> MakeTlsContext(const ExporterWebConfig& web);

}  // namespace isoscope::native
