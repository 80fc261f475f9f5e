// Keystone authentication against a stand-in that speaks Keystone's v3 token API.

#include "http/keystone_auth.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "tests/support/fake_keystone.h"

namespace agate::http {
namespace {

using testing::FakeKeystone;

class KeystoneAuthTest : public ::testing::Test {
 protected:
  KeystoneOptions options() const {
    KeystoneOptions o;
    o.url = keystone_.url();
    o.user = FakeKeystone::kServiceUser;
    o.password = FakeKeystone::kServicePassword;
    o.project = "service";
    o.timeout = std::chrono::milliseconds(2000);
    return o;
  }

  static AuthResult async(Authenticator& auth, const std::string& token) {
    std::promise<AuthResult> answer;
    auth.authenticate_async(token, [&](AuthResult r) { answer.set_value(std::move(r)); });
    return answer.get_future().get();
  }

  FakeKeystone keystone_;
};

TEST_F(KeystoneAuthTest, ValidTokenGivesUserProjectAndRoles) {
  keystone_.add_token("tok-alice", "alice-id", "project-a", {"member", "reader"});
  keystone_.add_token("tok-root", "root-id", "admin-project", {"admin", "member", "reader"});
  auto auth = make_keystone_authenticator(options());
  auto alice = async(*auth, "tok-alice");
  ASSERT_TRUE(alice) << alice.error().message;
  EXPECT_EQ(alice->user_id, "alice-id");
  EXPECT_EQ(alice->project_id, "project-a");
  EXPECT_EQ(alice->roles, (std::vector<std::string>{"member", "reader"}));
  EXPECT_FALSE(alice->is_admin);
  auto root = auth->authenticate("tok-root");
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->is_admin);
  EXPECT_EQ(keystone_.logins(), 1u);  // the service logged in once for both
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

}  // namespace
}  // namespace agate::http
