#pragma once

// A stand-in for Keystone's v3 token API on a free loopback port, for tests of Keystone
// authentication: POST /v3/auth/tokens (password login of the service, 201 with
// X-Subject-Token) and GET /v3/auth/tokens (validation of X-Subject-Token, authenticated by a
// service token in X-Auth-Token: 200, 404 for an unknown or expired token, 401 for a bad service
// token), with Keystone's bodies reduced to what a validator reads. It speaks plain HTTP, or
// HTTPS with a certificate given to it (see test_certificates.h); one connection at a time.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/test_certificates.h"

namespace agate::testing {

// Thread-safety: every member function may be called from any thread.
class FakeKeystone {
 public:
  // The service user that may log in (user "agate" in domain "Default", project "service").
  static constexpr const char* kServiceUser = "agate";
  static constexpr const char* kServicePassword = "agate-secret";

  FakeKeystone();  // plain HTTP on 127.0.0.1
  // Plain HTTP on another loopback address, such as "::1".
  explicit FakeKeystone(std::string_view address);
  // HTTPS only, with this certificate (followed by any intermediate CAs) and key: every
  // connection must complete a TLS handshake before it is read.
  explicit FakeKeystone(const CertificateAndKey& tls);
  ~FakeKeystone();
  FakeKeystone(const FakeKeystone&) = delete;
  FakeKeystone& operator=(const FakeKeystone&) = delete;

  unsigned short port() const { return port_; }
  std::string url() const;  // http://127.0.0.1:<port>/v3 (or its address), or https://
  std::string url(std::string_view host) const;  // the same with another host, e.g. localhost

  // A user token valid for `life`, scoped to `project_id` (none if empty), with `roles`.
  void add_token(const std::string& token, const std::string& user_id,
                 const std::string& project_id, std::vector<std::string> roles,
                 std::chrono::seconds life = std::chrono::hours(1));
  void revoke(const std::string& token);
  // Service tokens issued from now on live this long (default one hour).
  void set_service_token_life(std::chrono::seconds life);
  // Every service token issued so far is refused from now on.
  void revoke_service_tokens();
  // While set, connections are accepted and never answered (over HTTPS: nor is the TLS
  // handshake).
  void set_silent(bool silent);

  std::uint64_t validations() const;
  std::uint64_t logins() const;
  // HTTPS: the TLS handshakes completed, and the server name (SNI) the last one was given ("" if
  // none).
  std::uint64_t handshakes() const;
  std::string last_server_name() const;
  // The Host header of the last request read.
  std::string last_host() const;

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
  void start();
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
  std::uint64_t validations_ = 0, logins_ = 0, issued_ = 0, handshakes_ = 0;
  std::string last_server_name_;
  std::string last_host_;
  std::string address_ = "127.0.0.1";
  std::thread thread_;
};

}  // namespace agate::testing
