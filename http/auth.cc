#include "http/auth.h"

#include <algorithm>
#include <stdexcept>

namespace agate::http {

void throw_exception_from_error(const AuthFailure& f, const boost::source_location&) {
  throw std::runtime_error(f.message);
}

bool has_known_role(const Identity& identity) {
  return std::any_of(identity.roles.begin(), identity.roles.end(), [](const std::string& r) {
    return r == "admin" || r == "member" || r == "reader";
  });
}

namespace {

bool acceptable_name(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (unsigned char c : s) {
    // Printable ASCII only: no spaces, no control characters, and no bytes of other encodings
    // (ids are stored in events and shown in every answer, which must be valid UTF-8).
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

class NoAuth final : public Authenticator {
 public:
  boost::system::result<Identity, AuthFailure> authenticate(std::string_view token) override {
    if (token.empty()) {
      return AuthFailure{401, "The request you have made requires authentication."};
    }
    Identity id;
    const auto first = token.find(':');
    if (first == std::string_view::npos) {
      // Manila's noauth reads a token without a colon as user and project both ("notused", which
      // `openstack --os-auth-type none` sends, is user notused of project notused).
      id.user_id = id.project_id = std::string(token);
      if (!acceptable_name(id.user_id)) return bad();
      id.roles = {"member", "reader"};
      return id;
    }
    id.user_id = std::string(token.substr(0, first));
    std::string_view rest = token.substr(first + 1);
    const auto second = rest.find(':');
    std::string_view role;
    if (second != std::string_view::npos) {
      role = rest.substr(second + 1);
      rest = rest.substr(0, second);
    }
    id.project_id = std::string(rest);
    if (!acceptable_name(id.user_id) || !acceptable_name(id.project_id)) return bad();
    if (role == "admin") {
      id.is_admin = true;
      id.roles = {"admin", "member", "reader"};
    } else if (role == "reader") {
      id.roles = {"reader"};
    } else if (role == "service") {
      // A service's token: sent as X-Service-Token beside a user's, it makes the request a
      // service's (resource locks of the service context). Alone it may do nothing.
      id.roles = {"service"};
    } else if (role.empty() || role == "member") {
      id.roles = {"member", "reader"};
    } else {
      return bad();
    }
    return id;
  }

 private:
  static AuthFailure bad() {
    return {401,
            "Invalid token: expected user_id:project_id, optionally followed by :admin, :member, "
            ":reader or :service."};
  }
};

}  // namespace

std::unique_ptr<Authenticator> make_noauth_authenticator() { return std::make_unique<NoAuth>(); }

}  // namespace agate::http
