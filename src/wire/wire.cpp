#include "wire/wire.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "render/renderer.h"
#include "render/row_fields.h"
#include "render/structured_writer.h"
#include "render/summary_fields.h"
#include "util/json_reader.h"
#include "wire/envelope.h"

namespace socksnap {

void write_agent_reply(const Snapshot& snap, const std::vector<uint32_t>& rows,
                       const std::vector<std::string>& warnings, OutputSink& out,
                       unsigned revision) {
  fmt::memory_buffer& b = out.buffer();
  write_envelope_head(b, "Snapshot", snap.node, warnings);
  if (revision >= 4) {
    for (const NetnsInfo& ns : snap.namespaces) {
      if (ns.is_node_namespace())
        fmt::format_to(std::back_inserter(b), R"(,"nodeNetns":{})", ns.inode);
    }
  }
  b.append(std::string_view(R"(,"sockets":)"));
  if (revision < 5 && !snap.unix_sockets.empty()) {
    // A client before unix sockets refuses their rows (an agent reads none for it: this is
    // only a guard).
    std::vector<uint32_t> inet;
    for (uint32_t row : rows) {
      if (snap.sockets[row].protocol != Protocol::kUnix) inet.push_back(row);
    }
    render_structured(snap, inet, OutputFormat::kJson, out, 1, JsonStrings::kLosslessBytes,
                      revision);
  } else {
    render_structured(snap, rows, OutputFormat::kJson, out, 1, JsonStrings::kLosslessBytes,
                      revision);
  }
  out.append("}\n");
}

void write_summary_reply(const Snapshot& snap, const Summary& summary,
                         const std::vector<std::string>& warnings, OutputSink& out) {
  fmt::memory_buffer& b = out.buffer();
  write_envelope_head(b, "Summary", snap.node, warnings);
  b.append(std::string_view(R"(,"by":[)"));
  for (size_t i = 0; i < summary.by.size(); ++i) {
    if (i != 0) b.push_back(',');
    append_json_string(b, summary.by[i]->name);
  }
  b.append(std::string_view(R"(],"groups":)"));
  render_summary(snap, summary, OutputFormat::kJson, true, out, JsonStrings::kLosslessBytes);
  out.append("}\n");
}

Result<unsigned> wire_revision(const std::vector<std::pair<std::string, std::string>>& query) {
  unsigned asked = 1;
  for (const auto& [key, value] : query) {
    if (key != kWireRevisionParameter) continue;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), asked);
    if (ec == std::errc::result_out_of_range) {
      asked = kRowFieldsRevision;  // later than any: this agent's own
    } else if (ec != std::errc() || ptr != value.data() + value.size() || asked == 0) {
      return plain_error(fmt::format("query parameter {}: '{}' is not a revision (1, 2, ...)",
                                     kWireRevisionParameter, value));
    }
  }
  return std::min(asked, kRowFieldsRevision);
}

// The message for a reply in another apiVersion: what it is, and what to do about it.
std::string wire_version_mismatch(std::string_view version) {
  return fmt::format(
      "the agent answers in apiVersion {} and this client reads {}: the two are of different "
      "versions (kubectl socksnap version shows them); deploy the agent of this version, or use "
      "the client of the agent's",
      RowReader::quoted(version), kWireApiVersion);
}

// The reply's apiVersion, looked for on its own when reading it failed before it was seen: a
// reply in another apiVersion is told as that, wherever the member is.
std::optional<std::string> wire_api_version_of(std::string_view text) {
  JsonReader r(text, JsonReader::LoneSurrogates::kBytes);
  for (auto top = r.object(); top.next();) {
    if (top.key() != "apiVersion") {
      if (!r.skip()) break;
      continue;
    }
    std::string version;
    if (r.read_string(version)) return version;
    break;
  }
  return std::nullopt;
}

namespace {

// Reads one reply into a Snapshot, giving equal processes, containers and pods one entry each,
// strictly: every member of the envelope and every field of a row is one the wire has
// (render/row_fields.h), of its type and range, and what repeats agrees with itself.
class ReplyReader : EnvelopeReader {
 public:
  // `many_nodes`: the rows are of several nodes (a saved document of the plugin's), each of
  // the node its "k8s.node" names; else all of the reply's node.
  explicit ReplyReader(std::string_view text, bool many_nodes = false)
      : EnvelopeReader(text, "Snapshot"), rows_(r_, text), many_nodes_(many_nodes) {}

