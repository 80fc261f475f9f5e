// Keystone authentication against a stand-in that speaks Keystone's v3 token API, over HTTP and
// over HTTPS with certificates made for each test.

#include "http/keystone_auth.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "tests/support/fake_keystone.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certificates.h"

namespace agate::http {
namespace {

using testing::FakeKeystone;
using testing::TempDir;
using testing::TestCa;

// The service's credentials the stand-in accepts, for a Keystone at `url`.
KeystoneOptions service_options(const std::string& url) {
  KeystoneOptions o;
  o.url = url;
  o.user = FakeKeystone::kServiceUser;
  o.password = FakeKeystone::kServicePassword;
  o.project = "service";
  o.timeout = std::chrono::milliseconds(2000);
  return o;
}

AuthResult async(Authenticator& auth, const std::string& token) {
  std::promise<AuthResult> answer;
  auth.authenticate_async(token, [&](AuthResult r) { answer.set_value(std::move(r)); });
  return answer.get_future().get();
}

// What is logged through spdlog's default logger while it lives (and is still written where it
// was).
class LogCapture {
 public:
  LogCapture()
      : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100)),
        previous_(spdlog::default_logger()) {
    auto sinks = previous_->sinks();
    sinks.push_back(sink_);
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>(previous_->name(), sinks.begin(), sinks.end()));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() const {
    std::string all;
    for (const auto& line : sink_->last_formatted()) all += line;
    return all;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

// Gives `keystone` a member (alice, asked for asynchronously) and an administrator (root,
// synchronously), and checks who `auth` says they are.
void expect_alice_and_root(FakeKeystone& keystone, Authenticator& auth) {
  keystone.add_token("tok-alice", "alice-id", "project-a", {"member", "reader"});
  keystone.add_token("tok-root", "root-id", "admin-project", {"admin", "member", "reader"});
  auto alice = async(auth, "tok-alice");
  ASSERT_TRUE(alice) << alice.error().message;
  EXPECT_EQ(alice->user_id, "alice-id");
  EXPECT_EQ(alice->project_id, "project-a");
  EXPECT_EQ(alice->roles, (std::vector<std::string>{"member", "reader"}));
  EXPECT_FALSE(alice->is_admin);
  auto root = auth.authenticate("tok-root");
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->is_admin);
}

class KeystoneAuthTest : public ::testing::Test {
 protected:
  KeystoneOptions options() const { return service_options(keystone_.url()); }

