// How many sockets of each protocol a namespace holds, from /proc/thread-self/net/sockstat and
// sockstat6 read by a thread inside it. Cheap (two small files) next to a dump, which walks the
// host-wide tables whatever the namespace holds: a zero count lets a dump be skipped, and the
// total sizes the result before it arrives.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace socksnap {

struct SocketCounts {
  uint64_t tcp = 0;        // hashed IPv4 TCP sockets: listeners, connections, orphans
  uint64_t tcp6 = 0;       // the same for IPv6
  uint64_t time_wait = 0;  // TIME_WAIT sockets of both families
  uint64_t udp = 0;
  uint64_t udp6 = 0;
  uint64_t udplite = 0;
  uint64_t udplite6 = 0;
  // Every socket of the namespace, of any family ("sockets: used"): at least as many as its unix
  // sockets, which sockstat does not count apart. Not in total().
  uint64_t used = 0;

  uint64_t total() const { return tcp + tcp6 + time_wait + udp + udp6 + udplite + udplite6; }
};

// Pure: both files' text, or nullopt when a line socksnap relies on is missing.
std::optional<SocketCounts> parse_socket_counts(std::string_view sockstat,
                                                std::string_view sockstat6);

// The calling thread's namespace; nullopt when the files cannot be read (then dump everything).
std::optional<SocketCounts> read_socket_counts();

}  // namespace socksnap
