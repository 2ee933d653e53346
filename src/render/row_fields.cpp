// The description of a row's fields (see render/row_fields.h) and the two walks over it: the
// writer, for every structured output, and the strict reader, for the agent's wire.
//
// The description is a compile-time table: a tuple of field descriptors per object, each with
// its key and the two small functions that write it from a row and read it into a row being
// built. The writer and the reader are templates over those tuples, so every call is resolved
// (and mostly inlined) when compiled: writing a row costs what the hand-written sequence of
// writer calls it replaced did (fanout_bench --stages), with no per-row lookup. The reader finds
// a key by trying the field after the last one it found first (rows come in the writer's order)
// and then the others.
#include "render/row_fields.h"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <tuple>
#include <type_traits>

#include "model/address.h"
#include "model/labels.h"
#include "model/states.h"
#include "select/columns.h"

namespace socksnap {
namespace {

// ---- The descriptors ----------------------------------------------------------------------------

// Whether every row (every object of its kind) has the field. A required field the writer leaves
// out would make its own output unreadable: the round-trip test over every field checks both.
enum class Presence : uint8_t {
  kRequired,
  kOptional,
  // An object every row has, empty ({}) when the row has none of it: "runtime" for a socket that
  // no container holds. Read back, an empty one is none.
  kEmptyWhenNone,
  // Every IP socket's row that has the object has it, and no unix socket's: an endpoint's
  // address, version, kind and port (a unix socket's endpoint is its "path"). check_row checks.
  kInet,
};

enum class Kind : uint8_t { kText, kInteger, kNumber, kBoolean, kLabels, kObject, kList };

// A string. get: (const View&) -> std::optional<std::string_view>, nothing when it is left out.
// set: (Draft&) -> std::string& to read into, or (Draft&, std::string_view) -> const char*
// that converts the value, returning what is wrong with it ("is not TCP, UDP or UDPLITE") or null.
// revision: the one the field came in (render/row_fields.h); a writer of an older one leaves it
// out.
template <typename Get, typename Set>
struct Text {
  static constexpr Kind kKind = Kind::kText;
  std::string_view key;
  Presence presence;
  Get get;
  Set set;
  unsigned revision = 1;
};
template <typename Get, typename Set>
Text(std::string_view, Presence, Get, Set) -> Text<Get, Set>;
template <typename Get, typename Set>
Text(std::string_view, Presence, Get, Set, unsigned) -> Text<Get, Set>;

// A non-negative integer. get: (const View&) -> std::optional<uint64_t>. set: (Draft&) -> Int&
// (values above Int's range are refused), or (Draft&, uint64_t) -> const char* as for Text.
// revision: as a Text's.
template <typename Get, typename Set>
struct Integer {
  static constexpr Kind kKind = Kind::kInteger;
  std::string_view key;
  Presence presence;
  Get get;
  Set set;
  unsigned revision = 1;
};
template <typename Get, typename Set>
Integer(std::string_view, Presence, Get, Set) -> Integer<Get, Set>;
template <typename Get, typename Set>
Integer(std::string_view, Presence, Get, Set, unsigned) -> Integer<Get, Set>;

// Any number. get: (const View&) -> std::optional<double>; set: (Draft&, double) -> const char*.
template <typename Get, typename Set>
struct Number {
  static constexpr Kind kKind = Kind::kNumber;
  std::string_view key;
  Presence presence;
  Get get;
  Set set;
};
template <typename Get, typename Set>
Number(std::string_view, Presence, Get, Set) -> Number<Get, Set>;

// true or false. get: (const View&) -> std::optional<bool>; set: (Draft&) -> bool&.
template <typename Get, typename Set>
struct Boolean {
  static constexpr Kind kKind = Kind::kBoolean;
  std::string_view key;
  Presence presence;
  Get get;
  Set set;
};
template <typename Get, typename Set>
Boolean(std::string_view, Presence, Get, Set) -> Boolean<Get, Set>;

// An object of strings (labels), sorted by key, left out when empty. get: (const View&) -> const
// Labels* (null: left out); set: (Draft&) -> Labels&.
template <typename Get, typename Set>
struct LabelMap {
  static constexpr Kind kKind = Kind::kLabels;
  std::string_view key;
  Presence presence;
  Get get;
  Set set;
};
template <typename Get, typename Set>
LabelMap(std::string_view, Presence, Get, Set) -> LabelMap<Get, Set>;

// No check once an object is read.
struct NoCheck {};

// An object whose members are the tuple `Members`. view: (const View&) -> the members' view, a
// value or a pointer; a null pointer writes a kEmptyWhenNone object empty and leaves an optional
// one out. draft: (Draft&)
// -> the members' draft. check: (MembersDraft&) -> std::optional<Problem>, run once its members
// are read. repeats: whether rows repeat it word for word (RowReader reads each text once).
template <const auto& Members, typename ViewFn, typename DraftFn, typename Check>
struct Object {
  static constexpr Kind kKind = Kind::kObject;
  static constexpr const auto& kMembers = Members;
  std::string_view key;
  Presence presence;
  ViewFn view;
  DraftFn draft;
  Check check;
  std::optional<Repeated> repeats;
  unsigned revision = 1;  // as a Text's
};

template <const auto& Members, typename ViewFn, typename DraftFn, typename Check = NoCheck>
constexpr auto object(std::string_view key, Presence presence, ViewFn view, DraftFn draft,
                      Check check = {}, std::optional<Repeated> repeats = std::nullopt,
                      unsigned revision = 1) {
  return Object<Members, ViewFn, DraftFn, Check>{key,   presence, view,    draft,
                                                 check, repeats,  revision};
}

// A list of objects whose members are `Members`, left out when empty. count: (const View&) ->
// size_t; item: (const View&, size_t) -> an item's view; items: (Draft&) -> a vector of item
// drafts.
template <const auto& Members, typename Count, typename Item, typename Items>
struct List {
  static constexpr Kind kKind = Kind::kList;
  static constexpr const auto& kMembers = Members;
  std::string_view key;
  Presence presence;
  Count count;
  Item item;
  Items items;
};

template <const auto& Members, typename Count, typename Item, typename Items>
constexpr auto list(std::string_view key, Count count, Item item, Items items) {
  return List<Members, Count, Item, Items>{key, Presence::kOptional, count, item, items};
}

// What an object's check found wrong: the field, by its path from the object, and what.
struct Problem {
  std::string path;
  std::string message;  // empty: the field is missing
};
using Checked = std::optional<Problem>;

// ---- What the writer reads ----------------------------------------------------------------------

struct RowView {
  const Snapshot& snap;
  size_t row;
  const SocketRecord& socket;
  const ContainerInfo* container;
  const PodInfo* pod;
  const SocketOwner* holders;  // with at least one holder, or null
  const TcpInfo* tcp;
  const TranslatedDestination* translated;
  const UnixSocketInfo* unix_socket;  // a unix socket's own, or null
  Snapshot::UnixPeerView unix_peer;   // its peer, as far as known
  fmt::memory_buffer& scratch;  // for a value that must be formatted; used before the next one
  unsigned revision;            // the latest revision of fields written

