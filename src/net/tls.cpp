#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <climits>

#include <fmt/format.h>

#include "net/openssl_util.h"

namespace socksnap {
namespace {

using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, FreeWith<GENERAL_NAME_free>>;
using Asn1StringPtr = std::unique_ptr<ASN1_STRING, FreeWith<ASN1_STRING_free>>;

Result<void> add_name_entry(X509_NAME* name, int nid, const std::string& value) {
  if (value.size() > INT_MAX) return plain_error("subject entry too long");
  const auto* bytes = reinterpret_cast<const unsigned char*>(value.data());
  if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, bytes, static_cast<int>(value.size()),
                                 -1, 0) != 1) {
    return openssl_error(fmt::format("subject {} \"{}\"", OBJ_nid2sn(nid), value));
  }
  return {};
}

Result<void> push_general_name(GENERAL_NAMES* names, int type, Asn1StringPtr value) {
  GeneralNamePtr name(GENERAL_NAME_new());
  if (!name) return openssl_error("GENERAL_NAME_new");
  GENERAL_NAME_set0_value(name.get(), type, value.release());
  if (sk_GENERAL_NAME_push(names, name.get()) == 0) return openssl_error("sk_GENERAL_NAME_push");
  (void)name.release();  // the stack owns it now
  return {};
}

Result<GeneralNamesPtr> subject_alt_names(const CertificateRequest& request) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return openssl_error("GENERAL_NAMES_new");
  for (const std::string& dns : request.dns_names) {
    bool printable =
        !dns.empty() && dns.size() <= 253 &&
        std::all_of(dns.begin(), dns.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (!printable) return plain_error(fmt::format("bad DNS name \"{}\"", dns));
    Asn1StringPtr ia5(ASN1_IA5STRING_new());
    if (!ia5 || ASN1_STRING_set(ia5.get(), dns.data(), static_cast<int>(dns.size())) != 1) {
      return openssl_error("ASN1_STRING_set");
    }
    if (auto pushed = push_general_name(names.get(), GEN_DNS, std::move(ia5)); !pushed) {
      return pushed.error();
    }
  }
  for (const std::string& ip : request.ip_addresses) {
    Asn1StringPtr octets(a2i_IPADDRESS(ip.c_str()));
    if (!octets || ip.find('\0') != std::string::npos) {
      ERR_clear_error();
      return plain_error(fmt::format("bad IP address \"{}\"", ip));
    }
    if (auto pushed = push_general_name(names.get(), GEN_IPADD, std::move(octets)); !pushed) {
      return pushed.error();
    }
  }
  return names;
}

Result<void> add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!extension || X509_add_ext(cert, extension.get(), -1) != 1) {
    return openssl_error(fmt::format("certificate extension {}={}", OBJ_nid2sn(nid), value));
  }
  return {};
}

Result<void> add_extensions(X509* cert, X509* issuer_cert, const CertificateRequest& request) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_cert != nullptr ? issuer_cert : cert, cert, nullptr, nullptr, 0);
  const char* constraints = request.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
  const char* usage =
      request.is_ca ? "critical,keyCertSign,cRLSign,digitalSignature" : "critical,digitalSignature";
  for (auto [nid, value] :
       {std::pair{NID_basic_constraints, constraints}, std::pair{NID_key_usage, usage},
        std::pair{NID_subject_key_identifier, "hash"}}) {
    if (auto added = add_extension(cert, &ctx, nid, value); !added) return added;
  }
  if (issuer_cert != nullptr) {
    if (auto added = add_extension(cert, &ctx, NID_authority_key_identifier, "keyid:always");
        !added) {
      return added;
    }
  }
  if (!request.is_ca && (request.server || request.client)) {
    const char* eku = request.server && request.client ? "serverAuth,clientAuth"
                      : request.server                 ? "serverAuth"
                                                       : "clientAuth";
    if (auto added = add_extension(cert, &ctx, NID_ext_key_usage, eku); !added) return added;
  }
  if (!request.dns_names.empty() || !request.ip_addresses.empty()) {
    auto names = subject_alt_names(request);
    if (!names) return names.error();
    if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names->get(), 0, X509V3_ADD_DEFAULT) != 1) {
      return openssl_error("certificate extension subjectAltName");
    }
  }
  return {};
}