  FakeKeystone keystone_;
};

TEST_F(KeystoneAuthTest, ValidTokenGivesUserProjectAndRoles) {
  auto auth = make_keystone_authenticator(options());
  expect_alice_and_root(keystone_, *auth);
  EXPECT_EQ(keystone_.logins(), 1u);  // the service logged in once for both
}

// An IPv6 URL: the address is written in brackets in the Host header, as HTTP wants it.
TEST(KeystoneAuth, AnIpv6UrlIsReachedWithItsAddressInBracketsInTheHostHeader) {
  std::unique_ptr<FakeKeystone> listening;
  try {
    listening = std::make_unique<FakeKeystone>("::1");
  } catch (const std::exception& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  FakeKeystone& keystone = *listening;
  ASSERT_TRUE(keystone.url().starts_with("http://[::1]:")) << keystone.url();
  auto auth = make_keystone_authenticator(service_options(keystone.url()));
  expect_alice_and_root(keystone, *auth);
  EXPECT_EQ(keystone.last_host(), "[::1]:" + std::to_string(keystone.port()));
}

TEST_F(KeystoneAuthTest, TheHostHeaderNamesTheUrlsHostAndPort) {
  auto auth = make_keystone_authenticator(options());
  expect_alice_and_root(keystone_, *auth);
  EXPECT_EQ(keystone_.last_host(), "127.0.0.1:" + std::to_string(keystone_.port()));
}

TEST_F(KeystoneAuthTest, UnknownMissingOrUnscopedTokenIsUnauthorized) {
  keystone_.add_token("tok-domain", "dom-id", "", {"admin"});
  auto auth = make_keystone_authenticator(options());
  for (const std::string token : {"nope", "", "tok-domain"}) {
    auto r = async(*auth, token);
    ASSERT_FALSE(r) << token;
    EXPECT_EQ(r.error().status, 401u) << token;
  }
  EXPECT_EQ(async(*auth, "nope").error().message,
            "The request you have made requires authentication.");
}

TEST_F(KeystoneAuthTest, ValidationIsCachedForTheTtl) {
  keystone_.add_token("tok", "u", "p", {"member"});
  auto o = options();
  o.cache_ttl = std::chrono::seconds(1);
  auto auth = make_keystone_authenticator(o);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(async(*auth, "tok"));
  EXPECT_EQ(keystone_.validations(), 1u);
  EXPECT_EQ(auth->stats().cache_hits, 4u);
  // Revoked in Keystone: still served from the cache until the TTL is over, then refused.
  keystone_.revoke("tok");
  EXPECT_TRUE(async(*auth, "tok"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto r = async(*auth, "tok");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 401u);
  EXPECT_EQ(keystone_.validations(), 2u);
}

TEST_F(KeystoneAuthTest, CacheNeverOutlivesTheTokensExpiry) {
  keystone_.add_token("short", "u", "p", {"member"}, std::chrono::seconds(2));
  auto auth = make_keystone_authenticator(options());  // TTL 300 s
  ASSERT_TRUE(async(*auth, "short"));
  ASSERT_TRUE(async(*auth, "short"));
  EXPECT_EQ(keystone_.validations(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto r = async(*auth, "short");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 401u);
  EXPECT_EQ(keystone_.validations(), 2u);
}

TEST_F(KeystoneAuthTest, CacheHoldsAtMostCacheSizeTokens) {
  for (const char* t : {"a", "b", "c"}) keystone_.add_token(t, t, "p", {"member"});
  auto o = options();
  o.cache_size = 2;
  auto auth = make_keystone_authenticator(o);
  for (const char* t : {"a", "b", "a", "c"}) ASSERT_TRUE(async(*auth, t));
  EXPECT_EQ(keystone_.validations(), 3u);  // a, b, c: the second a was a hit
  ASSERT_TRUE(async(*auth, "a"));          // c pushed out b, the least recently used
  EXPECT_EQ(keystone_.validations(), 3u);
  ASSERT_TRUE(async(*auth, "b"));
  EXPECT_EQ(keystone_.validations(), 4u);
}

TEST_F(KeystoneAuthTest, ZeroTtlValidatesEveryRequest) {
  keystone_.add_token("tok", "u", "p", {"member"});
  auto o = options();
  o.cache_ttl = std::chrono::seconds(0);
  auto auth = make_keystone_authenticator(o);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(async(*auth, "tok"));
  EXPECT_EQ(keystone_.validations(), 3u);
}

TEST_F(KeystoneAuthTest, ConcurrentRequestsWithOneTokenShareOneValidation) {
  keystone_.add_token("tok", "u", "p", {"member"});
  auto auth = make_keystone_authenticator(options());
  std::vector<std::future<AuthResult>> answers;
  std::vector<std::promise<AuthResult>> promises(20);
  for (auto& p : promises) {
    answers.push_back(p.get_future());
    auth->authenticate_async("tok", [&p](AuthResult r) { p.set_value(std::move(r)); });
  }
  for (auto& a : answers) EXPECT_TRUE(a.get());
  EXPECT_LE(keystone_.validations(), 2u);
}

TEST_F(KeystoneAuthTest, UnreachableKeystoneIsServiceUnavailable) {
  auto o = options();
  {
    FakeKeystone gone;  // a port that nothing listens on once it is destroyed
    o.url = gone.url();
  }
  auto auth = make_keystone_authenticator(o);
  auto r = async(*auth, "tok");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 503u);
  EXPECT_NE(r.error().message.find("Keystone"), std::string::npos);
}

TEST_F(KeystoneAuthTest, SilentKeystoneIsServiceUnavailableWithinTheTimeout) {
  keystone_.add_token("tok", "u", "p", {"member"});
  auto o = options();
  o.timeout = std::chrono::milliseconds(300);
  auto auth = make_keystone_authenticator(o);
  keystone_.set_silent(true);
  const auto start = std::chrono::steady_clock::now();
  auto r = async(*auth, "tok");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 503u);
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  // Nothing is cached from a failure: once Keystone answers again, so does Agate.
  keystone_.set_silent(false);
  EXPECT_TRUE(async(*auth, "tok"));
}

// Destroying the authenticator while validations are under way or queued answers every one of
// them, exactly once, before the destructor returns; none is answered after it.
TEST_F(KeystoneAuthTest, DestroyedWhileValidatingAnswersEveryCallerBeforeItGoes) {
  keystone_.add_token("tok-0", "u", "p", {"member"});
  auto o = options();
  o.timeout = std::chrono::milliseconds(200);
  o.threads = 2;
  auto auth = make_keystone_authenticator(o);
  keystone_.set_silent(true);
  constexpr int kCallers = 6;  // more tokens than threads: some are still queued
  std::atomic<int> answered{0}, failed{0};
  for (int i = 0; i < kCallers; ++i) {
    auth->authenticate_async("tok-" + std::to_string(i), [&](AuthResult r) {
      if (!r) failed.fetch_add(1);
      answered.fetch_add(1);
    });
  }
  auth.reset();
  EXPECT_EQ(answered.load(), kCallers);
  EXPECT_EQ(failed.load(), kCallers);  // Keystone never answered: 503 for each
}

TEST_F(KeystoneAuthTest, RefusedServiceTokenIsRenewedOnce) {
  keystone_.add_token("tok1", "u", "p", {"member"});
  keystone_.add_token("tok2", "u", "p", {"member"});
  auto auth = make_keystone_authenticator(options());
  ASSERT_TRUE(async(*auth, "tok1"));
  keystone_.revoke_service_tokens();
  ASSERT_TRUE(async(*auth, "tok2"));
  EXPECT_EQ(keystone_.logins(), 2u);
}

TEST_F(KeystoneAuthTest, WrongServiceCredentialsAreServiceUnavailable) {
  keystone_.add_token("tok", "u", "p", {"member"});
  auto o = options();
  o.password = "wrong";
  auto auth = make_keystone_authenticator(o);
  auto r = async(*auth, "tok");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 503u);
  EXPECT_EQ(keystone_.validations(), 0u);
}

TEST_F(KeystoneAuthTest, ConfiguredServiceTokenIsUsedAsItIs) {
  keystone_.add_token("tok", "u", "p", {"reader"});
  auto o = options();
  o.service_token = "not-a-service-token";
  auto auth = make_keystone_authenticator(o);
  auto r = async(*auth, "tok");
  ASSERT_FALSE(r);  // the stand-in knows only the service tokens it issued
  EXPECT_EQ(r.error().status, 503u);
  EXPECT_EQ(keystone_.logins(), 0u);
}

TEST_F(KeystoneAuthTest, UnusableOptionsAreRefused) {
  auto o = options();
  for (const char* url : {"ftp://keystone.example/v3", "keystone.example:5000/v3", ""}) {
    o.url = url;
    EXPECT_THROW(make_keystone_authenticator(o), std::invalid_argument) << url;
  }
  o.url = "https://keystone.example:5000/v3";  // the system's CAs
  EXPECT_NO_THROW(make_keystone_authenticator(o));
  o = options();
  o.password.clear();
  EXPECT_THROW(make_keystone_authenticator(o), std::invalid_argument);
  o.service_token = "tok";
  EXPECT_NO_THROW(make_keystone_authenticator(o));
}

// A CA of the test's own, trusted through ca_file, and Keystone stand-ins with certificates it
// (or another CA) issued.
class KeystoneTlsTest : public ::testing::Test {
 protected:
  KeystoneTlsTest() : ca_file_((dir_.path() / "ca.pem").string()) {
    std::ofstream(ca_file_) << ca_.certificate_pem();
  }

