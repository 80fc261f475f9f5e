#pragma once

// Keystone authentication: X-Auth-Token is validated against a Keystone v3 endpoint
// (GET /v3/auth/tokens with X-Subject-Token, authenticated by the service's own token), which
// says who the user is, in which project, with which roles.
//
// Validations are cached for at most `cache_ttl` and never past the token's expires_at; the cache
// holds at most `cache_size` tokens (the least recently used go first). A token Keystone does not
// know is a 401; a Keystone that cannot be reached, is too slow or answers nonsense is a 503: the
// request is refused, never let through (fail closed).
//
// Threads: a cached answer is given at once on the caller's thread. A validation runs on one of
// the authenticator's own `threads`, so a server's I/O threads never wait for Keystone; requests
// for the same token while it is being validated wait for that one validation.
//
// TLS: an https:// URL is always verified: the certificate chain must lead to a trusted CA (the
// system's, or only those in `ca_file` if it is set) and name the URL's host (a DNS name, or an
// IP address for a URL with one). A certificate that fails, a failed handshake or one that does
// not end within `timeout` is Keystone unreachable: 503, and the log says why. There is no way to
// turn verification off. http:// is plain HTTP: the service's password then crosses the network
// in clear, so keep such a Keystone on the same host or a trusted network.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "http/auth.h"

namespace agate::http {

struct KeystoneOptions {
  std::string url;  // the v3 endpoint, e.g. https://keystone.example:5000/v3
  // https only: a PEM file of the CA certificates to trust instead of the system's (a private
  // CA). Read once, by make_keystone_authenticator.
  std::string ca_file;
  // The service's own credentials: a user (by name, in a domain) scoped to a project…
  std::string user;
  std::string password;
  std::string user_domain = "Default";
  std::string project;
  std::string project_domain = "Default";
  // …or, instead, a token used as it is (for example one made for the service beforehand).
  std::string service_token;
  std::chrono::milliseconds timeout{5000};  // each call to Keystone, connecting and TLS included
  std::chrono::seconds cache_ttl{300};      // 0: every request is validated
  std::size_t cache_size = 10000;           // tokens
  unsigned threads = 2;                     // validations in flight at once
};

// What an authenticator of this kind has done, for tests and /healthz-like reports.
struct KeystoneStats {
  std::uint64_t validations = 0;    // GET /v3/auth/tokens sent
  std::uint64_t service_logins = 0; // POST /v3/auth/tokens sent
  std::uint64_t cache_hits = 0;
};

class KeystoneAuthenticator : public Authenticator {
 public:
  virtual KeystoneStats stats() const = 0;
};

// Throws std::invalid_argument naming what is wrong if `options` cannot work (no URL, a scheme
// other than http and https, no credentials, a ca_file that cannot be read or holds no PEM
// certificate, a ca_file with an http:// URL). Nothing is sent before the first request.
std::unique_ptr<KeystoneAuthenticator> make_keystone_authenticator(KeystoneOptions options);

}  // namespace agate::http
