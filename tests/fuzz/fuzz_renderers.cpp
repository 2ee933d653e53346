// Arbitrary bytes in every string field of a snapshot (node, interface, process names, container
// and pod fields, labels, endpoint names, congestion algorithm, warnings), through every
// renderer: the JSON (compact and pretty) must parse as strict UTF-8 JSON and the YAML with
// libyaml, each reading back every field as the bytes with invalid UTF-8 replaced by U+FFFD;
// the table must hold no control byte but its line ends, no DEL, no invalid UTF-8, no C1 or
// layout character, and one line per row; the agent's wire must carry every byte unchanged. The
// service map of the same snapshot, at every level: its JSON parses, its table, DOT and Mermaid
// hold no such character, and a DOT or Mermaid quoted string never ends early. The same of a
// summary grouped by those fields (`socksnap summary`, and its wire). Unix sockets named with
// those bytes (a path, an abstract name) and a peer an agent described with them, likewise.
#include <arpa/inet.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/direction.h"
#include "analyze/service_map.h"
#include "analyze/summary.h"
#include "kubeconfig/yaml_tree.h"
#include "model/address.h"
#include "model/states.h"
#include "render/graph_text.h"
#include "render/renderer.h"
#include "util/utf8.h"
#include "wire/wire.h"

namespace {

using namespace socksnap;

enum Field : size_t {
  kNode,
  kInterface,
  kComm,
  kOtherComm,
  kRuntime,
  kContainerId,
  kContainerName,
  kImage,
  kPodName,
  kPodNamespace,
  kLabelKey,
  kLabelValue,
  kEndpointNamespace,
  kEndpointName,
  kCongestion,
  kWarning,
  kFields
};

// The input cut into kFields strings: each is a length byte, then that many bytes (fewer at the
// end of the input).
// A container always has an ID and a pod a name (empty ones mean none): those two start with a
// letter, the rest of them and every other field is any bytes.
std::vector<std::string> fields_of(const uint8_t* data, size_t size) {
  std::vector<std::string> fields(kFields);
  size_t at = 0;
  for (auto& field : fields) {
    if (at >= size) break;
    size_t wanted = data[at++];
    size_t length = std::min(wanted, size - at);
    field.assign(reinterpret_cast<const char*>(data + at), length);
    at += length;
  }
  fields[kContainerId].insert(0, "c");
  fields[kPodName].insert(0, "p");
  return fields;
}

Snapshot snapshot_of(const std::vector<std::string>& f) {
  Snapshot snap;
  snap.node = f[kNode];
  snap.namespaces.push_back(NetnsInfo{4026531840ULL, "pid 1", {{3, f[kInterface]}}});
  SocketRecord s;
  s.netns = 4026531840ULL;
  s.protocol = Protocol::kTcp;
  inet_pton(AF_INET, "10.0.0.1", s.src_addr.data());
  inet_pton(AF_INET, "10.0.0.2", s.dst_addr.data());
  s.src_port = 80;
  s.dst_port = 43210;
  s.state = kTcpEstablished;
  s.inode = 7;
  s.ifindex = 3;
  snap.sockets = {s, s};
  snap.sockets[1].ifindex = 0;
  snap.tcp_info.resize(2);
  snap.tcp_info[0].valid = true;
  std::memcpy(snap.tcp_info[0].congestion.data(), f[kCongestion].data(),
              std::min(f[kCongestion].size(), snap.tcp_info[0].congestion.size() - 1));
  PodInfo pod;
  pod.name = f[kPodName];
  pod.pod_namespace = f[kPodNamespace];
  pod.labels = {{f[kLabelKey], f[kLabelValue]}};
  snap.pods = {pod};
  snap.containers = {
      ContainerInfo{f[kRuntime], f[kContainerId], f[kContainerName], f[kImage], 42, 0}};
  snap.processes = {ProcessInfo{42, f[kComm], 0, 0}, ProcessInfo{43, f[kOtherComm], 0, kNone}};
  snap.holders = {{0, 3}, {1, 4}};
  snap.owners = {SocketOwner{0, 2, 0, 0}, SocketOwner{0, 0, kNone, kNone}};
  snap.directions = {Direction::kInbound, Direction::kUnknown};  // one worked out, one not
  return snap;
}

std::string as_go_reads_it(std::string_view text) {
  fmt::memory_buffer out;
  append_replacing_invalid(out, text);
  return fmt::to_string(out);
}

std::string congestion_of(const std::vector<std::string>& f) {
  std::string c = f[kCongestion].substr(0, 15);
  return c.substr(0, c.find('\0'));
}

// Aborts naming the check that failed, so that a crash found by the fuzzer says what broke.
void check_at(bool ok, int line) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_renderers.cpp:%d: check failed\n", line);
  std::abort();
}
#define check(ok) check_at(ok, __LINE__)

