// collect_snapshot: namespaces read in parallel, merged in inode order, failures skipped
// with a warning that says whether the namespace vanished or why it could not be read.
#include "collect/collector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>

#include "test_support.h"

namespace socksnap {
namespace {

// Answers namespace N with N sockets (ports N*100+i), or with the error set for it.
class FakeSource final : public SocketSource {
 public:
  std::string_view name() const override { return "fake"; }
  Result<NamespaceSockets> collect(const NetnsRef& ns, const CollectRequest& request,
                                   Warnings& /*warnings*/) override {
    ++calls;
    if (auto it = errors.find(ns.inode); it != errors.end()) return it->second;
    NamespaceSockets out;
    for (uint64_t i = 0; i < ns.inode; ++i) {
      auto s = test::make_socket(Protocol::kTcp, "10.0.0.1",
                                 static_cast<uint16_t>(ns.inode * 100 + i), "0.0.0.0", 0, 10);
      s.netns = ns.inode;
      out.sockets.push_back(s);
      if (request.tcp_info) {
        TcpInfo t;
        t.valid = true;
        t.rtt_us = static_cast<uint32_t>(ns.inode * 100 + i);
        out.tcp_info.push_back(t);
      }
    }
    out.interfaces[1] = "lo" + std::to_string(ns.inode);
    return out;
  }
  std::map<uint64_t, Error> errors;
  std::atomic<int> calls{0};
};

std::vector<NetnsRef> refs(std::initializer_list<uint64_t> inodes) {
  std::vector<NetnsRef> out;
  for (uint64_t i : inodes) out.push_back(NetnsRef{i, "ns " + std::to_string(i), {}});
  return out;
}

std::vector<uint16_t> ports(const Snapshot& snap) {
  std::vector<uint16_t> out;
  for (const auto& s : snap.sockets) out.push_back(s.src_port);
  return out;
}

TEST(CollectSnapshot, MergesInInodeOrderWhateverTheThreadsOrTheInputOrder) {
  for (unsigned jobs : {1U, 2U, 8U}) {
    FakeSource source;
    Warnings warnings;
    CollectRequest request;
    request.tcp_info = true;
    auto outcome = collect_snapshot(refs({3, 1, 2}), source, request, jobs, warnings);
    EXPECT_EQ(source.calls, 3);
    EXPECT_EQ(outcome.failed, 0U);
    EXPECT_TRUE(outcome.errors.empty());
    EXPECT_EQ(ports(outcome.snapshot), (std::vector<uint16_t>{100, 200, 201, 300, 301, 302}));
    ASSERT_EQ(outcome.snapshot.tcp_info.size(), 6U);
    EXPECT_EQ(outcome.snapshot.tcp_info[3].rtt_us, 300U);
    ASSERT_EQ(outcome.snapshot.namespaces.size(), 3U);
    EXPECT_EQ(outcome.snapshot.namespaces[0].inode, 1U);
    EXPECT_EQ(outcome.snapshot.namespaces[0].source, "ns 1");
    EXPECT_EQ(outcome.snapshot.namespaces[2].interfaces.at(1), "lo3");
    EXPECT_TRUE(warnings.empty());
  }
}

TEST(CollectSnapshot, OneNamespace) {
  FakeSource source;
  Warnings warnings;
  auto outcome = collect_snapshot(refs({2}), source, CollectRequest{}, 4, warnings);
  EXPECT_EQ(ports(outcome.snapshot), (std::vector<uint16_t>{200, 201}));
  EXPECT_TRUE(outcome.snapshot.tcp_info.empty());
}

TEST(CollectSnapshot, NoNamespaces) {
  FakeSource source;
  Warnings warnings;
  auto outcome = collect_snapshot({}, source, CollectRequest{}, 4, warnings);
  EXPECT_TRUE(outcome.snapshot.sockets.empty());
  EXPECT_EQ(outcome.failed, 0U);
  EXPECT_EQ(source.calls, 0);
}

TEST(CollectSnapshot, FailuresAreSkippedWithAWarning) {
  FakeSource source;
  source.errors[2] = system_error("open namespace 2", ENOENT);
  source.errors[4] = system_error("enter network namespace 4", EPERM);
  Warnings warnings;
  auto outcome = collect_snapshot(refs({1, 2, 3, 4}), source, CollectRequest{}, 2, warnings);
  EXPECT_EQ(outcome.failed, 2U);
  ASSERT_EQ(outcome.errors.size(), 2U);
  EXPECT_EQ(outcome.errors[0].code, ENOENT);
  EXPECT_EQ(outcome.errors[1].code, EPERM);
  EXPECT_EQ(ports(outcome.snapshot), (std::vector<uint16_t>{100, 300, 301, 302}));
  ASSERT_EQ(outcome.snapshot.namespaces.size(), 2U);
  EXPECT_EQ(warnings.lines(),
            (std::vector<std::string>{
                "network namespace 2 (ns 2) vanished before it could be read; skipped",
                "network namespace 4 (ns 4) skipped: enter network namespace 4: Operation not "
                "permitted"}));
}

}  // namespace
}  // namespace socksnap
