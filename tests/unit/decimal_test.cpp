// Decimal text of unsigned integers: lengths and digits at every power of ten.
#include "util/decimal.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>

namespace socksnap {
namespace {

std::string decimal(uint64_t v) {
  char text[20];
  return {text, write_decimal(text, v)};
}

TEST(Decimal, Lengths) {
  EXPECT_EQ(decimal_length(0), 1U);
  EXPECT_EQ(decimal_length(9), 1U);
  EXPECT_EQ(decimal_length(10), 2U);
  EXPECT_EQ(decimal_length(99), 2U);
  EXPECT_EQ(decimal_length(100), 3U);
  EXPECT_EQ(decimal_length(65535), 5U);
  EXPECT_EQ(decimal_length(4026531833ULL), 10U);
  EXPECT_EQ(decimal_length(9999999999999999999ULL), 19U);
  EXPECT_EQ(decimal_length(10000000000000000000ULL), 20U);
  EXPECT_EQ(decimal_length(std::numeric_limits<uint64_t>::max()), 20U);
}

TEST(Decimal, Digits) {
  EXPECT_EQ(decimal(0), "0");
  EXPECT_EQ(decimal(7), "7");
  EXPECT_EQ(decimal(10), "10");
  EXPECT_EQ(decimal(100), "100");
  EXPECT_EQ(decimal(54321), "54321");
  EXPECT_EQ(decimal(4026531833ULL), "4026531833");
  EXPECT_EQ(decimal(std::numeric_limits<uint64_t>::max()), "18446744073709551615");
}

TEST(Decimal, AroundEveryPowerOfTenAndAtRandom) {
  uint64_t power = 1;
  for (int i = 0; i < 20; ++i) {
    for (uint64_t v : {power - 1, power, power + 1, power * 2 - 1}) {
      EXPECT_EQ(decimal(v), std::to_string(v));
      EXPECT_EQ(decimal_length(v), std::to_string(v).size());
    }
    if (i < 19) power *= 10;
  }
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10000; ++i) {
    uint64_t v = rng() >> (rng() % 64);
    ASSERT_EQ(decimal(v), std::to_string(v));
  }
}

}  // namespace
}  // namespace socksnap
