#include "analyze/audit.h"

#include <algorithm>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

#include "analyze/graph_ends.h"
#include "model/states.h"

namespace socksnap {
namespace {

const std::vector<AuditRuleInfo> kRules = {
    {AuditRule::kExposedListener, "exposed-listener", AuditSeverity::kWarning,
     "A listener in the node's own network namespace (a host process or a hostNetwork pod) on "
     "a wildcard or non-loopback address: what the node exposes."},
    {AuditRule::kUndeclaredPort, "undeclared-port", AuditSeverity::kWarning,
     "A pod listens on a port that none of its containers declares in its ports."},
    {AuditRule::kCrossNamespace, "cross-namespace", AuditSeverity::kNote,
     "A connection between pods (or a pod and a service) of two Kubernetes namespaces."},
    {AuditRule::kExternalEgress, "external-egress", AuditSeverity::kNote,
     "A pod's connection to a public address."},
    {AuditRule::kExternalIngress, "external-ingress", AuditSeverity::kWarning,
     "A connection from a public address to a pod."},
    {AuditRule::kPolicyNotEnforced, "policy-not-enforced", AuditSeverity::kError,
     "An established connection the cluster's NetworkPolicies do not allow: the policy exists "
     "but the traffic happens, so the network does not enforce it."},
};

// A socket that stands for a connection, as the service map counts them (graph_ends.h).
bool is_connection(const SocketRecord& s) {
  if (s.protocol != Protocol::kTcp) return s.state == kTcpEstablished;
  switch (s.state) {
    case kTcpListen:
    case kTcpTimeWait:
    case kTcpClose:
    case kTcpBoundInactive:
      return false;
    default:
      return true;
  }
}

// A TCP connection that got past its handshake: traffic passed (a refused or dropped one waits
// in SYN_SENT).
bool was_established(const SocketRecord& s) {
  if (s.protocol != Protocol::kTcp) return false;
  switch (s.state) {
    case kTcpEstablished:
    case kTcpFinWait1:
    case kTcpFinWait2:
    case kTcpCloseWait:
    case kTcpLastAck:
    case kTcpClosing:
      return true;
    default:
      return false;
  }
}

bool is_public(const GraphAddress& a) {
  return !is_loopback(a) && !is_unspecified(a) && !is_private(a);
}

std::optional<PolicyProtocol> policy_protocol_of(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return PolicyProtocol::kTcp;
    case Protocol::kUdp:
      return PolicyProtocol::kUdp;
    case Protocol::kUdpLite:
    case Protocol::kUnix:
      break;
  }
  return std::nullopt;
}

// One end as the audit resolved it, with what the rules ask of it.
struct Side {
  AuditEnd end;
  GraphAddress address;
  bool pod = false;   // end.pod is set
  bool node = false;  // the node's own (a host process, a hostNetwork pod, a node address)
};

// A finding being gathered: its rows, and how many of them are client and server ends.
struct Gathered {
  AuditFinding finding;
  Side from;
  Side to;
  uint64_t client_rows = 0;
  uint64_t server_rows = 0;
};

class Auditor {
 public:
  Auditor(const Snapshot& snap, const AuditContext& context) : snap_(snap), context_(context) {
    index_addresses();
  }

  void add_row(uint32_t i) {
    const SocketRecord& s = snap_.sockets[i];
    // A unix socket is reached through the file system, not the network: no rule is about it.
    if (s.protocol == Protocol::kUnix) return;
    if (is_listener(s)) {
      listener(i);
    } else if (is_connection(s)) {
      connection(i);
    }
  }

  AuditReport finish();

 private:
  void index_addresses();
  Side local_side(uint32_t i) const;
  Side remote_side(const GraphAddress& address) const;
  void listener(uint32_t i);
  void connection(uint32_t i);
  void policy(uint32_t i, const Side& from, const Side& to, uint16_t port, bool client_row);
  Gathered& gather(AuditRule rule, const Side* from, const Side& to, Protocol protocol,
                   uint16_t port, const std::string& extra_key = {});
  const PolicyPod* policy_pod(const Side& side, PolicyPod& scratch) const;
  void allow(Gathered& g) const;

