#pragma once

// A stand-in for Keystone's v3 token API on a free loopback port, for tests of Keystone
// authentication: POST /v3/auth/tokens (password login of the service, 201 with
// X-Subject-Token) and GET /v3/auth/tokens (validation of X-Subject-Token, authenticated by a
// service token in X-Auth-Token: 200, 404 for an unknown or expired token, 401 for a bad service
// token), with Keystone's bodies reduced to what a validator reads.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace agate::testing {

// Thread-safety: every member function may be called from any thread.
class FakeKeystone {
 public:
  // The service user that may log in (user "agate" in domain "Default", project "service").
  static constexpr const char* kServiceUser = "agate";
  static constexpr const char* kServicePassword = "agate-secret";

  FakeKeystone();
  ~FakeKeystone();
  FakeKeystone(const FakeKeystone&) = delete;
  FakeKeystone& operator=(const FakeKeystone&) = delete;

  unsigned short port() const { return port_; }
  std::string url() const;  // http://127.0.0.1:<port>/v3

  // A user token valid for `life`, scoped to `project_id` (none if empty), with `roles`.
  void add_token(const std::string& token, const std::string& user_id,
                 const std::string& project_id, std::vector<std::string> roles,
                 std::chrono::seconds life = std::chrono::hours(1));
  void revoke(const std::string& token);
  // Service tokens issued from now on live this long (default one hour).
  void set_service_token_life(std::chrono::seconds life);
  // Every service token issued so far is refused from now on.
  void revoke_service_tokens();
  // While set, connections are accepted and never answered.
  void set_silent(bool silent);

  std::uint64_t validations() const;
  std::uint64_t logins() const;

 private:
  struct Token {
    std::string user_id, project_id;
    std::vector<std::string> roles;
    std::chrono::system_clock::time_point expires_at;
  };
  struct Answer {
    unsigned status = 500;
    std::string subject_token;
    std::string body;
  };
  void serve();
  Answer answer(const std::string& method, const std::string& target,
                const std::string& auth_token, const std::string& subject_token,
                const std::string& body);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  unsigned short port_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, Token> tokens_;
  std::map<std::string, std::chrono::system_clock::time_point> service_tokens_;
  std::chrono::seconds service_life_{3600};
  bool silent_ = false;
  bool stopping_ = false;
  std::uint64_t validations_ = 0, logins_ = 0, issued_ = 0;
  std::thread thread_;
};

}  // namespace agate::testing
