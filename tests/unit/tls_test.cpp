// Certificates: a CA, certificates it signs, checked with OpenSSL's own verification.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "net/openssl_util.h"
#include "net/tls.h"

namespace socksnap {
namespace {

using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, FreeWith<X509_STORE_CTX_free>>;

X509Ptr load_certificate(const std::string& pem) {
  auto certs = read_certificates(pem);
  if (!certs || certs->size() != 1) return nullptr;
  return std::move(certs->front());
}

// X509_verify_cert of `leaf` against `ca` as the only trust anchor, for `purpose`
// (X509_PURPOSE_SSL_SERVER, ...); the verification error text, "ok" when it verifies.
std::string verify(const std::string& leaf_pem, const std::string& ca_pem, int purpose,
                   const char* host = nullptr) {
  X509Ptr leaf = load_certificate(leaf_pem);
  X509Ptr ca = load_certificate(ca_pem);
  if (!leaf || !ca) return "unreadable";
  X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  if (host != nullptr) {
    X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx.get()), host, 0);
  }
  if (X509_verify_cert(ctx.get()) == 1) return "ok";
  return X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
}

std::vector<std::string> alt_names(X509* cert) {
  std::vector<std::string> names;
  auto* general =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (general == nullptr) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(general); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(general, i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      names.push_back("DNS:" + std::string(reinterpret_cast<const char*>(dns->data),
                                           static_cast<size_t>(dns->length)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(ip->length == 4 ? AF_INET : AF_INET6, ip->data, text, sizeof text);
      names.push_back(std::string("IP:") + text);
    }
  }
  GENERAL_NAMES_free(general);
  return names;
}

// Seconds from now to an ASN1_TIME (negative: in the past).
long seconds_from_now(const ASN1_TIME* when) {
  int days = 0;
  int secs = 0;
  ASN1_TIME_diff(&days, &secs, nullptr, when);
  return days * 86400L + secs;
}

class Certificates : public ::testing::Test {
 protected:
  void SetUp() override {
    CertificateRequest ca_request;
    ca_request.common_name = "socksnap test CA";
    ca_request.organizations = {"socksnap"};
    ca_request.is_ca = true;
    auto issued = issue_certificate(ca_request);
    ASSERT_TRUE(issued) << issued.error().message();
    ca_ = *issued;

    CertificateRequest server_request;
    server_request.common_name = "socksnap-agent";
    server_request.organizations = {"socksnap", "agents"};
    server_request.dns_names = {"agent.socksnap.test", "localhost"};
    server_request.ip_addresses = {"127.0.0.1", "::1"};
    server_request.valid_for = std::chrono::hours(48);
    auto server = issue_certificate(server_request, &ca_);
    ASSERT_TRUE(server) << server.error().message();
    server_ = *server;
  }

  CertificateAndKey ca_;
  CertificateAndKey server_;
};

TEST_F(Certificates, ChainVerifiesWithOpenSsl) {
  EXPECT_EQ(verify(server_.cert_pem, ca_.cert_pem, X509_PURPOSE_SSL_SERVER), "ok");
  EXPECT_EQ(verify(server_.cert_pem, ca_.cert_pem, X509_PURPOSE_SSL_SERVER, "agent.socksnap.test"),
            "ok");
  EXPECT_EQ(verify(server_.cert_pem, ca_.cert_pem, X509_PURPOSE_SSL_SERVER, "other.test"),
            "hostname mismatch");
  // The server certificate carries serverAuth only.
  EXPECT_EQ(verify(server_.cert_pem, ca_.cert_pem, X509_PURPOSE_SSL_CLIENT),
            "unsuitable certificate purpose");
  // The CA is self-signed and verifies against itself.
  EXPECT_EQ(verify(ca_.cert_pem, ca_.cert_pem, X509_PURPOSE_ANY), "ok");

  CertificateRequest other_request;
  other_request.common_name = "another CA";
  other_request.is_ca = true;
  auto other = issue_certificate(other_request);
  ASSERT_TRUE(other);
  EXPECT_EQ(verify(server_.cert_pem, other->cert_pem, X509_PURPOSE_SSL_SERVER),
            "unable to get local issuer certificate");
}

TEST_F(Certificates, SubjectIssuerAndAltNames) {
  X509Ptr cert = load_certificate(server_.cert_pem);
  X509Ptr ca = load_certificate(ca_.cert_pem);
  ASSERT_TRUE(cert && ca);
  EXPECT_EQ(subject_entries(cert.get(), NID_commonName),
            std::vector<std::string>{"socksnap-agent"});
  EXPECT_EQ(subject_entries(cert.get(), NID_organizationName),
            (std::vector<std::string>{"socksnap", "agents"}));
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(ca.get())), 0);
  EXPECT_EQ(alt_names(cert.get()),
            (std::vector<std::string>{"DNS:agent.socksnap.test", "DNS:localhost", "IP:127.0.0.1",
                                      "IP:::1"}));
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.2", 0), 0);
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
}