  std::string_view formatted() const { return {scratch.data(), scratch.size()}; }
};

struct EndpointView {
  const RowView& row;
  const std::array<uint8_t, 16>& addr;
  uint16_t port;
  const EndpointName* name;
  // A unix socket's endpoint: its name or its peer's; nothing for an IP socket's.
  std::optional<std::string_view> path;
};

struct HolderView {
  const ProcessInfo& process;
  int32_t fd;
};

std::optional<std::string_view> nonempty(std::string_view s) {
  if (s.empty()) return std::nullopt;
  return s;
}

// ---- Conversions the reader makes
// -----------------------------------------------------------------

// A value as a message shows it: JSON text, cut short when long.
std::string shown(std::string_view json_text) {
  constexpr size_t kLongest = 40;
  if (json_text.size() <= kLongest) return std::string(json_text);
  size_t cut = kLongest - 4;
  while (cut > 0 && (static_cast<unsigned char>(json_text[cut]) & 0xC0) == 0x80) --cut;
  std::string out(json_text.substr(0, cut));
  out += json_text.front() == '"' ? "...\"" : "...";
  return out;
}

std::string shown_string(std::string_view value) {
  fmt::memory_buffer b;
  append_json_string(b, value, JsonStrings::kLosslessBytes);
  return shown(std::string_view(b.data(), b.size()));
}

// "SCTP" -> "is not TCP, UDP, UDPLITE or UNIX"
const char* read_protocol(RowDraft& d, std::string_view name) {
  auto protocol = protocol_named(name);
  if (!protocol) return "is not TCP, UDP, UDPLITE or UNIX";
  d.socket.protocol = *protocol;
  return nullptr;
}

const char* read_unix_type(RowDraft& d, std::string_view name) {
  auto type = unix_type_named(name);
  if (!type) return "is not stream, dgram, seqpacket or a type's number";
  d.unix_socket.type = *type;
  d.unix_fields.type = true;
  return nullptr;
}

// A unix socket's name as the writer shows it: "@name" is an abstract one.
const char* read_path(EndpointDraft& e, std::string_view shown) {
  e.path = unix_path_from_shown(shown);
  return nullptr;
}

const char* read_direction(RowDraft& d, std::string_view name) {
  auto direction = direction_named(name);
  if (!direction) return "is not listen, inbound, outbound or local";
  d.direction = *direction;
  return nullptr;
}

const char* read_kind(EndpointDraft& e, std::string_view kind) {
  e.has_kind = true;
  if (kind == "raw") {
    e.kind = EndpointDraft::Kind::kRaw;
  } else if (kind == "pod") {
    e.kind = EndpointDraft::Kind::kPod;
  } else if (kind == "svc") {
    e.kind = EndpointDraft::Kind::kService;
  } else {
    return "is not raw, pod or svc";
  }
  return nullptr;
}

const char* read_peer_pid(RowDraft& d, uint64_t pid) {
  if (pid == 0 || pid > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    return "is not a process id (1 to 2147483647)";
  }
  d.unix_peer.pid = static_cast<int32_t>(pid);
  d.unix_fields.peer_pid = true;
  return nullptr;
}

const char* read_ip_version(EndpointDraft& e, uint64_t version) {
  if (version != 4 && version != 6) return "is neither 4 nor 6";
  e.version = static_cast<uint8_t>(version);
  return nullptr;
}

// Milliseconds, as the writer divides the kernel's microseconds (a 32-bit count).
const char* read_milliseconds(uint32_t& us, double ms) {
  if (!(ms >= 0 && ms <= 4294967.295)) return "is out of range (0 to 4294967.295)";
  us = static_cast<uint32_t>(std::llround(ms * 1000));
  return nullptr;
}

const char* read_congestion(TcpInfo& t, std::string_view name) {
  if (name.size() >= t.congestion.size()) return "is longer than 15 bytes";
  if (name.find('\0') != std::string_view::npos) return "holds a NUL byte";
  t.congestion = {};
  if (!name.empty()) std::memcpy(t.congestion.data(), name.data(), name.size());
  return nullptr;
}

Checked check_endpoint(EndpointDraft& e) {
  // A unix socket's endpoint is its path alone. One with neither: the row says what it lacks
  // (check_row), once it knows its protocol.
  const std::pair<const char*, bool> inet[] = {{"addr", e.addr.has_value()},
                                               {"version", e.version != 0},
                                               {"kind", e.has_kind},
                                               {"namespace", e.name_namespace.has_value()},
                                               {"podname", e.podname.has_value()},
                                               {"name", e.name.has_value()},
                                               {"podlabels", !e.labels.empty()},
                                               {"port", e.has_port}};
  bool any_inet =
      std::any_of(std::begin(inet), std::end(inet), [](const auto& f) { return f.second; });
  if (e.path) {
    for (auto [key, present] : inet) {
      if (present) return Problem{key, "is for an IP endpoint, and this one has a \"path\""};
    }
    return std::nullopt;
  }
  if (!any_inet) return std::nullopt;
  for (auto [key, present] : {inet[0], inet[1], inet[2], inet[7]}) {
    if (!present) return Problem{key, ""};
  }
  if (::inet_pton(e.version == 6 ? AF_INET6 : AF_INET, e.addr->c_str(), e.bytes.data()) != 1) {
    return Problem{"addr",
                   fmt::format("{} is not an IPv{} address", shown_string(*e.addr), e.version)};
  }
  if (e.kind == EndpointDraft::Kind::kRaw) {
    // An address nothing is known about has no name.
    const std::pair<const char*, bool> names[] = {{"namespace", e.name_namespace.has_value()},
                                                  {"podname", e.podname.has_value()},
                                                  {"name", e.name.has_value()},
                                                  {"podlabels", !e.labels.empty()}};
    for (auto [key, present] : names) {
      if (present) return Problem{key, "is for a named endpoint, and this one is \"raw\""};
    }
    return std::nullopt;
  }
  if (!e.name_namespace) return Problem{"namespace", ""};
  if (!e.podname) return Problem{"podname", ""};
  if (!e.name) return Problem{"name", ""};
  if (*e.name != *e.podname) {
    return Problem{"name", fmt::format("{} is not the same as \"podname\" {}",
                                       shown_string(*e.name), shown_string(*e.podname))};
  }
  return std::nullopt;
}

const char* read_translated_version(TranslationDraft& t, uint64_t version) {
  if (version != 4 && version != 6) return "is neither 4 nor 6";
  t.version = static_cast<uint8_t>(version);
  return nullptr;
}

Checked check_translated(TranslationDraft& t) {
  TranslatedDestination& out = t.destination;
  if (::inet_pton(t.version == 6 ? AF_INET6 : AF_INET, t.addr.c_str(), out.addr.data()) != 1) {
    return Problem{"addr",
                   fmt::format("{} is not an IPv{} address", shown_string(t.addr), t.version)};
  }
  out.valid = true;
  out.ip_version = t.version;
  out.port = t.port;
  return std::nullopt;
}

// A unix socket's row: endpoints of a path, its type and peer inode; an IP socket's has none
// of them, and endpoints of an address, version, kind and port.
Checked check_endpoints(RowDraft& d) {
  SocketRecord& s = d.socket;
  const std::pair<const char*, const EndpointDraft*> endpoints[] = {{"src", &d.src},
                                                                    {"dst", &d.dst}};
  if (s.protocol == Protocol::kUnix) {
    for (auto [which, e] : endpoints) {
      if (!e->path) return Problem{fmt::format("{}.path", which), ""};
    }
    if (!d.unix_fields.type) return Problem{"type", ""};
    if (!d.unix_fields.peer_inode) return Problem{"peerInode", ""};
    if (d.unix_fields.peer_pid != d.unix_fields.peer_comm) {
      return Problem{d.unix_fields.peer_pid ? "peerComm" : "peerPid", ""};
    }
    d.unix_socket.path = std::move(*d.src.path);
    d.unix_peer.path = std::move(*d.dst.path);
    s.ip_version = 0;
    return std::nullopt;
  }
  for (auto [which, e] : endpoints) {
    if (e->path) {
      return Problem{
          fmt::format("{}.path", which),
          fmt::format("is for a UNIX socket, and this one is {}", protocol_name(s.protocol))};
    }
    if (!e->addr) return Problem{fmt::format("{}.addr", which), ""};
  }
  const std::pair<const char*, bool> unix_only[] = {{"type", d.unix_fields.type},
                                                    {"peerInode", d.unix_fields.peer_inode},
                                                    {"peerPid", d.unix_fields.peer_pid},
                                                    {"peerComm", d.unix_fields.peer_comm}};
  for (auto [key, present] : unix_only) {
    if (present) {
      return Problem{
          key, fmt::format("is for a UNIX socket, and this one is {}", protocol_name(s.protocol))};
    }
  }
  if (d.dst.version != d.src.version) {
    return Problem{"dst.version", fmt::format("{} is not the same as \"src.version\" {}",
                                              d.dst.version, d.src.version)};
  }
  s.ip_version = d.src.version;
  s.src_addr = d.src.bytes;
  s.dst_addr = d.dst.bytes;
  s.src_port = d.src.port;
  s.dst_port = d.dst.port;
  return std::nullopt;
}

Checked check_row(RowDraft& d) {
  if (Checked problem = check_endpoints(d)) return problem;
  SocketRecord& s = d.socket;
  auto state = state_named(s.protocol, d.status);
  if (!state) {
    return Problem{"status", fmt::format("{} is not a state of {}", shown_string(d.status),
                                         protocol_name(s.protocol))};
  }
  s.state = *state;
  // "pid" and "comm" repeat the first of "processes".
  if (d.holders.empty()) {
    if (d.pid) return Problem{"pid", "is there without \"processes\""};
    if (d.comm) return Problem{"comm", "is there without \"processes\""};
    return std::nullopt;
  }
  const ProcessInfo& first = d.holders.front().process;
  if (!d.pid) return Problem{"pid", ""};
  if (!d.comm) return Problem{"comm", ""};
  if (*d.pid != first.pid) {
    return Problem{"pid", fmt::format("{} is not the first process's ({})", *d.pid, first.pid)};
  }
  if (*d.comm != first.comm) {
    return Problem{"comm", fmt::format("{} is not the first process's ({})", shown_string(*d.comm),
                                       shown_string(first.comm))};
  }
  return std::nullopt;
}

// ---- The description --------------------------------------------------------------------------
//
// The gadget's field names first (runtime.*, k8s.*, netnsid, protocol, src, dst, status,
// inodeNumber), then socksnap's own. The order is the output's.

constexpr auto kRuntimeFields = std::tuple{
    Text{"runtimeName", Presence::kOptional,
         [](const ContainerInfo& c) { return nonempty(c.runtime); },
         [](ContainerDraft& d) -> std::string& { return d.container.runtime; }},
    Text{"containerId", Presence::kRequired,
         [](const ContainerInfo& c) { return std::optional<std::string_view>(c.id); },
         [](ContainerDraft& d) -> std::string& { return d.container.id; }},
    Text{"containerName", Presence::kOptional,
         [](const ContainerInfo& c) { return nonempty(c.name); },
         [](ContainerDraft& d) -> std::string& { return d.container.name; }},
    Integer{"containerPid", Presence::kOptional,
            [](const ContainerInfo& c) {
              return c.pid != 0 ? std::optional<uint64_t>(c.pid) : std::nullopt;
            },
            [](ContainerDraft& d) -> int32_t& { return d.container.pid; }},
    Text{"containerImageName", Presence::kOptional,
         [](const ContainerInfo& c) { return nonempty(c.image); },
         [](ContainerDraft& d) -> std::string& { return d.container.image; }},
};

// The pod's fields are there only for a row a pod owns; its labels only when it has some.
constexpr auto kK8sFields = std::tuple{
    Text{"node", Presence::kOptional,
         [](const RowView& r) { return nonempty(r.snap.node_of(r.row)); },
         [](K8sDraft& d) -> std::string& { return d.node; }},
    Text{"namespace", Presence::kOptional,
         [](const RowView& r) {
           return r.pod != nullptr ? nonempty(r.pod->pod_namespace) : std::nullopt;
         },
         [](K8sDraft& d) -> std::string& {
           d.has_pod = true;
           return d.pod.pod_namespace;
         }},
    Text{"podName", Presence::kOptional,
         [](const RowView& r) { return r.pod != nullptr ? nonempty(r.pod->name) : std::nullopt; },
         [](K8sDraft& d) -> std::string& {
           d.has_pod = true;
           return d.pod.name;
         }},
    Text{"containerName", Presence::kOptional,
         [](const RowView& r) {
           return r.pod != nullptr && r.container != nullptr && r.container->pod != kNone
                      ? nonempty(r.container->name)
                      : std::nullopt;
         },
         [](K8sDraft& d) -> std::string& {
           d.has_pod = true;
           return d.container_name.emplace();
         }},
    Boolean{"hostNetwork", Presence::kOptional,
            [](const RowView& r) {
              return r.pod != nullptr && r.pod->host_network ? std::optional(true) : std::nullopt;
            },
            [](K8sDraft& d) -> bool& {
              d.has_pod = true;
              return d.pod.host_network;
            }},
    LabelMap{"podLabels", Presence::kOptional,
             [](const RowView& r) { return r.pod != nullptr ? &r.pod->labels : nullptr; },
             [](K8sDraft& d) -> Labels& {
               d.has_pod = true;
               return d.pod.labels;
             }},
};

// The gadget's endpoint: kind "raw", or "pod"/"svc" with the name's namespace and name (in
// "podname", as the gadget has it for both kinds, and in socksnap's own "name").
// A unix socket's endpoint is its "path" alone (revision 5): its own name in "src", its peer's in
// "dst", shown as the table shows them ("@name" for an abstract one, "" for none).
constexpr auto kEndpointFields = std::tuple{
    Text{"addr", Presence::kInet,
         [](const EndpointView& e) {
           if (e.path) return std::optional<std::string_view>();
           e.row.scratch.clear();
           append_address(e.row.scratch, e.row.socket.ip_version, e.addr);
           return std::optional(e.row.formatted());
         },
         [](EndpointDraft& d) -> std::string& { return d.addr.emplace(); }},
    Integer{"version", Presence::kInet,
            [](const EndpointView& e) {
              if (e.path) return std::optional<uint64_t>();
              return std::optional<uint64_t>(e.row.socket.ip_version);
            },
            read_ip_version},
    Text{"kind", Presence::kInet,
         [](const EndpointView& e) {
           if (e.path) return std::optional<std::string_view>();
           return std::optional<std::string_view>(e.name == nullptr                    ? "raw"
                                                  : e.name->kind == EndpointKind::kPod ? "pod"
                                                                                       : "svc");
         },
         read_kind},
    Text{"namespace", Presence::kOptional,
         [](const EndpointView& e) {
           return e.name != nullptr ? std::optional<std::string_view>(e.name->name_namespace)
                                    : std::nullopt;
         },
         [](EndpointDraft& d) -> std::string& { return d.name_namespace.emplace(); }},
    Text{"podname", Presence::kOptional,
         [](const EndpointView& e) {
           return e.name != nullptr ? std::optional<std::string_view>(e.name->name) : std::nullopt;
         },
         [](EndpointDraft& d) -> std::string& { return d.podname.emplace(); }},
    Text{"name", Presence::kOptional,
         [](const EndpointView& e) {
           return e.name != nullptr ? std::optional<std::string_view>(e.name->name) : std::nullopt;
         },
         [](EndpointDraft& d) -> std::string& { return d.name.emplace(); }},
    LabelMap{"podlabels", Presence::kOptional,
             [](const EndpointView& e) { return e.name != nullptr ? &e.name->labels : nullptr; },
             [](EndpointDraft& d) -> Labels& { return d.labels; }},
    Integer{"port", Presence::kInet,
            [](const EndpointView& e) {
              if (e.path) return std::optional<uint64_t>();
              return std::optional<uint64_t>(e.port);
            },
            [](EndpointDraft& d) -> uint16_t& {
              d.has_port = true;
              return d.port;
            }},
    Text{"path", Presence::kOptional,
         [](const EndpointView& e) {
           if (!e.path) return std::optional<std::string_view>();
           e.row.scratch.clear();
           append_unix_path(e.row.scratch, *e.path);
           return std::optional(e.row.formatted());
         },
         read_path, 5},
};

constexpr auto kHolderFields = std::tuple{
    Integer{"pid", Presence::kRequired,
            [](const HolderView& h) { return std::optional<uint64_t>(h.process.pid); },
            [](HolderDraft& d) -> int32_t& { return d.process.pid; }},
    Text{"comm", Presence::kRequired,
         [](const HolderView& h) { return std::optional<std::string_view>(h.process.comm); },
         [](HolderDraft& d) -> std::string& { return d.process.comm; }},
    Integer{"fd", Presence::kRequired,
            [](const HolderView& h) { return std::optional<uint64_t>(h.fd); },
            [](HolderDraft& d) -> int32_t& { return d.fd; }},
};

constexpr auto kTcpInfoFields = std::tuple{
    Number{"rtt", Presence::kRequired,
           [](const TcpInfo& t) { return std::optional(t.rtt_us / 1000.0); },
           [](TcpInfo& t, double ms) { return read_milliseconds(t.rtt_us, ms); }},
    Number{"rttvar", Presence::kRequired,
           [](const TcpInfo& t) { return std::optional(t.rttvar_us / 1000.0); },
           [](TcpInfo& t, double ms) { return read_milliseconds(t.rttvar_us, ms); }},
    Integer{"cwnd", Presence::kRequired,
            [](const TcpInfo& t) { return std::optional<uint64_t>(t.snd_cwnd); },
            [](TcpInfo& t) -> uint32_t& { return t.snd_cwnd; }},
    Integer{"retrans", Presence::kRequired,
            [](const TcpInfo& t) { return std::optional<uint64_t>(t.total_retrans); },
            [](TcpInfo& t) -> uint32_t& { return t.total_retrans; }},
    Integer{"bytesAcked", Presence::kRequired,
            [](const TcpInfo& t) { return std::optional<uint64_t>(t.bytes_acked); },
            [](TcpInfo& t) -> uint64_t& { return t.bytes_acked; }},
    Integer{"bytesReceived", Presence::kRequired,
            [](const TcpInfo& t) { return std::optional<uint64_t>(t.bytes_received); },
            [](TcpInfo& t) -> uint64_t& { return t.bytes_received; }},
    Integer{"bytesSent", Presence::kRequired,
            [](const TcpInfo& t) { return std::optional<uint64_t>(t.bytes_sent); },
            [](TcpInfo& t) -> uint64_t& { return t.bytes_sent; }},
    Text{"congestion", Presence::kOptional,
         [](const TcpInfo& t) { return nonempty(t.congestion.data()); }, read_congestion},
};

// Where the node sent the connection (kube-proxy's DNAT of a service): the backend, in the
// conntrack table's family (4 for a socket with IPv4-mapped addresses).
constexpr auto kTranslatedFields = std::tuple{
    Text{"addr", Presence::kRequired,
         [](const RowView& r) {
           r.scratch.clear();
           append_address(r.scratch, r.translated->ip_version, r.translated->addr);
           return std::optional(r.formatted());
         },
         [](TranslationDraft& d) -> std::string& { return d.addr; }},
    Integer{"version", Presence::kRequired,
            [](const RowView& r) { return std::optional<uint64_t>(r.translated->ip_version); },
            read_translated_version},
    Integer{"port", Presence::kRequired,
            [](const RowView& r) { return std::optional<uint64_t>(r.translated->port); },
            [](TranslationDraft& d) -> uint16_t& { return d.port; }},
};

template <bool kSource>
EndpointView endpoint_view(const RowView& r) {
  const SocketRecord& s = r.socket;
  if (s.protocol == Protocol::kUnix) {
    const UnixSocketInfo* u = r.unix_socket;
    std::string_view path = u == nullptr ? std::string_view()
                            : kSource    ? std::string_view(u->path)
                                         : r.unix_peer.path;
    return EndpointView{r, kSource ? s.src_addr : s.dst_addr, 0, nullptr, path};
  }
  return kSource ? EndpointView{r, s.src_addr, s.src_port, r.snap.src_name_of(r.row), std::nullopt}
                 : EndpointView{r, s.dst_addr, s.dst_port, r.snap.dst_name_of(r.row), std::nullopt};
}

// A unix socket's own fields: only in its row.
std::optional<std::string_view> unix_type_text(const RowView& r) {
  if (r.unix_socket == nullptr) {
    if (r.socket.protocol != Protocol::kUnix) return std::nullopt;
    return "0";  // a unix row without its entry: type unknown
  }
  std::string_view name = unix_type_name(r.unix_socket->type);
  if (!name.empty()) return name;
  r.scratch.clear();
  fmt::format_to(std::back_inserter(r.scratch), "{}", r.unix_socket->type);
  return r.formatted();
}

constexpr auto kRowFields = std::tuple{
    object<kRuntimeFields>(
        "runtime", Presence::kEmptyWhenNone, [](const RowView& r) { return r.container; },
        [](RowDraft& d) -> ContainerDraft& { return d.runtime; },
        [](ContainerDraft& d) -> Checked {
          d.present = true;
          return std::nullopt;
        },
        Repeated::kRuntime),
    object<kK8sFields>(
        "k8s", Presence::kEmptyWhenNone, [](const RowView& r) { return &r; },
        [](RowDraft& d) -> K8sDraft& { return d.k8s; }, NoCheck{}, Repeated::kK8s),
    Integer{"netnsid", Presence::kRequired,
            [](const RowView& r) { return std::optional<uint64_t>(r.socket.netns); },
            [](RowDraft& d) -> uint64_t& { return d.socket.netns; }},
    Text{"protocol", Presence::kRequired,
         [](const RowView& r) {
           return std::optional<std::string_view>(protocol_name(r.socket.protocol));
         },
         read_protocol},
    object<kEndpointFields>(
        "src", Presence::kRequired, endpoint_view<true>,
        [](RowDraft& d) -> EndpointDraft& { return d.src; }, check_endpoint),
    object<kEndpointFields>(
        "dst", Presence::kRequired, endpoint_view<false>,
        [](RowDraft& d) -> EndpointDraft& { return d.dst; }, check_endpoint),
    Text{"status", Presence::kRequired,
         [](const RowView& r) {
           std::string_view name = status_name(r.socket.protocol, r.socket.state);
           if (!name.empty()) return std::optional(name);
           r.scratch.clear();  // a state without a name: its number
           fmt::format_to(std::back_inserter(r.scratch), "{}", r.socket.state);
           return std::optional(r.formatted());
         },
         [](RowDraft& d) -> std::string& { return d.status; }},
    Integer{"inodeNumber", Presence::kRequired,
            [](const RowView& r) { return std::optional<uint64_t>(r.socket.inode); },
            [](RowDraft& d) -> uint64_t& { return d.socket.inode; }},
    // A unix socket's type ("stream", "dgram", "seqpacket") and the inode of the socket it is
    // connected to (0 when it is not): in every unix socket's row, in no other.
    Text{"type", Presence::kOptional, unix_type_text, read_unix_type, 5},
    Integer{"peerInode", Presence::kOptional,
            [](const RowView& r) {
              if (r.socket.protocol != Protocol::kUnix) return std::optional<uint64_t>();
              return std::optional<uint64_t>(r.unix_socket != nullptr ? r.unix_socket->peer_inode
                                                                      : 0);
            },
            [](RowDraft& d) -> uint64_t& {
              d.unix_fields.peer_inode = true;
              return d.unix_socket.peer_inode;
            },
            5},
    // Only when the run worked it out: it needs every socket of the namespace.
    Text{"direction", Presence::kOptional,
         [](const RowView& r) { return nonempty(direction_name(r.snap.direction_of(r.row))); },
         read_direction, 2},
    // Only for a socket whose destination the node translated, in a run that read the node's
    // conntrack tables (the service map).
    object<kTranslatedFields>(
        "translatedDst", Presence::kOptional,
        [](const RowView& r) { return r.translated != nullptr ? &r : nullptr; },
        [](RowDraft& d) -> TranslationDraft& { return d.translated; }, check_translated,
        std::nullopt, 3),
    // The first process holding the socket; "processes" has them all.
    Integer{"pid", Presence::kOptional,
            [](const RowView& r) {
              if (r.holders == nullptr) return std::optional<uint64_t>();
              return std::optional<uint64_t>(
                  r.snap.processes[r.snap.holders[r.holders->first_holder].process].pid);
            },
            [](RowDraft& d) -> int32_t& { return d.pid.emplace(); }},
    Text{"comm", Presence::kOptional,
         [](const RowView& r) {
           if (r.holders == nullptr) return std::optional<std::string_view>();
           return std::optional<std::string_view>(
               r.snap.processes[r.snap.holders[r.holders->first_holder].process].comm);
         },
         [](RowDraft& d) -> std::string& { return d.comm.emplace(); }},
    list<kHolderFields>(
        "processes",
        [](const RowView& r) -> size_t {
          return r.holders != nullptr ? r.holders->holder_count : 0;
        },
        [](const RowView& r, size_t i) {
          const SocketHolder& holder = r.snap.holders[r.holders->first_holder + i];
          return HolderView{r.snap.processes[holder.process], holder.fd};
        },
        [](RowDraft& d) -> std::vector<HolderDraft>& { return d.holders; }),
    // The first process holding a unix socket's peer, when the peer was seen and its holder
    // known.
    Integer{"peerPid", Presence::kOptional,
            [](const RowView& r) {
              if (r.unix_peer.pid == 0) return std::optional<uint64_t>();
              return std::optional<uint64_t>(r.unix_peer.pid);
            },
            read_peer_pid, 5},
    Text{"peerComm", Presence::kOptional,
         [](const RowView& r) {
           if (r.unix_peer.pid == 0) return std::optional<std::string_view>();
           return std::optional<std::string_view>(r.unix_peer.comm);
         },
         [](RowDraft& d) -> std::string& {
           d.unix_fields.peer_comm = true;
           return d.unix_peer.comm;
         },
         5},
    Integer{"uid", Presence::kRequired,
            [](const RowView& r) { return std::optional<uint64_t>(r.socket.uid); },
            [](RowDraft& d) -> uint32_t& { return d.socket.uid; }},
    Integer{"rxQueue", Presence::kRequired,
            [](const RowView& r) { return std::optional<uint64_t>(r.socket.rx_queue); },
            [](RowDraft& d) -> uint32_t& { return d.socket.rx_queue; }},
    Integer{"txQueue", Presence::kRequired,
            [](const RowView& r) { return std::optional<uint64_t>(r.socket.tx_queue); },
            [](RowDraft& d) -> uint32_t& { return d.socket.tx_queue; }},
    Integer{"cookie", Presence::kRequired,
            [](const RowView& r) { return std::optional<uint64_t>(r.socket.cookie); },
            [](RowDraft& d) -> uint64_t& { return d.socket.cookie; }},
    // By name: interface numbers mean nothing off their node.
    Text{"interface", Presence::kOptional,
         [](const RowView& r) {
           if (r.socket.ifindex == 0) return std::optional<std::string_view>();
           static const Column* const column = find_column("interface");
           r.scratch.clear();
           column->text(r.snap, r.row, r.scratch);
           return std::optional(r.formatted());
         },
         [](RowDraft& d) -> std::string& { return d.interface; }},
    object<kTcpInfoFields>(
        "tcpInfo", Presence::kOptional, [](const RowView& r) { return r.tcp; },
        [](RowDraft& d) -> TcpInfo& { return d.tcp; },
        [](TcpInfo& t) -> Checked {
          t.valid = true;
          return std::nullopt;
        }),
};

// ---- Walking the description
// ----------------------------------------------------------------------

template <typename T>
bool has(const T* p) {
  return p != nullptr;
}
template <typename T>
bool has(const T& /*value*/) {
  return true;
}
template <typename T>
const T& deref(const T* p) {
  return *p;
}
template <typename T>
const T& deref(const T& value) {
  return value;
}

template <const auto& Members, typename View>
void write_members(StructuredWriter& w, const View& v);

template <typename Field, typename View>
void write_field(StructuredWriter& w, const View& v, const Field& f) {
  if constexpr (Field::kKind == Kind::kText || Field::kKind == Kind::kInteger ||
                Field::kKind == Kind::kNumber || Field::kKind == Kind::kBoolean) {
    if constexpr (requires { f.revision; } && std::is_same_v<View, RowView>) {
      if (f.revision > v.revision) return;
    }
    if (auto value = f.get(v)) w.field(f.key, *value);
  } else if constexpr (Field::kKind == Kind::kLabels) {
    const Labels* labels = f.get(v);
    if (labels == nullptr || labels->empty()) return;
    w.begin_object(f.key);
    for (const auto& [key, value] : *labels) w.field(key, value);
    w.end_object();
  } else if constexpr (Field::kKind == Kind::kObject) {
    if constexpr (std::is_same_v<View, RowView>) {
      if (f.revision > v.revision) return;
    }
    auto child = f.view(v);
    if (!has(child) && f.presence == Presence::kOptional) return;
    w.begin_object(f.key);
    if (has(child)) write_members<Field::kMembers>(w, deref(child));
    w.end_object();
  } else {
    static_assert(Field::kKind == Kind::kList);
    size_t count = f.count(v);
    if (count == 0) return;
    w.begin_list(f.key);
    for (size_t i = 0; i < count; ++i) {
      w.begin_list_item();
      write_members<Field::kMembers>(w, f.item(v, i));
      w.end_list_item();
    }
    w.end_list();
  }
}

template <const auto& Members, typename View>
void write_members(StructuredWriter& w, const View& v) {
  std::apply([&](const auto&... fields) { (write_field(w, v, fields), ...); }, Members);
}

template <typename Tuple>
constexpr auto keys_of(const Tuple& fields) {
  return std::apply(
      [](const auto&... f) {
        return std::array<std::string_view, sizeof...(f)>{std::string_view(f.key)...};
      },
      fields);
}

template <typename Tuple>
constexpr uint64_t required_of(const Tuple& fields) {
  return std::apply(
      [](const auto&... f) {
        uint64_t mask = 0;
        size_t i = 0;
        ((mask |=
          f.presence != Presence::kOptional && f.presence != Presence::kInet ? uint64_t{1} << i : 0,
          ++i),
         ...);
        return mask;
      },
      fields);
}

// A function's or a lambda's result and parameters.
template <typename F>
struct Signature : Signature<decltype(&F::operator())> {};
template <typename C, typename R, typename... A>
struct Signature<R (C::*)(A...) const> {
  using Result = R;
  using Args = std::tuple<A...>;
};
template <typename R, typename... A>
struct Signature<R (*)(A...)> {
  using Result = R;
  using Args = std::tuple<A...>;
};

// `revision`: the enclosing object's; its members came in with it, or later.
template <typename Tuple>
void list_fields(const Tuple& fields, const std::string& prefix, std::vector<RowFieldInfo>& out,
                 unsigned revision = 1) {
  std::apply(
      [&](const auto&... f) {
        auto one = [&](const auto& field) {
          using Field = std::remove_cvref_t<decltype(field)>;
          RowFieldInfo info{prefix + std::string(field.key),
                            "",
                            field.presence != Presence::kOptional,
                            0,
                            revision,
                            field.presence == Presence::kInet};
          if constexpr (requires { field.revision; }) {
            info.revision = std::max(revision, field.revision);
          }
          if constexpr (Field::kKind == Kind::kText) {
            info.type = "string";
          } else if constexpr (Field::kKind == Kind::kInteger) {
            info.type = "integer";
            using Set = Signature<decltype(field.set)>;
            if constexpr (std::tuple_size_v<typename Set::Args> == 1) {  // (Draft&) -> Int&
              info.max = std::numeric_limits<std::remove_reference_t<typename Set::Result>>::max();
            } else {  // a conversion from any uint64_t
              info.max = std::numeric_limits<uint64_t>::max();
            }
          } else if constexpr (Field::kKind == Kind::kNumber) {
            info.type = "number";
          } else if constexpr (Field::kKind == Kind::kBoolean) {
            info.type = "boolean";
          } else if constexpr (Field::kKind == Kind::kLabels) {
            info.type = "labels";
          } else if constexpr (Field::kKind == Kind::kObject) {
            info.type = "object";
          } else {
            info.type = "array";
          }
          std::string path = info.path;
          unsigned came_in = info.revision;
          out.push_back(std::move(info));
          if constexpr (Field::kKind == Kind::kObject) {
            list_fields(Field::kMembers, path + ".", out, came_in);
          } else if constexpr (Field::kKind == Kind::kList) {
            list_fields(Field::kMembers, path + "[].", out, came_in);
          }
        };
        (one(f), ...);
      },
      fields);
}

}  // namespace

void write_row(const Snapshot& snap, size_t row, StructuredWriter& w, fmt::memory_buffer& scratch,
               unsigned revision) {
  const SocketOwner* owner = snap.owner_of(row);
  const UnixSocketInfo* unix_socket = snap.unix_of(row);
  const RowView view{
      snap,
      row,
      snap.sockets[row],
      snap.container_of(row),
      snap.pod_of(row),
      owner != nullptr && owner->holder_count > 0 ? owner : nullptr,
      snap.tcp_info_of(row),
      snap.translation_of(row),
      unix_socket,
      unix_socket != nullptr ? snap.unix_peer_of(*unix_socket) : Snapshot::UnixPeerView{},
      scratch,
      revision};
  w.begin_item();
  write_members<kRowFields>(w, view);
  w.end_item();
}

std::vector<RowFieldInfo> row_field_list() {
  std::vector<RowFieldInfo> out;
  list_fields(kRowFields, "", out);
  return out;
}

// ---- The reader ---------------------------------------------------------------------------------

// Where the reader is, for messages: a key in an object, or an item of a list.
struct RowReader::Path {
  const Path* parent = nullptr;
  std::string_view key;  // empty for a list's item
  size_t index = 0;      // a list item's