  const Snapshot& snap_;
  const AuditContext& context_;
  // Addresses the snapshot itself names: its pods' own namespaces' (pod index), the nodes'.
  std::unordered_map<std::string, int32_t> pod_addresses_;
  std::unordered_map<std::string, std::string> node_addresses_;
  std::map<std::string, Gathered> gathered_;  // by key
  std::map<std::string, uint64_t> notes_;     // what could not be judged, and how often
};

std::string address_key(const GraphAddress& a) {
  return std::string(reinterpret_cast<const char*>(a.bytes.data()), a.bytes.size()) +
         (a.v4 ? "4" : "6");
}

void Auditor::index_addresses() {
  for (size_t i = 0; i < snap_.sockets.size(); ++i) {
    const SocketRecord& s = snap_.sockets[i];
    if (s.protocol == Protocol::kUnix) continue;
    GraphAddress local = graph_address(s.ip_version, s.src_addr);
    if (is_loopback(local) || is_unspecified(local)) continue;
    const PodInfo* pod = snap_.pod_of(i);
    if (is_node_namespace(snap_.find_netns(s.netns, snap_.node_index_of(i)))) {
      node_addresses_.emplace(address_key(local), snap_.node_of(i));
    } else if (pod != nullptr && !pod->host_network && pod->netns == s.netns) {
      pod_addresses_.emplace(address_key(local), snap_.owners[i].pod);
    }
  }
}

Side Auditor::local_side(uint32_t i) const {
  const SocketRecord& s = snap_.sockets[i];
  Side side;
  side.address = graph_address(s.ip_version, s.src_addr);
  side.end.node = snap_.node_of(i);
  side.end.address = address_text(side.address);
  if (const ProcessInfo* process = snap_.first_holder_of(i)) side.end.comm = process->comm;
  side.node = is_node_namespace(snap_.find_netns(s.netns, snap_.node_index_of(i)));
  if (const PodInfo* pod = snap_.pod_of(i)) {
    side.pod = true;
    side.end.pod_namespace = pod->pod_namespace;
    side.end.pod = pod->name;
    side.end.host_network = pod->host_network;
    side.end.labels = pod->labels;
  }
  return side;
}

Side Auditor::remote_side(const GraphAddress& address) const {
  Side side;
  side.address = address;
  side.end.address = address_text(address);
  std::string key = address_key(address);
  if (auto found = pod_addresses_.find(key); found != pod_addresses_.end()) {
    const PodInfo& pod = snap_.pods[found->second];
    side.pod = true;
    side.end.pod_namespace = pod.pod_namespace;
    side.end.pod = pod.name;
    side.end.labels = pod.labels;
    return side;
  }
  if (context_.address) {
    if (const EndpointName* name = context_.address(address)) {
      if (name->kind == EndpointKind::kPod) {
        side.pod = true;
        side.end.pod_namespace = name->name_namespace;
        side.end.pod = name->name;
        side.end.labels = name->labels;
        if (context_.pods != nullptr) {
          auto spec = context_.pods->find(name->name_namespace + "/" + name->name);
          if (spec != context_.pods->end()) side.end.host_network = spec->second.host_network;
        }
      } else {
        side.end.service = name->name_namespace + "/" + name->name;
      }
      return side;
    }
  }
  if (auto found = node_addresses_.find(key); found != node_addresses_.end()) {
    side.node = true;
    side.end.node = found->second;
  }
  return side;
}

// What keeps one end apart from another in a finding's key.
std::string side_key(const Side& side) {
  if (side.pod) return fmt::format("pod\x1f{}\x1f{}", side.end.pod_namespace, side.end.pod);
  if (!side.end.service.empty()) return "svc\x1f" + side.end.service;
  if (side.node && !side.end.node.empty()) {
    return fmt::format("node\x1f{}\x1f{}", side.end.node, side.end.comm);
  }
  return "addr\x1f" + side.end.address;
}

// What an end's own socket tells of it, where the finding first saw it only by its address
// (the other end's row came first): its node and its process.
void learn(AuditEnd& end, const Side& own) {
  if (end.node.empty()) end.node = own.end.node;
  if (end.comm.empty()) end.comm = own.end.comm;
}

Gathered& Auditor::gather(AuditRule rule, const Side* from, const Side& to, Protocol protocol,
                          uint16_t port, const std::string& extra_key) {
  std::string key = fmt::format("{}\x1e{}\x1e{}\x1e{}\x1e{}\x1e{}", static_cast<int>(rule),
                                from != nullptr ? side_key(*from) : "", side_key(to),
                                static_cast<int>(protocol), port, extra_key);
  auto [at, fresh] = gathered_.try_emplace(std::move(key));
  Gathered& g = at->second;
  if (fresh) {
    g.finding.rule = rule;
    g.finding.protocol = protocol;
    g.finding.port = port;
    g.to = to;
    g.finding.to = to.end;
    if (from != nullptr) {
      g.from = *from;
      g.finding.from = from->end;
    }
  }
  return g;
}

void Auditor::listener(uint32_t i) {
  const SocketRecord& s = snap_.sockets[i];
  Side side = local_side(i);
  if (is_loopback(side.address)) return;
  std::string_view protocol = protocol_name(s.protocol);
  if (side.node) {
    Gathered& g = gather(AuditRule::kExposedListener, nullptr, side, s.protocol, s.src_port,
                         side.end.address);
    g.finding.rows.push_back(i);
    if (g.finding.reason.empty()) {
      std::string who =
          side.pod ? fmt::format("hostNetwork pod {}/{}", side.end.pod_namespace, side.end.pod)
          : side.end.comm.empty() ? std::string("a socket no process holds")
                                  : "process " + side.end.comm;
      g.finding.reason = is_unspecified(side.address)
                             ? fmt::format("{} listens on {} port {} on every address of node {}",
                                           who, protocol, s.src_port, side.end.node)
                             : fmt::format("{} listens on {} {}:{}, an address of node {}", who,
                                           protocol, side.end.address, s.src_port, side.end.node);
    }
  }
  if (!side.pod || context_.pods == nullptr) return;
  auto spec = context_.pods->find(side.end.pod_namespace + "/" + side.end.pod);
  if (spec == context_.pods->end()) return;  // a pod the API server does not know (any more)
  auto declared = policy_protocol_of(s.protocol);
  for (const NamedPort& port : spec->second.ports) {
    if (declared && port.protocol == *declared && port.port == s.src_port) return;
  }
  Gathered& g = gather(AuditRule::kUndeclaredPort, nullptr, side, s.protocol, s.src_port);
  g.finding.rows.push_back(i);
  if (g.finding.reason.empty()) {
    g.finding.reason =
        fmt::format("pod {}/{} listens on {} port {}, which none of its containers declares",
                    side.end.pod_namespace, side.end.pod, protocol, s.src_port);
  }
}

void Auditor::connection(uint32_t i) {
  const SocketRecord& s = snap_.sockets[i];
  Direction direction = snap_.direction_of(i);
  if (direction != Direction::kInbound && direction != Direction::kOutbound) return;
  bool client_row = direction == Direction::kOutbound;
  Side local = local_side(i);
  GraphAddress far = graph_address(s.ip_version, s.dst_addr);
  uint16_t port = client_row ? s.dst_port : s.src_port;
  if (client_row) {
    if (const TranslatedDestination* t = snap_.translation_of(i)) {
      far = graph_address(t->ip_version, t->addr);
      port = t->port;
    }
  }
  Side remote = remote_side(far);
  const Side& from = client_row ? local : remote;
  const Side& to = client_row ? remote : local;
  std::string_view protocol = protocol_name(s.protocol);
  auto add = [&](AuditRule rule, auto reason) {
    Gathered& g = gather(rule, &from, to, s.protocol, port);
    g.finding.rows.push_back(i);
    (client_row ? g.client_rows : g.server_rows) += 1;
    learn(client_row ? *g.finding.from : g.finding.to, local);
    if (g.finding.reason.empty()) g.finding.reason = reason();
  };
  const std::string* from_namespace = from.pod ? &from.end.pod_namespace : nullptr;
  std::string to_service_namespace = to.end.service.substr(0, to.end.service.find('/'));
  const std::string* to_namespace = to.pod                    ? &to.end.pod_namespace
                                    : !to.end.service.empty() ? &to_service_namespace
                                                              : nullptr;
  if (from_namespace != nullptr && to_namespace != nullptr && *from_namespace != *to_namespace) {
    add(AuditRule::kCrossNamespace, [&] {
      return fmt::format("{} connects to {} ({} port {}) across Kubernetes namespaces",
                         from.end.name(), to.end.name(), protocol, port);
    });
  }
  if (from.pod && is_public(to.address) && to.end.service.empty() && !to.pod) {
    add(AuditRule::kExternalEgress, [&] {
      return fmt::format("{} connects to the public address {} ({} port {})", from.end.name(),
                         to.end.address, protocol, port);
    });
  }
  if (to.pod && is_public(from.address) && !from.pod) {
    add(AuditRule::kExternalIngress, [&] {
      return fmt::format("the public address {} connects to {} ({} port {})", from.end.address,
                         to.end.name(), protocol, port);
    });
  }
  if (context_.policies != nullptr && was_established(s)) policy(i, from, to, port, client_row);
}

const PolicyPod* Auditor::policy_pod(const Side& side, PolicyPod& scratch) const {
  if (!side.pod) return nullptr;
  if (context_.pods != nullptr) {
    auto spec = context_.pods->find(side.end.pod_namespace + "/" + side.end.pod);
    if (spec != context_.pods->end()) return &spec->second;
  }
  scratch.pod_namespace = side.end.pod_namespace;
  scratch.name = side.end.pod;
  scratch.labels = side.end.labels;
  scratch.host_network = side.end.host_network;
  return &scratch;
}

void Auditor::policy(uint32_t i, const Side& from, const Side& to, uint16_t port, bool client_row) {
  const SocketRecord& s = snap_.sockets[i];
  if (!to.end.service.empty()) {
    notes_[fmt::format(
        "connections to a service whose backend the node's conntrack did not "
        "name: not checked against NetworkPolicies")] += 1;
    return;
  }
  auto protocol = policy_protocol_of(s.protocol);
  if (!protocol) return;
  PolicyPod client_scratch;
  PolicyPod server_scratch;
  PolicyTraffic traffic;
  traffic.client = {policy_pod(from, client_scratch), from.address};
  traffic.server = {policy_pod(to, server_scratch), to.address};
  traffic.protocol = *protocol;
  traffic.port = port;
  // The node's own traffic to its pods (kubelet's probes) is always allowed.
  traffic.from_servers_node = !from.pod && from.node && !from.end.node.empty() &&
                              (to.end.node.empty() || to.end.node == from.end.node);
  PolicyVerdict verdict = context_.policies->evaluate(traffic);
  if (verdict.allowed) return;
  Gathered& g = gather(AuditRule::kPolicyNotEnforced, &from, to, s.protocol, port);
  g.finding.rows.push_back(i);
  (client_row ? g.client_rows : g.server_rows) += 1;
  learn(client_row ? *g.finding.from : g.finding.to, client_row ? from : to);
  if (g.finding.reason.empty()) {
    std::string side = !verdict.ingress_allowed && !verdict.egress_allowed ? "egress and ingress"
                       : !verdict.ingress_allowed                          ? "ingress"
                                                                           : "egress";
    g.finding.reason = fmt::format(
        "{} reaches {} on {} port {}, which NetworkPolicy {} does not allow ({})", from.end.name(),
        to.end.name(), protocol_name(s.protocol), port, fmt::join(verdict.isolated_by, ", "), side);
  }
}

AuditSide audit_side(const Side& side) {
  AuditSide out;
  if (side.pod) {
    out.pod_namespace = &side.end.pod_namespace;
    out.pod_labels = &side.end.labels;
  }
  out.address = side.address;
  return out;
}

void Auditor::allow(Gathered& g) const {
  if (context_.allowed == nullptr) return;
  const AuditFinding& f = g.finding;
  AuditSide to = audit_side(g.to);
  if (!f.from) {
    for (const AllowedListener& rule : context_.allowed->listeners) {
      if (allows(rule, to, f.port, f.protocol)) {
        g.finding.allowed_by = rule.line;
        return;
      }
    }
    return;
  }
  AuditSide from = audit_side(g.from);
  for (const AllowedConnection& rule : context_.allowed->connections) {
    if (allows(rule, from, to, f.port, f.protocol)) {
      g.finding.allowed_by = rule.line;
      return;
    }
  }
}

AuditReport Auditor::finish() {
  AuditReport report;
  for (auto& [key, g] : gathered_) {
    if (g.finding.from) g.finding.connections = std::max(g.client_rows, g.server_rows);
    allow(g);
    std::sort(g.finding.rows.begin(), g.finding.rows.end());
    report.findings.push_back(std::move(g.finding));
  }
  auto order = [](const AuditFinding& f) {
    return std::make_tuple(-static_cast<int>(audit_rule_info(f.rule).severity),
                           static_cast<int>(f.rule), f.from ? f.from->name() : std::string(),
                           f.to.name(), f.to.address, static_cast<int>(f.protocol), f.port);
  };
  std::stable_sort(
      report.findings.begin(), report.findings.end(),
      [&](const AuditFinding& a, const AuditFinding& b) { return order(a) < order(b); });
  if (context_.pods == nullptr) {
    report.skipped.emplace_back(AuditRule::kUndeclaredPort, context_.no_pod_specs);
  }
  if (context_.policies == nullptr) {
    report.skipped.emplace_back(AuditRule::kPolicyNotEnforced, context_.no_policies);
  }
  for (const auto& [note, count] : notes_)
    report.notes.push_back(fmt::format("{} {}", count, note));
  return report;
}

}  // namespace

