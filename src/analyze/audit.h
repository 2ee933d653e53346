// The audit (`socksnap audit`, `kubectl socksnap audit`): what in a snapshot a security or
// compliance reviewer should look at, as findings. Each finding has a rule, the rule's severity,
// a one-line reason, its ends and the rows it concerns; a finding the audit's policy file allows
// (analyze/audit_policy.h) is reported as allowed, not as a violation.
//
// The rules:
// - exposed-listener (warning): a listener in the node's own network namespace (a host process,
//   or a hostNetwork pod's) on a wildcard or non-loopback address: what the node exposes.
// - undeclared-port (warning): a pod listening on a port none of its containers declares in
//   `ports` (on a non-loopback address: loopback is the pod's own business). Needs the pods'
//   specs (the API server's); without them it is skipped, and the report says so.
// - cross-namespace (note): a connection between pods of two Kubernetes namespaces.
// - external-egress (note) / external-ingress (warning): a pod's connection to / from a public
//   address (graph_ends.h is_private: neither private nor loopback).
// - policy-not-enforced (error): an established TCP connection that the cluster's
//   NetworkPolicies (analyze/network_policy.h) do not allow, yet is there. Needs the policies
//   (the API server's); without them it is skipped, and the report says so. UDP is not judged:
//   a connected UDP socket says nothing of whether its packets pass.
//
// Connections are the sockets the service map counts (graph_ends.h): TCP in any state but
// LISTEN, TIME_WAIT and CLOSE, connected UDP; a connection whose two ends are in one network
// namespace (direction `local`) is no finding. A connection's two ends, seen on one node or two,
// are one finding with both rows; its `connections` counts them once (the larger of the client
// ends' and the server ends' numbers). The server of a client that addressed a service is the
// backend the node translated it to when the node's conntrack said so, else the service.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/audit_policy.h"
#include "analyze/network_policy.h"
#include "model/snapshot.h"

namespace socksnap {

enum class AuditRule : uint8_t {
  kExposedListener,
  kUndeclaredPort,
  kCrossNamespace,
  kExternalEgress,
  kExternalIngress,
  kPolicyNotEnforced,
};
inline constexpr size_t kAuditRuleCount = 6;

// SARIF's levels, in their order of weight.
enum class AuditSeverity : uint8_t { kNote, kWarning, kError };
std::string_view severity_name(AuditSeverity severity);  // "note", "warning", "error"

struct AuditRuleInfo {
  AuditRule rule;
  std::string_view id;  // "exposed-listener"
  AuditSeverity severity;
  std::string_view summary;  // one sentence
};
// Every rule, in AuditRule's order.
const std::vector<AuditRuleInfo>& audit_rules();
const AuditRuleInfo& audit_rule_info(AuditRule rule);

// One end of a finding: a pod's socket, the node's own (a host process's), or an address that
// names nothing the audit knows.
struct AuditEnd {
  std::string node;           // the node it is on; empty for an address
  std::string pod_namespace;  // with `pod`, empty when not a pod's
  std::string pod;
  bool host_network = false;  // a hostNetwork pod
  std::string comm;           // the first process holding the socket, when known
  std::string service;        // "NS/NAME" when the address is a service's (no backend known)
  std::string address;        // "10.0.0.1", "::"
  Labels labels;              // a pod's: what the policy file's selectors match
  // What a reader calls it: "pod shop/web-0", "node node-1 (sshd)", "service shop/web",
  // "address 203.0.113.9".
  std::string name() const;
};

struct AuditFinding {
  AuditRule rule = AuditRule::kExposedListener;
  std::string reason;            // one line
  std::optional<AuditEnd> from;  // the client; none for a listener's finding
  AuditEnd to;                   // the listener, or the server
  Protocol protocol = Protocol::kTcp;
  uint16_t port = 0;           // the listener's, or the server's
  uint64_t connections = 0;    // 0 for a listener's finding
  std::vector<uint32_t> rows;  // into the snapshot, in its order
  int allowed_by = 0;          // the line of the policy file's rule that allows it; 0: none
};

struct AuditReport {
  // Sorted by severity (errors first), then rule, then the ends' names, protocol and port.
  std::vector<AuditFinding> findings;
  // The rules not applied, and why (one line each), in rule order.
  std::vector<std::pair<AuditRule, std::string>> skipped;
  // Said once each: connections the audit could not judge, and why.
  std::vector<std::string> notes;
  size_t violations() const;
};

// "3 findings: 1 violation, 2 allowed".
std::string audit_tally(const AuditReport& report);

struct AuditContext {
  // Names far addresses beyond the snapshot's own pods (a cluster's pods and services), or null.
  std::function<const EndpointName*(const GraphAddress&)> address;
  // Every pod the API server knows, with its containers' declared ports: what undeclared-port
  // and the named ports of policies need. Null on a host (undeclared-port is skipped).
  const std::map<std::string, PolicyPod>* pods = nullptr;  // by "namespace/name"
  // The cluster's NetworkPolicies, or null (policy-not-enforced is skipped, and `no_policies`
  // says why).
  const PolicySet* policies = nullptr;
  std::string no_policies =
      "a host does not know the cluster's NetworkPolicies (kubectl "
      "socksnap audit reads them from the API server)";
  std::string no_pod_specs =
      "a host does not know the pods' declared ports (kubectl socksnap "
      "audit reads them from the API server)";
  // What the user allows (--policy), or null.
  const AuditPolicy* allowed = nullptr;
};

// Pure. `rows` are the selected sockets; every socket of the snapshot names the far ends of
// the rows' connections (as in the service map), and snap.directions must be filled.
AuditReport audit(const Snapshot& snap, const std::vector<uint32_t>& rows,
                  const AuditContext& context);

}  // namespace socksnap
