#include "web_config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <string>

namespace isoscope::native {
namespace {

// Hashes made by independent tools, not by the code under test:
//   htpasswd -nbBC 10 alice 's3cret pass'   (apache2-utils, APR's bcrypt: $2y$)
//   python3 -c "import bcrypt; print(bcrypt.hashpw(b'hunter2:x', bcrypt.gensalt(4)))"   ($2b$)
const char kAliceHash[] = "$2y$10$8wzrkMOq/.tb2l0bskJnL.XqzZqInNSunJb9hsAcgyLlyGsgezZA6";
const char kBobHash[] = "$2b$04$OejAmRbEWUVSkE3wa4dJre.2cv6mwCStWns3jcbpix2xHsjwNEa2e";

// "Basic " + base64(user:password), the header a client sends (computed by hand/`base64`).
const char kAliceRight[] = "Basic YWxpY2U6czNjcmV0IHBhc3M=";   // alice:s3cret pass
const char kAliceWrong[] = "Basic YWxpY2U6czNjcmV0";           // alice:s3cret
const char kBobRight[] = "Basic Ym9iOmh1bnRlcjI6eA==";         // bob:hunter2:x
const char kMallory[] = "Basic bWFsbG9yeTpzM2NyZXQgcGFzcw==";  // mallory:s3cret pass

Result<ExporterWebConfig> Parse(const std::string& yaml) {
  return ParseWebConfig(yaml, "web.yml", "/etc/isoscope");
}

std::string ErrorOf(const std::string& yaml) {
  auto c = Parse(yaml);
  EXPECT_FALSE(c.ok()) << yaml;
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument);
  return c.status().message();
}

TEST(WebConfigTest, EmptyFileMeansPlainHttpWithoutAuth) {
  auto c = Parse("");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->tls());
  EXPECT_FALSE(c->auth());
}

