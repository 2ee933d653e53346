#include "net/openssl_util.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <climits>

namespace socksnap {
namespace {

// Without a callback OpenSSL would prompt on the terminal for an encrypted key's passphrase.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
  return -1;
}

Result<BioPtr> memory_bio(std::string_view data) {
  if (data.size() > INT_MAX) return plain_error("PEM data too large");
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) return openssl_error("BIO_new_mem_buf");
  return bio;
}

}  // namespace

Error openssl_error(const std::string& context) {
  std::string reasons;
  while (unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    const char* reason = ERR_reason_error_string(code);
    if (!reasons.empty()) reasons += "; ";
    reasons += reason != nullptr ? reason : text;
  }
  if (reasons.empty()) return plain_error(context);
  return plain_error(context + ": " + reasons);
}

Result<std::vector<X509Ptr>> read_certificates(std::string_view pem) {
  auto bio = memory_bio(pem);
  if (!bio) return bio.error();
  ERR_clear_error();
  std::vector<X509Ptr> certs;
  while (X509Ptr cert{PEM_read_bio_X509(bio->get(), nullptr, no_passphrase, nullptr)}) {
    certs.push_back(std::move(cert));
  }
  // Running out of PEM blocks ends the loop with "no start line"; anything else is a bad block.
  unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
  }
  if (ERR_peek_error() != 0) return openssl_error("reading PEM certificates");
  if (certs.empty()) return plain_error("reading PEM certificates: no certificate found");
  return certs;
}

Result<EvpPkeyPtr> read_private_key(std::string_view pem) {
  auto bio = memory_bio(pem);
  if (!bio) return bio.error();
  ERR_clear_error();
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio->get(), nullptr, no_passphrase, nullptr));
  if (!key) return openssl_error("reading the PEM private key");
  return key;
}

std::vector<std::string> subject_entries(const X509* cert, int nid) {
  std::vector<std::string> values;
  const X509_NAME* name = X509_get_subject_name(cert);
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    int length = ASN1_STRING_to_UTF8(&utf8, data);
    if (length < 0) continue;
    values.emplace_back(reinterpret_cast<const char*>(utf8), static_cast<size_t>(length));
    OPENSSL_free(utf8);
  }
  return values;
}

}  // namespace socksnap