TEST_F(Certificates, KeyUsagesAndConstraints) {
  X509Ptr cert = load_certificate(server_.cert_pem);
  X509Ptr ca = load_certificate(ca_.cert_pem);
  ASSERT_TRUE(cert && ca);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_EQ(X509_get_key_usage(ca.get()),
            uint32_t{KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE});
  EXPECT_EQ(X509_get_key_usage(cert.get()), uint32_t{KU_DIGITAL_SIGNATURE});
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), uint32_t{XKU_SSL_SERVER});
  EXPECT_EQ(X509_get_extended_key_usage(ca.get()), UINT32_MAX);  // none: anything goes
  ASSERT_NE(X509_get0_subject_key_id(cert.get()), nullptr);
  ASSERT_NE(X509_get0_authority_key_id(cert.get()), nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(cert.get()),
                                  X509_get0_subject_key_id(ca.get())),
            0);

  CertificateRequest both;
  both.common_name = "both";
  both.client = true;
  auto issued = issue_certificate(both, &ca_);
  ASSERT_TRUE(issued);
  X509Ptr both_cert = load_certificate(issued->cert_pem);
  EXPECT_EQ(X509_get_extended_key_usage(both_cert.get()),
            uint32_t{XKU_SSL_SERVER | XKU_SSL_CLIENT});
  EXPECT_EQ(alt_names(both_cert.get()), std::vector<std::string>{});
}

TEST_F(Certificates, ClientCertificateForKubernetesGroups) {
  CertificateRequest request;
  request.common_name = "system:node:worker-1";
  request.organizations = {"system:nodes"};
  request.server = false;
  request.client = true;
  auto client = issue_certificate(request, &ca_);
  ASSERT_TRUE(client) << client.error().message();
  EXPECT_EQ(verify(client->cert_pem, ca_.cert_pem, X509_PURPOSE_SSL_CLIENT), "ok");
  EXPECT_EQ(verify(client->cert_pem, ca_.cert_pem, X509_PURPOSE_SSL_SERVER),
            "unsuitable certificate purpose");
  X509Ptr cert = load_certificate(client->cert_pem);
  EXPECT_EQ(subject_entries(cert.get(), NID_commonName),
            std::vector<std::string>{"system:node:worker-1"});
  EXPECT_EQ(subject_entries(cert.get(), NID_organizationName),
            std::vector<std::string>{"system:nodes"});
}

TEST_F(Certificates, KeyIsPkcs8P256AndMatches) {
  EXPECT_EQ(server_.key_pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);
  EXPECT_EQ(server_.cert_pem.rfind("-----BEGIN CERTIFICATE-----\n", 0), 0u);
  auto key = read_private_key(server_.key_pem);
  ASSERT_TRUE(key);
  char group[64] = {};
  size_t length = 0;
  ASSERT_EQ(EVP_PKEY_get_utf8_string_param(key->get(), OSSL_PKEY_PARAM_GROUP_NAME, group,
                                           sizeof group, &length),
            1);
  EXPECT_STREQ(group, "prime256v1");
  X509Ptr cert = load_certificate(server_.cert_pem);
  EXPECT_EQ(X509_check_private_key(cert.get(), key->get()), 1);
  X509Ptr ca = load_certificate(ca_.cert_pem);
  EXPECT_EQ(X509_check_private_key(ca.get(), key->get()), 0);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);
}

