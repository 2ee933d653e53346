// Owners for OpenSSL objects, PEM reading and OpenSSL's error queue as an Error (src/net only).
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace socksnap {

template <auto free_fn>
struct OpenSslFree {
  template <typename T>
  void operator()(T* object) const {
    free_fn(object);
  }
};

using BioPtr = std::unique_ptr<BIO, OpenSslFree<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslFree<BN_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslFree<X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpenSslFree<X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslFree<X509_EXTENSION_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslFree<GENERAL_NAMES_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpenSslFree<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpenSslFree<SSL_free>>;

// "context: reason (library)" from the calling thread's OpenSSL error queue, which it empties:
// a stale entry would otherwise be blamed on the next, unrelated call.
Error openssl_error(const std::string& context);

// Every certificate in a PEM text, in order; an error when there is none or one is malformed.
Result<std::vector<X509Ptr>> read_certificates(std::string_view pem);
Result<EvpPkeyPtr> read_private_key(std::string_view pem);

// Every value of one subject attribute (NID_commonName, NID_organizationName), as UTF-8.
std::vector<std::string> subject_entries(const X509* cert, int nid);

}  // namespace socksnap
