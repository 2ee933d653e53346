#include "model/snapshot.h"

#include <algorithm>
#include <charconv>
#include <iterator>

namespace socksnap {

const NetnsInfo* Snapshot::find_netns(uint64_t inode, uint16_t node_index) const {
  for (const auto& ns : namespaces) {
    if (ns.inode == inode && ns.node == node_index) return &ns;
  }
  return nullptr;
}

namespace {
constexpr std::string_view kDirectionNames[] = {"", "listen", "inbound", "outbound", "local"};
}  // namespace

std::string_view direction_name(Direction direction) {
  return kDirectionNames[static_cast<size_t>(direction)];
}

std::optional<Direction> direction_named(std::string_view name) {
  for (size_t i = 1; i < std::size(kDirectionNames); ++i) {
    if (kDirectionNames[i] == name) return static_cast<Direction>(i);
  }
  return std::nullopt;
}

std::string_view protocol_name(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return "TCP";
    case Protocol::kUdp:
      return "UDP";
    case Protocol::kUdpLite:
      return "UDPLITE";
    case Protocol::kUnix:
      return "UNIX";
  }
  return "?";
}

std::optional<Protocol> protocol_named(std::string_view name) {
  for (Protocol p : {Protocol::kTcp, Protocol::kUdp, Protocol::kUdpLite, Protocol::kUnix}) {
    if (protocol_name(p) == name) return p;
  }
  return std::nullopt;
}

namespace {
constexpr std::pair<uint8_t, std::string_view> kUnixTypes[] = {
    {kUnixStream, "stream"}, {kUnixDgram, "dgram"}, {kUnixSeqpacket, "seqpacket"}};
}  // namespace

std::string_view unix_type_name(uint8_t type) {
  for (const auto& [number, name] : kUnixTypes) {
    if (number == type) return name;
  }
  return {};
}

std::optional<uint8_t> unix_type_named(std::string_view name) {
  for (const auto& [number, known] : kUnixTypes) {
    if (known == name) return number;
  }
  unsigned number = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (ec == std::errc() && ptr == name.data() + name.size() && number < 256 &&
      unix_type_name(static_cast<uint8_t>(number)).empty() &&
      (name.size() == 1 || name[0] != '0')) {
    return static_cast<uint8_t>(number);
  }
  return std::nullopt;
}

const UnixSocketInfo* Snapshot::unix_of(size_t index) const {
  if (index >= sockets.size() || sockets[index].protocol != Protocol::kUnix) return nullptr;
  // Unix rows come in one run per namespace, after its IP rows: with one such run (one
  // namespace's), the entry is found by subtraction, where a search cost a tenth of a snapshot
  // of 100,000 unix sockets.
  if (!unix_sockets.empty() && index >= unix_sockets.front().row) {
    size_t guess = index - unix_sockets.front().row;
    if (guess < unix_sockets.size() && unix_sockets[guess].row == index)
      return &unix_sockets[guess];
  }
  auto it = std::lower_bound(unix_sockets.begin(), unix_sockets.end(), index,
                             [](const UnixSocketInfo& u, size_t row) { return u.row < row; });
  return it != unix_sockets.end() && it->row == index ? &*it : nullptr;
}

std::string_view Snapshot::unix_peer_path_of(const UnixSocketInfo& socket) const {
  if (socket.peer >= 0) {
    return socket.peer_unnamed
               ? std::string_view()
               : std::string_view(unix_sockets[static_cast<size_t>(socket.peer)].path);
  }
  if (socket.described_peer >= 0)
    return unix_peers[static_cast<size_t>(socket.described_peer)].path;
  return {};
}

Snapshot::UnixPeerView Snapshot::unix_peer_of(const UnixSocketInfo& socket) const {
  UnixPeerView view;
  if (socket.peer >= 0) {
    const UnixSocketInfo& peer = unix_sockets[static_cast<size_t>(socket.peer)];
    view.path = peer.path;
    if (const ProcessInfo* process = first_holder_of(peer.row)) {
      view.pid = process->pid;
      view.comm = process->comm;
    }
  } else if (socket.described_peer >= 0) {
    const UnixPeer& peer = unix_peers[static_cast<size_t>(socket.described_peer)];
    view = {peer.path, peer.pid, peer.comm};
  }
  return view;
}

}  // namespace socksnap
