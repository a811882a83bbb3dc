#include "web_config.h"

#include <crypt.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstring>
#include <vector>

#include "file_io.h"

namespace isoscope::native {
namespace {

constexpr size_t kMaxWebConfigBytes = 1 << 20;
constexpr size_t kMaxVerifiedCache = 1024;
// After a wrong password, the client's next guesses are refused without a bcrypt this long.
constexpr auto kPenalty = std::chrono::seconds(1);

class Parser {
 public:
  Parser(std::string path, std::string base_dir)
      : path_(std::move(path)), base_(std::move(base_dir)) {}

  Status Fail(const std::string& field, const std::string& why) const {
    return Status(ErrorCode::kInvalidArgument,
                  "web config " + path_ + ": " + field + ": " + why +
                      " (format: https://prometheus.io/docs/prometheus/latest/configuration/"
                      "https/)");
  }

  // Every key of `node` must be in `known`; the first other key is the error.
  Status OnlyKeys(const YAML::Node& node, const std::string& where,
                  const std::vector<std::string>& known) const {
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      bool found = false;
      for (const std::string& k : known) found = found || k == key;
      if (!found) {
        std::string list;
        for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
        return Fail(where.empty() ? key : where + "." + key,
                    "unknown field; isoscope reads " + list);
      }
    }
    return Status::Ok();
  }

  Status String(const YAML::Node& node, const std::string& field, std::string* out) const {
    if (!node.IsScalar()) return Fail(field, "must be a string");
    *out = node.Scalar();
    return Status::Ok();
  }

  std::string Resolve(const std::string& file) const {
    if (file.empty() || file[0] == '/' || base_.empty()) return file;
    return base_ + "/" + file;
  }

  Status TlsVersion(const YAML::Node& node, const std::string& field, int* out) const {
    std::string v;
    if (Status s = String(node, field, &v); !s.ok()) return s;
    if (v == "TLS10") {
      *out = TLS1_VERSION;
    } else if (v == "TLS11") {
      *out = TLS1_1_VERSION;
    } else if (v == "TLS12") {
      *out = TLS1_2_VERSION;
    } else if (v == "TLS13") {
      *out = TLS1_3_VERSION;
    } else {
      return Fail(field, "'" + v + "' is not TLS10, TLS11, TLS12 or TLS13");
    }
    return Status::Ok();
  }

  Status Tls(const YAML::Node& tls, ExporterWebConfig* c) const {
    const std::string p = "tls_server_config";
    if (!tls.IsMap()) return Fail(p, "must be a mapping with cert_file and key_file");
    if (Status s = OnlyKeys(tls, p,
                            {"cert_file", "key_file", "client_auth_type", "client_ca_file",
                             "min_version", "max_version"});
        !s.ok()) {
      return s;
    }
    std::string auth_type = "NoClientCert";
    for (const auto& kv : tls) {
      const std::string key = kv.first.Scalar();
      const std::string field = p + "." + key;
      Status s = Status::Ok();
      if (key == "cert_file") s = String(kv.second, field, &c->cert_file);
      if (key == "key_file") s = String(kv.second, field, &c->key_file);
      if (key == "client_ca_file") s = String(kv.second, field, &c->client_ca_file);
      if (key == "client_auth_type") s = String(kv.second, field, &auth_type);
      if (key == "min_version") s = TlsVersion(kv.second, field, &c->min_tls_version);
      if (key == "max_version") s = TlsVersion(kv.second, field, &c->max_tls_version);
      if (!s.ok()) return s;
    }
    if (c->cert_file.empty()) return Fail(p + ".cert_file", "missing (the server certificate)");
    if (c->key_file.empty()) return Fail(p + ".key_file", "missing (the certificate's key)");
    if (auth_type == "RequireAndVerifyClientCert") {
      if (c->client_ca_file.empty()) {
        return Fail(p + ".client_ca_file", "missing: RequireAndVerifyClientCert needs it");
      }
      c->require_client_cert = true;
    } else if (auth_type != "NoClientCert") {
      return Fail(p + ".client_auth_type", "'" + auth_type +
                                               "': isoscope supports NoClientCert and "
                                               "RequireAndVerifyClientCert");
    } else if (!c->client_ca_file.empty()) {
      return Fail(p + ".client_ca_file",
                  "set, but client_auth_type is NoClientCert: set client_auth_type: "
                  "RequireAndVerifyClientCert, or remove client_ca_file");
    }
    if (c->min_tls_version && c->max_tls_version && c->min_tls_version > c->max_tls_version) {
      return Fail(p + ".max_version", "is lower than min_version");
    }
    c->cert_file = Resolve(c->cert_file);
    c->key_file = Resolve(c->key_file);
    c->client_ca_file = Resolve(c->client_ca_file);
    return Status::Ok();
  }