  std::string text() const {
    std::string out = parent != nullptr ? parent->text() : std::string();
    if (key.empty()) return out + fmt::format("[{}]", index);
    if (!out.empty()) out += '.';
    out.append(key);
    return out;
  }
};

namespace {

std::string quoted_path(std::string_view path) {
  fmt::memory_buffer b;
  append_json_string(b, path, JsonStrings::kLosslessBytes);
  return fmt::to_string(b);
}

}  // namespace

std::string RowReader::quoted(std::string_view value) {
  return shown_string(value);
}

std::string RowReader::field_error(std::string_view path, std::string_view message) {
  return fmt::format("{}: {}", quoted_path(path), message);
}

bool RowReader::fail(const Path& path, std::string_view message) {
  error_ = field_error(path.text(), message);
  return false;
}

// "unknown field", "duplicate field", "missing field", with the field's path.
bool RowReader::fail(const Path* parent, std::string_view key, std::string_view what) {
  Path path{parent, key};
  error_ = fmt::format("{} field {}", what, quoted_path(path.text()));
  return false;
}

std::string RowReader::wrong_type(JsonReader::Type wanted, const JsonReader& at,
                                  std::string_view text) {
  auto described = [](JsonReader::Type type) -> std::string_view {
    switch (type) {
      case JsonReader::Type::kObject:
        return "an object";
      case JsonReader::Type::kArray:
        return "an array";
      case JsonReader::Type::kString:
        return "a string";
      case JsonReader::Type::kNumber:
        return "a number";
      case JsonReader::Type::kBool:
        return "true or false";
      case JsonReader::Type::kNull:
        return "null";
      case JsonReader::Type::kInvalid:
        break;
    }
    return "nothing";
  };
  JsonReader value = at;
  JsonReader::Type type = value.peek();
  std::string found(described(type));
  if (type != JsonReader::Type::kObject && type != JsonReader::Type::kArray &&
      type != JsonReader::Type::kInvalid) {
    size_t from = value.offset();
    (void)value.skip();
    found = shown(text.substr(from, value.offset() - from));  // the value itself
  }
  return fmt::format("expected {}, found {}", described(wanted), found);
}

bool RowReader::mismatch(JsonReader::Type wanted, JsonReader::Type at, const Path& path) {
  if (at == JsonReader::Type::kInvalid) return r_.skip();  // not JSON: the reader fails
  return fail(path, wrong_type(wanted, r_, text_));
}

template <typename Int>
bool RowReader::read_integer(Int& out, const Path& path, std::string_view& raw) {
  if (!expect(JsonReader::Type::kNumber, path)) return false;
  if (!r_.read_number_text(raw)) return false;
  constexpr uint64_t kMax = std::numeric_limits<Int>::max();
  // Digits only: up to 19 of them cannot overflow, and a loop reads them in a fraction of
  // from_chars' time; more, from_chars says whether they fit.
  uint64_t value = 0;
  bool digits = !raw.empty();
  if (raw.size() <= 19) {
    for (char c : raw) {
      auto digit = static_cast<unsigned>(c - '0');
      digits = digits && digit <= 9;
      value = value * 10 + digit;
    }
  } else {
    auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
    digits = ec == std::errc() && ptr == raw.data() + raw.size();
  }
  if (digits && value <= kMax) {
    out = static_cast<Int>(value);
    return true;
  }
  if (raw.find_first_of(".eE") != std::string_view::npos) {
    return fail(path, "expected an integer, found " + shown(raw));
  }
  return fail(path, fmt::format("{} is out of range (0 to {})", shown(raw), kMax));
}

bool RowReader::read_number(double& out, const Path& path, std::string_view& raw) {
  if (!expect(JsonReader::Type::kNumber, path)) return false;
  if (!r_.read_number_text(raw)) return false;
  auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), out);
  if (ec != std::errc() || ptr != raw.data() + raw.size()) {
    return fail(path, shown(raw) + " is out of range");
  }
  return true;
}

