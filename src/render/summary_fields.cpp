// A group's fields as leaves: each a key, the object it is in ("" at the top), its type. A column
// writes some leaves; a group writes those of its columns with a value, each once. Reading takes
// only the leaves its columns write and turns them back into one row of a snapshot.
#include "render/summary_fields.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>

#include "model/address.h"
#include "model/labels.h"
#include "model/states.h"
#include "render/row_fields.h"

namespace socksnap {
namespace {

enum class Type : uint8_t { kString, kInteger, kNumber, kBoolean, kLabels };

// In each object, the order of a row's fields.
enum Leaf : uint8_t {
  kNetns,
  kProtocol,
  kStatus,
  kInode,
  kDirection,
  kPid,
  kComm,
  kType,
  kPeerInode,
  kPeerPid,
  kPeerComm,
  kUid,
  kRxQueue,
  kTxQueue,
  kCookie,
  kInterface,
  kNode,
  kPodNamespace,
  kPodName,
  kK8sContainerName,
  kHostNetwork,
  kPodLabels,
  kRuntimeName,
  kContainerId,
  kContainerName,
  kContainerPid,
  kContainerImage,
  kSrcAddr,
  kSrcVersion,
  kSrcKind,
  kSrcNamespace,
  kSrcPodname,
  kSrcName,
  kSrcLabels,
  kSrcPort,
  kSrcPath,
  kDstAddr,
  kDstVersion,
  kDstKind,
  kDstNamespace,
  kDstPodname,
  kDstName,
  kDstLabels,
  kDstPort,
  kDstPath,
  kRtt,
  kRttvar,
  kCwnd,
  kRetrans,
  kBytesAcked,
  kBytesReceived,
  kBytesSent,
  kCongestion,
  kLeaves,
};

// An endpoint's leaves are at the same distance from its first in "src" and "dst".
constexpr size_t kEndpointLeaves = kDstAddr - kSrcAddr;
static_assert(kRtt - kDstAddr == kEndpointLeaves);

struct LeafInfo {
  std::string_view object;
  std::string_view key;
  Type type;
  uint64_t max = 0;  // integers: the largest value read
};

constexpr uint64_t kU16 = std::numeric_limits<uint16_t>::max();
constexpr uint64_t kU32 = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kU64 = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kI32 = std::numeric_limits<int32_t>::max();

constexpr std::array<LeafInfo, kLeaves> kLeafInfo = {{
    {"", "netnsid", Type::kInteger, kU64},
    {"", "protocol", Type::kString},
    {"", "status", Type::kString},
    {"", "inodeNumber", Type::kInteger, kU64},
    {"", "direction", Type::kString},
    {"", "pid", Type::kInteger, kI32},
    {"", "comm", Type::kString},
    {"", "type", Type::kString},
    {"", "peerInode", Type::kInteger, kU64},
    {"", "peerPid", Type::kInteger, kI32},
    {"", "peerComm", Type::kString},
    {"", "uid", Type::kInteger, kU32},
    {"", "rxQueue", Type::kInteger, kU32},
    {"", "txQueue", Type::kInteger, kU32},
    {"", "cookie", Type::kInteger, kU64},
    {"", "interface", Type::kString},
    {"k8s", "node", Type::kString},
    {"k8s", "namespace", Type::kString},
    {"k8s", "podName", Type::kString},
    {"k8s", "containerName", Type::kString},
    {"k8s", "hostNetwork", Type::kBoolean},
    {"k8s", "podLabels", Type::kLabels},
    {"runtime", "runtimeName", Type::kString},
    {"runtime", "containerId", Type::kString},
    {"runtime", "containerName", Type::kString},
    {"runtime", "containerPid", Type::kInteger, kI32},
    {"runtime", "containerImageName", Type::kString},
    {"src", "addr", Type::kString},
    {"src", "version", Type::kInteger, kU64},
    {"src", "kind", Type::kString},
    {"src", "namespace", Type::kString},
    {"src", "podname", Type::kString},
    {"src", "name", Type::kString},
    {"src", "podlabels", Type::kLabels},
    {"src", "port", Type::kInteger, kU16},
    {"src", "path", Type::kString},
    {"dst", "addr", Type::kString},
    {"dst", "version", Type::kInteger, kU64},
    {"dst", "kind", Type::kString},
    {"dst", "namespace", Type::kString},
    {"dst", "podname", Type::kString},
    {"dst", "name", Type::kString},
    {"dst", "podlabels", Type::kLabels},
    {"dst", "port", Type::kInteger, kU16},
    {"dst", "path", Type::kString},
    {"tcpInfo", "rtt", Type::kNumber},
    {"tcpInfo", "rttvar", Type::kNumber},
    {"tcpInfo", "cwnd", Type::kInteger, kU32},
    {"tcpInfo", "retrans", Type::kInteger, kU32},
    {"tcpInfo", "bytesAcked", Type::kInteger, kU64},
    {"tcpInfo", "bytesReceived", Type::kInteger, kU64},
    {"tcpInfo", "bytesSent", Type::kInteger, kU64},
    {"tcpInfo", "congestion", Type::kString},
}};

constexpr std::array<std::string_view, 5> kObjects = {"k8s", "runtime", "src", "dst", "tcpInfo"};

// An endpoint's leaves written only when the cluster names its address.
bool named_only(size_t leaf) {
  size_t at = leaf >= kDstAddr ? leaf - kEndpointLeaves : leaf;
  return at >= kSrcNamespace && at <= kSrcLabels;
}

// An endpoint's leaves: an IP socket's (address, version, kind, names, port), or a unix
// socket's (its path). A group has one kind or the other.
bool endpoint_leaf(size_t leaf) {
  return leaf >= kSrcAddr && leaf <= kDstPath;
}
bool path_leaf(size_t leaf) {
  return leaf == kSrcPath || leaf == kDstPath;
}
// Leaves only a unix socket's group has, but its paths.
bool unix_leaf(size_t leaf) {
  return leaf == kType || leaf == kPeerInode || leaf == kPeerPid || leaf == kPeerComm;
}

std::string path_of(size_t leaf) {
  const LeafInfo& info = kLeafInfo[leaf];
  if (info.object.empty()) return std::string(info.key);
  return fmt::format("{}.{}", info.object, info.key);
}

// A column's leaves, and whether its cell always has a value (then its leaves are required,
// but for an endpoint's names).
struct ColumnLeaves {
  std::string_view column;
  std::vector<Leaf> leaves;
  bool always = false;
};

std::vector<Leaf> endpoint(Leaf first) {
  std::vector<Leaf> out;
  for (size_t i = 0; i < kEndpointLeaves; ++i) out.push_back(static_cast<Leaf>(first + i));
  return out;
}

const std::vector<ColumnLeaves>& column_leaves() {
  static const std::vector<ColumnLeaves> kTable = {
      {"netns", {kNetns}, true},
      {"protocol", {kProtocol}, true},
      {"src", endpoint(kSrcAddr), true},
      {"dst", endpoint(kDstAddr), true},
      {"status", {kStatus}, true},
      {"inode", {kInode}, true},
      // Empty for a unix socket; a group of unix sockets says "protocol" (write_group).
      {"src.addr", {kSrcAddr}, true},
      {"src.port", {kSrcPort}, true},
      {"dst.addr", {kDstAddr}, true},
      {"dst.port", {kDstPort}, true},
      {"ipversion", {kSrcVersion}, true},
      {"uid", {kUid}, true},
      {"rx.queue", {kRxQueue}, true},
      {"tx.queue", {kTxQueue}, true},
      {"interface", {kInterface}},
      {"cookie", {kCookie}, true},
      {"type", {kType}},
      {"src.path", {kSrcPath}},
      {"dst.path", {kDstPath}},
      {"peer.inode", {kPeerInode}},
      {"rtt", {kRtt}},
      {"rttvar", {kRttvar}},
      {"cwnd", {kCwnd}},
      {"retrans", {kRetrans}},
      {"bytes.acked", {kBytesAcked}},
      {"bytes.received", {kBytesReceived}},
      {"bytes.sent", {kBytesSent}},
      {"congestion", {kCongestion}},
      {"direction", {kDirection}},
      {"pid", {kPid}},
      {"comm", {kComm}},
      {"peer.pid", {kPeerPid}},
      {"peer.comm", {kPeerComm}},
      {"k8s.node", {kNode}},
      {"k8s.namespace", {kPodNamespace}},
      {"k8s.podName", {kPodName}},
      {"k8s.containerName", {kK8sContainerName}},
      {"k8s.labels", {kPodLabels}},
      {"k8s.hostNetwork", {kHostNetwork}},
      {"runtime.runtimeName", {kRuntimeName}},
      {"runtime.containerId", {kContainerId}},
      {"runtime.containerName", {kContainerName}},
      {"runtime.containerPid", {kContainerPid}},
      {"runtime.containerImageName", {kContainerImage}},
  };
  return kTable;
}

const ColumnLeaves* leaves_of(const Column& column) {
  for (const auto& entry : column_leaves()) {
    if (entry.column == column.name) return &entry;
  }
  return nullptr;
}

// ---- Writing ------------------------------------------------------------------------------------

const EndpointName* endpoint_name(const Snapshot& snap, size_t row, size_t leaf) {
  return leaf >= kDstAddr ? snap.dst_name_of(row) : snap.src_name_of(row);
}

void write_leaf(StructuredWriter& w, size_t leaf, const Snapshot& snap, size_t row,
                fmt::memory_buffer& scratch) {
  const SocketRecord& s = snap.sockets[row];
  std::string_view key = kLeafInfo[leaf].key;
  const PodInfo* pod = snap.pod_of(row);
  const ContainerInfo* container = snap.container_of(row);
  const TcpInfo* tcp = snap.tcp_info_of(row);
  auto text_of = [&](const char* column) {
    scratch.clear();
    find_column(column)->text(snap, row, scratch);
    return std::string_view(scratch.data(), scratch.size());
  };
  bool dst = leaf >= kDstAddr && leaf < kRtt;
  size_t at = dst ? leaf - kEndpointLeaves : leaf;
  const EndpointName* name = endpoint_name(snap, row, leaf);
  const UnixSocketInfo* unix_socket = snap.unix_of(row);
  switch (static_cast<Leaf>(at)) {
    case kNetns:
      return w.field(key, s.netns);
    case kProtocol:
      return w.field(key, protocol_name(s.protocol));
    case kStatus:
      return w.field(key, text_of("status"));
    case kInode:
      return w.field(key, s.inode);
    case kDirection:
      return w.field(key, direction_name(snap.direction_of(row)));
    case kPid:
      return w.field(key, static_cast<uint64_t>(snap.first_holder_of(row)->pid));
    case kComm:
      return w.field(key, std::string_view(snap.first_holder_of(row)->comm));
    case kType:
      return w.field(key, text_of("type"));
    case kPeerInode:
      return w.field(key, unix_socket->peer_inode);
    case kPeerPid:
      return w.field(key, static_cast<uint64_t>(snap.unix_peer_of(*unix_socket).pid));
    case kPeerComm:
      return w.field(key, snap.unix_peer_of(*unix_socket).comm);
    case kSrcPath:
      return w.field(key, text_of(dst ? "dst.path" : "src.path"));
    case kUid:
      return w.field(key, uint64_t{s.uid});
    case kRxQueue:
      return w.field(key, uint64_t{s.rx_queue});
    case kTxQueue:
      return w.field(key, uint64_t{s.tx_queue});
    case kCookie:
      return w.field(key, s.cookie);
    case kInterface:
      return w.field(key, text_of("interface"));
    case kNode:
      return w.field(key, std::string_view(snap.node_of(row)));
    case kPodNamespace:
      return w.field(key, std::string_view(pod->pod_namespace));
    case kPodName:
      return w.field(key, std::string_view(pod->name));
    case kK8sContainerName:
    case kContainerName:
      return w.field(key, std::string_view(container->name));
    case kHostNetwork:
      return w.field(key, pod->host_network);
    case kPodLabels:
      w.begin_object(key);
      for (const auto& [k, v] : pod->labels) w.field(k, v);
      return w.end_object();
    case kRuntimeName:
      return w.field(key, std::string_view(container->runtime));
    case kContainerId:
      return w.field(key, std::string_view(container->id));
    case kContainerPid:
      return w.field(key, static_cast<uint64_t>(container->pid));
    case kContainerImage:
      return w.field(key, std::string_view(container->image));
    case kSrcAddr:
      scratch.clear();
      append_address(scratch, s.ip_version, dst ? s.dst_addr : s.src_addr);
      return w.field(key, std::string_view(scratch.data(), scratch.size()));
    case kSrcVersion:
      return w.field(key, uint64_t{s.ip_version});
    case kSrcKind:
      return w.field(key, name == nullptr                    ? "raw"
                          : name->kind == EndpointKind::kPod ? "pod"
                                                             : "svc");
    case kSrcNamespace:
      return w.field(key, std::string_view(name->name_namespace));
    case kSrcPodname:
    case kSrcName:
      return w.field(key, std::string_view(name->name));
    case kSrcLabels:
      w.begin_object(key);
      for (const auto& [k, v] : name->labels) w.field(k, v);
      return w.end_object();
    case kSrcPort:
      return w.field(key, uint64_t{dst ? s.dst_port : s.src_port});
    case kRtt:
      return w.field(key, tcp->rtt_us / 1000.0);
    case kRttvar:
      return w.field(key, tcp->rttvar_us / 1000.0);
    case kCwnd:
      return w.field(key, uint64_t{tcp->snd_cwnd});
    case kRetrans:
      return w.field(key, uint64_t{tcp->total_retrans});
    case kBytesAcked:
      return w.field(key, tcp->bytes_acked);
    case kBytesReceived:
      return w.field(key, tcp->bytes_received);
    case kBytesSent:
      return w.field(key, tcp->bytes_sent);
    case kCongestion:
      return w.field(key, std::string_view(tcp->congestion.data()));
    default:
      return;  // the dst leaves are written as the src ones
  }
}

// ---- Reading ------------------------------------------------------------------------------------

}  // namespace

void write_group(const Snapshot& snap, const SummaryGroup& group,
                 const std::vector<const Column*>& by, StructuredWriter& w,
                 fmt::memory_buffer& scratch) {
  std::bitset<kLeaves> written;
  std::vector<std::string_view> order;  // the top-level keys, as they first come
  bool unix_group = snap.sockets[group.row].protocol == Protocol::kUnix;
  if (unix_group) {
    // Said whatever the columns: the reader could not tell a unix group's empty address or
    // port (src.addr, src.port, ipversion, ...) from a value left out.
    written.set(kProtocol);
    order.push_back(kLeafInfo[kProtocol].key);
  }
  for (size_t c = 0; c < by.size(); ++c) {
    if (group.values[c].empty()) continue;
    const ColumnLeaves* leaves = leaves_of(*by[c]);
    if (leaves == nullptr) continue;
    for (Leaf leaf : leaves->leaves) {
      // An endpoint is an IP socket's address or a unix socket's path.
      if (endpoint_leaf(leaf) && path_leaf(leaf) != unix_group) continue;
      if (named_only(leaf)) {
        const EndpointName* name = endpoint_name(snap, group.row, leaf);
        bool labels = leaf == kSrcLabels || leaf == kDstLabels;
        if (name == nullptr || (labels && name->labels.empty())) continue;
      }
      if (written.test(leaf)) continue;
      written.set(leaf);
      const LeafInfo& info = kLeafInfo[leaf];
      std::string_view top = info.object.empty() ? info.key : info.object;
      if (std::find(order.begin(), order.end(), top) == order.end()) order.push_back(top);
    }
  }
  w.begin_item();
  for (std::string_view top : order) {
    bool object = std::find(kObjects.begin(), kObjects.end(), top) != kObjects.end();
    if (object) w.begin_object(top);
    for (size_t leaf = 0; leaf < kLeaves; ++leaf) {
      const LeafInfo& info = kLeafInfo[leaf];
      if (written.test(leaf) && (object ? info.object == top : info.key == top)) {
        write_leaf(w, leaf, snap, group.row, scratch);
      }
    }
    if (object) w.end_object();
  }
  w.field("count", group.weight.count);
  if (group.shows_queues()) {
    w.field("acceptQueue", group.weight.accept_queue);
    w.field("backlog", group.weight.backlog);
  }
  w.end_item();
}

std::vector<std::string> group_field_paths(const Column& column) {
  std::vector<std::string> paths;
  if (const ColumnLeaves* leaves = leaves_of(column)) {
    for (Leaf leaf : leaves->leaves) paths.push_back(path_of(leaf));
  }
  return paths;
}

// What the columns asked for allow and require.
struct GroupReader::Plan {
  std::bitset<kLeaves> allowed;
  std::bitset<kLeaves> required;
  bool protocol_asked = false;    // else "protocol" comes only as "UNIX", for a unix group
  bool listener_columns = false;  // status or direction: acceptQueue and backlog may come
};

struct GroupReader::Draft {
  std::bitset<kLeaves> seen;
  std::array<std::string, kLeaves> text;
  std::array<uint64_t, kLeaves> integer{};
  std::array<double, kLeaves> number{};
  bool host_network = false;
  std::array<Labels, 3> labels;  // the pod's, src's, dst's
  std::optional<uint64_t> count;
  std::optional<uint64_t> accept_queue;
  std::optional<uint64_t> backlog;