std::string render_to_string(const Snapshot& snap, OutputFormat format) {
  std::string text;
  OutputSink sink(&text);
  RenderOptions options;
  options.format = format;
  for (const auto& column : all_columns()) options.columns.push_back(&column);
  render(snap, {0, 1}, options, sink);
  check(static_cast<bool>(sink.finish()));
  return text;
}

// Every string of the first row, as a structured document must read it back.
void check_json(const std::string& text, const std::vector<std::string>& f) {
  try {
    auto rows = nlohmann::json::parse(text);  // strict: throws on invalid UTF-8
    const auto& row = rows.at(0);
    check(row.at("k8s").value("node", "") == as_go_reads_it(f[kNode]));
    check(row.at("interface") == as_go_reads_it(f[kInterface]));
    check(row.at("comm") == as_go_reads_it(f[kComm]));
    check(row.at("processes").at(1).at("comm") == as_go_reads_it(f[kOtherComm]));
    check(row.at("runtime").at("containerId") == as_go_reads_it(f[kContainerId]));
    check(row.at("k8s").at("podLabels").at(as_go_reads_it(f[kLabelKey])) ==
          as_go_reads_it(f[kLabelValue]));
    check(row.at("tcpInfo").value("congestion", "") == as_go_reads_it(congestion_of(f)));
    check(row.at("src").at("name") == as_go_reads_it(f[kEndpointName]));
    check(row.at("src").at("namespace") == as_go_reads_it(f[kEndpointNamespace]));
  } catch (const std::exception&) {
    std::abort();
  }
}

void check_yaml(const std::string& text, const std::vector<std::string>& f) {
  auto doc = parse_yaml(text);
  check(static_cast<bool>(doc));
  check(doc->kind == YamlNode::Kind::kSequence && doc->items.size() == 2);
  const YamlNode& row = doc->items[0];
  auto scalar = [](const YamlNode* node) { return node != nullptr ? node->scalar : "(none)"; };
  check(scalar(row.find("comm")) == as_go_reads_it(f[kComm]));
  check(scalar(row.find("runtime")->find("containerId")) == as_go_reads_it(f[kContainerId]));
  const YamlNode* labels = row.find("k8s")->find("podLabels");
  check(labels != nullptr && labels->members.size() == 1);
  check(labels->members[0].first == as_go_reads_it(f[kLabelKey]));
  check(labels->members[0].second.scalar == as_go_reads_it(f[kLabelValue]));
  const YamlNode* processes = row.find("processes");
  check(scalar(processes->items.at(1).find("comm")) == as_go_reads_it(f[kOtherComm]));
}

// Valid UTF-8; no C0 control but the line ends, no DEL, no C1 control, no layout character;
// exactly `lines` lines.
void check_table(const std::string& text, size_t lines) {
  check(is_valid_utf8(text));
  size_t newlines = 0;
  const char* end = text.data() + text.size();
  for (const char* p = text.data(); p < end;) {
    Utf8Char ch = decode_utf8(p, end);
    check(ch.length != 0);
    if (ch.code_point == '\n') {
      ++newlines;
    } else {
      check(!is_control(ch.code_point) && !is_layout_control(ch.code_point));
    }
    p += ch.length;
  }
  check(newlines == lines);
}

void check_wire(const Snapshot& snap, const std::vector<std::string>& f) {
  std::string text;
  OutputSink sink(&text);
  write_agent_reply(snap, {0, 1}, {f[kWarning]}, sink);
  check(static_cast<bool>(sink.finish()));
  auto reply = parse_agent_reply(text);
  check(static_cast<bool>(reply));
  check(reply->node == f[kNode]);
  check(reply->warnings.size() == 1 && reply->warnings[0] == f[kWarning]);
  const Snapshot& back = reply->snapshot;
  check(back.sockets.size() == 2 && back.owners.size() == 2);
  check(back.direction_of(0) == Direction::kInbound && back.direction_of(1) == Direction::kUnknown);
  const ProcessInfo* first = back.first_holder_of(0);
  check(first != nullptr && first->comm == f[kComm]);
  check(back.processes.size() == 2 && back.holders.size() == 2);
  check(back.processes[back.holders[back.owners[0].first_holder + 1].process].comm ==
        f[kOtherComm]);
  const ContainerInfo* c = back.container_of(0);
  check(c != nullptr && c->runtime == f[kRuntime] && c->id == f[kContainerId] &&
        c->name == f[kContainerName] && c->image == f[kImage]);
  const PodInfo* pod = back.pod_of(0);
  check(pod != nullptr && pod->name == f[kPodName] && pod->pod_namespace == f[kPodNamespace]);
  check(pod->labels == snap.pods[0].labels);
  const TcpInfo* t = back.tcp_info_of(0);
  check(t != nullptr && std::string(t->congestion.data()) == congestion_of(f));
  const NetnsInfo* ns = back.find_netns(4026531840ULL);
  // The reader numbers interfaces itself; an empty name reads as no interface (shown alike).
  check(ns != nullptr &&
        (f[kInterface].empty() || ns->interfaces.at(back.sockets[0].ifindex) == f[kInterface]));
}

