#pragma once

// Authentication: turns a request's X-Auth-Token into an identity. One small interface with two
// implementations: noauth (the token itself says who asks) and Keystone (keystone_auth.h).

#include <boost/system/result.hpp>
#include <functional>
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

using AuthResult = boost::system::result<Identity, AuthFailure>;

// Thread-safety: both calls may be made from any thread at once.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // `token` is the X-Auth-Token header's value, empty if absent. May wait for a round trip to an
  // identity service: servers call authenticate_async instead.
  virtual AuthResult authenticate(std::string_view token) = 0;
  // Calls `done` exactly once with what authenticate() would answer: at once on this thread when
  // the answer needs no waiting, otherwise later on a thread of the authenticator's own. The
  // default answers at once.
  virtual void authenticate_async(std::string token, std::function<void(AuthResult)> done) {
    done(authenticate(token));
  }
};

// Whether the identity holds one of the roles Agate knows (admin, member, reader). Identities with
// none of them may do nothing, as under Manila's default policies.
bool has_known_role(const Identity& identity);

// Manila's noauth form, "user_id:project_id" ("name" alone is user and project "name", as in
// Manila), plus Agate's role marker: "user_id:project_id:admin" is an administrator,
// "user_id:project_id:reader" a reader, "user_id:project_id:service" a service (for the
// X-Service-Token header; such a token alone may do nothing); no marker is a project member.
// Unlike Manila's noauth, a plain token is not an administrator. For tests and trusted networks.
std::unique_ptr<Authenticator> make_noauth_authenticator();

}  // namespace agate::http
