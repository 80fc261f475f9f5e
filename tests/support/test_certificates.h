#pragma once

// Throwaway certificates for TLS tests, made in memory with OpenSSL at test time: a certificate
// authority of one's own and the server certificates it signs. Nothing is written anywhere.

#include <memory>
#include <string>
#include <vector>

namespace agate::testing {

// A certificate and its private key, in PEM.
struct CertificateAndKey {
  std::string certificate_pem;
  std::string key_pem;
};

// A CA (a self-signed certificate with an EC P-256 key), valid from an hour ago for a day.
// Thread-safety: const member functions may be called from any thread.
class TestCa {
 public:
  // `name` is the CA's common name; give each CA of a test its own.
  explicit TestCa(const std::string& name);
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::string& certificate_pem() const;

  // A TLS server certificate signed by this CA, valid from an hour ago for a day, whose subject
  // alternative names are exactly `dns_names` and `ip_addresses`. Its common name is neither
  // (a name check cannot fall back on it).
  CertificateAndKey issue_server(const std::vector<std::string>& dns_names,
                                 const std::vector<std::string>& ip_addresses) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace agate::testing