bool RowReader::read_labels(Labels& labels, const Path& path) {
  if (!expect(JsonReader::Type::kObject, path)) return false;
  JsonReader at = r_;
  if (socksnap::read_labels(r_, labels, NonStringLabel::kFail)) return true;
  // Read again from the object's start to say which label is not a string (or that the JSON
  // text itself is malformed).
  r_ = std::move(at);
  for (auto m = r_.object(); m.next();) {
    Path label{&path, m.key()};
    if (!expect(JsonReader::Type::kString, label) || !r_.skip()) return false;
  }
  return false;
}

bool RowReader::repeated(Repeated kind, RowDraft& draft) {
  auto& seen = seen_[static_cast<size_t>(kind)];
  JsonReader before = r_;
  size_t from = r_.offset();
  if (!r_.skip()) return false;
  auto [it, fresh] =
      seen.try_emplace(text_.substr(from, r_.offset() - from), static_cast<uint32_t>(seen.size()));
  draft.repeated[static_cast<size_t>(kind)] = RepeatedObject{it->second, fresh};
  if (fresh) r_ = std::move(before);  // back to read it
  return true;
}

template <typename Field, typename Draft>
bool RowReader::read_field(const Field& f, Draft& d, const Path& path) {
  if constexpr (Field::kKind == Kind::kText) {
    using Set = decltype(f.set);
    if (!expect(JsonReader::Type::kString, path)) return false;
    if constexpr (std::is_invocable_v<Set, Draft&>) {
      return r_.read_string(f.set(d));
    } else {
      if (!r_.read_string(buffer_)) return false;
      if (const char* problem = f.set(d, std::string_view(buffer_))) {
        return fail(path, shown_string(buffer_) + " " + problem);
      }
      return true;
    }
  } else if constexpr (Field::kKind == Kind::kInteger) {
    using Set = decltype(f.set);
    std::string_view raw;
    if constexpr (std::is_invocable_v<Set, Draft&>) {
      return read_integer(f.set(d), path, raw);
    } else {
      uint64_t value = 0;
      if (!read_integer(value, path, raw)) return false;
      if (const char* problem = f.set(d, value)) {
        return fail(path, fmt::format("{} {}", shown(raw), problem));
      }
      return true;
    }
  } else if constexpr (Field::kKind == Kind::kNumber) {
    std::string_view raw;
    double value = 0;
    if (!read_number(value, path, raw)) return false;
    if (const char* problem = f.set(d, value)) {
      return fail(path, fmt::format("{} {}", shown(raw), problem));
    }
    return true;
  } else if constexpr (Field::kKind == Kind::kBoolean) {
    if (!expect(JsonReader::Type::kBool, path)) return false;
    return r_.read_bool(f.set(d));
  } else if constexpr (Field::kKind == Kind::kLabels) {
    return read_labels(f.set(d), path);
  } else if constexpr (Field::kKind == Kind::kObject) {
    if (!expect(JsonReader::Type::kObject, path)) return false;
    if constexpr (std::is_same_v<Draft, RowDraft>) {
      if (f.repeats) {
        if (!repeated(*f.repeats, d)) return false;
        if (!d.repeated[static_cast<size_t>(*f.repeats)].fresh) return true;
      }
    }
    auto& child = f.draft(d);
    bool empty = false;
    if (!read_members<Field::kMembers>(child, &path, f.presence == Presence::kEmptyWhenNone,
                                       empty)) {
      return false;
    }
    if (empty) return true;
    if constexpr (!std::is_same_v<std::remove_cvref_t<decltype(f.check)>, NoCheck>) {
      if (Checked problem = f.check(child)) {
        Path at{&path, problem->path};
        if (problem->message.empty()) return fail(&path, problem->path, "missing");
        return fail(at, problem->message);
      }
    }
    return true;
  } else {
    static_assert(Field::kKind == Kind::kList);
    if (!expect(JsonReader::Type::kArray, path)) return false;
    auto& items = f.items(d);
    size_t index = 0;
    for (auto e = r_.array(); e.next(); ++index) {
      Path item{&path, {}, index};
      if (!expect(JsonReader::Type::kObject, item)) return false;
      bool empty = false;
      if (!read_members<Field::kMembers>(items.emplace_back(), &item, false, empty)) return false;
    }
    return !r_.failed();
  }
}