// Text for a terminal or a file that a tool parses: valid UTF-8, no control or layout
// character but line ends; in each line, quotes pair up (a DOT string's own quote is \", its
// backslash \\; a Mermaid label holds no quote at all).
enum class Quotes { kNone, kDot, kMermaid };

void check_graph_text(const std::string& text, Quotes quotes) {
  check(is_valid_utf8(text));
  const char* end = text.data() + text.size();
  for (const char* p = text.data(); p < end;) {
    Utf8Char ch = decode_utf8(p, end);
    check(ch.length != 0);
    check(ch.code_point == '\n' ||
          (!is_control(ch.code_point) && !is_layout_control(ch.code_point)));
    p += ch.length;
  }
  if (quotes == Quotes::kNone) return;  // a table's cells are names, quotes and all
  bool dot = quotes == Quotes::kDot;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') check(!quoted);
    if (quoted && dot && c == '\\') {
      ++i;  // the escaped character
      continue;
    }
    if (c == '"') quoted = !quoted;
  }
  check(!quoted);
}

void check_graph(Snapshot snap) {
  classify_directions(snap);
  for (GraphLevel level :
       {GraphLevel::kPod, GraphLevel::kContainer, GraphLevel::kProcess, GraphLevel::kNetns}) {
    ServiceMap map = build_service_map(snap, {0, 1}, GraphOptions{level, true});
    check(!map.vertices.empty());
    auto text = [&](GraphFormat format) {
      std::string out;
      OutputSink sink(&out);
      render_graph(map, format, true, sink);
      check(static_cast<bool>(sink.finish()));
      return out;
    };
    try {
      auto doc = nlohmann::json::parse(text(GraphFormat::kJson));  // strict UTF-8
      check(doc.at("nodes").size() == map.vertices.size());
      check(nlohmann::json::parse(text(GraphFormat::kJsonPretty)) == doc);
    } catch (const std::exception&) {
      std::abort();
    }
    check_graph_text(text(GraphFormat::kTable), Quotes::kNone);
    check_graph_text(text(GraphFormat::kDot), Quotes::kDot);
    check_graph_text(text(GraphFormat::kMermaid), Quotes::kMermaid);
  }
}

// A summary by every column that shows those fields: its JSON and YAML read back the fields,
// its table is clean, and its wire carries every byte.
void check_summary(const Snapshot& named, const Snapshot& snap, const std::vector<std::string>& f) {
  std::vector<const Column*> by;
  for (const char* name :
       {"k8s.node", "k8s.namespace", "k8s.podName", "k8s.containerName", "k8s.labels",
        "runtime.runtimeName", "runtime.containerId", "runtime.containerName",
        "runtime.containerImageName", "comm", "interface", "congestion", "src"}) {
    by.push_back(find_column(name));
  }
  Summary summary = summarize(named, {0, 1}, by);
  check(summary.groups.size() == 2);  // the second row has no owner, no name, no interface
  auto text = [&](OutputFormat format) {
    std::string out;
    OutputSink sink(&out);
    render_summary(named, summary, format, true, sink);
    check(static_cast<bool>(sink.finish()));
    return out;
  };
  for (OutputFormat format : {OutputFormat::kJson, OutputFormat::kJsonPretty}) {
    try {
      auto doc = nlohmann::json::parse(text(format));
      // The owned group has a pod name (never empty here); the other may have no k8s at all.
      const auto& first = doc.at(0);
      bool first_owned = first.contains("k8s") && first.at("k8s").contains("podName");
      const auto& owned = first_owned ? first : doc.at(1);
      // An empty cell is left out of its group, as of a row.
      auto text_at = [](const nlohmann::json& object, const char* key) {
        return object.contains(key) ? object.at(key).get<std::string>() : std::string();
      };
      check(owned.at("k8s").at("podName") == as_go_reads_it(f[kPodName]));
      check(text_at(owned, "comm") == as_go_reads_it(f[kComm]));
      check(text_at(owned.at("src"), "name") == as_go_reads_it(f[kEndpointName]));
      check(owned.at("runtime").at("containerId") == as_go_reads_it(f[kContainerId]));
    } catch (const nlohmann::json::exception&) {
      std::abort();
    }
  }
  auto yaml = parse_yaml(text(OutputFormat::kYaml));
  check(static_cast<bool>(yaml));
  check(yaml->kind == YamlNode::Kind::kSequence && yaml->items.size() == 2);
  check_table(text(OutputFormat::kColumns), 3);

  std::string wire;
  OutputSink sink(&wire);
  Summary raw = summarize(snap, {0, 1}, by);
  write_summary_reply(snap, raw, {f[kWarning]}, sink);
  check(static_cast<bool>(sink.finish()));
  auto reply = parse_summary_reply(wire, by);
  check(static_cast<bool>(reply));
  check(reply->warnings.size() == 1 && reply->warnings[0] == f[kWarning]);
  std::vector<uint32_t> rows(reply->snapshot.sockets.size());
  for (uint32_t i = 0; i < rows.size(); ++i) rows[i] = i;
  Summary back = summarize(reply->snapshot, rows, by, &reply->weights);
  check(back.groups.size() == raw.groups.size());
  for (size_t g = 0; g < back.groups.size(); ++g)
    check(back.groups[g].values == raw.groups[g].values);
}