std::string_view severity_name(AuditSeverity severity) {
  switch (severity) {
    case AuditSeverity::kNote:
      return "note";
    case AuditSeverity::kWarning:
      return "warning";
    case AuditSeverity::kError:
      break;
  }
  return "error";
}

const std::vector<AuditRuleInfo>& audit_rules() {
  return kRules;
}

const AuditRuleInfo& audit_rule_info(AuditRule rule) {
  return kRules[static_cast<size_t>(rule)];
}

std::string AuditEnd::name() const {
  if (!pod.empty()) return fmt::format("pod {}/{}", pod_namespace, pod);
  if (!service.empty()) return "service " + service;
  if (!node.empty()) {
    return comm.empty() ? "node " + node : fmt::format("node {} ({})", node, comm);
  }
  return "address " + address;
}

size_t AuditReport::violations() const {
  return static_cast<size_t>(std::count_if(
      findings.begin(), findings.end(), [](const AuditFinding& f) { return f.allowed_by == 0; }));
}

std::string audit_tally(const AuditReport& report) {
  size_t findings = report.findings.size();
  size_t violations = report.violations();
  return fmt::format("{} finding{}: {} violation{}, {} allowed", findings, findings == 1 ? "" : "s",
                     violations, violations == 1 ? "" : "s", findings - violations);
}

AuditReport audit(const Snapshot& snap, const std::vector<uint32_t>& rows,
                  const AuditContext& context) {
  Auditor auditor(snap, context);
  for (uint32_t i : rows) auditor.add_row(i);
  return auditor.finish();
}

}  // namespace socksnap
