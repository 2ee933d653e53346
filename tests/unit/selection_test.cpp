// The select stage: rows kept and ordered, and what a selection pushes down to the kernel.
#include "select/selection.h"

#include <gtest/gtest.h>

#include "select_fixture.h"

namespace socksnap {
namespace {

Selection selection(std::vector<const char*> filters, const char* sort = nullptr) {
  Selection s;
  for (const char* f : filters) {
    auto parsed = parse_filter(f);
    EXPECT_TRUE(parsed) << f;
    if (parsed) s.filters.push_back(*parsed);
  }
  if (sort != nullptr) {
    auto keys = parse_sort(sort);
    EXPECT_TRUE(keys) << sort;
    if (keys) s.sort = *keys;
  }
  return s;
}

TEST(SelectRows, AllFiltersMustMatchThenSorted) {
  Snapshot snap = test::select_snapshot();
  EXPECT_EQ(select_rows(snap, selection({})), (std::vector<uint32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(select_rows(snap, selection({"protocol:TCP", "status:!LISTEN"})),
            (std::vector<uint32_t>{1, 5}));
  EXPECT_EQ(select_rows(snap, selection({"protocol:TCP"}, "-src.port")),
            (std::vector<uint32_t>{1, 2, 0, 5}));
  EXPECT_EQ(select_rows(snap, selection({"protocol:SCTP"})), (std::vector<uint32_t>{}));
}

CollectRequest pushed(std::vector<const char*> filters) {
  CollectRequest r;
  r.udplite = true;
  push_down(selection(std::move(filters)), r);
  return r;
}

TEST(PushDown, StatusNamesBecomeStateMasks) {
  CollectRequest listen = pushed({"status:LISTEN"});
  EXPECT_TRUE(listen.tcp);
  EXPECT_EQ(listen.tcp_states, 1U << kTcpListen);
  EXPECT_FALSE(listen.udp);
  EXPECT_FALSE(listen.udplite);

  CollectRequest syn = pushed({"status:SYN_RECV"});
  EXPECT_EQ(syn.tcp_states, 1U << kTcpSynRecv);

  CollectRequest active = pushed({"status:ACTIVE"});
  EXPECT_FALSE(active.tcp);
  EXPECT_TRUE(active.udp);
  EXPECT_TRUE(active.udplite);
  EXPECT_EQ(active.udp_states, 1U << kTcpEstablished);
}

TEST(PushDown, TwoStatusFiltersIntersect) {
  CollectRequest r = pushed({"status:LISTEN", "status:ESTABLISHED"});
  EXPECT_FALSE(r.tcp);
  EXPECT_FALSE(r.udp);
}

TEST(PushDown, ProtocolChoosesTheDumps) {
  CollectRequest tcp = pushed({"protocol:TCP"});
  EXPECT_TRUE(tcp.tcp);
  EXPECT_FALSE(tcp.udp);
  EXPECT_FALSE(tcp.udplite);
  CollectRequest udplite = pushed({"protocol:UDPLITE"});
  EXPECT_FALSE(udplite.tcp);
  EXPECT_FALSE(udplite.udp);
  EXPECT_TRUE(udplite.udplite);
}

TEST(PushDown, OtherOperatorsAndColumnsAreNotPushed) {
  for (const char* f : {"status:!LISTEN", "status:~LISTEN", "status:>A", "protocol:!TCP",
                        "src.port:80", "inode:!0"}) {
    CollectRequest r = pushed({f});
    EXPECT_TRUE(r.tcp) << f;
    EXPECT_TRUE(r.udp) << f;
    EXPECT_EQ(r.tcp_states, kDefaultTcpStates) << f;
    EXPECT_EQ(r.udp_states, kAllStates) << f;
  }
}

TEST(NeedsTcpInfo, ColumnsFiltersOrSortKeys) {
  std::vector<const Column*> plain = {find_column("src"), find_column("inode")};
  std::vector<const Column*> with_rtt = {find_column("src"), find_column("rtt")};
  EXPECT_FALSE(needs_tcp_info(plain, selection({"inode:1"}, "src")));
  EXPECT_TRUE(needs_tcp_info(with_rtt, selection({})));
  EXPECT_TRUE(needs_tcp_info(plain, selection({"congestion:cubic"})));
  EXPECT_TRUE(needs_tcp_info(plain, selection({}, "-bytes.acked")));
}

}  // namespace
}  // namespace socksnap
