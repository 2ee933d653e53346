// parse_filter on arbitrary text and, when it parses, the filter on a small snapshot; the same
// text as a --sort and an -o column specification.
#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <string_view>

#include "model/states.h"
#include "select/filter.h"
#include "select/sort.h"

namespace {

socksnap::Snapshot make_snapshot() {
  using namespace socksnap;
  Snapshot snap;
  snap.namespaces.push_back(NetnsInfo{4026531840ULL, "pid 1", {{2, "eth0"}}});
  auto add = [&](Protocol p, int family, const char* src, uint16_t sport, const char* dst,
                 uint16_t dport, uint8_t state, uint64_t inode) {
    SocketRecord s;
    s.netns = 4026531840ULL;
    s.protocol = p;
    s.ip_version = family == AF_INET ? 4 : 6;
    inet_pton(family, src, s.src_addr.data());
    inet_pton(family, dst, s.dst_addr.data());
    s.src_port = sport;
    s.dst_port = dport;
    s.state = state;
    s.inode = inode;
    snap.sockets.push_back(s);
  };
  add(Protocol::kTcp, AF_INET, "10.0.0.1", 80, "0.0.0.0", 0, kTcpListen, 100);
  add(Protocol::kTcp, AF_INET, "10.0.0.2", 43210, "10.0.0.1", 80, kTcpEstablished, 200);
  add(Protocol::kTcp, AF_INET6, "::1", 8443, "::", 0, kTcpListen, 300);
  add(Protocol::kUdp, AF_INET, "0.0.0.0", 53, "0.0.0.0", 0, kTcpClose, 400);
  add(Protocol::kUdp, AF_INET6, "fe80::1", 546, "ff02::1:2", 547, kTcpEstablished, ~0ULL);
  add(Protocol::kTcp, AF_INET, "192.168.1.1", 22, "192.168.1.2", 5000, 42, 0);
  snap.sockets[0].ifindex = 2;
  snap.sockets[1].ifindex = 7;
  snap.tcp_info.resize(snap.sockets.size());
  snap.tcp_info[0].valid = true;
  snap.tcp_info[0].rtt_us = 1500;
  snap.tcp_info[1].valid = true;
  snap.tcp_info[1].rtt_us = 17;
  snap.tcp_info[1].congestion = {'c', 'u', 'b', 'i', 'c'};
  return snap;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Long inputs only make compiling a regular expression slow, not the parser more interesting.
  if (size > 512) return 0;
  static const socksnap::Snapshot snap = make_snapshot();
  std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto filter = socksnap::parse_filter(text)) {
    if (filter->column == nullptr) std::abort();
    fmt::memory_buffer scratch;
    for (size_t row = 0; row < snap.sockets.size(); ++row) {
      (void)socksnap::filter_matches(*filter, snap, row, scratch);
    }
  }
  if (auto keys = socksnap::parse_sort(text)) {
    std::vector<uint32_t> rows(snap.sockets.size());
    std::iota(rows.begin(), rows.end(), 0);
    socksnap::sort_rows(snap, *keys, rows);
    std::vector<uint32_t> sorted = rows;
    std::sort(sorted.begin(), sorted.end());
    for (uint32_t i = 0; i < sorted.size(); ++i) {
      if (sorted[i] != i) std::abort();  // sorting permutes, never loses or repeats a row
    }
  }
  if (auto columns =
          socksnap::apply_column_spec(socksnap::default_columns(socksnap::NodeKind::kHost), text)) {
    if (columns->empty()) std::abort();
  }
  return 0;
}
