// Certificates for the cluster mode: the agent's serving certificate, a CA for tests and for
// clusters without one, client certificates (OpenSSL).
#pragma once
#include <chrono>
#include <string>
#include <vector>

#include "util/result.h"

namespace socksnap {

struct CertificateAndKey {
  std::string cert_pem;  // one PEM certificate
  std::string key_pem;   // its private key, PEM (PKCS#8)
};

struct CertificateRequest {
  std::string common_name;
  std::vector<std::string> organizations;  // subject O entries (Kubernetes: groups)
  std::vector<std::string> dns_names;      // subjectAltName DNS
  std::vector<std::string> ip_addresses;   // subjectAltName IP ("127.0.0.1", "::1")
  bool is_ca = false;
  bool server = true;   // extendedKeyUsage serverAuth (ignored for a CA: see issue_certificate)
  bool client = false;  // extendedKeyUsage clientAuth
  std::chrono::seconds valid_for{std::chrono::hours(24 * 365)};
  std::chrono::seconds not_before_offset{-3600};  // valid from now + this
};

// A new EC P-256 key and a certificate for it, signed by `issuer` (self-signed when null).
// A CA certificate gets no extendedKeyUsage: OpenSSL applies a CA's EKU to the whole chain, so
// "serverAuth" on a CA would make every client certificate it signs fail verification.
Result<CertificateAndKey> issue_certificate(const CertificateRequest& request,
                                            const CertificateAndKey* issuer = nullptr);

// SHA-256 fingerprint of a PEM certificate, "AB:CD:..." (for logs).
Result<std::string> certificate_fingerprint(const std::string& cert_pem);

}  // namespace socksnap