  // A document that is only the rows (`socksnap -o json`): a JSON array of them.
  Result<Snapshot> read_rows() {
    if (r_.peek() != JsonReader::Type::kArray) {
      std::string found = RowReader::wrong_type(JsonReader::Type::kArray, r_, text_);
      // JSON of another shape, or no JSON at all.
      if (r_.skip() && r_.finish()) return plain_error("not a JSON array of rows: " + found);
      return plain_error(fmt::format("malformed JSON at byte {}", r_.offset()));
    }
    bool ok = read_sockets() && r_.finish();
    if (ok) return std::move(reply_.snapshot);
    std::string error = error_message();
    if (!error.empty()) return plain_error(error);
    return plain_error(fmt::format("malformed JSON at byte {}", r_.offset()));
  }

  Result<AgentReply> read() {
    static constexpr std::array<std::string_view, 2> kOwn = {"sockets", "nodeNetns"};
    uint64_t node_netns = 0;
    auto done = read_envelope(
        kOwn,
        [&](size_t i, std::string_view key) {
          if (i == 0) return read_sockets();
          if (r_.peek() != JsonReader::Type::kNumber) {
            return wrong_type(JsonReader::Type::kNumber, key);
          }
          return r_.read_uint(node_netns) || fail("\"nodeNetns\": not an inode number");
        },
        [&] { return check_nodes(); }, 1);
    if (!done) return done.error();
    // The node's own namespace is named as a local run names it.
    for (NetnsInfo& ns : snap().namespaces) {
      if (node_netns != 0 && ns.inode == node_netns) ns.source = kNodeNamespaceSource;
    }
    reply_.node = std::move(node_);
    reply_.warnings = std::move(warnings_);
    reply_.snapshot.node = reply_.node;
    return std::move(reply_);
  }

 private:
  // What a "k8s" text said, kept for every row that repeats it.
  struct K8sEntry {
    std::string node;
    size_t first_socket = 0;
    int32_t pod = kNone;
    std::optional<std::string> container_name;
  };

  bool read_sockets() {
    if (r_.peek() != JsonReader::Type::kArray)
      return wrong_type(JsonReader::Type::kArray, "sockets");
    for (auto items = r_.array(); items.next();) {
      RowDraft row;
      if (!rows_.read(row)) {
        if (rows_.error().empty()) return false;  // malformed JSON
        return bad(rows_.error());
      }
      if (!add_row(row)) return false;
    }
    return !r_.failed();
  }

  // An error in the row being read (numbered from 1).
  bool bad(std::string_view message) {
    return fail(fmt::format("socket {}: {}", snap().sockets.size() + 1, message));
  }
  bool bad(std::string_view path, std::string_view message) {
    return bad(RowReader::field_error(path, message));
  }
  Snapshot& snap() { return reply_.snapshot; }

  // Every row's "k8s.node" is the reply's node (the envelope may come in any order: checked at
  // the end, once for each distinct "k8s").
  bool check_nodes() {
    for (const auto& entry : k8s_) {
      if (!entry.node.empty() && entry.node != node_) {
        return fail(fmt::format("socket {}: {}", entry.first_socket,
                                RowReader::field_error("k8s.node", RowReader::quoted(entry.node) +
                                                                       " is not the reply's node " +
                                                                       RowReader::quoted(node_))));
      }
    }
    return true;
  }