  Status Http(const YAML::Node& http, ExporterWebConfig* c) const {
    const std::string p = "http_server_config";
    if (!http.IsMap()) return Fail(p, "must be a mapping");
    if (Status s = OnlyKeys(http, p, {"headers", "http2"}); !s.ok()) return s;
    // http2: accepted for compatibility with exporter configs; cpp-httplib speaks HTTP/1.1 only,
    // which every Prometheus scrapes.
    if (const YAML::Node h2 = http["http2"];
        h2 && !(h2.IsScalar() && (h2.Scalar() == "true" || h2.Scalar() == "false"))) {
      return Fail(p + ".http2", "must be true or false");
    }
    if (const YAML::Node headers = http["headers"]) {
      if (!headers.IsMap()) return Fail(p + ".headers", "must be a mapping of header: value");
      for (const auto& kv : headers) {
        std::string value;
        const std::string name = kv.first.Scalar();
        if (Status s = String(kv.second, p + ".headers." + name, &value); !s.ok()) return s;
        if (name.empty() || name.find_first_of(" :\r\n") != std::string::npos ||
            value.find_first_of("\r\n") != std::string::npos) {
          return Fail(p + ".headers." + name, "not a valid header name or value");
        }
        c->headers[name] = value;
      }
    }
    return Status::Ok();
  }

  Status Users(const YAML::Node& users, ExporterWebConfig* c) const {
    const std::string p = "basic_auth_users";
    if (!users.IsMap()) return Fail(p, "must be a mapping of user: bcrypt hash");
    for (const auto& kv : users) {
      const std::string user = kv.first.Scalar();
      const std::string field = p + "." + user;
      std::string hash;
      if (Status s = String(kv.second, field, &hash); !s.ok()) return s;
      if (user.empty() || user.find(':') != std::string::npos) {
        return Fail(field, "a user name must be non-empty and without ':'");
      }
      // bcrypt: $2a$, $2b$ or $2y$, a two-digit cost, 53 characters of salt and hash.
      const bool bcrypt = hash.size() == 60 && hash[0] == '$' && hash[1] == '2' &&
                          (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y') && hash[3] == '$' &&
                          hash[6] == '$';
      if (!bcrypt) {
        return Fail(field,
                    "not a bcrypt hash ($2y$10$ and 53 more characters); make one with: "
                    "htpasswd -nBC 10 " +
                        user);
      }
      c->basic_auth_users[user] = hash;
    }
    return Status::Ok();
  }

  Result<ExporterWebConfig> Parse(const std::string& text) const {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return Fail("line " + std::to_string(e.mark.line + 1), "not valid YAML: " + e.msg);
    }
    ExporterWebConfig c;
    if (root.IsNull()) return c;  // an empty file: plain HTTP, no auth (as exporter-toolkit)
    if (!root.IsMap()) {
      return Fail("top level", "must be a mapping (tls_server_config, basic_auth_users, ...)");
    }
    if (Status s =
            OnlyKeys(root, "", {"tls_server_config", "http_server_config", "basic_auth_users"});
        !s.ok()) {
      return s;
    }
    if (const YAML::Node tls = root["tls_server_config"]; tls && !tls.IsNull()) {
      if (Status s = Tls(tls, &c); !s.ok()) return s;
    }
    if (const YAML::Node http = root["http_server_config"]; http && !http.IsNull()) {
      if (Status s = Http(http, &c); !s.ok()) return s;
    }
    if (const YAML::Node users = root["basic_auth_users"]; users && !users.IsNull()) {
      if (Status s = Users(users, &c); !s.ok()) return s;
    }
    return c;
  }

