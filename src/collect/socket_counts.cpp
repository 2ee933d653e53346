#include "collect/socket_counts.h"

#include <string>
#include <vector>

#include "util/files.h"
#include "util/strings.h"

namespace socksnap {
namespace {

// The number after `key` on the line that starts with `label`, e.g. ("TCP:", "tw").
std::optional<uint64_t> field(std::string_view text, std::string_view label, std::string_view key) {
  for (std::string_view line : split(text, '\n')) {
    std::vector<std::string_view> words;
    for (std::string_view w : split(line, ' ')) {
      if (!w.empty()) words.push_back(w);
    }
    if (words.empty() || words[0] != label) continue;
    for (size_t i = 1; i + 1 < words.size(); ++i) {
      if (words[i] == key) return parse_int<uint64_t>(words[i + 1]);
    }
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<SocketCounts> parse_socket_counts(std::string_view sockstat,
                                                std::string_view sockstat6) {
  auto tcp = field(sockstat, "TCP:", "inuse");
  auto tw = field(sockstat, "TCP:", "tw");
  auto udp = field(sockstat, "UDP:", "inuse");
  auto tcp6 = field(sockstat6, "TCP6:", "inuse");
  auto udp6 = field(sockstat6, "UDP6:", "inuse");
  if (!tcp || !tw || !udp || !tcp6 || !udp6) return std::nullopt;
  SocketCounts counts;
  counts.tcp = *tcp;
  counts.time_wait = *tw;
  counts.udp = *udp;
  counts.tcp6 = *tcp6;
  counts.udp6 = *udp6;
  // A kernel without UDP-Lite has no such lines: then there are none to dump.
  counts.udplite = field(sockstat, "UDPLITE:", "inuse").value_or(0);
  counts.udplite6 = field(sockstat6, "UDPLITE6:", "inuse").value_or(0);
  counts.used = field(sockstat, "sockets:", "used").value_or(0);
  return counts;
}

std::optional<SocketCounts> read_socket_counts() {
  auto v4 = read_file("/proc/thread-self/net/sockstat");
  auto v6 = read_file("/proc/thread-self/net/sockstat6");
  if (!v4) return std::nullopt;
  // Without IPv6 there is no sockstat6 and no IPv6 socket.
  return parse_socket_counts(*v4, v6 ? *v6 : "TCP6: inuse 0\nUDP6: inuse 0\n");
}

}  // namespace socksnap