template <const auto& Members, typename Draft, size_t... I>
bool RowReader::dispatch(size_t i, Draft& d, const Path& path, std::index_sequence<I...> /*all*/) {
  bool ok = false;
  (void)((i == I && ((ok = read_field(std::get<I>(Members), d, path)), true)) || ...);
  return ok;
}

template <const auto& Members, typename Draft>
bool RowReader::read_members(Draft& d, const Path* path, bool empty_is_none, bool& empty) {
  constexpr size_t kCount = std::tuple_size_v<std::remove_cvref_t<decltype(Members)>>;
  static_assert(kCount <= 64, "the reader keeps an object's fields seen in one word");
  static constexpr auto kKeys = keys_of(Members);
  static constexpr uint64_t kRequired = required_of(Members);
  uint64_t present = 0;
  size_t next = 0;  // rows come in the writer's order: the field after the last is tried first
  for (auto m = r_.object(); m.next();) {
    std::string_view key = m.key();
    size_t i =
        next < kCount && kKeys[next] == key
            ? next
            : static_cast<size_t>(std::find(kKeys.begin(), kKeys.end(), key) - kKeys.begin());
    if (i == kCount) return fail(path, key, "unknown");
    if ((present & (uint64_t{1} << i)) != 0) return fail(path, key, "duplicate");
    present |= uint64_t{1} << i;
    next = i + 1;
    Path here{path, kKeys[i]};
    if (!dispatch<Members>(i, d, here, std::make_index_sequence<kCount>())) return false;
  }
  if (r_.failed()) return false;
  empty = present == 0;
  if (empty && empty_is_none) return true;
  if (uint64_t missing = kRequired & ~present; missing != 0) {
    return fail(path, kKeys[static_cast<size_t>(std::countr_zero(missing))], "missing");
  }
  return true;
}

bool RowReader::read(RowDraft& draft) {
  error_.clear();
  if (JsonReader::Type at = r_.peek(); at != JsonReader::Type::kObject) {
    if (at == JsonReader::Type::kInvalid) return r_.skip();  // not JSON: the reader fails
    error_ = wrong_type(JsonReader::Type::kObject, r_, text_);
    return false;
  }
  bool empty = false;
  if (!read_members<kRowFields>(draft, nullptr, false, empty)) return false;
  if (Checked problem = check_row(draft)) {
    if (problem->message.empty()) return fail(nullptr, problem->path, "missing");
    Path at{nullptr, problem->path};
    return fail(at, problem->message);
  }
  return true;
}

}  // namespace socksnap
