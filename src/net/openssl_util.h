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

#include "util/free_with.h"
#include "util/result.h"

namespace socksnap {

using BioPtr = std::unique_ptr<BIO, FreeWith<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, FreeWith<BN_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, FreeWith<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, FreeWith<X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, FreeWith<X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, FreeWith<X509_EXTENSION_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, FreeWith<GENERAL_NAMES_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, FreeWith<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, FreeWith<SSL_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, FreeWith<X509_STORE_free>>;

// "context: reason (library)" from the calling thread's OpenSSL error queue, which it empties:
// a stale entry would otherwise be blamed on the next, unrelated call.
Error openssl_error(const std::string& context);

// Every certificate in a PEM text, in order; an error when there is none or one is malformed.
Result<std::vector<X509Ptr>> read_certificates(std::string_view pem);
Result<EvpPkeyPtr> read_private_key(std::string_view pem);

// Every value of one subject attribute (NID_commonName, NID_organizationName), as UTF-8.
std::vector<std::string> subject_entries(const X509* cert, int nid);

}  // namespace socksnap