  bool add_row(RowDraft& row) {
    SocketRecord s = row.socket;
    SocketOwner owner;
    const RepeatedObject& k8s_seen = row.repeated[static_cast<size_t>(Repeated::kK8s)];
    if (k8s_seen.fresh && !add_k8s(row.k8s)) return false;
    const K8sEntry& k8s = k8s_[k8s_seen.slot];
    owner.pod = k8s.pod;
    uint16_t node = many_nodes_ ? node_index(k8s.node) : 0;
    NetnsInfo& ns = netns(s.netns, node);
    if (!row.interface.empty()) s.ifindex = interface_index(ns, row.interface);

    const RepeatedObject& runtime_seen = row.repeated[static_cast<size_t>(Repeated::kRuntime)];
    if (runtime_seen.fresh) {
      int32_t container = kNone;
      if (row.runtime.present) {
        // A container's rows all name its pod: the first one's is the container's.
        if (k8s.container_name) row.runtime.container.pod = owner.pod;
        auto index = container_index(std::move(row.runtime.container));
        if (!index) return false;
        container = *index;
      }
      runtime_.push_back(container);
    }
    owner.container = runtime_[runtime_seen.slot];
    if (!check_container_name(k8s, owner)) return false;

    owner.first_holder = static_cast<uint32_t>(snap().holders.size());
    owner.holder_count = static_cast<uint32_t>(row.holders.size());
    for (size_t i = 0; i < row.holders.size(); ++i) {
      auto index = process_index(std::move(row.holders[i].process), i, node);
      if (!index) return false;
      if (snap().processes[*index].container == kNone) {
        snap().processes[*index].container = owner.container;
      }
      snap().holders.push_back(SocketHolder{*index, row.holders[i].fd});
    }
    SocketEndpoints names{kNone, kNone};
    if (row.src.kind != EndpointDraft::Kind::kRaw || row.dst.kind != EndpointDraft::Kind::kRaw) {
      auto src = endpoint_index(std::move(row.src), "src");
      auto dst = src ? endpoint_index(std::move(row.dst), "dst") : std::nullopt;
      if (!dst) return false;
      names = {*src, *dst};
    }
    if (s.protocol == Protocol::kUnix) {
      row.unix_socket.row = static_cast<uint32_t>(snap().sockets.size());
      row.unix_socket.described_peer = unix_peer_index(std::move(row.unix_peer));
      snap().unix_sockets.push_back(std::move(row.unix_socket));
    }
    snap().sockets.push_back(s);
    snap().owners.push_back(owner);
    if (many_nodes_) snap().socket_nodes.push_back(node);
    if (row.tcp.valid || !snap().tcp_info.empty()) {
      snap().tcp_info.resize(snap().sockets.size());
      snap().tcp_info.back() = row.tcp;
    }
    if (row.direction != Direction::kUnknown || !snap().directions.empty()) {
      snap().directions.resize(snap().sockets.size());
      snap().directions.back() = row.direction;
    }
    if (row.translated.destination.valid || !snap().translations.empty()) {
      snap().translations.resize(snap().sockets.size());
      snap().translations.back() = row.translated.destination;
    }
    if (names.src != kNone || names.dst != kNone || !snap().socket_endpoints.empty()) {
      snap().socket_endpoints.resize(snap().sockets.size());
      snap().socket_endpoints.back() = names;
    }
    return true;
  }

  bool add_k8s(K8sDraft& k8s) {
    K8sEntry entry;
    entry.node = std::move(k8s.node);
    entry.first_socket = snap().sockets.size() + 1;
    entry.container_name = std::move(k8s.container_name);
    if (k8s.has_pod) {
      auto index = pod_index(std::move(k8s.pod));
      if (!index) return false;
      entry.pod = *index;
    }
    k8s_.push_back(std::move(entry));
    return true;
  }

  // "k8s.containerName" is the row's container's name when the container is its pod's, as the
  // writer writes it.
  bool check_container_name(const K8sEntry& k8s, const SocketOwner& owner) {
    ContainerInfo* container =
        owner.container != kNone ? &snap().containers[owner.container] : nullptr;
    if (!k8s.container_name) {
      if (owner.pod != kNone && container != nullptr && container->pod != kNone &&
          !container->name.empty()) {
        return bad(R"(missing field "k8s.containerName" (the container's, )" +
                   RowReader::quoted(container->name) + ")");
      }
      return true;
    }
    if (container == nullptr) {
      return bad("k8s.containerName", RowReader::quoted(*k8s.container_name) +
                                          R"( names a container, and "runtime" has none)");
    }
    if (*k8s.container_name != container->name) {
      return bad("k8s.containerName", RowReader::quoted(*k8s.container_name) +
                                          R"( is not "runtime.containerName" )" +
                                          RowReader::quoted(container->name));
    }
    if (container->pod == kNone) container->pod = owner.pod;
    return true;
  }

