#include "analyze/network_policy.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace socksnap {

std::optional<PolicyProtocol> policy_protocol_named(std::string_view name) {
  for (PolicyProtocol p : {PolicyProtocol::kTcp, PolicyProtocol::kUdp, PolicyProtocol::kSctp}) {
    if (policy_protocol_name(p) == name) return p;
  }
  return std::nullopt;
}

std::string_view policy_protocol_name(PolicyProtocol protocol) {
  switch (protocol) {
    case PolicyProtocol::kTcp:
      return "TCP";
    case PolicyProtocol::kUdp:
      return "UDP";
    case PolicyProtocol::kSctp:
      return "SCTP";
    case PolicyProtocol::kOther:
      break;
  }
  return "other";
}

bool PolicySelector::matches(const Labels& labels) const {
  return std::all_of(requirements.begin(), requirements.end(), [&](const LabelRequirement& r) {
    return r.matches(find_label(labels, r.key));
  });
}

bool Cidr::contains(const GraphAddress& a) const {
  if (a.v4 != address.v4) return false;
  unsigned whole = prefix / 8;
  unsigned rest = prefix % 8;
  if (!std::equal(a.bytes.begin(), a.bytes.begin() + whole, address.bytes.begin())) return false;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a.bytes[whole] & mask) == (address.bytes[whole] & mask);
}

Result<Cidr> parse_cidr(std::string_view text) {
  size_t slash = text.find('/');
  auto address = parse_graph_address(text.substr(0, slash));
  if (!address) return plain_error(fmt::format("'{}' is not a CIDR (ADDRESS/PREFIX)", text));
  unsigned most = address->v4 ? 32 : 128;
  unsigned prefix = most;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() ||
        prefix > most) {
      return plain_error(fmt::format("'{}' is not a CIDR: the prefix is 0 to {}", text, most));
    }
  }
  return Cidr{*address, static_cast<uint8_t>(prefix)};
}

void resolve_policy_types(NetworkPolicy& policy, const std::vector<std::string>& listed,
                          bool egress_rules_given) {
  if (listed.empty()) {
    policy.ingress_type = true;
    policy.egress_type = egress_rules_given;
    return;
  }
  policy.ingress_type = std::find(listed.begin(), listed.end(), "Ingress") != listed.end();
  policy.egress_type = std::find(listed.begin(), listed.end(), "Egress") != listed.end();
}

PolicySet::PolicySet(std::vector<NetworkPolicy> policies, std::vector<PolicyNamespace> namespaces)
    : policies_(std::move(policies)), namespaces_(std::move(namespaces)) {
  for (PolicyNamespace& ns : namespaces_) {
    if (find_label(ns.labels, "kubernetes.io/metadata.name") == nullptr) {
      ns.labels.emplace_back("kubernetes.io/metadata.name", ns.name);
      sort_labels(ns.labels);
    }
  }
  std::sort(namespaces_.begin(), namespaces_.end(),
            [](const PolicyNamespace& a, const PolicyNamespace& b) { return a.name < b.name; });
}

const Labels* PolicySet::namespace_labels(std::string_view name) const {
  auto it = std::lower_bound(
      namespaces_.begin(), namespaces_.end(), name,
      [](const PolicyNamespace& ns, std::string_view wanted) { return ns.name < wanted; });
  return it != namespaces_.end() && it->name == name ? &it->labels : nullptr;
}

bool PolicySet::selects(const NetworkPolicy& policy, const PolicyPod& pod) const {
  return !pod.host_network && policy.policy_namespace == pod.pod_namespace &&
         policy.pod_selector.matches(pod.labels);
}

