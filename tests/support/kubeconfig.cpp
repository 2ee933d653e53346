#include "support/kubeconfig.h"

#include <cstdint>

#include <fmt/format.h>

namespace socksnap::test {

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : bytes) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out += kAlphabet[(bits >> count) & 63];
    }
  }
  if (count > 0) out += kAlphabet[(bits << (6 - count)) & 63];
  while (out.size() % 4 != 0) out += '=';
  return out;
}

std::string kubeconfig(const std::string& server, const std::string& ca_pem,
                       const std::string& user_yaml, const std::string& context_namespace) {
  return fmt::format(
      R"(apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: {}
    server: {}
  name: sim
contexts:
- context:
    cluster: sim
    user: someone
{}  name: sim
current-context: sim
users:
- name: someone
  user:
{}
)",
      base64(ca_pem), server,
      context_namespace.empty() ? "" : fmt::format("    namespace: {}\n", context_namespace),
      user_yaml);
}

std::string certificate_user(const CertificateAndKey& certificate) {
  return fmt::format("    client-certificate-data: {}\n    client-key-data: {}\n",
                     base64(certificate.cert_pem), base64(certificate.key_pem));
}

std::string token_user(const std::string& token) {
  return fmt::format("    token: {}\n", token);
}

}  // namespace socksnap::test