  NetnsInfo& netns(uint64_t inode, uint16_t node) {
    auto [it, fresh] = netns_.try_emplace({node, inode}, snap().namespaces.size());
    if (fresh) snap().namespaces.push_back(NetnsInfo{inode, "agent", {}, node});
    return snap().namespaces[it->second];
  }
  // A node of a document of several (Snapshot::nodes), by its name.
  uint16_t node_index(const std::string& name) {
    auto [it, fresh] = nodes_.try_emplace(name, static_cast<uint16_t>(snap().nodes.size()));
    if (fresh) snap().nodes.push_back(name);
    return it->second;
  }
  // A unix socket's peer as its row describes it: one entry for equal descriptions (the clients
  // of one server name the same peer); none for a peer of no name and no known process.
  int32_t unix_peer_index(UnixPeer&& peer) {
    if (peer.path.empty() && peer.pid == 0) return kNone;
    // The command's length first: a command or a name may hold any byte, a separator too.
    std::string key = fmt::format("{}:{}:{}{}", peer.pid, peer.comm.size(), peer.comm, peer.path);
    auto [it, fresh] =
        unix_peers_.try_emplace(std::move(key), static_cast<int32_t>(snap().unix_peers.size()));
    if (fresh) snap().unix_peers.push_back(std::move(peer));
    return it->second;
  }

  // Interfaces arrive by name: number them per namespace.
  static uint32_t interface_index(NetnsInfo& ns, const std::string& name) {
    for (const auto& [index, known] : ns.interfaces) {
      if (known == name) return index;
    }
    auto index = static_cast<uint32_t>(ns.interfaces.size() + 1);
    ns.interfaces.emplace(index, name);
    return index;
  }

  // A pod with a name is one entry however many rows and containers name it; one without a
  // name is its "k8s" text's own.
  std::optional<int32_t> pod_index(PodInfo&& pod) {
    auto index = static_cast<int32_t>(snap().pods.size());
    if (!pod.name.empty()) {
      auto [it, fresh] = pods_.try_emplace(pod.pod_namespace + '/' + pod.name, index);
      if (!fresh) {
        const PodInfo& known = snap().pods[it->second];
        if (known.labels != pod.labels || known.host_network != pod.host_network) {
          bad("k8s.podName",
              "pod " + RowReader::quoted(it->first) + " is not the same as in an earlier socket");
          return std::nullopt;
        }
        return it->second;
      }
    }
    snap().pods.push_back(std::move(pod));
    return index;
  }
  std::optional<int32_t> container_index(ContainerInfo&& container) {
    auto [it, fresh] =
        containers_.try_emplace(container.id, static_cast<int32_t>(snap().containers.size()));
    if (fresh) {
      snap().containers.push_back(std::move(container));
      return it->second;
    }
    const ContainerInfo& known = snap().containers[it->second];
    if (known.runtime != container.runtime || known.name != container.name ||
        known.image != container.image || known.pid != container.pid) {
      bad("runtime.containerId", "container " + RowReader::quoted(container.id) +
                                     " is not the same as in an earlier socket");
      return std::nullopt;
    }
    return it->second;
  }
  // Processes are one per pid on a node (pids repeat across nodes).
  std::optional<uint32_t> process_index(ProcessInfo&& process, size_t position, uint16_t node) {
    uint64_t key = uint64_t{node} << 32 | static_cast<uint32_t>(process.pid);
    auto [it, fresh] = processes_.try_emplace(key, static_cast<uint32_t>(snap().processes.size()));
    if (fresh) {
      snap().processes.push_back(std::move(process));
    } else if (snap().processes[it->second].comm != process.comm) {
      bad(fmt::format("processes[{}].comm", position),
          fmt::format("pid {} is not the same process as in an earlier socket", process.pid));
      return std::nullopt;
    }
    return it->second;
  }
  std::optional<int32_t> endpoint_index(EndpointDraft&& e, std::string_view which) {
    if (e.kind == EndpointDraft::Kind::kRaw) return kNone;
    EndpointName name{
        e.kind == EndpointDraft::Kind::kPod ? EndpointKind::kPod : EndpointKind::kService,
        std::move(*e.name_namespace), std::move(*e.name), std::move(e.labels)};
    std::string key =
        fmt::format("{}\n{}\n{}", static_cast<int>(name.kind), name.name_namespace, name.name);
    auto [it, fresh] =
        endpoints_.try_emplace(std::move(key), static_cast<int32_t>(snap().endpoints.size()));
    if (fresh) {
      snap().endpoints.push_back(std::move(name));
    } else if (snap().endpoints[it->second].labels != name.labels) {
      bad(fmt::format("{}.podlabels", which),
          RowReader::quoted(name.name_namespace + '/' + name.name) +
              " has other labels in an earlier socket");
      return std::nullopt;
    }
    return it->second;
  }

