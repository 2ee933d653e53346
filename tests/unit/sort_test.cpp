// --sort: keys in turn, "-" for descending, addresses by bytes, ties in collection order.
#include "select/sort.h"

#include <gtest/gtest.h>

#include <numeric>

#include "select_fixture.h"

namespace socksnap {
namespace {

using test::make_socket;
using SortedRows = std::vector<uint32_t>;

// Row  proto  src                  inode
//  0   TCP    10.0.0.10:80         5
//  1   TCP    10.0.0.2:80          3
//  2   TCP    [::1]:22             5
//  3   TCP    9.255.255.255:443    2^64-1
//  4   UDP    10.0.0.2:53          2^64-2
//  5   TCP    10.0.0.2:8080        1
//  6   TCP    [2001:db8::1]:1      0
Snapshot sort_snapshot() {
  Snapshot snap;
  snap.sockets = {
      make_socket(Protocol::kTcp, "10.0.0.10", 80, "0.0.0.0", 0, kTcpListen, 5),
      make_socket(Protocol::kTcp, "10.0.0.2", 80, "0.0.0.0", 0, kTcpListen, 3),
      make_socket(Protocol::kTcp, "::1", 22, "::", 0, kTcpListen, 5),
      make_socket(Protocol::kTcp, "9.255.255.255", 443, "0.0.0.0", 0, kTcpEstablished,
                  test::kMaxU64),
      make_socket(Protocol::kUdp, "10.0.0.2", 53, "0.0.0.0", 0, kTcpClose, test::kMaxU64 - 1),
      make_socket(Protocol::kTcp, "10.0.0.2", 8080, "0.0.0.0", 0, kTcpListen, 1),
      make_socket(Protocol::kTcp, "2001:db8::1", 1, "::", 0, kTcpSynSent, 0),
  };
  return snap;
}

SortedRows sorted(const Snapshot& snap, std::string_view spec) {
  auto keys = parse_sort(spec);
  if (!keys) {
    ADD_FAILURE() << spec << ": " << keys.error().message();
    return {};
  }
  SortedRows rows(snap.sockets.size());
  std::iota(rows.begin(), rows.end(), 0);
  sort_rows(snap, *keys, rows);
  return rows;
}

TEST(ParseSort, KeysAndDirections) {
  auto keys = parse_sort(" -src , DST,+inode");
  ASSERT_TRUE(keys) << keys.error().message();
  ASSERT_EQ(keys->size(), 3U);
  EXPECT_EQ((*keys)[0].column->name, "src");
  EXPECT_TRUE((*keys)[0].descending);
  EXPECT_EQ((*keys)[1].column->name, "dst");
  EXPECT_FALSE((*keys)[1].descending);
  EXPECT_EQ((*keys)[2].column->name, "inode");
  EXPECT_FALSE((*keys)[2].descending);
}

TEST(ParseSort, Errors) {
  struct Case {
    const char* spec;
    const char* message;
  };
  const Case cases[] = {
      {"", "--sort '': empty column name"},
      {"src,,dst", "--sort 'src,,dst': empty column name"},
      {"-", "--sort '-': empty column name"},
      {"src,", "--sort 'src,': empty column name"},
      {"bogus", "--sort 'bogus': unknown column 'bogus' (socksnap --help lists them)"},
      {"src,-bogus", "--sort 'src,-bogus': unknown column 'bogus' (socksnap --help lists them)"},
  };
  for (const auto& c : cases) {
    auto keys = parse_sort(c.spec);
    ASSERT_FALSE(keys) << c.spec;
    EXPECT_EQ(keys.error().message(), c.message);
  }
}

TEST(DefaultHostSort, NetnsProtocolSrcDst) {
  auto keys = default_sort(NodeKind::kHost);
  ASSERT_EQ(keys.size(), 4U);
  const char* names[] = {"netns", "protocol", "src", "dst"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(keys[i].column->name, names[i]);
    EXPECT_FALSE(keys[i].descending);
  }
}

TEST(SortRows, AddressesByBytesV4BeforeV6ThenPort) {
  Snapshot snap = sort_snapshot();
  // Text order would put r/10.0.0.10 before r/10.0.0.2 and r/9... after both.
  EXPECT_EQ(sorted(snap, "src"), (SortedRows{3, 4, 1, 5, 0, 2, 6}));
  EXPECT_EQ(sorted(snap, "-src"), (SortedRows{6, 2, 0, 5, 1, 4, 3}));
}

TEST(SortRows, AddressColumnIgnoresThePort) {
  Snapshot snap = sort_snapshot();
  // 10.0.0.2 three times (rows 1, 4, 5): ties keep collection order.
  EXPECT_EQ(sorted(snap, "src.addr"), (SortedRows{3, 1, 4, 5, 0, 2, 6}));
  EXPECT_EQ(sorted(snap, "src.addr,-src.port"), (SortedRows{3, 5, 1, 4, 0, 2, 6}));
}

TEST(SortRows, MultipleKeys) {
  Snapshot snap = sort_snapshot();
  // TCP first; within it, ports descending; rows 0 and 1 tie on port 80 and stay in order.
  EXPECT_EQ(sorted(snap, "protocol,-src.port"), (SortedRows{5, 3, 0, 1, 2, 6, 4}));
}

TEST(SortRows, TiesKeepCollectionOrderInBothDirections) {
  Snapshot snap = sort_snapshot();
  EXPECT_EQ(sorted(snap, "protocol"), (SortedRows{0, 1, 2, 3, 5, 6, 4}));
  EXPECT_EQ(sorted(snap, "-protocol"), (SortedRows{4, 0, 1, 2, 3, 5, 6}));
  EXPECT_EQ(sorted(snap, "dst.port"), (SortedRows{0, 1, 2, 3, 4, 5, 6}));
}

TEST(SortRows, IntegersExactlyAtTheTopOfTheRange) {
  Snapshot snap = sort_snapshot();
  EXPECT_EQ(sorted(snap, "inode"), (SortedRows{6, 5, 1, 0, 2, 4, 3}));
  EXPECT_EQ(sorted(snap, "-inode"), (SortedRows{3, 4, 0, 2, 1, 5, 6}));
}

TEST(SortRows, StatusByItsText) {
  Snapshot snap = sort_snapshot();
  // ESTABLISHED (3), INACTIVE (4), LISTEN (0, 1, 2, 5), SYN_SENT (6)
  EXPECT_EQ(sorted(snap, "status"), (SortedRows{3, 4, 0, 1, 2, 5, 6}));
}

TEST(SortRows, EmptyCellsFirstAscendingLastDescending) {
  Snapshot snap = test::select_snapshot();  // rows 0 and 1 have rtt 1.5 and 0.017 ms
  EXPECT_EQ(sorted(snap, "rtt"), (SortedRows{2, 3, 4, 5, 1, 0}));
  EXPECT_EQ(sorted(snap, "-rtt"), (SortedRows{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(sorted(snap, "-cwnd,src.port"), (SortedRows{1, 0, 5, 3, 4, 2}));
}

TEST(SortRows, TiesKeepCollectionOrderInLargeSnapshots) {
  // Enough rows that an unstable sort would reorder ties (insertion sort is stable on few).
  Snapshot snap;
  for (uint64_t i = 0; i < 200; ++i) {
    snap.sockets.push_back(make_socket(i % 3 == 0 ? Protocol::kUdp : Protocol::kTcp, "10.0.0.1",
                                       static_cast<uint16_t>(i % 5), "0.0.0.0", 0, kTcpListen, i));
  }
  auto keys = parse_sort("-protocol,src.port");
  ASSERT_TRUE(keys);
  SortedRows rows(snap.sockets.size());
  std::iota(rows.begin(), rows.end(), 0);
  sort_rows(snap, *keys, rows);
  for (size_t i = 1; i < rows.size(); ++i) {
    const SocketRecord& a = snap.sockets[rows[i - 1]];
    const SocketRecord& b = snap.sockets[rows[i]];
    if (a.protocol == b.protocol && a.src_port == b.src_port) {
      EXPECT_LT(a.inode, b.inode) << "ties out of collection order at " << i;
    } else if (a.protocol == b.protocol) {
      EXPECT_LT(a.src_port, b.src_port) << i;
    } else {
      EXPECT_EQ(a.protocol, Protocol::kUdp) << i;  // descending: UDP before TCP
    }
  }
}

// Large sorts pack keys to the bits that differ, on several threads: rare rows (an odd address,
// a wider port) must still land where a plain stable sort puts them.
TEST(SortRows, RareValuesInLargeSortsOnThreads) {
  for (int variant = 0; variant < 4; ++variant) {
    Snapshot snap;
    for (uint32_t i = 0; i < 30000; ++i) {
      const char* src = "10.0.0.1";
      auto port = static_cast<uint16_t>(1000 + i % 64);
      if (i % 4 == 1 && i % 7001 == 0) src = variant == 0 ? "9.0.0.1" : "::1";
      if (variant >= 2 && i == 12345) port = 65535;
      if (variant == 3 && i == 29999) src = "10.0.0.2";
      snap.sockets.push_back(make_socket(Protocol::kTcp, src, port, "0.0.0.0", 0, kTcpListen, i));
    }
    auto keys = parse_sort("src.addr,-src.port");
    ASSERT_TRUE(keys);
    SortedRows rows(snap.sockets.size());
    std::iota(rows.begin(), rows.end(), 0);
    SortedRows expected = rows;
    std::stable_sort(expected.begin(), expected.end(), [&](uint32_t a, uint32_t b) {
      const SocketRecord& x = snap.sockets[a];
      const SocketRecord& y = snap.sockets[b];
      auto addr = [](const SocketRecord& s) { return std::make_pair(s.ip_version, s.src_addr); };
      if (addr(x) != addr(y)) return addr(x) < addr(y);
      return x.src_port > y.src_port;
    });
    for (unsigned threads : {1U, 2U}) {
      SortedRows got = rows;
      sort_rows(snap, *keys, got, threads);
      EXPECT_EQ(got, expected) << "variant " << variant << ", " << threads << " threads";
    }
  }
}

TEST(SortRows, NoKeysLeavesRowsAlone) {
  Snapshot snap = sort_snapshot();
  SortedRows rows = {6, 2, 4};
  sort_rows(snap, {}, rows);
  EXPECT_EQ(rows, (SortedRows{6, 2, 4}));
}

TEST(SortRows, OnlyTheGivenRowsAreSorted) {
  Snapshot snap = sort_snapshot();
  SortedRows rows = {6, 0, 1};
  auto keys = parse_sort("src");
  ASSERT_TRUE(keys);
  sort_rows(snap, *keys, rows);
  EXPECT_EQ(rows, (SortedRows{1, 0, 6}));
}

}  // namespace
}  // namespace socksnap