TEST(WebConfigTest, FullConfigResolvesRelativeFiles) {
  auto c = Parse(std::string("tls_server_config:\n"
                             "  cert_file: server.crt\n"
                             "  key_file: /abs/server.key\n"
                             "  min_version: TLS12\n"
                             "http_server_config:\n"
                             "  http2: false\n"
                             "  headers:\n"
                             "    X-Frame-Options: deny\n"
                             "basic_auth_users:\n"
                             "  alice: ") +
                 kAliceHash + "\n  bob: " + kBobHash + "\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->tls());
  EXPECT_EQ(c->cert_file, "/etc/isoscope/server.crt");
  EXPECT_EQ(c->key_file, "/abs/server.key");
  EXPECT_NE(c->min_tls_version, 0);
  EXPECT_EQ(c->headers.at("X-Frame-Options"), "deny");
  EXPECT_EQ(c->basic_auth_users.size(), 2u);
  EXPECT_EQ(c->basic_auth_users.at("bob"), kBobHash);
}

TEST(WebConfigTest, ErrorsNameTheField) {
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_file: a.crt\n").find("tls_server_config.key_file"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config:\n  key_file: a.key\n").find("tls_server_config.cert_file"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config:\n  certfile: a.crt\n  key_file: a.key\n")
                .find("tls_server_config.certfile: unknown field"),
            std::string::npos);
  EXPECT_NE(ErrorOf("basic_auth_user:\n  alice: x\n").find("basic_auth_user: unknown field"),
            std::string::npos);
  EXPECT_NE(ErrorOf("basic_auth_users:\n  alice: s3cret\n")
                .find("basic_auth_users.alice: not a "
                      "bcrypt hash"),
            std::string::npos);
  EXPECT_NE(ErrorOf("basic_auth_users: [alice]\n").find("basic_auth_users: must be a mapping"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: SSL3\n")
                .find("tls_server_config.min_version"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_file: a\n  key_file: b\n"
                    "  client_auth_type: RequireAndVerifyClientCert\n")
                .find("tls_server_config.client_ca_file"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config: [\n").find("not valid YAML"), std::string::npos);
  EXPECT_NE(ErrorOf("just a string\n").find("top level"), std::string::npos);
  EXPECT_NE(ErrorOf("http_server_config:\n  headers:\n    \"Bad: name\": x\n")
                .find("http_server_config.headers"),
            std::string::npos);
}

TEST(WebConfigTest, LoadRefusesMissingCertificateFiles) {
  auto c = LoadWebConfig("/nonexistent/web.yml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--web.config.file"), std::string::npos);
}

TEST(BasicAuthTest, ChecksBcryptHashesFromIndependentTools) {
  BasicAuth auth(std::map<std::string, std::string>{{"alice", kAliceHash}, {"bob", kBobHash}});
  EXPECT_TRUE(auth.Check(kAliceRight));
  EXPECT_TRUE(auth.Check(kAliceRight));  // the remembered verification
  EXPECT_FALSE(auth.Check(kAliceWrong));
  EXPECT_TRUE(auth.Check(kBobRight));  // the password contains ':' (split at the first)
  EXPECT_FALSE(auth.Check(kMallory));  // unknown user, alice's password
  // RFC 7617 section 2: the scheme name is case-insensitive.
  EXPECT_EQ(std::string(kAliceRight).substr(0, 6), "Basic ");
  EXPECT_TRUE(auth.Check("basic " + std::string(kAliceRight).substr(6)));
  EXPECT_TRUE(auth.Check("BASIC  " + std::string(kAliceRight).substr(6)));
}

TEST(BasicAuthTest, RefusesMalformedHeaders) {
  BasicAuth auth(std::map<std::string, std::string>{{"alice", kAliceHash}});
  EXPECT_FALSE(auth.Check(""));
  EXPECT_FALSE(auth.Check("Basic"));
  EXPECT_FALSE(auth.Check("Basic "));
  EXPECT_FALSE(auth.Check("Bearer YWxpY2U6czNjcmV0IHBhc3M="));
  EXPECT_FALSE(auth.Check("Basic YWxpY2U6czNjcmV0IHBhc3M"));  // missing padding
  EXPECT_FALSE(auth.Check("Basic YWxpY2U="));                 // "alice": no colon
  EXPECT_FALSE(auth.Check("Basic !!!!"));
  EXPECT_FALSE(auth.Check("Basic " + std::string(8000, 'A')));
}

}  // namespace
}  // namespace isoscope::native

namespace isoscope::native {
namespace {

// Wrong passwords cannot occupy the workers: one bcrypt at a time (others get kBusy at once),
// and a client that failed gets kDenied without a bcrypt for a second. Verified credentials
// pass through both.
TEST(BasicAuthTest, BoundsBcryptWorkUnderAWrongPasswordFlood) {
  BasicAuth auth(std::map<std::string, std::string>{{"alice", kAliceHash}});
  EXPECT_EQ(auth.Verify(kAliceRight, "10.0.0.1"), BasicAuth::Result::kOk);  // remembered now
  EXPECT_EQ(auth.Verify(kAliceWrong, "10.0.0.2"), BasicAuth::Result::kDenied);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(auth.Verify(kAliceWrong, "10.0.0.2"), BasicAuth::Result::kDenied);
  }
  // 50 bcrypt checks at cost 10 take seconds; penalised ones take none.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(200));
  EXPECT_EQ(auth.Verify(kAliceRight, "10.0.0.2"), BasicAuth::Result::kOk);
  // While one bcrypt runs, another client's unknown credentials get kBusy.
  std::thread slow([&] { auth.Check(kMallory); });  // waits for the bcrypt slot, then holds it
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  bool busy_seen = false;
  for (int i = 0; i < 20 && !busy_seen; ++i) {
    busy_seen =
        auth.Verify(kAliceWrong, "10.0.0." + std::to_string(10 + i)) == BasicAuth::Result::kBusy;
  }
  slow.join();
  EXPECT_TRUE(busy_seen);
  EXPECT_EQ(auth.Verify(kAliceRight, "10.0.0.3"), BasicAuth::Result::kOk);
}

}  // namespace
}  // namespace isoscope::native