  RowReader rows_;
  AgentReply reply_;
  std::vector<K8sEntry> k8s_;     // by the slot of their text (RowDraft::repeated)
  std::vector<int32_t> runtime_;  // the container of each "runtime" text, by slot
  struct NetnsKeyHash {
    size_t operator()(const std::pair<uint16_t, uint64_t>& k) const {
      return std::hash<uint64_t>()(k.second * 31 + k.first);
    }
  };
  bool many_nodes_ = false;
  std::unordered_map<std::pair<uint16_t, uint64_t>, size_t, NetnsKeyHash> netns_;
  std::unordered_map<std::string, uint16_t> nodes_;
  std::unordered_map<std::string, int32_t> pods_;
  std::unordered_map<std::string, int32_t> containers_;
  std::unordered_map<uint64_t, uint32_t> processes_;
  std::unordered_map<std::string, int32_t> endpoints_;
  std::unordered_map<std::string, int32_t> unix_peers_;
};

// Reads a summary reply: its groups into one row each of a Snapshot, with their weights. The
// envelope is read as a snapshot's is (every member once, none unknown).
class SummaryReader : EnvelopeReader {
 public:
  SummaryReader(std::string_view text, const std::vector<const Column*>& by)
      : EnvelopeReader(text, "Summary"), by_(by), groups_(r_, text, by) {}

  Result<SummaryReply> read() {
    static constexpr std::array<std::string_view, 2> kOwn = {"by", "groups"};
    auto done = read_envelope(
        kOwn, [&](size_t i, std::string_view) { return i == 0 ? read_by() : read_groups(); },
        [&] { return check_nodes(); });
    if (!done) return done.error();
    reply_.node = std::move(node_);
    reply_.warnings = std::move(warnings_);
    reply_.snapshot.node = reply_.node;
    return std::move(reply_);
  }

 private:
  // Every group's "k8s.node" is the reply's node (which may come after the groups).
  bool check_nodes() {
    for (const auto& [group, node] : nodes_) {
      if (node != node_) {
        return fail(fmt::format("group {}: {}", group,
                                RowReader::field_error("k8s.node", RowReader::quoted(node) +
                                                                       " is not the reply's node " +
                                                                       RowReader::quoted(node_))));
      }
    }
    return true;
  }

  bool read_by() {
    if (r_.peek() != JsonReader::Type::kArray) return wrong_type(JsonReader::Type::kArray, "by");
    std::vector<std::string> names;
    for (auto items = r_.array(); items.next();) {
      if (!read_string(names.emplace_back(), fmt::format("by[{}]", names.size()))) return false;
    }
    if (r_.failed()) return false;
    std::vector<std::string> asked;
    for (const Column* column : by_) asked.emplace_back(column->name);
    if (names != asked) {
      std::string told;
      std::string wanted;
      for (const auto& name : names) told += (told.empty() ? "" : ",") + name;
      for (const auto& name : asked) wanted += (wanted.empty() ? "" : ",") + name;
      return fail(RowReader::field_error(
          "by", fmt::format("the agent grouped by {}, and was asked for {}",
                            RowReader::quoted(told), RowReader::quoted(wanted))));
    }
    return true;
  }

  bool read_groups() {
    if (r_.peek() != JsonReader::Type::kArray)
      return wrong_type(JsonReader::Type::kArray, "groups");
    for (auto items = r_.array(); items.next();) {
      GroupWeight weight;
      if (!groups_.read(reply_.snapshot, weight)) {
        if (groups_.error().empty()) return false;  // malformed JSON
        return fail(fmt::format("group {}: {}", reply_.weights.size() + 1, groups_.error()));
      }
      reply_.weights.push_back(weight);
      if (groups_.node()) nodes_.emplace_back(reply_.weights.size(), *groups_.node());
    }
    return !r_.failed();
  }

  const std::vector<const Column*>& by_;
  GroupReader groups_;
  SummaryReply reply_;
  std::vector<std::pair<size_t, std::string>> nodes_;  // (group, its "k8s.node")
};

}  // namespace

Result<Snapshot> parse_snapshot_rows(std::string_view text) {
  return ReplyReader(text, true).read_rows();
}

