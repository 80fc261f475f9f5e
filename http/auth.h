#pragma once

// Authentication: turns a request's X-Auth-Token into an identity. One small interface, so that
// a Keystone validator can take the place of the noauth one without touching the handlers.

#include <boost/system/result.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace agate::http {

struct Identity {
  std::string user_id;
  std::string project_id;
  std::vector<std::string> roles;
  bool is_admin = false;
};

// Why a token was refused: the HTTP status (401, 503) and a message for the caller.
struct AuthFailure {
  unsigned status = 401;
  std::string message;
};

[[noreturn]] void throw_exception_from_error(const AuthFailure& f, const boost::source_location&);

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // `token` is the X-Auth-Token header's value, empty if absent. Thread-safe.
  virtual boost::system::result<Identity, AuthFailure> authenticate(std::string_view token) = 0;
};

// Manila's noauth form, "user_id:project_id", plus Agate's role marker: "user_id:project_id:admin"
// is an administrator, "user_id:project_id:reader" a reader; no marker is a project member.
// Unlike Manila's noauth, a plain token is not an administrator. For tests and trusted networks.
std::unique_ptr<Authenticator> make_noauth_authenticator();

}  // namespace agate::http
