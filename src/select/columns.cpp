#include "select/columns.h"

#include <endian.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "model/address.h"
#include "model/states.h"
#include "util/decimal.h"
#include "util/strings.h"
#include "util/unaligned.h"

namespace socksnap {
namespace {

const SocketRecord& at(const Snapshot& snap, size_t row) {
  return snap.sockets[row];
}

// Cells are short: a copy into room made at the end beats the buffer's general append, and up
// to 16 bytes two overlapping fixed-size moves beat a call to memcpy.
void append_text(fmt::memory_buffer& out, std::string_view text) {
  size_t n = text.size();
  size_t at = out.size();
  out.resize(at + n);
  char* to = out.data() + at;
  const char* from = text.data();
  if (n >= 8 && n <= 16) {
    uint64_t head;
    uint64_t tail;
    std::memcpy(&head, from, 8);
    std::memcpy(&tail, from + n - 8, 8);
    std::memcpy(to, &head, 8);
    std::memcpy(to + n - 8, &tail, 8);
  } else if (n >= 4 && n < 8) {
    uint32_t head;
    uint32_t tail;
    std::memcpy(&head, from, 4);
    std::memcpy(&tail, from + n - 4, 4);
    std::memcpy(to, &head, 4);
    std::memcpy(to + n - 4, &tail, 4);
  } else if (n < 4) {
    for (size_t i = 0; i < n; ++i) to[i] = from[i];
  } else {
    std::memcpy(to, from, n);
  }
}

void append_number(fmt::memory_buffer& out, uint64_t v) {
  size_t at = out.size();
  out.resize(at + 20);
  out.resize(static_cast<size_t>(write_decimal(out.data() + at, v) - out.data()));
}

uint64_t load_big_endian(const uint8_t* p) {
  return be64toh(load_unaligned<uint64_t>(p));
}

// "p/NS/POD:PORT" or "s/NS/SVC:PORT", as the gadget names the cluster's addresses.
void append_named_endpoint(fmt::memory_buffer& out, const EndpointName& name, uint16_t port) {
  out.append(std::string_view(name.kind == EndpointKind::kPod ? "p/" : "s/"));
  out.append(name.name_namespace);
  out.push_back('/');
  out.append(name.name);
  out.push_back(':');
  append_number(out, port);
}

// (version, 16 address bytes, 2 port bytes) as three words: IPv4 before IPv6, addresses by
// their bytes (10.0.0.2 before 10.0.0.10), then ports. Shifted together from two loads of the
// address: bytes stored one by one and read back as words would stall the loads.
void endpoint_key(uint8_t version, const std::array<uint8_t, 16>& addr, uint16_t port,
                  uint64_t* words) {
  uint64_t high = load_big_endian(addr.data());     // address bytes 0-7
  uint64_t low = load_big_endian(addr.data() + 8);  // 8-15
  words[0] = (uint64_t{version} << 56) | (high >> 8);
  words[1] = (high << 56) | (low >> 8);
  words[2] = (low << 56) | (uint64_t{port} << 40);
}

// Up to 16 bytes of text, big-endian, so that words order like the text does.
void text_key(std::string_view text, uint64_t* words) {
  uint8_t key[16] = {};
  // An empty view may hold no pointer, which memcpy may not be given even for no bytes.
  if (!text.empty()) std::memcpy(key, text.data(), std::min<size_t>(text.size(), sizeof key));
  words[0] = load_big_endian(key);
  words[1] = load_big_endian(key + 8);
}

// A unix socket's name as its column shows it (model/address.h), or its peer's.
std::string_view unix_path_of(const Snapshot& snap, size_t row, bool peer) {
  const UnixSocketInfo* u = snap.unix_of(row);
  if (u == nullptr) return {};
  return peer ? snap.unix_peer_path_of(*u) : std::string_view(u->path);
}

// A unix socket's peer: its name and first holder, as far as known (pid 0: not).
Snapshot::UnixPeerView unix_peer_at(const Snapshot& snap, size_t row) {
  const UnixSocketInfo* u = snap.unix_of(row);
  return u != nullptr ? snap.unix_peer_of(*u) : Snapshot::UnixPeerView{};
}

void append_unix_path_of(const Snapshot& snap, size_t row, bool peer, fmt::memory_buffer& out) {
  std::string_view path = unix_path_of(snap, row, peer);
  if (!path.empty()) append_unix_path(out, path);
}

constexpr size_t kUnixKeyBytes = 15;

// An endpoint column's key for a unix row: version 0 (before IPv4), then the first 15 bytes of
// the name as shown, then 1 when the name is not whole in them (unix_name_in_key), else 0: a
// name that is a prefix of another still sorts first. Names not whole may tie: compare_cells
// and sort_rows tell such unix rows apart by their text.
void unix_endpoint_key(const Snapshot& snap, size_t row, bool peer, uint64_t* words) {
  std::string_view path = unix_path_of(snap, row, peer);
  char shown[kUnixKeyBytes + 1] = {};
  if (!path.empty()) std::memcpy(shown, path.data(), std::min(path.size(), kUnixKeyBytes));
  if (!path.empty() && path.front() == '\0') shown[0] = '@';
  shown[kUnixKeyBytes] = unix_name_in_key(path) ? 0 : 1;
  words[0] = 0;
  text_key(std::string_view(shown, sizeof shown), words + 1);
}

// A record field's number, remembered per field and thread with its text: some repeat row after
// row (the namespace of every socket of a namespace), and copying beats formatting.
template <auto Field>
void append_field_number(fmt::memory_buffer& out, uint64_t v) {
  struct Last {
    uint64_t value = 0;
    std::array<char, 20> text{'0'};
    size_t length = 1;
  };
  thread_local Last last;
  if (v != last.value) {
    last.value = v;
    last.length = static_cast<size_t>(write_decimal(last.text.data(), v) - last.text.data());
  }
  size_t at = out.size();
  out.resize(at + last.text.size());
  std::memcpy(out.data() + at, last.text.data(), last.text.size());  // fixed size: block moves
  out.resize(at + last.length);
}

template <auto Field>
Column socket_integer(std::string_view name, std::string_view header,
                      uint32_t needs = kNeedsNothing) {
  return Column{
      name,
      header,
      ValueKind::kInteger,
      needs,
      [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
        append_field_number<Field>(out, at(snap, row).*Field);
      },
      [](const Snapshot& snap, size_t row) -> std::optional<long double> {
        return static_cast<long double>(at(snap, row).*Field);
      },
      [](const Snapshot& snap, size_t row, uint64_t* words) { words[0] = at(snap, row).*Field; },
      1};
}

// A field of an IP socket's endpoint (a port, the IP version): empty for a unix socket.
template <auto Field>
Column inet_integer(std::string_view name, std::string_view header) {
  return Column{name,
                header,
                ValueKind::kInteger,
                kNeedsNothing,
                [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
                  if (!is_unix(snap, row)) append_field_number<Field>(out, at(snap, row).*Field);
                },
                [](const Snapshot& snap, size_t row) -> std::optional<long double> {
                  if (is_unix(snap, row)) return std::nullopt;
                  return static_cast<long double>(at(snap, row).*Field);
                },
                [](const Snapshot& snap, size_t row, uint64_t* words) {
                  words[0] = is_unix(snap, row) ? 0 : 1;  // empty cells first
                  words[1] = is_unix(snap, row) ? 0 : at(snap, row).*Field;
                },
                2};
}

// (has tcp_info, value): empty cells first.
template <auto Field>
void tcp_key(const Snapshot& snap, size_t row, uint64_t* words) {
  const TcpInfo* t = snap.tcp_info_of(row);
  words[0] = t != nullptr ? 1 : 0;
  words[1] = t != nullptr ? static_cast<uint64_t>(t->*Field) : 0;
}

// A tcp_info counter; empty for sockets without tcp_info.
template <auto Field>
Column tcp_integer(std::string_view name, std::string_view header) {
  return Column{name,
                header,
                ValueKind::kInteger,
                kNeedsTcpInfo,
                [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
                  if (const TcpInfo* t = snap.tcp_info_of(row)) append_number(out, t->*Field);
                },
                [](const Snapshot& snap, size_t row) -> std::optional<long double> {
                  if (const TcpInfo* t = snap.tcp_info_of(row)) {
                    return static_cast<long double>(t->*Field);
                  }
                  return std::nullopt;
                },
                tcp_key<Field>,
                2};
}

// A tcp_info time in microseconds, shown in milliseconds as ss does.
template <auto Field>
Column tcp_milliseconds(std::string_view name, std::string_view header) {
  return Column{name,
                header,
                ValueKind::kDecimal,
                kNeedsTcpInfo,
                [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
                  if (const TcpInfo* t = snap.tcp_info_of(row)) {
                    fmt::format_to(std::back_inserter(out), "{:.3f}", (t->*Field) / 1000.0);
                  }
                },
                [](const Snapshot& snap, size_t row) -> std::optional<long double> {
                  if (const TcpInfo* t = snap.tcp_info_of(row)) return (t->*Field) / 1000.0L;
                  return std::nullopt;
                },
                tcp_key<Field>,
                2};
}

const std::vector<Column> kColumns = {
    socket_integer<&SocketRecord::netns>("netns", "NETNS"),
    {"protocol", "PROTOCOL", ValueKind::kText, kNeedsNothing,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       append_text(out, protocol_name(at(snap, row).protocol));
     },
     nullptr,
     [](const Snapshot& snap, size_t row, uint64_t* words) {
       words[0] = static_cast<uint64_t>(at(snap, row).protocol);
     },
     1},
    // A unix socket's endpoints are its name and its peer's (empty when it has none).
    {"src", "SRC", ValueKind::kText, kNeedsNothing,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       const auto& s = at(snap, row);
       if (s.protocol == Protocol::kUnix) {
         append_unix_path_of(snap, row, false, out);
       } else if (const EndpointName* name = snap.src_name_of(row)) {
         append_named_endpoint(out, *name, s.src_port);
       } else {
         append_endpoint(out, s.ip_version, s.src_addr, s.src_port);
       }
     },
     nullptr,
     [](const Snapshot& snap, size_t row, uint64_t* words) {
       const auto& s = at(snap, row);
       if (s.protocol == Protocol::kUnix) return unix_endpoint_key(snap, row, false, words);
       endpoint_key(s.ip_version, s.src_addr, s.src_port, words);
     },
     3},
    {"dst", "DST", ValueKind::kText, kNeedsNothing,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       const auto& s = at(snap, row);
       if (s.protocol == Protocol::kUnix) {
         append_unix_path_of(snap, row, true, out);
       } else if (const EndpointName* name = snap.dst_name_of(row)) {
         append_named_endpoint(out, *name, s.dst_port);
       } else {
         append_endpoint(out, s.ip_version, s.dst_addr, s.dst_port);
       }
     },
     nullptr,
     [](const Snapshot& snap, size_t row, uint64_t* words) {
       const auto& s = at(snap, row);
       if (s.protocol == Protocol::kUnix) return unix_endpoint_key(snap, row, true, words);
       endpoint_key(s.ip_version, s.dst_addr, s.dst_port, words);
     },
     3},
    {"status", "STATUS", ValueKind::kText, kNeedsNothing,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       const auto& s = at(snap, row);
       std::string_view name = status_name(s.protocol, s.state);
       if (name.empty()) {
         append_number(out, s.state);  // an unknown state is shown, never an error
       } else {
         append_text(out, name);
       }
     },
     nullptr,
     [](const Snapshot& snap, size_t row, uint64_t* words) {
       // By the name shown, like the text: every name fits in 16 bytes.
       const auto& s = at(snap, row);
       std::string_view name = status_name(s.protocol, s.state);
       fmt::format_int number(s.state);
       text_key(name.empty() ? std::string_view(number.data(), number.size()) : name, words);
     },
     2},
    socket_integer<&SocketRecord::inode>("inode", "INODE", kNeedsInode),
    {"src.addr", "SRC.ADDR", ValueKind::kText, kNeedsNothing,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       const auto& s = at(snap, row);
       if (s.protocol != Protocol::kUnix) append_address(out, s.ip_version, s.src_addr);
     },
     nullptr,
     [](const Snapshot& snap, size_t row, uint64_t* words) {
       const auto& s = at(snap, row);
       endpoint_key(s.ip_version, s.src_addr, 0, words);  // a unix row's: all zero, first
     },
     3},
    inet_integer<&SocketRecord::src_port>("src.port", "SRC.PORT"),
    {"dst.addr", "DST.ADDR", ValueKind::kText, kNeedsNothing,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       const auto& s = at(snap, row);
       if (s.protocol != Protocol::kUnix) append_address(out, s.ip_version, s.dst_addr);
     },
     nullptr,
     [](const Snapshot& snap, size_t row, uint64_t* words) {
       const auto& s = at(snap, row);
       endpoint_key(s.ip_version, s.dst_addr, 0, words);
     },
     3},
    inet_integer<&SocketRecord::dst_port>("dst.port", "DST.PORT"),
    inet_integer<&SocketRecord::ip_version>("ipversion", "IPVERSION"),
    socket_integer<&SocketRecord::uid>("uid", "UID", kNeedsIdentity),
    socket_integer<&SocketRecord::rx_queue>("rx.queue", "RX.QUEUE", kNeedsQueues),
    socket_integer<&SocketRecord::tx_queue>("tx.queue", "TX.QUEUE", kNeedsQueues),
    {"interface", "INTERFACE", ValueKind::kText, kNeedsIdentity,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       const auto& s = at(snap, row);
       if (s.ifindex == 0) return;
       if (const NetnsInfo* ns = snap.find_netns(s.netns, snap.node_index_of(row))) {
         if (auto it = ns->interfaces.find(s.ifindex); it != ns->interfaces.end()) {
           append_text(out, it->second);
           return;
         }
       }
       append_number(out, s.ifindex);  // the interface is gone, or its name unreadable
     },
     nullptr, nullptr, 0},
    socket_integer<&SocketRecord::cookie>("cookie", "COOKIE", kNeedsIdentity),
    // A unix socket's own: empty for the others.
    {"type", "TYPE", ValueKind::kText, kNeedsNothing,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       const UnixSocketInfo* u = snap.unix_of(row);
       if (u == nullptr) return;
       std::string_view name = unix_type_name(u->type);
       if (name.empty()) {
         append_number(out, u->type);
       } else {
         append_text(out, name);
       }
     },
     nullptr,
     [](const Snapshot& snap, size_t row, uint64_t* words) {
       const UnixSocketInfo* u = snap.unix_of(row);
       std::string_view name = u != nullptr ? unix_type_name(u->type) : std::string_view();
       fmt::format_int number(u != nullptr ? u->type : 0);
       text_key(u == nullptr   ? std::string_view()
                : name.empty() ? std::string_view(number.data(), number.size())
                               : name,
                words);
     },
     2},
    {"src.path", "SRC.PATH", ValueKind::kText, kNeedsNothing,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       append_unix_path_of(snap, row, false, out);
     },
     nullptr, nullptr, 0},
    {"dst.path", "DST.PATH", ValueKind::kText, kNeedsNothing,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       append_unix_path_of(snap, row, true, out);
     },
     nullptr, nullptr, 0},
    {"peer.inode", "PEER.INODE", ValueKind::kInteger, kNeedsNothing,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       if (const UnixSocketInfo* u = snap.unix_of(row)) append_number(out, u->peer_inode);
     },
     [](const Snapshot& snap, size_t row) -> std::optional<long double> {
       if (const UnixSocketInfo* u = snap.unix_of(row)) {
         return static_cast<long double>(u->peer_inode);
       }
       return std::nullopt;
     },
     [](const Snapshot& snap, size_t row, uint64_t* words) {
       const UnixSocketInfo* u = snap.unix_of(row);
       words[0] = u != nullptr ? 1 : 0;  // empty cells first
       words[1] = u != nullptr ? u->peer_inode : 0;
     },
     2},
    {"peer.pid", "PEER.PID", ValueKind::kInteger, kNeedsOwners,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       int32_t pid = unix_peer_at(snap, row).pid;
       if (pid != 0) append_number(out, static_cast<uint64_t>(pid));
     },
     [](const Snapshot& snap, size_t row) -> std::optional<long double> {
       int32_t pid = unix_peer_at(snap, row).pid;
       if (pid != 0) return pid;
       return std::nullopt;
     },
     [](const Snapshot& snap, size_t row, uint64_t* words) {
       int32_t pid = unix_peer_at(snap, row).pid;
       words[0] = pid != 0 ? 1 : 0;
       words[1] = static_cast<uint64_t>(pid);
     },
     2},
    {"peer.comm", "PEER.COMM", ValueKind::kText, kNeedsOwners,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       append_text(out, unix_peer_at(snap, row).comm);
     },
     nullptr, nullptr, 0},
    tcp_milliseconds<&TcpInfo::rtt_us>("rtt", "RTT"),
    tcp_milliseconds<&TcpInfo::rttvar_us>("rttvar", "RTTVAR"),
    tcp_integer<&TcpInfo::snd_cwnd>("cwnd", "CWND"),
    tcp_integer<&TcpInfo::total_retrans>("retrans", "RETRANS"),
    tcp_integer<&TcpInfo::bytes_acked>("bytes.acked", "BYTES.ACKED"),
    tcp_integer<&TcpInfo::bytes_received>("bytes.received", "BYTES.RECEIVED"),
    tcp_integer<&TcpInfo::bytes_sent>("bytes.sent", "BYTES.SENT"),
    {"congestion", "CONGESTION", ValueKind::kText, kNeedsTcpInfo,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       if (const TcpInfo* t = snap.tcp_info_of(row))
         append_text(out, std::string_view(t->congestion.data()));
     },
     nullptr, nullptr, 0},

    {"direction", "DIRECTION", ValueKind::kText, kNeedsDirection,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       append_text(out, direction_name(snap.direction_of(row)));
     },
     nullptr,
     [](const Snapshot& snap, size_t row, uint64_t* words) {
       text_key(direction_name(snap.direction_of(row)), words);  // by the name shown
     },
     2},

    {"pid", "PID", ValueKind::kInteger, kNeedsOwners,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       if (const ProcessInfo* p = snap.first_holder_of(row)) append_number(out, p->pid);
     },
     [](const Snapshot& snap, size_t row) -> std::optional<long double> {
       if (const ProcessInfo* p = snap.first_holder_of(row)) return p->pid;
       return std::nullopt;
     },
     [](const Snapshot& snap, size_t row, uint64_t* words) {
       const ProcessInfo* p = snap.first_holder_of(row);
       words[0] = p != nullptr ? 1 : 0;  // sockets no process holds first
       words[1] = p != nullptr ? static_cast<uint64_t>(p->pid) : 0;
     },
     2},
    {"comm", "COMM", ValueKind::kText, kNeedsOwners,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       if (const ProcessInfo* p = snap.first_holder_of(row)) append_text(out, p->comm);
     },
     nullptr, nullptr, 0},
    {"k8s.node", "K8S.NODE", ValueKind::kText, kNeedsNothing,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       append_text(out, snap.node_of(row));
     },
     nullptr, nullptr, 0},
    {"k8s.namespace", "K8S.NAMESPACE", ValueKind::kText, kNeedsOwners,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       if (const PodInfo* p = snap.pod_of(row)) append_text(out, p->pod_namespace);
     },
     nullptr, nullptr, 0},
    {"k8s.podName", "K8S.PODNAME", ValueKind::kText, kNeedsOwners,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       if (const PodInfo* p = snap.pod_of(row)) append_text(out, p->name);
     },
     nullptr, nullptr, 0},
    {"k8s.containerName", "K8S.CONTAINERNAME", ValueKind::kText, kNeedsOwners,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       const ContainerInfo* c = snap.container_of(row);
       if (c != nullptr && c->pod != kNone) append_text(out, c->name);
     },
     nullptr, nullptr, 0},
    {"k8s.labels", "K8S.LABELS", ValueKind::kText, kNeedsOwners | kNeedsLabels,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       const PodInfo* p = snap.pod_of(row);
       if (p == nullptr) return;
       for (size_t i = 0; i < p->labels.size(); ++i) {
         if (i != 0) out.push_back(',');
         append_text(out, p->labels[i].first);
         out.push_back('=');
         append_text(out, p->labels[i].second);
       }
     },
     nullptr, nullptr, 0},
    {"k8s.hostNetwork", "K8S.HOSTNETWORK", ValueKind::kText, kNeedsOwners,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       if (const PodInfo* p = snap.pod_of(row)) {
         append_text(out, std::string_view(p->host_network ? "true" : "false"));
       }
     },
     nullptr, nullptr, 0},
    {"runtime.runtimeName", "RUNTIME.RUNTIMENAME", ValueKind::kText, kNeedsOwners,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       if (const ContainerInfo* c = snap.container_of(row)) append_text(out, c->runtime);
     },
     nullptr, nullptr, 0},
    {"runtime.containerId", "RUNTIME.CONTAINERID", ValueKind::kText, kNeedsOwners,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       if (const ContainerInfo* c = snap.container_of(row)) append_text(out, c->id);
     },
     nullptr, nullptr, 0},
    {"runtime.containerName", "RUNTIME.CONTAINERNAME", ValueKind::kText, kNeedsOwners,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       if (const ContainerInfo* c = snap.container_of(row)) append_text(out, c->name);
     },
     nullptr, nullptr, 0},
    {"runtime.containerPid", "RUNTIME.CONTAINERPID", ValueKind::kInteger, kNeedsOwners,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       const ContainerInfo* c = snap.container_of(row);
       if (c != nullptr && c->pid != 0) append_number(out, c->pid);
     },
     [](const Snapshot& snap, size_t row) -> std::optional<long double> {
       const ContainerInfo* c = snap.container_of(row);
       if (c != nullptr && c->pid != 0) return c->pid;
       return std::nullopt;
     },
     nullptr, 0},
    {"runtime.containerImageName", "RUNTIME.CONTAINERIMAGENAME", ValueKind::kText, kNeedsOwners,
     [](const Snapshot& snap, size_t row, fmt::memory_buffer& out) {
       if (const ContainerInfo* c = snap.container_of(row)) append_text(out, c->image);
     },
     nullptr, nullptr, 0},
};

}  // namespace