Result<AgentReply> parse_agent_reply(std::string_view text) {
  return ReplyReader(text).read();
}

Result<SummaryReply> parse_summary_reply(std::string_view text,
                                         const std::vector<const Column*>& by) {
  return SummaryReader(text, by).read();
}

void merge_node_snapshot(Snapshot& merged, Snapshot&& part, const std::string& node) {
  auto found = std::find(merged.nodes.begin(), merged.nodes.end(), node);
  auto node_index = static_cast<uint16_t>(found - merged.nodes.begin());
  if (found == merged.nodes.end()) merged.nodes.push_back(node);

  auto socket_base = merged.sockets.size();
  auto process_base = static_cast<uint32_t>(merged.processes.size());
  auto holder_base = static_cast<uint32_t>(merged.holders.size());
  auto container_base = static_cast<int32_t>(merged.containers.size());
  auto pod_base = static_cast<int32_t>(merged.pods.size());
  auto shift = [](int32_t index, int32_t base) { return index == kNone ? kNone : index + base; };

  for (auto& ns : part.namespaces) {
    ns.node = node_index;
    merged.namespaces.push_back(std::move(ns));
  }
  merged.sockets.insert(merged.sockets.end(), part.sockets.begin(), part.sockets.end());
  merged.socket_nodes.resize(merged.sockets.size(), node_index);
  auto unix_base = static_cast<int32_t>(merged.unix_sockets.size());
  auto unix_peer_base = static_cast<int32_t>(merged.unix_peers.size());
  for (auto& u : part.unix_sockets) {
    u.row += static_cast<uint32_t>(socket_base);
    u.peer = shift(u.peer, unix_base);
    u.described_peer = shift(u.described_peer, unix_peer_base);
    merged.unix_sockets.push_back(std::move(u));
  }
  for (auto& peer : part.unix_peers) merged.unix_peers.push_back(std::move(peer));
  if (!part.tcp_info.empty() || !merged.tcp_info.empty()) {
    merged.tcp_info.resize(socket_base);
    merged.tcp_info.insert(merged.tcp_info.end(), part.tcp_info.begin(), part.tcp_info.end());
    merged.tcp_info.resize(merged.sockets.size());
  }
  if (!part.directions.empty() || !merged.directions.empty()) {
    merged.directions.resize(socket_base);
    merged.directions.insert(merged.directions.end(), part.directions.begin(),
                             part.directions.end());
    merged.directions.resize(merged.sockets.size());
  }
  if (!part.translations.empty() || !merged.translations.empty()) {
    merged.translations.resize(socket_base);
    merged.translations.insert(merged.translations.end(), part.translations.begin(),
                               part.translations.end());
    merged.translations.resize(merged.sockets.size());
  }
  for (auto& p : part.processes) {
    p.container = shift(p.container, container_base);
    merged.processes.push_back(std::move(p));
  }
  for (const auto& h : part.holders) {
    merged.holders.push_back(SocketHolder{h.process + process_base, h.fd});
  }
  for (auto& c : part.containers) {
    c.pod = shift(c.pod, pod_base);
    merged.containers.push_back(std::move(c));
  }
  for (auto& p : part.pods) merged.pods.push_back(std::move(p));
  if (!part.socket_endpoints.empty() || !merged.socket_endpoints.empty()) {
    auto endpoint_base = static_cast<int32_t>(merged.endpoints.size());
    merged.socket_endpoints.resize(socket_base);  // rows merged before without names have none
    for (size_t i = 0; i < part.sockets.size(); ++i) {
      SocketEndpoints e =
          i < part.socket_endpoints.size() ? part.socket_endpoints[i] : SocketEndpoints{};
      merged.socket_endpoints.push_back({shift(e.src, endpoint_base), shift(e.dst, endpoint_base)});
    }
  }
  for (auto& e : part.endpoints) merged.endpoints.push_back(std::move(e));
  merged.owners.resize(socket_base);  // rows merged before without owners own nothing
  for (size_t i = 0; i < part.sockets.size(); ++i) {
    SocketOwner o = i < part.owners.size() ? part.owners[i] : SocketOwner{};
    o.first_holder += holder_base;
    o.container = shift(o.container, container_base);
    o.pod = shift(o.pod, pod_base);
    merged.owners.push_back(o);
  }
}

}  // namespace socksnap
