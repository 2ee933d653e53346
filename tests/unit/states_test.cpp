// State names as ss and the gadget print them, and the state masks filters push down.
#include "model/states.h"

#include <gtest/gtest.h>

namespace socksnap {
namespace {

TEST(StatusName, TcpStatesByKernelNumber) {
  const char* names[] = {"",          "ESTABLISHED", "SYN_SENT",     "SYN_RECV",      "FIN_WAIT1",
                         "FIN_WAIT2", "TIME_WAIT",   "CLOSE",        "CLOSE_WAIT",    "LAST_ACK",
                         "LISTEN",    "CLOSING",     "NEW_SYN_RECV", "BOUND_INACTIVE"};
  for (uint8_t s = 0; s < 14; ++s) EXPECT_EQ(status_name(Protocol::kTcp, s), names[s]) << int(s);
  for (int s = 14; s < 256; ++s) {
    EXPECT_EQ(status_name(Protocol::kTcp, static_cast<uint8_t>(s)), "") << s;
  }
}

TEST(StatusName, UdpIsActiveWhenConnected) {
  for (Protocol p : {Protocol::kUdp, Protocol::kUdpLite}) {
    EXPECT_EQ(status_name(p, kTcpEstablished), "ACTIVE");
    EXPECT_EQ(status_name(p, kTcpClose), "INACTIVE");
    for (int s = 0; s < 256; ++s) {
      if (s == kTcpEstablished || s == kTcpClose) continue;
      EXPECT_EQ(status_name(p, static_cast<uint8_t>(s)), "") << s;
    }
  }
}

TEST(StatesNamed, Masks) {
  EXPECT_EQ(states_named(Protocol::kTcp, "LISTEN"), 1U << 10);
  EXPECT_EQ(states_named(Protocol::kTcp, "ESTABLISHED"), 1U << 1);
  EXPECT_EQ(states_named(Protocol::kTcp, "SYN_RECV"), 1U << 3);
  EXPECT_EQ(states_named(Protocol::kTcp, "NEW_SYN_RECV"), 1U << 12);
  EXPECT_EQ(states_named(Protocol::kTcp, "ACTIVE"), 0U);
  EXPECT_EQ(states_named(Protocol::kTcp, "listen"), 0U);
  EXPECT_EQ(states_named(Protocol::kTcp, ""), 0U);
  EXPECT_EQ(states_named(Protocol::kUdp, "ACTIVE"), 1U << 1);
  EXPECT_EQ(states_named(Protocol::kUdp, "INACTIVE"), 1U << 7);
  EXPECT_EQ(states_named(Protocol::kUdp, "LISTEN"), 0U);
  EXPECT_EQ(states_named(Protocol::kUdpLite, "INACTIVE"), 1U << 7);
}

TEST(ProtocolName, Names) {
  EXPECT_EQ(protocol_name(Protocol::kTcp), "TCP");
  EXPECT_EQ(protocol_name(Protocol::kUdp), "UDP");
  EXPECT_EQ(protocol_name(Protocol::kUdpLite), "UDPLITE");
}

}  // namespace
}  // namespace socksnap
