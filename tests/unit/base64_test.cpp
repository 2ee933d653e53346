#include "util/base64.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

namespace socksnap {
namespace {

TEST(Base64, DecodesAsGoStdEncoding) {
  EXPECT_EQ(*base64_decode(""), "");
  EXPECT_EQ(*base64_decode("YQ=="), "a");
  EXPECT_EQ(*base64_decode("YWI="), "ab");
  EXPECT_EQ(*base64_decode("YWJj"), "abc");
  EXPECT_EQ(*base64_decode("YW\r\nJj\nZA=\n=\n"), "abcd");  // line breaks anywhere
  EXPECT_EQ(*base64_decode("YR=="), "a");                   // stray bits tolerated
  EXPECT_EQ(*base64_decode("+/+/"), "\xfb\xff\xbf");
  auto error_of = [](std::string_view text) {
    auto r = base64_decode(text);
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.error().message();
  };
  EXPECT_EQ(error_of("YQ"), "illegal base64 data at input byte 0");  // padding is required
  EXPECT_EQ(error_of("YWJjZA"), "illegal base64 data at input byte 4");
  EXPECT_EQ(error_of("YQ="), "illegal base64 data at input byte 3");
  EXPECT_EQ(error_of("YQ=x"), "illegal base64 data at input byte 2");
  EXPECT_EQ(error_of("Y==="), "illegal base64 data at input byte 1");
  EXPECT_EQ(error_of("YQ==YQ=="), "illegal base64 data at input byte 4");
  EXPECT_EQ(error_of("YW Jj"), "illegal base64 data at input byte 2");
  EXPECT_EQ(error_of("YW-_"), "illegal base64 data at input byte 2");  // not the URL alphabet
  EXPECT_EQ(error_of("===="), "illegal base64 data at input byte 0");
}

TEST(Base64, EncodesAndRoundTrips) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("a"), "YQ==");
  EXPECT_EQ(base64_encode("ab"), "YWI=");
  EXPECT_EQ(base64_encode("abc"), "YWJj");
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(*base64_decode(base64_encode(all)), all);
}

// HTTP Basic credentials were encoded with OpenSSL's EVP_EncodeBlock: the same bytes, whatever
// the length.
TEST(Base64, EncodesAsOpenSslsEncodeBlock) {
  std::string bytes;
  for (int n = 0; n < 300; ++n) {
    std::string expected(4 * ((bytes.size() + 2) / 3), '\0');
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(expected.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    expected.resize(static_cast<size_t>(written));
    EXPECT_EQ(base64_encode(bytes), expected) << n;
    bytes.push_back(static_cast<char>(n * 131 + 7));
  }
  EXPECT_EQ(base64_encode("alice:s3cr\xc3\xa9t"), "YWxpY2U6czNjcsOpdA==");
}

}  // namespace
}  // namespace socksnap