Result<void> set_serial_and_validity(X509* cert, const CertificateRequest& request) {
  // 159 random bits: unique without a registry, positive, and within RFC 5280's 20 octets.
  BignumPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    return openssl_error("certificate serial number");
  }
  if (request.valid_for.count() <= 0) return plain_error("certificate validity must be positive");
  if (X509_gmtime_adj(X509_getm_notBefore(cert), request.not_before_offset.count()) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert), request.valid_for.count()) == nullptr) {
    return openssl_error("certificate validity");
  }
  return {};
}

Result<std::string> to_pem(X509* cert, EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return openssl_error("BIO_new");
  int written = cert != nullptr ? PEM_write_bio_X509(bio.get(), cert)
                                : PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                                           nullptr, nullptr);
  if (written != 1) return openssl_error("writing PEM");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

}  // namespace

Result<CertificateAndKey> issue_certificate(const CertificateRequest& request,
                                            const CertificateAndKey* issuer) {
  ERR_clear_error();
  X509Ptr issuer_cert;
  EvpPkeyPtr issuer_key;
  if (issuer != nullptr) {
    auto certs = read_certificates(issuer->cert_pem);
    if (!certs) return plain_error("issuer certificate: " + certs.error().message());
    auto key = read_private_key(issuer->key_pem);
    if (!key) return plain_error("issuer key: " + key.error().message());
    issuer_cert = std::move(certs->front());
    issuer_key = std::move(*key);
    if (X509_check_private_key(issuer_cert.get(), issuer_key.get()) != 1) {
      return openssl_error("issuer key does not match the issuer certificate");
    }
  }

  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return openssl_error("generating an EC P-256 key");
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return openssl_error("X509_new");
  if (auto set = set_serial_and_validity(cert.get(), request); !set) return set.error();

  X509_NAME* subject = X509_get_subject_name(cert.get());
  for (const std::string& organization : request.organizations) {
    if (auto added = add_name_entry(subject, NID_organizationName, organization); !added) {
      return added.error();
    }
  }
  if (!request.common_name.empty()) {
    if (auto added = add_name_entry(subject, NID_commonName, request.common_name); !added) {
      return added.error();
    }
  }
  const X509_NAME* issuer_name = issuer_cert ? X509_get_subject_name(issuer_cert.get()) : subject;
  if (X509_set_issuer_name(cert.get(), issuer_name) != 1 ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    return openssl_error("certificate names and key");
  }
  if (auto added = add_extensions(cert.get(), issuer_cert.get(), request); !added) {
    return added.error();
  }
  EVP_PKEY* signing_key = issuer_key ? issuer_key.get() : key.get();
  if (X509_sign(cert.get(), signing_key, EVP_sha256()) <= 0) {
    return openssl_error("signing the certificate");
  }

  auto cert_pem = to_pem(cert.get(), nullptr);
  if (!cert_pem) return cert_pem.error();
  auto key_pem = to_pem(nullptr, key.get());
  if (!key_pem) return key_pem.error();
  return CertificateAndKey{std::move(*cert_pem), std::move(*key_pem)};
}

Result<std::string> certificate_fingerprint(const std::string& cert_pem) {
  auto certs = read_certificates(cert_pem);
  if (!certs) return certs.error();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(certs->front().get(), EVP_sha256(), digest, &length) != 1) {
    return openssl_error("certificate digest");
  }
  std::string text;
  for (unsigned int i = 0; i < length; ++i) {
    if (i > 0) text += ':';
    text += fmt::format("{:02X}", digest[i]);
  }
  return text;
}

}  // namespace socksnap
