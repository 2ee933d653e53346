// CapEff from /proc/PID/status.
#include "util/capabilities.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace socksnap {
namespace {

constexpr std::string_view kRootStatus =
    "Name:\tbash\n"
    "Umask:\t0022\n"
    "State:\tS (sleeping)\n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t000001ffffffffff\n"
    "CapEff:\t000001ffffffffff\n"
    "CapBnd:\t000001ffffffffff\n"
    "CapAmb:\t0000000000000000\n"
    "NoNewPrivs:\t0\n";

TEST(ParseEffectiveCapabilities, RealShapedStatus) {
  EXPECT_EQ(parse_effective_capabilities(kRootStatus), 0x000001ffffffffffULL);
}

TEST(ParseEffectiveCapabilities, OnlyTheCapEffLineCounts) {
  EXPECT_EQ(parse_effective_capabilities("CapPrm:\tffff\nCapEff:\t0000000000200000\n"), 1ULL << 21);
  EXPECT_EQ(parse_effective_capabilities("CapEff:\t0\n"), 0U);
  EXPECT_EQ(parse_effective_capabilities("CapEff:   a0\n"), 0xa0U);
  EXPECT_EQ(parse_effective_capabilities("CapEff:\tffffffffffffffff"), ~0ULL);
  EXPECT_EQ(parse_effective_capabilities("CapEff:\tDEADbeef\n"), 0xdeadbeefULL);
}

TEST(ParseEffectiveCapabilities, MissingOrMalformed) {
  EXPECT_EQ(parse_effective_capabilities(""), std::nullopt);
  EXPECT_EQ(parse_effective_capabilities("CapPrm:\tffff\n"), std::nullopt);
  EXPECT_EQ(parse_effective_capabilities("CapEff:\n"), std::nullopt);
  EXPECT_EQ(parse_effective_capabilities("CapEff:\tzz\n"), std::nullopt);
  EXPECT_EQ(parse_effective_capabilities("CapEff:\t0x1f\n"), std::nullopt);
  EXPECT_EQ(parse_effective_capabilities("CapEff:\t1 2\n"), std::nullopt);
  EXPECT_EQ(parse_effective_capabilities("CapEff:\t10000000000000000\n"), std::nullopt);
  EXPECT_EQ(parse_effective_capabilities(" CapEff:\tff\n"), std::nullopt);
}

TEST(HasCapability, AgreesWithThisProcessesStatus) {
  std::ifstream in("/proc/self/status");
  std::stringstream text;
  text << in.rdbuf();
  auto mask = parse_effective_capabilities(text.str());
  ASSERT_TRUE(mask.has_value());
  for (int cap : {0, 12, 19, 21, 40}) {
    EXPECT_EQ(has_capability(cap), ((*mask >> cap) & 1U) != 0) << cap;
  }
}

}  // namespace
}  // namespace socksnap
