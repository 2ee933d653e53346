// Which way each socket faces, as Netdata's network viewer classifies them: a listener
// (`listen`), the local end of a connection a listener of its own namespace accepted (`inbound`),
// a connection whose two ends are both in its namespace (`local`), or the rest (`outbound`).
// A unix socket never leaves the host: it is `listen` when it listens, or is a datagram socket
// bound to a name and connected to none (it takes what is sent to its name, as a bound UDP
// socket does), else `local`.
#pragma once

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "model/snapshot.h"

namespace socksnap {

// What every namespace of a snapshot listens on: (protocol, address, port), a wildcard's too.
// Says whether a socket's local port is one its namespace listens on, on the socket's own
// address or on the wildcard: the socket was then accepted by that listener (for a `local`
// connection, whose two ends are both in the namespace, it tells the server's end). A bit per
// (protocol, port) that any namespace listens on answers most clients (ephemeral ports) at once:
// the three lookups of a client's end were a tenth of a 200,000-socket service map.
class NamespaceListeners {
 public:
  explicit NamespaceListeners(const Snapshot& snap);
  bool accepts(const Snapshot& snap, size_t index) const;

  struct Key {
    uint64_t netns = 0;
    std::array<uint8_t, 16> addr{};
    uint16_t node = 0;
    uint16_t port = 0;
    uint8_t protocol = 0;
    bool v4 = false;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };

 private:
  std::unordered_set<Key, KeyHash> listening_;
  std::vector<uint64_t> ports_;  // bit protocol * 65536 + port: listened on somewhere
};

// A unix socket's direction (above), from its own row.
Direction unix_direction(const Snapshot& snap, size_t index);

// Fills snap.directions, one per socket, from the sockets alone: one pass gathers each
// namespace's listening (protocol, address, port) and the addresses its sockets are bound to,
// a second classifies. Every socket of a namespace must be in `snap` (it runs before any
// filter), else an accepted connection whose listener was left out reads as outbound.
void classify_directions(Snapshot& snap);

}  // namespace socksnap