  // The certificate, the key and the client CA load, and the key is the certificate's.
  Status CheckFiles(const ExporterWebConfig& c) const {
    if (!c.tls()) return Status::Ok();
    const std::string p = "tls_server_config.";
    auto pem = [&](const std::string& file, const std::string& field) -> Result<std::string> {
      auto text = ReadSmallFile(file, kMaxWebConfigBytes);
      if (!text.ok()) return Fail(p + field, text.status().message());
      return text;
    };
    auto cert_text = pem(c.cert_file, "cert_file");
    if (!cert_text.ok()) return cert_text.status();
    auto key_text = pem(c.key_file, "key_file");
    if (!key_text.ok()) return key_text.status();
    std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(
        BIO_new_mem_buf(cert_text->data(), static_cast<int>(cert_text->size())), BIO_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), X509_free);
    if (!cert) return Fail(p + "cert_file", c.cert_file + " is not a PEM certificate");
    std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(
        BIO_new_mem_buf(key_text->data(), static_cast<int>(key_text->size())), BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    if (!key) {
      return Fail(p + "key_file", c.key_file + " is not an unencrypted PEM private key");
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
      return Fail(p + "key_file", c.key_file + " is not the key of " + c.cert_file);
    }
    if (c.require_client_cert) {
      auto ca = pem(c.client_ca_file, "client_ca_file");
      if (!ca.ok()) return ca.status();
      std::unique_ptr<BIO, decltype(&BIO_free)> ca_bio(
          BIO_new_mem_buf(ca->data(), static_cast<int>(ca->size())), BIO_free);
      std::unique_ptr<X509, decltype(&X509_free)> ca_cert(
          PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr, nullptr), X509_free);
      if (!ca_cert) {
        return Fail(p + "client_ca_file", c.client_ca_file + " is not a PEM certificate");
      }
    }
    return Status::Ok();
  }

 private:
  std::string path_;
  std::string base_;
};

std::string Sha256(const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(out), n);
}

// Standard base64 (RFC 4648, padding required as browsers and Prometheus send it).
bool DecodeBase64(const std::string& in, std::string* out) {
  if (in.size() % 4 != 0) return false;
  auto value = [](char ch) -> int {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char ch = in[i + static_cast<size_t>(j)];
      if (ch == '=' && i + 4 == in.size() && j >= 2) {
        v[j] = 0;
        ++pad;
      } else if (pad > 0 || (v[j] = value(ch)) < 0) {
        return false;
      }
    }
    const unsigned bits = (static_cast<unsigned>(v[0]) << 18) |
                          (static_cast<unsigned>(v[1]) << 12) | (static_cast<unsigned>(v[2]) << 6) |
                          static_cast<unsigned>(v[3]);
    out->push_back(static_cast<char>((bits >> 16) & 0xff));
    if (pad < 2) out->push_back(static_cast<char>((bits >> 8) & 0xff));
    if (pad < 1) out->push_back(static_cast<char>(bits & 0xff));
  }
  return true;
}

bool ConstantTimeEqual(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace

Result<ExporterWebConfig> ParseWebConfig(const std::string& text, const std::string& path,
                                         const std::string& base_dir) {
  return Parser(path, base_dir).Parse(text);
}

Result<ExporterWebConfig> LoadWebConfig(const std::string& path) {
  auto text = ReadSmallFile(path, kMaxWebConfigBytes);
  if (!text.ok()) {
    return Status(ErrorCode::kInvalidArgument, "--web.config.file: " + text.status().message());
  }
  const size_t slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? "." : path.substr(0, slash);
  Parser parser(path, base);
  auto config = parser.Parse(*text);
  if (!config.ok()) return config;
  if (Status s = parser.CheckFiles(*config); !s.ok()) return s;
  return config;
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {}

bool BasicAuth::Check(const std::string& authorization) const {
  return Verify(authorization, "", /*wait=*/true) == Result::kOk;
}

BasicAuth::Result BasicAuth::Verify(const std::string& authorization,
                                    const std::string& client) const {
  return Verify(authorization, client, /*wait=*/false);
}

BasicAuth::Result BasicAuth::Verify(const std::string& authorization, const std::string& client,
                                    bool wait) const {
  // RFC 7617: the scheme is case-insensitive, then one or more spaces.
  static const std::string kScheme = "basic";
  if (authorization.size() <= kScheme.size() || authorization.size() > 4096) {
    return Result::kDenied;
  }
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) {
      return Result::kDenied;
    }
  }
  const size_t token = authorization.find_first_not_of(' ', kScheme.size());
  if (token == kScheme.size() || token == std::string::npos) return Result::kDenied;
  std::string decoded;
  if (!DecodeBase64(authorization.substr(token), &decoded)) return Result::kDenied;
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return Result::kDenied;
  const std::string user = decoded.substr(0, colon);
  const std::string password = decoded.substr(colon + 1);
  // An unknown user costs a bcrypt check too, so timing does not tell which users exist.
  static const std::string kDummy = "$2y$10$MFCKDC6x3ce1pC9CWodLReX57U0LHyepW5kssAMqaM7m4rbnEQPGm";
  const auto it = users_.find(user);
  const std::string& hash = it == users_.end() ? kDummy : it->second;
  if (password.find('\0') != std::string::npos) return Result::kDenied;
  const std::string key = Sha256(user + '\0' + password + '\0' + hash);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (it != users_.end() && verified_.count(key)) return Result::kOk;
    auto p = penalty_.find(client);
    if (!client.empty() && p != penalty_.end() && p->second > now) return Result::kDenied;
  }
  // One bcrypt at a time: a flood of guesses gets kBusy at once instead of queueing every
  // worker behind 50 ms checks.
  std::unique_lock<std::mutex> bcrypt(bcrypt_mu_, std::defer_lock);
  if (wait) {
    bcrypt.lock();
  } else if (!bcrypt.try_lock()) {
    return Result::kBusy;
  }
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* result = crypt_r(password.c_str(), hash.c_str(), data.get());
  bcrypt.unlock();
  // crypt_r returns a "*0"-style failure token (never a valid hash) on errors.
  const bool ok = it != users_.end() && result != nullptr && ConstantTimeEqual(result, hash);
  std::lock_guard<std::mutex> lock(mu_);
  if (ok) {
    if (verified_.size() >= kMaxVerifiedCache) verified_.clear();
    verified_.insert(key);
    return Result::kOk;
  }
  if (!client.empty()) {
    if (penalty_.size() >= kMaxVerifiedCache) {
      for (auto e = penalty_.begin(); e != penalty_.end();) {
        e = e->second <= now ? penalty_.erase(e) : std::next(e);
      }
      if (penalty_.size() >= kMaxVerifiedCache) penalty_.clear();
    }
    penalty_[client] = std::chrono::steady_clock::now() + kPenalty;
  }
  return Result::kDenied;
}

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