const std::vector<Column>& all_columns() {
  return kColumns;
}

const Column* find_column(std::string_view name) {
  for (const auto& c : kColumns) {
    if (iequals(c.name, name)) return &c;
  }
  return nullptr;
}

Result<const Column*> column_named(std::string_view name) {
  if (const Column* c = find_column(name)) return c;
  return plain_error(fmt::format("unknown column '{}' (socksnap --help lists them)", name));
}

std::vector<const Column*> default_columns(NodeKind kind) {
  std::vector<const Column*> columns;
  switch (kind) {
    case NodeKind::kHost:
      columns = {find_column("netns")};
      break;
    case NodeKind::kContainers:
      columns = {find_column("runtime.containerName")};
      break;
    case NodeKind::kKubernetes:
      columns = {find_column("k8s.node"), find_column("k8s.namespace"), find_column("k8s.podName")};
      break;
  }
  for (const char* name : {"protocol", "src", "dst", "status"}) {
    columns.push_back(find_column(name));
  }
  return columns;
}

Result<std::vector<const Column*>> apply_column_spec(std::vector<const Column*> columns,
                                                     std::string_view spec) {
  auto items = split(spec, ',');
  for (auto& item : items) item = trim(item);
  bool relative = std::all_of(items.begin(), items.end(), [](std::string_view item) {
    return !item.empty() && (item.front() == '+' || item.front() == '-');
  });
  if (!relative) columns.clear();
  for (std::string_view item : items) {
    if (item.empty()) return plain_error(fmt::format("empty column name in '{}'", spec));
    char op = relative ? item.front() : '=';
    if (op == '+' || op == '-') item.remove_prefix(1);
    if (!relative && (item.front() == '+' || item.front() == '-')) {
      return plain_error(
          fmt::format("'{}' mixes a column list with +/- changes; use one or the other", spec));
    }
    auto column = column_named(item);
    if (!column) return column.error();
    auto found = std::find(columns.begin(), columns.end(), *column);
    if (op == '-') {
      if (found != columns.end()) columns.erase(found);
    } else if (found == columns.end()) {
      columns.push_back(*column);
    }
  }
  if (columns.empty()) return plain_error(fmt::format("'{}' leaves no column to show", spec));
  return columns;
}

bool unix_name_in_key(std::string_view path) {
  if (path.size() > kUnixKeyBytes) return false;
  return path.size() < 2 || path.find('\0', 1) == std::string_view::npos;
}

}  // namespace socksnap