  Labels& labels_of(size_t leaf) {
    return labels[leaf == kPodLabels ? 0 : (leaf == kSrcLabels ? 1 : 2)];
  }
};

GroupReader::GroupReader(JsonReader& r, std::string_view text, const std::vector<const Column*>& by)
    : r_(r), text_(text), plan_(std::make_unique<Plan>()) {
  for (const Column* column : by) {
    const ColumnLeaves* leaves = leaves_of(*column);
    if (leaves == nullptr) continue;
    for (Leaf leaf : leaves->leaves) {
      plan_->allowed.set(leaf);
      if (leaves->always && !named_only(leaf) && !path_leaf(leaf)) plan_->required.set(leaf);
    }
  }
  plan_->protocol_asked = plan_->allowed.test(kProtocol);
  plan_->allowed.set(kProtocol);
  plan_->listener_columns = groups_listeners(by);
}

GroupReader::~GroupReader() = default;

bool GroupReader::fail(std::string message) {
  error_ = std::move(message);
  return false;
}

bool GroupReader::wrong_type(JsonReader::Type wanted, std::string_view path) {
  if (r_.peek() == JsonReader::Type::kInvalid) return r_.skip();  // not JSON: the reader fails
  return fail(RowReader::field_error(path, RowReader::wrong_type(wanted, r_, text_)));
}

bool GroupReader::read(Snapshot& into, GroupWeight& weight) {
  error_.clear();
  Draft draft;
  if (!read_object(draft)) return false;
  return check_and_add(draft, into, weight);
}

bool GroupReader::read_object(Draft& draft) {
  if (r_.peek() != JsonReader::Type::kObject) return wrong_type(JsonReader::Type::kObject, "");
  std::bitset<kObjects.size()> objects_seen;
  for (auto m = r_.object(); m.next();) {
    std::string key(m.key());
    std::optional<uint64_t>* own = key == "count"         ? &draft.count
                                   : key == "acceptQueue" ? &draft.accept_queue
                                   : key == "backlog"     ? &draft.backlog
                                                          : nullptr;
    if (own != nullptr) {
      if (own->has_value()) return fail("duplicate field " + RowReader::quoted(key));
      if (r_.peek() != JsonReader::Type::kNumber) {
        return wrong_type(JsonReader::Type::kNumber, key);
      }
      std::string_view raw;
      if (!r_.read_number_text(raw)) return false;
      uint64_t value = 0;
      auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
      if (ec != std::errc() || ptr != raw.data() + raw.size()) {
        return fail(
            RowReader::field_error(key, "expected a count (0 or more), found " + std::string(raw)));
      }
      *own = value;
      continue;
    }
    auto object = std::find(kObjects.begin(), kObjects.end(), key);
    if (object != kObjects.end()) {
      bool any = false;
      for (size_t leaf = 0; leaf < kLeaves; ++leaf) {
        any = any || (plan_->allowed.test(leaf) && kLeafInfo[leaf].object == key);
      }
      if (any) {
        auto index = static_cast<size_t>(object - kObjects.begin());
        if (objects_seen.test(index)) return fail("duplicate field " + RowReader::quoted(key));
        objects_seen.set(index);
        if (!read_members(*object, draft)) return false;
        continue;
      }
    }
    size_t leaf = 0;
    while (leaf < kLeaves && !(kLeafInfo[leaf].object.empty() && kLeafInfo[leaf].key == key)) {
      ++leaf;
    }
    if (leaf == kLeaves || !plan_->allowed.test(leaf)) {
      return fail("unknown field " + RowReader::quoted(key));
    }
    if (draft.seen.test(leaf)) return fail("duplicate field " + RowReader::quoted(key));
    if (!read_leaf(leaf, draft)) return false;
  }
  return !r_.failed();
}

bool GroupReader::read_members(std::string_view object, Draft& draft) {
  if (r_.peek() != JsonReader::Type::kObject) {
    return wrong_type(JsonReader::Type::kObject, object);
  }
  for (auto m = r_.object(); m.next();) {
    std::string key(m.key());
    size_t leaf = 0;
    while (leaf < kLeaves && !(kLeafInfo[leaf].object == object && kLeafInfo[leaf].key == key)) {
      ++leaf;
    }
    std::string path = fmt::format("{}.{}", object, key);
    if (leaf == kLeaves || !plan_->allowed.test(leaf)) {
      return fail("unknown field " + RowReader::quoted(path));
    }
    if (draft.seen.test(leaf)) return fail("duplicate field " + RowReader::quoted(path));
    if (!read_leaf(leaf, draft)) return false;
  }
  return !r_.failed();
}

bool GroupReader::read_leaf(size_t leaf, Draft& draft) {
  const LeafInfo& info = kLeafInfo[leaf];
  std::string path = path_of(leaf);
  draft.seen.set(leaf);
  switch (info.type) {
    case Type::kString:
      if (r_.peek() != JsonReader::Type::kString) {
        return wrong_type(JsonReader::Type::kString, path);
      }
      return r_.read_string(draft.text[leaf]);
    case Type::kInteger: {
      if (r_.peek() != JsonReader::Type::kNumber) {
        return wrong_type(JsonReader::Type::kNumber, path);
      }
      std::string_view raw;
      if (!r_.read_number_text(raw)) return false;
      uint64_t value = 0;
      auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
      if (ec == std::errc() && ptr == raw.data() + raw.size() && value <= info.max) {
        draft.integer[leaf] = value;
        return true;
      }
      if (raw.find_first_of(".eE") != std::string_view::npos) {
        return fail(RowReader::field_error(path, "expected an integer, found " + std::string(raw)));
      }
      return fail(
          RowReader::field_error(path, fmt::format("{} is out of range (0 to {})", raw, info.max)));
    }
    case Type::kNumber:
      if (r_.peek() != JsonReader::Type::kNumber) {
        return wrong_type(JsonReader::Type::kNumber, path);
      }
      return r_.read_double(draft.number[leaf]);
    case Type::kBoolean: {
      if (r_.peek() != JsonReader::Type::kBool) return wrong_type(JsonReader::Type::kBool, path);
      return r_.read_bool(draft.host_network);
    }
    case Type::kLabels: {
      if (r_.peek() != JsonReader::Type::kObject) {
        return wrong_type(JsonReader::Type::kObject, path);
      }
      JsonReader at = r_;
      if (read_labels(r_, draft.labels_of(leaf), NonStringLabel::kFail)) return true;
      // Read again to say which label is not a string (or that the text is malformed).
      r_ = std::move(at);
      for (auto m = r_.object(); m.next();) {
        std::string label = fmt::format("{}.{}", path, m.key());
        if (r_.peek() != JsonReader::Type::kString) {
          return wrong_type(JsonReader::Type::kString, label);
        }
        if (!r_.skip()) return false;
      }
      return false;
    }
  }
  return false;
}

bool GroupReader::check_and_add(Draft& d, Snapshot& into, GroupWeight& weight) {
  auto bad = [&](size_t leaf, std::string_view message) {
    return fail(RowReader::field_error(path_of(leaf), message));
  };
  // A group of unix sockets: its endpoints are paths, it has none of an IP socket's.
  bool unix_group = d.seen.test(kProtocol) && d.text[kProtocol] == protocol_name(Protocol::kUnix);
  if (d.seen.test(kProtocol) && !plan_->protocol_asked && !unix_group) {
    return fail("unknown field " + RowReader::quoted(path_of(kProtocol)));
  }
  for (size_t leaf = 0; leaf < kLeaves; ++leaf) {
    if (d.seen.test(leaf) && (path_leaf(leaf) || unix_leaf(leaf)) && !unix_group) {
      return bad(leaf, R"(is for a group of unix sockets ("protocol": "UNIX"))");
    }
    if (d.seen.test(leaf) && endpoint_leaf(leaf) && !path_leaf(leaf) && unix_group) {
      return bad(leaf, "is for a group of IP sockets, and this one's protocol is UNIX");
    }
  }
  for (size_t leaf = 0; leaf < kLeaves; ++leaf) {
    if (plan_->required.test(leaf) && !d.seen.test(leaf) && !(unix_group && endpoint_leaf(leaf))) {
      return fail("missing field " + RowReader::quoted(path_of(leaf)));
    }
  }
  if (!d.count) return fail(R"(missing field "count")");
  if (*d.count == 0) return fail(RowReader::field_error("count", "0 is not a group's count"));
  if (d.accept_queue.has_value() != d.backlog.has_value()) {
    return fail(std::string("missing field ") + (d.backlog ? R"("acceptQueue")" : R"("backlog")"));
  }

  SocketRecord s;
  if (d.seen.test(kNetns)) s.netns = d.integer[kNetns];
  if (d.seen.test(kProtocol)) {
    auto protocol = protocol_named(d.text[kProtocol]);
    if (!protocol) {
      return bad(kProtocol,
                 RowReader::quoted(d.text[kProtocol]) + " is not TCP, UDP, UDPLITE or UNIX");
    }
    s.protocol = *protocol;
  }
  if (d.seen.test(kStatus)) {
    // Without the protocol, any protocol's state of that name (UDP's own, else TCP's).
    std::optional<uint8_t> state = state_named(s.protocol, d.text[kStatus]);
    for (Protocol other : {Protocol::kUdp, Protocol::kUnix}) {
      if (state || d.seen.test(kProtocol)) break;
      state = state_named(other, d.text[kStatus]);
      if (state) s.protocol = other;
    }
    if (!state) {
      return bad(kStatus, fmt::format("{} is not a state of {}", RowReader::quoted(d.text[kStatus]),
                                      d.seen.test(kProtocol) ? protocol_name(s.protocol)
                                                             : "TCP, UDP or UNIX"));
    }
    s.state = *state;
  }
  Direction direction = Direction::kUnknown;
  if (d.seen.test(kDirection)) {
    auto named = direction_named(d.text[kDirection]);
    if (!named) {
      return bad(kDirection, RowReader::quoted(d.text[kDirection]) +
                                 " is not listen, inbound, outbound or local");
    }
    direction = *named;
  }
  bool listeners =
      (d.seen.test(kStatus) && d.text[kStatus] == "LISTEN") || direction == Direction::kListen;
  if (d.accept_queue && !listeners) {
    return fail(RowReader::field_error(
        "acceptQueue", plan_->listener_columns
                           ? "is only for a group of listeners (status LISTEN, direction listen)"
                           : "is only for a summary by status or direction"));
  }
  if (d.seen.test(kInode)) s.inode = d.integer[kInode];
  if (d.seen.test(kUid)) s.uid = static_cast<uint32_t>(d.integer[kUid]);
  if (d.seen.test(kRxQueue)) s.rx_queue = static_cast<uint32_t>(d.integer[kRxQueue]);
  if (d.seen.test(kTxQueue)) s.tx_queue = static_cast<uint32_t>(d.integer[kTxQueue]);
  if (d.seen.test(kCookie)) s.cookie = d.integer[kCookie];

  // The endpoints: one IP version for the row, from the versions given and the addresses.
  std::optional<uint8_t> version;
  auto agree = [&](uint8_t v, size_t leaf, std::string_view what) {
    if (version && *version != v) {
      return bad(leaf, fmt::format("{} is IPv{}, and the group's other endpoint fields IPv{}", what,
                                   v, *version));
    }
    version = v;
    return true;
  };
  for (size_t first : {size_t{kSrcAddr}, size_t{kDstAddr}}) {
    size_t version_leaf = first + (kSrcVersion - kSrcAddr);
    if (!d.seen.test(version_leaf)) continue;
    uint64_t v = d.integer[version_leaf];
    if (v != 4 && v != 6) return bad(version_leaf, fmt::format("{} is neither 4 nor 6", v));
    if (!agree(static_cast<uint8_t>(v), version_leaf, std::to_string(v))) return false;
  }
  std::array<std::array<uint8_t, 16>, 2> addresses{};
  for (size_t e = 0; e < 2; ++e) {
    size_t leaf = e == 0 ? kSrcAddr : kDstAddr;
    if (!d.seen.test(leaf)) continue;
    const std::string& text = d.text[leaf];
    uint8_t v = 0;
    if ((!version || *version == 4) &&
        ::inet_pton(AF_INET, text.c_str(), addresses[e].data()) == 1) {
      v = 4;
    } else if ((!version || *version == 6) &&
               ::inet_pton(AF_INET6, text.c_str(), addresses[e].data()) == 1) {
      v = 6;
    } else {
      return bad(leaf, fmt::format("{} is not an IP{} address", RowReader::quoted(text),
                                   version ? fmt::format("v{}", *version) : std::string()));
    }
    if (!agree(v, leaf, RowReader::quoted(text))) return false;
  }
  s.ip_version = s.protocol == Protocol::kUnix ? 0 : version.value_or(4);
  s.src_addr = addresses[0];
  s.dst_addr = addresses[1];
  if (d.seen.test(kSrcPort)) s.src_port = static_cast<uint16_t>(d.integer[kSrcPort]);
  if (d.seen.test(kDstPort)) s.dst_port = static_cast<uint16_t>(d.integer[kDstPort]);

  // Names of the endpoints, as a row carries them.
  SocketEndpoints names{kNone, kNone};
  for (size_t e = 0; e < 2; ++e) {
    size_t base = e == 0 ? 0 : kEndpointLeaves;
    size_t kind_leaf = kSrcKind + base;
    std::string_view kind =
        d.seen.test(kind_leaf) ? std::string_view(d.text[kind_leaf]) : std::string_view("raw");
    bool any_name = false;
    for (size_t leaf = kSrcNamespace + base; leaf <= kSrcLabels + base; ++leaf) {
      any_name = any_name || d.seen.test(leaf);
    }
    if (kind == "raw") {
      if (any_name) {
        for (size_t leaf = kSrcNamespace + base; leaf <= kSrcLabels + base; ++leaf) {
          if (d.seen.test(leaf)) {
            return bad(leaf, "is for a named endpoint, and this one is \"raw\"");
          }
        }
      }
      continue;
    }
    if (kind != "pod" && kind != "svc") {
      return bad(kind_leaf, RowReader::quoted(kind) + " is not raw, pod or svc");
    }
    for (size_t leaf : {kSrcNamespace + base, kSrcPodname + base, kSrcName + base}) {
      if (!d.seen.test(leaf)) return fail("missing field " + RowReader::quoted(path_of(leaf)));
    }
    if (d.text[kSrcName + base] != d.text[kSrcPodname + base]) {
      return bad(kSrcName + base, fmt::format("{} is not the same as \"podname\" {}",
                                              RowReader::quoted(d.text[kSrcName + base]),
                                              RowReader::quoted(d.text[kSrcPodname + base])));
    }
    auto index = static_cast<int32_t>(into.endpoints.size());
    into.endpoints.push_back(
        EndpointName{kind == "pod" ? EndpointKind::kPod : EndpointKind::kService,
                     std::move(d.text[kSrcNamespace + base]), std::move(d.text[kSrcName + base]),
                     std::move(d.labels[e + 1])});
    (e == 0 ? names.src : names.dst) = index;
  }

  TcpInfo tcp;
  for (size_t leaf = kRtt; leaf <= kCongestion; ++leaf) tcp.valid = tcp.valid || d.seen.test(leaf);
  for (size_t leaf : {size_t{kRtt}, size_t{kRttvar}}) {
    if (!d.seen.test(leaf)) continue;
    double ms = d.number[leaf];
    if (!(ms >= 0 && ms <= 4294967.295)) return bad(leaf, "is out of range (0 to 4294967.295)");
    (leaf == kRtt ? tcp.rtt_us : tcp.rttvar_us) = static_cast<uint32_t>(std::llround(ms * 1000));
  }
  tcp.snd_cwnd = static_cast<uint32_t>(d.integer[kCwnd]);
  tcp.total_retrans = static_cast<uint32_t>(d.integer[kRetrans]);
  tcp.bytes_acked = d.integer[kBytesAcked];
  tcp.bytes_received = d.integer[kBytesReceived];
  tcp.bytes_sent = d.integer[kBytesSent];
  if (d.seen.test(kCongestion)) {
    const std::string& name = d.text[kCongestion];
    if (name.size() >= tcp.congestion.size()) return bad(kCongestion, "is longer than 15 bytes");
    if (name.find('\0') != std::string::npos) return bad(kCongestion, "holds a NUL byte");
    std::copy(name.begin(), name.end(), tcp.congestion.begin());
  }

  if (d.seen.test(kK8sContainerName) && d.seen.test(kContainerName) &&
      d.text[kK8sContainerName] != d.text[kContainerName]) {
    return bad(kK8sContainerName, RowReader::quoted(d.text[kK8sContainerName]) +
                                      R"( is not "runtime.containerName" )" +
                                      RowReader::quoted(d.text[kContainerName]));
  }
  node_ = d.seen.test(kNode) ? std::optional<std::string>(d.text[kNode]) : std::nullopt;

  // The row, and what it names.
  size_t row = into.sockets.size();
  auto found = std::find_if(into.namespaces.begin(), into.namespaces.end(),
                            [&](const NetnsInfo& ns) { return ns.inode == s.netns; });
  if (found == into.namespaces.end()) {
    into.namespaces.push_back(NetnsInfo{s.netns, "agent", {}, 0});
    found = into.namespaces.end() - 1;
  }
  if (d.seen.test(kInterface)) {
    // Interfaces arrive by name: numbered per namespace.
    uint32_t index = 0;
    for (const auto& [number, name] : found->interfaces) {
      if (name == d.text[kInterface]) index = number;
    }
    if (index == 0) {
      index = static_cast<uint32_t>(found->interfaces.size() + 1);
      found->interfaces.emplace(index, d.text[kInterface]);
    }
    s.ifindex = index;
  }

  SocketOwner owner;
  bool pod = d.seen.test(kPodNamespace) || d.seen.test(kPodName) || d.seen.test(kHostNetwork) ||
             d.seen.test(kPodLabels) || d.seen.test(kK8sContainerName);
  if (pod) {
    PodInfo info;
    info.pod_namespace = d.text[kPodNamespace];
    info.name = d.text[kPodName];
    info.host_network = d.host_network;
    info.labels = std::move(d.labels[0]);
    owner.pod = static_cast<int32_t>(into.pods.size());
    into.pods.push_back(std::move(info));
  }
  bool container = d.seen.test(kK8sContainerName);
  for (size_t leaf = kRuntimeName; leaf <= kContainerImage; ++leaf) {
    container = container || d.seen.test(leaf);
  }
  if (container) {
    ContainerInfo info;
    info.runtime = d.text[kRuntimeName];
    info.id = d.text[kContainerId];
    info.name = d.seen.test(kContainerName) ? d.text[kContainerName] : d.text[kK8sContainerName];
    info.image = d.text[kContainerImage];
    info.pid = static_cast<int32_t>(d.integer[kContainerPid]);
    // "k8s.containerName" is a pod's container's name.
    info.pod = d.seen.test(kK8sContainerName) ? owner.pod : kNone;
    owner.container = static_cast<int32_t>(into.containers.size());
    into.containers.push_back(std::move(info));
  }
  owner.first_holder = static_cast<uint32_t>(into.holders.size());
  if (d.seen.test(kPid) || d.seen.test(kComm)) {
    ProcessInfo process;
    process.pid = static_cast<int32_t>(d.integer[kPid]);
    process.comm = d.text[kComm];
    process.container = owner.container;
    into.holders.push_back(SocketHolder{static_cast<uint32_t>(into.processes.size()), 0});
    into.processes.push_back(std::move(process));
    owner.holder_count = 1;
  }

  if (s.protocol == Protocol::kUnix) {
    UnixSocketInfo u;
    u.row = static_cast<uint32_t>(row);
    if (d.seen.test(kType)) {
      auto type = unix_type_named(d.text[kType]);
      if (!type) {
        return bad(kType, RowReader::quoted(d.text[kType]) +
                              " is not stream, dgram, seqpacket or a type's number");
      }
      u.type = *type;
    }
    u.peer_inode = d.integer[kPeerInode];
    u.path = unix_path_from_shown(d.text[kSrcPath]);
    if (d.seen.test(kPeerPid) && d.integer[kPeerPid] == 0) {
      return bad(kPeerPid, "0 is not a process id");
    }
    UnixPeer peer{unix_path_from_shown(d.text[kDstPath]), static_cast<int32_t>(d.integer[kPeerPid]),
                  d.text[kPeerComm]};
    if (!peer.path.empty() || peer.pid != 0 || !peer.comm.empty()) {
      u.described_peer = static_cast<int32_t>(into.unix_peers.size());
      into.unix_peers.push_back(std::move(peer));
    }
    into.unix_sockets.push_back(std::move(u));
  }
  into.sockets.push_back(s);
  into.owners.resize(row);
  into.owners.push_back(owner);
  if (tcp.valid || !into.tcp_info.empty()) {
    into.tcp_info.resize(row);
    into.tcp_info.push_back(tcp);
  }
  if (direction != Direction::kUnknown || !into.directions.empty()) {
    into.directions.resize(row);
    into.directions.push_back(direction);
  }
  if (names.src != kNone || names.dst != kNone || !into.socket_endpoints.empty()) {
    into.socket_endpoints.resize(row);
    into.socket_endpoints.push_back(names);
  }
  weight.count = *d.count;
  weight.listeners = d.accept_queue ? 1 : 0;
  weight.accept_queue = d.accept_queue.value_or(0);
  weight.backlog = d.backlog.value_or(0);
  return true;
}

}  // namespace socksnap