// Every certificate of a PEM text, in order.
std::vector<std::unique_ptr<X509, X509Free>> ReadCerts(const std::string& pem) {
  std::vector<std::unique_ptr<X509, X509Free>> out;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  ERR_clear_error();  // the read past the last certificate leaves an error queued
  return out;
}

}  // namespace

Result<std::shared_ptr<ssl_ctx_st>> MakeTlsContext(const ExporterWebConfig& web) {
  if (!web.tls()) return std::shared_ptr<ssl_ctx_st>();
  auto fail = [&](const std::string& why) {
    ERR_clear_error();
    return Status(ErrorCode::kInvalidArgument, "TLS context: " + why);
  };
  auto cert_text = ReadSmallFile(web.cert_file, kMaxWebConfigBytes);
  if (!cert_text.ok()) return fail(cert_text.status().message());
  auto key_text = ReadSmallFile(web.key_file, kMaxWebConfigBytes);
  if (!key_text.ok()) return fail(key_text.status().message());
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return fail("SSL_CTX_new failed");
  // As cpp-httplib's SSLServer: no compression, no renegotiation, TLS 1.1 at least.
  SSL_CTX_set_options(ctx.get(),
                      SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  SSL_CTX_set_min_proto_version(ctx.get(),
                                web.min_tls_version ? web.min_tls_version : TLS1_1_VERSION);
  if (web.max_tls_version) SSL_CTX_set_max_proto_version(ctx.get(), web.max_tls_version);
  auto certs = ReadCerts(*cert_text);
  if (certs.empty() || SSL_CTX_use_certificate(ctx.get(), certs[0].get()) != 1) {
    return fail(web.cert_file + " is not a PEM certificate");
  }
  for (size_t i = 1; i < certs.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx.get(), certs[i].get()) != 1) {
      return fail(web.cert_file + ": cannot add chain certificate " + std::to_string(i));
    }
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(
      BIO_new_mem_buf(key_text->data(), static_cast<int>(key_text->size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key || SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    return fail(web.key_file + " is not the unencrypted PEM key of " + web.cert_file);
  }
  if (web.require_client_cert) {
    auto ca_text = ReadSmallFile(web.client_ca_file, kMaxWebConfigBytes);
    if (!ca_text.ok()) return fail(ca_text.status().message());
    auto cas = ReadCerts(*ca_text);
    if (cas.empty()) return fail(web.client_ca_file + " is not a PEM certificate");
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    for (const auto& ca : cas) {
      if (X509_STORE_add_cert(store, ca.get()) != 1 ||
          SSL_CTX_add_client_CA(ctx.get(), ca.get()) != 1) {
        return fail(web.client_ca_file + ": cannot use its certificates");
      }
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return std::shared_ptr<ssl_ctx_st>(ctx);
}

}  // namespace isoscope::native
