// Kubernetes NetworkPolicy (networking.k8s.io/v1) as the API documents it, evaluated for one
// connection: would the cluster's policies let this client reach this server on this port? The
// audit (`socksnap audit`, `policy-not-enforced`) asks it of every established connection: a
// connection the policies do not allow, yet there, is a policy the network does not enforce.
//
// The semantics, from the API reference and the concepts page:
// - A pod is isolated for ingress when a policy of its namespace selects it (podSelector) and
//   has Ingress in its policyTypes; for egress likewise with Egress. policyTypes, when not
//   given, is Ingress, plus Egress when the policy has egress rules.
// - An isolated pod's traffic that way is allowed when some rule of some policy selecting it
//   allows it (the union of all of them); a pod no policy isolates allows everything that way.
//   A connection needs both: the client's egress and the server's ingress.
// - A rule's peers (from / to): none listed, every peer; else any of them. A peer with only a
//   podSelector: pods of the policy's namespace; only a namespaceSelector: every pod of the
//   namespaces it selects (by their labels, `kubernetes.io/metadata.name` among them); both: the
//   pods it selects in those namespaces; an ipBlock: addresses in its CIDR but in none of its
//   excepts (pods too, by their address).
// - A rule's ports: none listed, every port and protocol; else any of them: its protocol (TCP
//   when not given) and its port, a number, a number up to endPort, or a name that the server
//   pod's container port of that name and protocol stands for; no port: every port of the
//   protocol.
// - A pod's traffic to itself, and its node's to it (kubelet's probes), are always allowed.
//   Host-network pods are their node's: policies neither select them nor name them by
//   selectors (the API leaves them undefined; CNIs leave them alone), only by address.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/graph_ends.h"
#include "model/labels.h"
#include "select/label_selector.h"
#include "util/result.h"

namespace socksnap {

// TCP, UDP, SCTP: what a policy's port names; kOther for what no policy port names (UDP-Lite).
enum class PolicyProtocol : uint8_t { kTcp, kUdp, kSctp, kOther };

std::string_view policy_protocol_name(PolicyProtocol protocol);  // "TCP", "UDP", "SCTP", "other"
// "TCP", "UDP", "SCTP" as the API spells them; nullopt for anything else.
std::optional<PolicyProtocol> policy_protocol_named(std::string_view name);

// A metav1.LabelSelector: matchLabels (as key=value requirements) and matchExpressions (In,
// NotIn, Exists, DoesNotExist), all of which must hold. No requirement selects everything.
struct PolicySelector {
  std::vector<LabelRequirement> requirements;  // values sorted, as LabelRequirement wants them
  bool matches(const Labels& labels) const;
};

// An address range: `prefix` leading bits of `address` (IPv4 as GraphAddress keeps it).
struct Cidr {
  GraphAddress address;
  uint8_t prefix = 0;
  bool contains(const GraphAddress& a) const;
};

// "10.0.0.0/24", "fd00::/64"; an address without "/" is the whole address (/32, /128).
Result<Cidr> parse_cidr(std::string_view text);

struct IpBlock {
  Cidr cidr;
  std::vector<Cidr> except;
};

struct PolicyPeer {
  std::optional<PolicySelector> pod_selector;
  std::optional<PolicySelector> namespace_selector;
  std::optional<IpBlock> ip_block;
};

struct PolicyPort {
  PolicyProtocol protocol = PolicyProtocol::kTcp;
  std::optional<uint16_t> port;      // a number: this port, or up to end_port
  std::string port_name;             // else a name: the server pod's container port
  std::optional<uint16_t> end_port;  // with a number only
};

struct PolicyRule {
  std::vector<PolicyPeer> peers;  // from (ingress) or to (egress); empty: every peer
  std::vector<PolicyPort> ports;  // empty: every port
};

struct NetworkPolicy {
  std::string policy_namespace;
  std::string name;
  PolicySelector pod_selector;
  bool ingress_type = true;  // policyTypes resolved (policy_types below)
  bool egress_type = false;
  std::vector<PolicyRule> ingress;
  std::vector<PolicyRule> egress;
};

// policyTypes as the API server defaults them: the listed ones; when none are listed, Ingress,
// and Egress when the policy has egress rules. Sets policy.ingress_type and egress_type.
void resolve_policy_types(NetworkPolicy& policy, const std::vector<std::string>& listed,
                          bool egress_rules_given);

// A container port a named policy port may stand for.
struct NamedPort {
  std::string name;
  uint16_t port = 0;
  PolicyProtocol protocol = PolicyProtocol::kTcp;
};

struct PolicyPod {
  std::string pod_namespace;
  std::string name;
  Labels labels;
  std::vector<NamedPort> ports;
  bool host_network = false;
};

struct PolicyNamespace {
  std::string name;
  Labels labels;  // kubernetes.io/metadata.name is added when absent, as the API server does
};

// One end of a connection: a pod (non-null) at its address, or an address no pod has.
struct PolicyEndpoint {
  const PolicyPod* pod = nullptr;
  GraphAddress address;
};

struct PolicyTraffic {
  PolicyEndpoint client;
  PolicyEndpoint server;
  PolicyProtocol protocol = PolicyProtocol::kTcp;
  uint16_t port = 0;               // the server's
  bool from_servers_node = false;  // the client is the server pod's own node
};

struct PolicyVerdict {
  bool allowed = true;          // both of the below
  bool egress_allowed = true;   // by the client's side
  bool ingress_allowed = true;  // by the server's side
  // The policies that isolate the side that does not allow it ("namespace/name"), sorted.
  std::vector<std::string> isolated_by;
};

class PolicySet {
 public:
  PolicySet(std::vector<NetworkPolicy> policies, std::vector<PolicyNamespace> namespaces);

  PolicyVerdict evaluate(const PolicyTraffic& traffic) const;
  bool empty() const { return policies_.empty(); }

 private:
  // Whether `policy` selects `pod`.
  bool selects(const NetworkPolicy& policy, const PolicyPod& pod) const;
  // Whether `peer` of a rule of a policy in `policy_namespace` names `endpoint`.
  bool names(const PolicyPeer& peer, std::string_view policy_namespace,
             const PolicyEndpoint& endpoint) const;
  // Whether `rules` let `peer` through on the traffic's port (the server's named ports).
  bool allows(const std::vector<PolicyRule>& rules, std::string_view policy_namespace,
              const PolicyEndpoint& peer, const PolicyTraffic& traffic) const;
  const Labels* namespace_labels(std::string_view name) const;

  std::vector<NetworkPolicy> policies_;
  std::vector<PolicyNamespace> namespaces_;  // sorted by name
};

}  // namespace socksnap