  // For `keystone` reached as `host`, trusting the test's CA only.
  KeystoneOptions options(const FakeKeystone& keystone, std::string_view host = "127.0.0.1") const {
    auto o = service_options(keystone.url(host));
    o.ca_file = ca_file_;
    return o;
  }

  // Refused as an unreachable Keystone is (503), and nothing reached `keystone` but a handshake
  // it did not finish.
  static void expect_refused_before_anything_is_sent(Authenticator& auth,
                                                     const FakeKeystone& keystone) {
    auto r = async(auth, "tok");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, 503u);
    EXPECT_NE(r.error().message.find("Keystone"), std::string::npos);
    EXPECT_EQ(keystone.handshakes(), 0u);
    EXPECT_EQ(keystone.logins(), 0u);  // the service's password was not sent
    EXPECT_EQ(keystone.validations(), 0u);
  }

  static void expect_logged(const LogCapture& log, const std::string& what) {
    EXPECT_NE(log.text().find(what), std::string::npos) << "not in the log: " << what << "\n"
                                                        << log.text();
  }

  TempDir dir_;
  TestCa ca_{"Agate test CA"};
  const std::string ca_file_;
};

TEST_F(KeystoneTlsTest, HttpsWithThePrivateCaValidatesAsHttpDoes) {
  FakeKeystone keystone(ca_.issue_server({"localhost"}, {"127.0.0.1"}));
  auto auth = make_keystone_authenticator(options(keystone));
  expect_alice_and_root(keystone, *auth);
  auto nope = async(*auth, "nope");
  ASSERT_FALSE(nope);
  EXPECT_EQ(nope.error().status, 401u);
  // The stand-in speaks nothing but TLS: the service's login and the three validations went
  // over it, each on a connection of its own. An address is not sent as SNI.
  EXPECT_EQ(keystone.logins(), 1u);
  EXPECT_EQ(keystone.validations(), 3u);
  EXPECT_EQ(keystone.handshakes(), 4u);
  EXPECT_EQ(keystone.last_server_name(), "");
}

TEST_F(KeystoneTlsTest, HostNameIsCheckedByNameAndSentAsSni) {
  FakeKeystone keystone(ca_.issue_server({"localhost"}, {}));
  keystone.add_token("tok", "u", "p", {"member"});
  auto auth = make_keystone_authenticator(options(keystone, "localhost"));
  auto r = async(*auth, "tok");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(keystone.last_server_name(), "localhost");
}

