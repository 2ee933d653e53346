// How a namespace's own addresses are known: they are the local addresses its sockets are bound
// to, gathered from the snapshot itself, not its interfaces' addresses (RTM_GETADDR from the
// worker inside the namespace). For the question asked, "are both ends in this namespace", the
// two agree: a connection to an address of the namespace is made from that namespace, so one of
// its two sockets (the client, which the kernel binds to the address it routes from, or the
// accepted end) holds that address as its local one and puts it in the set. What the bound
// addresses do not know (an address of the namespace no socket uses) cannot be the far end of a
// connection seen here. And it costs no request per namespace, and works the same on a replayed
// dump, which carries no interface addresses.
#include "analyze/direction.h"

#include <cstring>
#include <optional>
#include <unordered_set>

#include "model/states.h"

namespace socksnap {
namespace {

// IPv4 addresses as themselves, whether the socket is IPv4 or IPv6 holding a v4-mapped address
// (::ffff:a.b.c.d: a dual-stack listener's accepted IPv4 connections).
struct Address {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;
};

Address canonical(uint8_t version, const std::array<uint8_t, 16>& a) {
  Address out;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (version == 4) {
    std::memcpy(out.bytes.data(), a.data(), 4);
    out.v4 = true;
  } else if (std::memcmp(a.data(), kMapped, sizeof kMapped) == 0) {
    std::memcpy(out.bytes.data(), a.data() + 12, 4);
    out.v4 = true;
  } else {
    out.bytes = a;
  }
  return out;
}

bool is_wildcard(const Address& a) {
  return a.bytes == std::array<uint8_t, 16>{};  // 0.0.0.0 and :: alike (bytes past 4 are zero)
}

bool is_loopback(const Address& a) {
  if (a.v4) return a.bytes[0] == 127;
  static constexpr std::array<uint8_t, 16> kLoopback = {0, 0, 0, 0, 0, 0, 0, 0,
                                                        0, 0, 0, 0, 0, 0, 0, 1};
  return a.bytes == kLoopback;
}

using Key = NamespaceListeners::Key;

Key key_of(const Snapshot& snap, size_t i, const Address& a, uint16_t port) {
  const SocketRecord& s = snap.sockets[i];
  return Key{s.netns, a.bytes, snap.node_index_of(i), port, static_cast<uint8_t>(s.protocol), a.v4};
}

}  // namespace

size_t NamespaceListeners::KeyHash::operator()(const Key& k) const {
  uint64_t high = 0;
  uint64_t low = 0;
  std::memcpy(&high, k.addr.data(), 8);
  std::memcpy(&low, k.addr.data() + 8, 8);
  uint64_t h = k.netns * 0x9E3779B97F4A7C15ULL;
  h ^= (high + 0x632BE59BD9B4E019ULL) * 0xC2B2AE3D27D4EB4FULL;
  h ^= (low ^ (uint64_t{k.node} << 32) ^ (uint64_t{k.port} << 8) ^ k.protocol ^
        (k.v4 ? 1ULL << 63 : 0)) *
       0x165667B19E3779F9ULL;
  return static_cast<size_t>(h ^ (h >> 29));
}

namespace {

constexpr size_t kPortsPerProtocol = size_t{1} << 16;
constexpr size_t kProtocols = 3;  // TCP, UDP, UDP-Lite

size_t port_bit(const SocketRecord& s) {
  return static_cast<size_t>(s.protocol) * kPortsPerProtocol + s.src_port;
}

bool has_bit(const SocketRecord& s) {
  return static_cast<size_t>(s.protocol) < kProtocols;
}

}  // namespace

NamespaceListeners::NamespaceListeners(const Snapshot& snap)
    : ports_(kProtocols * kPortsPerProtocol / 64, 0) {
  for (size_t i = 0; i < snap.sockets.size(); ++i) {
    const SocketRecord& s = snap.sockets[i];
    if (!is_listener(s)) continue;
    listening_.insert(key_of(snap, i, canonical(s.ip_version, s.src_addr), s.src_port));
    if (has_bit(s)) ports_[port_bit(s) / 64] |= uint64_t{1} << (port_bit(s) % 64);
  }
}

bool NamespaceListeners::accepts(const Snapshot& snap, size_t index) const {
  // By a listener on its own address, on the wildcard of its family, or (an IPv4 connection) on
  // ::, which a dual-stack listener is bound to.
  const SocketRecord& s = snap.sockets[index];
  if (has_bit(s) && (ports_[port_bit(s) / 64] >> (port_bit(s) % 64) & 1) == 0) return false;
  Address src = canonical(s.ip_version, s.src_addr);
  Key own = key_of(snap, index, src, s.src_port);
  if (listening_.count(own) != 0) return true;
  Key any = own;
  any.addr = {};
  any.v4 = src.v4;
  if (listening_.count(any) != 0) return true;
  if (!src.v4) return false;
  any.v4 = false;
  return listening_.count(any) != 0;
}

Direction unix_direction(const Snapshot& snap, size_t index) {
  const SocketRecord& s = snap.sockets[index];
  if (s.state == kTcpListen) return Direction::kListen;
  const UnixSocketInfo* u = snap.unix_of(index);
  // Its state may be ESTAB: current kernels mark a datagram socket another connect()ed to as
  // connected too, its peer left empty.
  bool takes_datagrams =
      u != nullptr && u->type == kUnixDgram && !u->path.empty() && u->peer_inode == 0;
  return takes_datagrams ? Direction::kListen : Direction::kLocal;
}

void classify_directions(Snapshot& snap) {
  size_t n = snap.sockets.size();
  NamespaceListeners listeners(snap);
  std::unordered_set<Key, NamespaceListeners::KeyHash> bound;  // addresses: protocol, port 0
  std::optional<Key> last;  // a namespace's sockets come together, most on few addresses
  for (size_t i = 0; i < n; ++i) {
    const SocketRecord& s = snap.sockets[i];
    if (s.protocol == Protocol::kUnix) continue;
    Address src = canonical(s.ip_version, s.src_addr);
    if (!is_wildcard(src)) {
      Key k = key_of(snap, i, src, 0);
      k.protocol = 0;
      if (last == k) continue;
      bound.insert(k);
      last = k;
    }
  }

  snap.directions.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const SocketRecord& s = snap.sockets[i];
    Direction& d = snap.directions[i];
    if (s.protocol == Protocol::kUnix) {
      d = unix_direction(snap, i);
      continue;
    }
    if (is_listener(s)) {
      d = Direction::kListen;
      continue;
    }
    Address dst = canonical(s.ip_version, s.dst_addr);
    Key far = key_of(snap, i, dst, 0);
    far.protocol = 0;
    if (is_loopback(dst) || (!is_wildcard(dst) && bound.count(far) != 0)) {
      d = Direction::kLocal;
      continue;
    }
    d = listeners.accepts(snap, i) ? Direction::kInbound : Direction::kOutbound;
  }
}

}  // namespace socksnap
