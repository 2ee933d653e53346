// Client certificates on a server made with net/https_server.h, as kube-apiserver takes them
// (x509 client authentication) and socksnap's agent does not: for the tests' API server, and for
// the tests that watch what a client sends.
#pragma once

#include <string>
#include <vector>

#include "net/http.h"
#include "net/https_server.h"

namespace socksnap::test {

// `tls`, asking clients for a certificate (optional): one that is sent must verify against
// `ca_pem`, or the handshake fails.
ServerTls asking_for_client_certificates(ServerTls tls, const std::string& ca_pem);

// The subject of the client's verified certificate; empty when it sent none (or the server did
// not ask for one).
struct ClientIdentity {
  std::string common_name;                 // subject CN
  std::vector<std::string> organizations;  // subject O entries
};
// In the handler only: it reads the request's connection.
ClientIdentity client_identity(const HttpRequest& request);
// Whether the request's connection resumed an earlier TLS session. In the handler only.
bool resumed_session(const HttpRequest& request);

}  // namespace socksnap::test