TEST_F(KeystoneTlsTest, CertificateOfAnUntrustedCaIsRefused) {
  TestCa other("Another test CA");
  FakeKeystone keystone(other.issue_server({"localhost"}, {"127.0.0.1"}));
  keystone.add_token("tok", "u", "p", {"member"});
  LogCapture log;
  auto auth = make_keystone_authenticator(options(keystone));
  expect_refused_before_anything_is_sent(*auth, keystone);
  expect_logged(log, "TLS handshake: certificate verify failed");
  expect_logged(log, "unable to get local issuer certificate");
  // Nor is a configured service token sent to it.
  auto o = options(keystone);
  o.service_token = "tok-service";
  auth = make_keystone_authenticator(o);
  expect_refused_before_anything_is_sent(*auth, keystone);
}

TEST_F(KeystoneTlsTest, WithoutCaFileOnlyTheSystemsCasAreTrusted) {
  FakeKeystone keystone(ca_.issue_server({"localhost"}, {"127.0.0.1"}));
  keystone.add_token("tok", "u", "p", {"member"});
  LogCapture log;
  auto o = options(keystone);
  o.ca_file.clear();
  auto auth = make_keystone_authenticator(o);
  expect_refused_before_anything_is_sent(*auth, keystone);
  expect_logged(log, "certificate verify failed");
}

TEST_F(KeystoneTlsTest, CertificateForAnotherHostIsRefused) {
  struct Case {
    std::vector<std::string> names, addresses;  // what the certificate is for
    std::string url_host, why;
  };
  for (const auto& c : std::vector<Case>{{{"localhost"}, {}, "127.0.0.1", "IP address mismatch"},
                                         {{}, {"127.0.0.1"}, "localhost", "hostname mismatch"}}) {
    SCOPED_TRACE(c.url_host);
    FakeKeystone keystone(ca_.issue_server(c.names, c.addresses));
    keystone.add_token("tok", "u", "p", {"member"});
    LogCapture log;
    auto auth = make_keystone_authenticator(options(keystone, c.url_host));
    expect_refused_before_anything_is_sent(*auth, keystone);
    expect_logged(log, "TLS handshake: certificate verify failed");
    expect_logged(log, c.why);
  }
}

TEST_F(KeystoneTlsTest, CaFileThatCannotBeLoadedIsAConfigurationError) {
  FakeKeystone keystone(ca_.issue_server({"localhost"}, {"127.0.0.1"}));
  const auto not_pem = (dir_.path() / "not-pem.txt").string();
  std::ofstream(not_pem) << "not a certificate\n";
  const auto key_only = (dir_.path() / "key.pem").string();
  std::ofstream(key_only) << ca_.issue_server({"localhost"}, {}).key_pem;
  const std::string missing = (dir_.path() / "missing.pem").string();
  for (const auto& file : {missing, not_pem, key_only, dir_.path().string()}) {
    auto o = options(keystone);
    o.ca_file = file;
    try {
      make_keystone_authenticator(o);
      ADD_FAILURE() << file << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find('"' + file + '"'), std::string::npos) << e.what();
    }
  }
  // A CA for plain HTTP is a mistake too: nothing would be verified.
  FakeKeystone plain;
  auto o = service_options(plain.url());
  o.ca_file = ca_file_;
  EXPECT_THROW(make_keystone_authenticator(o), std::invalid_argument);
}

TEST_F(KeystoneTlsTest, StalledHandshakeIsBoundedByTheTimeout) {
  FakeKeystone keystone(ca_.issue_server({"localhost"}, {"127.0.0.1"}));
  keystone.add_token("tok", "u", "p", {"member"});
  auto o = options(keystone);
  o.timeout = std::chrono::milliseconds(300);
  auto auth = make_keystone_authenticator(o);
  keystone.set_silent(true);  // accepts the connection, never answers the ClientHello
  LogCapture log;
  const auto start = std::chrono::steady_clock::now();
  expect_refused_before_anything_is_sent(*auth, keystone);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  // Ended by the connection's own deadline, not by the bound on the whole call.
  expect_logged(log, "TLS handshake: timed out");
  keystone.set_silent(false);
  EXPECT_TRUE(async(*auth, "tok"));
}

TEST_F(KeystoneTlsTest, HttpsUrlOfAPlainHttpKeystoneIsRefused) {
  FakeKeystone plain;
  plain.add_token("tok", "u", "p", {"member"});
  LogCapture log;
  auto o = options(plain);
  o.url = "https://127.0.0.1:" + std::to_string(plain.port()) + "/v3";
  auto auth = make_keystone_authenticator(o);
  expect_refused_before_anything_is_sent(*auth, plain);
  expect_logged(log, "TLS handshake");
}

}  // namespace
}  // namespace agate::http
