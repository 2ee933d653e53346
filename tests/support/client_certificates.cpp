#include "support/client_certificates.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "net/openssl_util.h"

namespace socksnap::test {

ServerTls asking_for_client_certificates(ServerTls tls, const std::string& ca_pem) {
  tls.configure = [ca_pem](SSL_CTX* ctx) -> Result<void> {
    auto cas = read_certificates(ca_pem);
    if (!cas) return plain_error("client CA: " + cas.error().message());
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    for (const X509Ptr& ca : *cas) {
      if (X509_STORE_add_cert(store, ca.get()) != 1 || SSL_CTX_add_client_CA(ctx, ca.get()) != 1) {
        return openssl_error("client CA");
      }
    }
    // Optional: a client without a certificate gets in and the handler decides (bearer tokens).
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_verify_depth(ctx, 5);
    // Needed for session resumption once client certificates are verified.
    static constexpr unsigned char kSessionContext[] = "socksnap-https";
    if (SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1) != 1) {
      return openssl_error("session id context");
    }
    return {};
  };
  return tls;
}

ClientIdentity client_identity(const HttpRequest& request) {
  ClientIdentity identity;
  if (request.tls == nullptr) return identity;
  if (X509* cert = SSL_get0_peer_certificate(request.tls);
      cert != nullptr && SSL_get_verify_result(request.tls) == X509_V_OK) {
    auto names = subject_entries(cert, NID_commonName);
    if (!names.empty()) identity.common_name = names.front();
    identity.organizations = subject_entries(cert, NID_organizationName);
  }
  return identity;
}

bool resumed_session(const HttpRequest& request) {
  return request.tls != nullptr && SSL_session_reused(request.tls) == 1;
}

}  // namespace socksnap::test