bool PolicySet::names(const PolicyPeer& peer, std::string_view policy_namespace,
                      const PolicyEndpoint& endpoint) const {
  if (peer.ip_block) {
    const IpBlock& block = *peer.ip_block;
    return block.cidr.contains(endpoint.address) &&
           std::none_of(block.except.begin(), block.except.end(),
                        [&](const Cidr& c) { return c.contains(endpoint.address); });
  }
  const PolicyPod* pod = endpoint.pod;
  if (pod == nullptr || pod->host_network) return false;
  if (peer.namespace_selector) {
    // A namespace the cluster did not list has no labels the selector could match, but an
    // empty selector (every namespace) still names it.
    static const Labels kUnlabelled;
    const Labels* labels = namespace_labels(pod->pod_namespace);
    if (!peer.namespace_selector->matches(labels != nullptr ? *labels : kUnlabelled)) return false;
  } else if (pod->pod_namespace != policy_namespace) {
    return false;
  }
  return !peer.pod_selector || peer.pod_selector->matches(pod->labels);
}

bool PolicySet::allows(const std::vector<PolicyRule>& rules, std::string_view policy_namespace,
                       const PolicyEndpoint& peer, const PolicyTraffic& traffic) const {
  auto port_matches = [&](const PolicyPort& p) {
    if (p.protocol != traffic.protocol) return false;
    if (!p.port_name.empty()) {
      const PolicyPod* server = traffic.server.pod;
      if (server == nullptr) return false;
      return std::any_of(server->ports.begin(), server->ports.end(), [&](const NamedPort& named) {
        return named.name == p.port_name && named.protocol == p.protocol &&
               named.port == traffic.port;
      });
    }
    if (!p.port) return true;
    if (p.end_port) return *p.port <= traffic.port && traffic.port <= *p.end_port;
    return *p.port == traffic.port;
  };
  return std::any_of(rules.begin(), rules.end(), [&](const PolicyRule& rule) {
    bool peer_named = rule.peers.empty() ||
                      std::any_of(rule.peers.begin(), rule.peers.end(), [&](const PolicyPeer& p) {
                        return names(p, policy_namespace, peer);
                      });
    return peer_named &&
           (rule.ports.empty() || std::any_of(rule.ports.begin(), rule.ports.end(), port_matches));
  });
}

PolicyVerdict PolicySet::evaluate(const PolicyTraffic& traffic) const {
  PolicyVerdict verdict;
  const PolicyPod* client = traffic.client.pod;
  const PolicyPod* server = traffic.server.pod;
  if (client != nullptr && client == server) return verdict;  // a pod to itself
  std::vector<std::string> egress_isolating;
  std::vector<std::string> ingress_isolating;
  bool egress_isolated = false;
  bool ingress_isolated = false;
  bool egress_allowed = false;
  bool ingress_allowed = false;
  for (const NetworkPolicy& policy : policies_) {
    if (client != nullptr && policy.egress_type && selects(policy, *client)) {
      egress_isolated = true;
      egress_isolating.push_back(policy.policy_namespace + "/" + policy.name);
      egress_allowed =
          egress_allowed || allows(policy.egress, policy.policy_namespace, traffic.server, traffic);
    }
    if (server != nullptr && policy.ingress_type && selects(policy, *server)) {
      ingress_isolated = true;
      ingress_isolating.push_back(policy.policy_namespace + "/" + policy.name);
      ingress_allowed = ingress_allowed ||
                        allows(policy.ingress, policy.policy_namespace, traffic.client, traffic);
    }
  }
  verdict.egress_allowed = !egress_isolated || egress_allowed;
  verdict.ingress_allowed = !ingress_isolated || ingress_allowed || traffic.from_servers_node;
  verdict.allowed = verdict.egress_allowed && verdict.ingress_allowed;
  if (!verdict.egress_allowed) {
    verdict.isolated_by.insert(verdict.isolated_by.end(), egress_isolating.begin(),
                               egress_isolating.end());
  }
  if (!verdict.ingress_allowed) {
    verdict.isolated_by.insert(verdict.isolated_by.end(), ingress_isolating.begin(),
                               ingress_isolating.end());
  }
  std::sort(verdict.isolated_by.begin(), verdict.isolated_by.end());
  verdict.isolated_by.erase(std::unique(verdict.isolated_by.begin(), verdict.isolated_by.end()),
                            verdict.isolated_by.end());
  return verdict;
}

}  // namespace socksnap
