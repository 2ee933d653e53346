// Kubeconfigs as kubectl writes them, for the tests' clients (kubectl, kubectl-socksnap, agents).
#pragma once

#include <string>
#include <string_view>

#include "net/tls.h"

namespace socksnap::test {

// RFC 4648 base64 with padding, as kubeconfig's *-data fields hold it. The tests' own: what the
// program under test decodes is not encoded by its own encoder.
std::string base64(std::string_view bytes);

// One cluster (the server and its CA, inline), one user, one context that is the current one,
// with a namespace when `context_namespace` is not empty. `user_yaml` is the user's fields,
// indented by four spaces: certificate_user() or token_user(), plus any others.
std::string kubeconfig(const std::string& server, const std::string& ca_pem,
                       const std::string& user_yaml, const std::string& context_namespace = "");
std::string certificate_user(const CertificateAndKey& certificate);
std::string token_user(const std::string& token);

}  // namespace socksnap::test