// Two unix sockets: one named with the interface's bytes, one with the command's as an abstract
// name, whose peer an agent described (its name the pod's bytes, its command the other
// command's). Every output carries the names as shown ("@name" for an abstract one) and the
// wire every byte of them.
void check_unix(const std::vector<std::string>& f) {
  Snapshot snap;
  snap.node = f[kNode];
  snap.namespaces.push_back(NetnsInfo{4026531840ULL, "pid 1", {}});
  SocketRecord s;
  s.netns = 4026531840ULL;
  s.protocol = Protocol::kUnix;
  s.ip_version = 0;
  s.state = kTcpEstablished;
  snap.sockets = {s, s};
  snap.unix_peers = {UnixPeer{f[kPodName], 7, f[kOtherComm]}};
  snap.unix_sockets = {
      UnixSocketInfo{.row = 0, .type = kUnixStream, .peer = 1, .path = f[kInterface]},
      UnixSocketInfo{.row = 1,
                     .type = kUnixDgram,
                     .described_peer = 0,
                     .peer_inode = 9,
                     .path = std::string(1, '\0') + f[kComm]}};
  for (OutputFormat format : {OutputFormat::kJson, OutputFormat::kJsonPretty}) {
    try {
      auto rows = nlohmann::json::parse(render_to_string(snap, format));  // strict UTF-8
      check(rows.at(0).at("src").at("path") == as_go_reads_it(shown_unix_path(f[kInterface])));
      check(rows.at(0).at("dst").at("path") == "@" + as_go_reads_it(f[kComm]));  // row 1's
      check(rows.at(1).at("src").at("path") == "@" + as_go_reads_it(f[kComm]));
      check(rows.at(1).at("dst").at("path") == as_go_reads_it(shown_unix_path(f[kPodName])));
      check(rows.at(1).at("peerComm") == as_go_reads_it(f[kOtherComm]));
    } catch (const std::exception&) {
      std::abort();
    }
  }
  auto yaml = parse_yaml(render_to_string(snap, OutputFormat::kYaml));
  check(static_cast<bool>(yaml) && yaml->items.size() == 2);
  check_table(render_to_string(snap, OutputFormat::kColumns), 3);
  std::string text;
  OutputSink sink(&text);
  write_agent_reply(snap, {0, 1}, {}, sink);
  check(static_cast<bool>(sink.finish()));
  auto reply = parse_agent_reply(text);
  check(static_cast<bool>(reply));
  const Snapshot& back = reply->snapshot;
  check(back.unix_sockets.size() == 2);
  for (uint32_t row = 0; row < 2; ++row) {
    const UnixSocketInfo& a = *snap.unix_of(row);
    const UnixSocketInfo& b = *back.unix_of(row);
    check(shown_unix_path(b.path) == shown_unix_path(a.path));
    Snapshot::UnixPeerView pa = snap.unix_peer_of(a);
    Snapshot::UnixPeerView pb = back.unix_peer_of(b);
    check(shown_unix_path(pb.path) == shown_unix_path(pa.path));
    check(pb.pid == pa.pid && pb.comm == pa.comm);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> f = fields_of(data, size);
  Snapshot snap = snapshot_of(f);
  // The plugin's view: an endpoint name from the cluster.
  Snapshot named = snap;
  named.endpoints = {EndpointName{EndpointKind::kPod, f[kEndpointNamespace], f[kEndpointName], {}}};
  named.socket_endpoints = {SocketEndpoints{0, kNone}, SocketEndpoints{kNone, kNone}};

  check_json(render_to_string(named, OutputFormat::kJson), f);
  check_json(render_to_string(named, OutputFormat::kJsonPretty), f);
  check_yaml(render_to_string(named, OutputFormat::kYaml), f);
  check_table(render_to_string(named, OutputFormat::kColumns), 3);
  check_wire(snap, f);
  check_graph(named);
  check_summary(named, snap, f);
  check_unix(f);
  return 0;
}