TEST_F(Certificates, Validity) {
  X509Ptr cert = load_certificate(server_.cert_pem);
  long not_before = seconds_from_now(X509_get0_notBefore(cert.get()));
  long not_after = seconds_from_now(X509_get0_notAfter(cert.get()));
  EXPECT_NEAR(static_cast<double>(not_before), -3600.0, 60.0);
  EXPECT_NEAR(static_cast<double>(not_after), 48 * 3600.0, 60.0);

  // A certificate that starts in the future is not valid yet.
  CertificateRequest future;
  future.common_name = "future";
  future.not_before_offset = std::chrono::hours(1);
  auto issued = issue_certificate(future, &ca_);
  ASSERT_TRUE(issued);
  EXPECT_EQ(verify(issued->cert_pem, ca_.cert_pem, X509_PURPOSE_SSL_SERVER),
            "certificate is not yet valid");
}

TEST_F(Certificates, SerialsDiffer) {
  CertificateRequest request;
  request.common_name = "x";
  auto again = issue_certificate(request, &ca_);
  ASSERT_TRUE(again);
  X509Ptr a = load_certificate(server_.cert_pem);
  X509Ptr b = load_certificate(again->cert_pem);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(a.get()), X509_get0_serialNumber(b.get())), 0);
}

TEST_F(Certificates, Fingerprint) {
  auto fingerprint = certificate_fingerprint(server_.cert_pem);
  ASSERT_TRUE(fingerprint) << fingerprint.error().message();
  EXPECT_TRUE(std::regex_match(*fingerprint, std::regex("([0-9A-F]{2}:){31}[0-9A-F]{2}")))
      << *fingerprint;
  // The same digest computed here over the DER encoding.
  X509Ptr cert = load_certificate(server_.cert_pem);
  unsigned char* der = nullptr;
  int der_length = i2d_X509(cert.get(), &der);
  ASSERT_GT(der_length, 0);
  unsigned char digest[32];
  unsigned int digest_length = 0;
  ASSERT_EQ(EVP_Digest(der, static_cast<size_t>(der_length), digest, &digest_length, EVP_sha256(),
                       nullptr),
            1);
  OPENSSL_free(der);
  std::string expected;
  for (unsigned int i = 0; i < digest_length; ++i) {
    expected += fmt::format("{}{:02X}", i == 0 ? "" : ":", digest[i]);
  }
  EXPECT_EQ(*fingerprint, expected);
  EXPECT_NE(*certificate_fingerprint(ca_.cert_pem), *fingerprint);

  EXPECT_FALSE(certificate_fingerprint(""));
  EXPECT_EQ(certificate_fingerprint("not a certificate").error().message(),
            "reading PEM certificates: no certificate found");
  std::string broken = server_.cert_pem;
  broken[40] = broken[40] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(certificate_fingerprint(broken));
}

TEST_F(Certificates, BadRequests) {
  CertificateRequest bad_ip;
  bad_ip.common_name = "x";
  bad_ip.ip_addresses = {"10.0.0.300"};
  EXPECT_EQ(issue_certificate(bad_ip).error().message(), "bad IP address \"10.0.0.300\"");
  CertificateRequest bad_dns;
  bad_dns.dns_names = {"has space.test"};
  EXPECT_EQ(issue_certificate(bad_dns).error().message(), "bad DNS name \"has space.test\"");
  CertificateRequest zero;
  zero.valid_for = std::chrono::seconds(0);
  EXPECT_EQ(issue_certificate(zero).error().message(), "certificate validity must be positive");

  CertificateAndKey mismatched{ca_.cert_pem, server_.key_pem};
  auto issued = issue_certificate(CertificateRequest{}, &mismatched);
  ASSERT_FALSE(issued);
  EXPECT_EQ(issued.error().message().rfind("issuer key does not match the issuer certificate", 0),
            0u)
      << issued.error().message();
  CertificateAndKey no_key{ca_.cert_pem, ""};
  EXPECT_EQ(
      issue_certificate(CertificateRequest{}, &no_key).error().message().rfind("issuer key: ", 0),
      0u);
  CertificateRequest long_name;
  long_name.common_name = std::string(65, 'a');  // X.520 caps a CN at 64 characters
  EXPECT_FALSE(issue_certificate(long_name));
}

}  // namespace
}  // namespace socksnap
