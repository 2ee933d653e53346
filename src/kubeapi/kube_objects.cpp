#include "kubeapi/kube_objects.h"

#include <algorithm>

#include <fmt/format.h>

#include "kubeconfig/yaml_tree.h"
#include "render/structured_writer.h"
#include "util/json_reader.h"

namespace socksnap {
namespace {

Error malformed(std::string_view what, const JsonReader& r) {
  return plain_error(fmt::format("malformed {} at byte {}", what, r.offset()));
}

// Go's encoding/json omits empty lists and maps, but a hand-written or older object may hold
// null where a list or map goes: read it as empty.
bool null_here(JsonReader& r) {
  return r.peek() == JsonReader::Type::kNull && r.skip();
}

bool read_string_list(JsonReader& r, std::vector<std::string>& out) {
  if (null_here(r)) return true;
  for (auto items = r.array(); items.next();) {
    if (!r.read_string(out.emplace_back())) return false;
  }
  return !r.failed();
}

// A list's metadata: only "continue".
bool read_list_metadata(JsonReader& r, std::string& continue_token) {
  for (auto m = r.object(); m.next();) {
    if (!(m.key() == "continue" ? r.read_string_or_skip(continue_token) : r.skip())) return false;
  }
  return !r.failed();
}

bool read_owner_references(JsonReader& r, std::vector<OwnerReference>& out) {
  if (null_here(r)) return true;
  for (auto items = r.array(); items.next();) {
    OwnerReference& ref = out.emplace_back();
    for (auto m = r.object(); m.next();) {
      std::string_view key = m.key();
      bool ok = key == "kind"         ? r.read_string(ref.kind)
                : key == "name"       ? r.read_string(ref.name)
                : key == "controller" ? (null_here(r) || r.read_bool(ref.controller))
                                      : r.skip();
      if (!ok) return false;
    }
  }
  return !r.failed();
}

bool read_pod_metadata(JsonReader& r, PodSummary& pod) {
  for (auto m = r.object(); m.next();) {
    std::string_view key = m.key();
    bool ok = true;
    if (key == "name") {
      ok = r.read_string(pod.name);
    } else if (key == "namespace") {
      ok = r.read_string(pod.pod_namespace);
    } else if (key == "uid") {
      ok = r.read_string(pod.uid);
    } else if (key == "labels") {
      ok = null_here(r) || read_labels(r, pod.labels, NonStringLabel::kFail);
    } else if (key == "deletionTimestamp") {
      pod.terminating = r.peek() != JsonReader::Type::kNull;
      ok = r.skip();
    } else if (key == "ownerReferences") {
      ok = read_owner_references(r, pod.owners);
    } else {
      ok = r.skip();
    }
    if (!ok) return false;
  }
  return !r.failed();
}

bool read_container_ports(JsonReader& r, PodSummary& pod) {
  if (null_here(r)) return true;
  for (auto containers = r.array(); containers.next();) {
    for (auto c = r.object(); c.next();) {
      if (c.key() != "ports") {
        if (!r.skip()) return false;
        continue;
      }
      if (null_here(r)) continue;
      for (auto ports = r.array(); ports.next();) {
        ContainerPort port;
        int64_t number = 0;
        for (auto p = r.object(); p.next();) {
          std::string_view key = p.key();
          bool ok = key == "name"            ? r.read_string(port.name)
                    : key == "containerPort" ? r.read_int(number)
                    : key == "protocol"      ? r.read_string(port.protocol)
                                             : r.skip();
          if (!ok) return false;
        }
        if (number > 0 && number < 65536) {
          port.port = static_cast<uint16_t>(number);
          pod.ports.push_back(std::move(port));
        }
      }
    }
  }
  return !r.failed();
}

bool read_pod_spec(JsonReader& r, PodSummary& pod) {
  for (auto m = r.object(); m.next();) {
    std::string_view key = m.key();
    bool ok = key == "nodeName"      ? r.read_string(pod.node_name)
              : key == "hostNetwork" ? r.read_bool(pod.host_network)
              : key == "containers"  ? read_container_ports(r, pod)
                                     : r.skip();
    if (!ok) return false;
  }
  return !r.failed();
}

bool read_pod_status(JsonReader& r, PodSummary& pod) {
  std::string pod_ip;
  std::vector<std::string> pod_ips;
  for (auto m = r.object(); m.next();) {
    std::string_view key = m.key();
    bool ok = true;
    if (key == "phase") {
      ok = r.read_string(pod.phase);
    } else if (key == "podIP") {
      ok = r.read_string(pod_ip);
    } else if (key == "podIPs") {
      if (null_here(r)) continue;
      for (auto items = r.array(); items.next();) {
        for (auto ip = r.object(); ip.next();) {
          if (!(ip.key() == "ip" ? r.read_string(pod_ips.emplace_back()) : r.skip())) return false;
        }
      }
    } else {
      ok = r.skip();
    }
    if (!ok) return false;
  }
  // podIPs holds podIP first; older servers send only podIP.
  if (pod_ips.empty() && !pod_ip.empty()) pod_ips.push_back(pod_ip);
  pod.pod_ips = std::move(pod_ips);
  return !r.failed();
}

bool read_pod(JsonReader& r, PodSummary& pod) {
  for (auto m = r.object(); m.next();) {
    std::string_view key = m.key();
    bool ok = key == "metadata" ? read_pod_metadata(r, pod)
              : key == "spec"   ? read_pod_spec(r, pod)
              : key == "status" ? read_pod_status(r, pod)
                                : r.skip();
    if (!ok) return false;
  }
  return !r.failed();
}

bool read_service(JsonReader& r, ServiceSummary& service) {
  std::string cluster_ip;
  std::vector<std::string> cluster_ips;
  for (auto m = r.object(); m.next();) {
    std::string_view key = m.key();
    bool ok = true;
    if (key == "metadata") {
      for (auto meta = r.object(); meta.next();) {
        std::string_view field = meta.key();
        bool read = field == "name"        ? r.read_string(service.name)
                    : field == "namespace" ? r.read_string(service.service_namespace)
                                           : r.skip();
        if (!read) return false;
      }
    } else if (key == "spec") {
      for (auto spec = r.object(); spec.next();) {
        std::string_view field = spec.key();
        bool read = field == "clusterIP"    ? r.read_string_or_skip(cluster_ip)
                    : field == "clusterIPs" ? read_string_list(r, cluster_ips)
                                            : r.skip();
        if (!read) return false;
      }
    } else {
      ok = r.skip();
    }
    if (!ok) return false;
  }
  if (cluster_ips.empty() && !cluster_ip.empty()) cluster_ips.push_back(cluster_ip);
  // Headless services have "None": no address to name.
  std::erase_if(cluster_ips, [](const std::string& ip) { return ip.empty() || ip == "None"; });
  service.cluster_ips = std::move(cluster_ips);
  return !r.failed();
}

template <typename Item, typename ReadItem>
Result<ListPage<Item>> parse_list(std::string_view json, std::string_view kind,
                                  ReadItem read_item) {
  JsonReader r(json);
  ListPage<Item> page;
  std::string seen_kind;
  for (auto m = r.object(); m.next();) {
    std::string_view key = m.key();
    bool ok = true;
    if (key == "kind") {
      ok = r.read_string(seen_kind);
    } else if (key == "metadata") {
      ok = read_list_metadata(r, page.continue_token);
    } else if (key == "items") {
      if (!null_here(r)) {
        for (auto items = r.array(); items.next();) {
          if (!read_item(r, page.items.emplace_back())) break;
        }
        ok = !r.failed();
      }
    } else {
      ok = r.skip();
    }
    if (!ok) break;
  }
  if (!r.finish()) return malformed(kind, r);
  if (!seen_kind.empty() && seen_kind != kind) {
    return plain_error(fmt::format("expected a {}, got a {}", kind, seen_kind));
  }
  return page;
}

// ---- NetworkPolicy ------------------------------------------------------------------------------

// Reads a policy, keeping the first thing in it the evaluator cannot take (`problem`: "FIELD:
// what"); the JSON is read on either way.
class PolicyReader {
 public:
  explicit PolicyReader(JsonReader& r) : r_(r) {}

  bool read(NetworkPolicy& policy) {
    std::vector<std::string> types;
    for (auto m = r_.object(); m.next();) {
      std::string_view key = m.key();
      bool ok = key == "metadata" ? read_metadata(policy)
                : key == "spec"   ? read_spec(policy, types)
                                  : r_.skip();
      if (!ok) return false;
    }
    // Egress rules given: an empty list is no rule (Go's encoding leaves it out).
    resolve_policy_types(policy, types, !policy.egress.empty());
    return !r_.failed();
  }
  const std::string& problem() const { return problem_; }

 private:
  void note(std::string field, std::string_view what) {
    if (problem_.empty()) problem_ = fmt::format("{}: {}", field, what);
  }

  bool read_metadata(NetworkPolicy& policy) {
    for (auto m = r_.object(); m.next();) {
      std::string_view key = m.key();
      bool ok = key == "name"        ? r_.read_string(policy.name)
                : key == "namespace" ? r_.read_string(policy.policy_namespace)
                                     : r_.skip();
      if (!ok) return false;
    }
    return !r_.failed();
  }

  bool read_spec(NetworkPolicy& policy, std::vector<std::string>& types) {
    for (auto m = r_.object(); m.next();) {
      std::string_view key = m.key();
      bool ok = true;
      if (key == "podSelector") {
        ok = read_selector(policy.pod_selector, "podSelector");
      } else if (key == "policyTypes") {
        ok = read_string_list(r_, types);
        for (const std::string& type : types) {
          if (type != "Ingress" && type != "Egress") {
            note("policyTypes", fmt::format("'{}' is not Ingress or Egress", type));
          }
        }
      } else if (key == "ingress") {
        ok = read_rules(policy.ingress, "ingress", "from");
      } else if (key == "egress") {
        ok = read_rules(policy.egress, "egress", "to");
      } else {
        ok = r_.skip();
      }
      if (!ok) return false;
    }
    return !r_.failed();
  }

  // A metav1.LabelSelector: matchLabels and matchExpressions.
  bool read_selector(PolicySelector& out, const std::string& field) {
    if (null_here(r_)) return true;
    for (auto m = r_.object(); m.next();) {
      std::string_view key = m.key();
      bool ok = true;
      if (key == "matchLabels") {
        Labels labels;
        ok = null_here(r_) || read_labels(r_, labels, NonStringLabel::kFail);
        for (auto& [k, v] : labels) {
          out.requirements.push_back({k, LabelRequirement::Op::kEqual, {v}});
        }
      } else if (key == "matchExpressions") {
        ok = read_expressions(out, field + ".matchExpressions");
      } else {
        ok = r_.skip();
      }
      if (!ok) return false;
    }
    return !r_.failed();
  }

  bool read_expressions(PolicySelector& out, const std::string& field) {
    if (null_here(r_)) return true;
    size_t n = 0;
    for (auto items = r_.array(); items.next(); ++n) {
      LabelRequirement req;
      std::string op;
      for (auto m = r_.object(); m.next();) {
        std::string_view key = m.key();
        bool ok = key == "key"        ? r_.read_string(req.key)
                  : key == "operator" ? r_.read_string(op)
                  : key == "values"   ? read_string_list(r_, req.values)
                                      : r_.skip();
        if (!ok) return false;
      }
      using Op = LabelRequirement::Op;
      if (op == "In") {
        req.op = Op::kIn;
      } else if (op == "NotIn") {
        req.op = Op::kNotIn;
      } else if (op == "Exists") {
        req.op = Op::kExists;
      } else if (op == "DoesNotExist") {
        req.op = Op::kNotExists;
      } else {
        note(fmt::format("{}[{}].operator", field, n),
             fmt::format("'{}' is not In, NotIn, Exists or DoesNotExist", op));
      }
      std::sort(req.values.begin(), req.values.end());
      req.values.erase(std::unique(req.values.begin(), req.values.end()), req.values.end());
      out.requirements.push_back(std::move(req));
    }
    return !r_.failed();
  }

  bool read_rules(std::vector<PolicyRule>& rules, std::string_view side, std::string_view peers) {
    if (null_here(r_)) return true;
    for (auto items = r_.array(); items.next();) {
      std::string field = fmt::format("{}[{}]", side, rules.size());
      PolicyRule& rule = rules.emplace_back();
      for (auto m = r_.object(); m.next();) {
        std::string_view key = m.key();
        bool ok = key == peers     ? read_peers(rule.peers, fmt::format("{}.{}", field, peers))
                  : key == "ports" ? read_ports(rule.ports, field + ".ports")
                                   : r_.skip();
        if (!ok) return false;
      }
    }
    return !r_.failed();
  }

  bool read_peers(std::vector<PolicyPeer>& out, const std::string& field) {
    if (null_here(r_)) return true;
    for (auto items = r_.array(); items.next();) {
      std::string where = fmt::format("{}[{}]", field, out.size());
      PolicyPeer& peer = out.emplace_back();
      for (auto m = r_.object(); m.next();) {
        std::string_view key = m.key();
        bool ok = true;
        if (key == "podSelector" && !null_here(r_)) {
          ok = read_selector(peer.pod_selector.emplace(), where + ".podSelector");
        } else if (key == "namespaceSelector" && !null_here(r_)) {
          ok = read_selector(peer.namespace_selector.emplace(), where + ".namespaceSelector");
        } else if (key == "ipBlock" && !null_here(r_)) {
          ok = read_ip_block(peer.ip_block.emplace(), where + ".ipBlock");
        } else if (key != "podSelector" && key != "namespaceSelector" && key != "ipBlock") {
          ok = r_.skip();
        }
        if (!ok) return false;
      }
    }
    return !r_.failed();
  }

  bool read_ip_block(IpBlock& out, const std::string& field) {
    std::string cidr;
    std::vector<std::string> except;
    for (auto m = r_.object(); m.next();) {
      std::string_view key = m.key();
      bool ok = key == "cidr"     ? r_.read_string(cidr)
                : key == "except" ? read_string_list(r_, except)
                                  : r_.skip();
      if (!ok) return false;
    }
    if (auto parsed = parse_cidr(cidr)) {
      out.cidr = *parsed;
    } else {
      note(field + ".cidr", parsed.error().message());
    }
    for (size_t i = 0; i < except.size(); ++i) {
      if (auto parsed = parse_cidr(except[i])) {
        out.except.push_back(*parsed);
      } else {
        note(fmt::format("{}.except[{}]", field, i), parsed.error().message());
      }
    }
    return !r_.failed();
  }

  bool read_ports(std::vector<PolicyPort>& out, const std::string& field) {
    if (null_here(r_)) return true;
    for (auto items = r_.array(); items.next();) {
      std::string where = fmt::format("{}[{}]", field, out.size());
      PolicyPort& port = out.emplace_back();
      std::string protocol = "TCP";
      for (auto m = r_.object(); m.next();) {
        std::string_view key = m.key();
        bool ok = true;
        int64_t number = 0;
        if (key == "protocol") {
          ok = null_here(r_) || r_.read_string(protocol);
        } else if (key == "port" && r_.peek() == JsonReader::Type::kString) {
          ok = r_.read_string(port.port_name);
        } else if (key == "port" && !null_here(r_)) {
          ok = r_.read_int(number);
          if (ok && (number < 1 || number > 65535)) {
            note(where + ".port", fmt::format("{} is not a port (1 to 65535)", number));
          } else if (ok) {
            port.port = static_cast<uint16_t>(number);
          }
        } else if (key == "endPort" && !null_here(r_)) {
          ok = r_.read_int(number);
          if (ok && (number < 1 || number > 65535)) {
            note(where + ".endPort", fmt::format("{} is not a port (1 to 65535)", number));
          } else if (ok) {
            port.end_port = static_cast<uint16_t>(number);
          }
        } else if (key != "port" && key != "endPort") {
          ok = r_.skip();
        }
        if (!ok) return false;
      }
      if (auto named = policy_protocol_named(protocol)) {
        port.protocol = *named;
      } else {
        note(where + ".protocol", fmt::format("'{}' is not TCP, UDP or SCTP", protocol));
      }
      if (port.end_port && !port.port) {
        note(where + ".endPort", "is given without a numeric port");
      }
    }
    return !r_.failed();
  }

  JsonReader& r_;
  std::string problem_;
};

// {"key":["value",...],...}, sorted by key (a map in Go: its order is not the sender's).
bool read_extra(JsonReader& r, UserExtra& out) {
  if (null_here(r)) return true;
  for (auto m = r.object(); m.next();) {
    auto& entry = out.emplace_back(std::string(m.key()), std::vector<std::string>());
    if (!read_string_list(r, entry.second)) return false;
  }
  std::sort(out.begin(), out.end());
  return !r.failed();
}

void append_string_array(fmt::memory_buffer& b, const std::vector<std::string>& items) {
  b.push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i != 0) b.push_back(',');
    append_json_string(b, items[i]);
  }
  b.push_back(']');
}

}  // namespace

Result<ListPage<PodSummary>> parse_pod_list(std::string_view json) {
  return parse_list<PodSummary>(json, "PodList", read_pod);
}

Result<ListPage<ServiceSummary>> parse_service_list(std::string_view json) {
  return parse_list<ServiceSummary>(json, "ServiceList", read_service);
}

Result<ListPage<NetworkPolicy>> parse_network_policy_list(std::string_view json) {
  std::string problem;
  auto page = parse_list<NetworkPolicy>(
      json, "NetworkPolicyList", [&problem](JsonReader& r, NetworkPolicy& policy) {
        PolicyReader reader(r);
        bool ok = reader.read(policy);
        if (problem.empty() && !reader.problem().empty()) {
          problem = fmt::format("NetworkPolicy {}/{}: {}", policy.policy_namespace, policy.name,
                                reader.problem());
        }
        return ok;
      });
  // Names and values come from the cluster: shown escaped, on one line.
  if (page && !problem.empty()) return printable(plain_error(problem));
  return page;
}

Result<ListPage<PolicyNamespace>> parse_namespace_list(std::string_view json) {
  return parse_list<PolicyNamespace>(json, "NamespaceList", [](JsonReader& r, PolicyNamespace& ns) {
    for (auto item = r.object(); item.next();) {
      if (item.key() != "metadata") {
        if (!r.skip()) return false;
        continue;
      }
      for (auto metadata = r.object(); metadata.next();) {
        std::string_view key = metadata.key();
        bool ok = key == "name" ? r.read_string(ns.name)
                  : key == "labels"
                      ? null_here(r) || read_labels(r, ns.labels, NonStringLabel::kFail)
                      : r.skip();
        if (!ok) return false;
      }
    }
    return !r.failed();
  });
}

Result<ListPage<OwnedObject>> parse_owned_list(std::string_view json, std::string_view kind) {
  return parse_list<OwnedObject>(json, kind, [](JsonReader& r, OwnedObject& object) {
    for (auto item = r.object(); item.next();) {
      if (item.key() != "metadata") {
        if (!r.skip()) return false;
        continue;
      }
      for (auto metadata = r.object(); metadata.next();) {
        std::string_view key = metadata.key();
        bool ok = key == "name"              ? r.read_string(object.name)
                  : key == "namespace"       ? r.read_string(object.object_namespace)
                  : key == "ownerReferences" ? read_owner_references(r, object.owners)
                                             : r.skip();
        if (!ok) return false;
      }
    }
    return !r.failed();
  });
}

const OwnerReference* controller_of(const std::vector<OwnerReference>& references) {
  for (const auto& ref : references) {
    if (ref.controller) return &ref;
  }
  return nullptr;
}

Result<ListPage<std::string>> parse_name_list(std::string_view json, std::string_view kind) {
  return parse_list<std::string>(json, kind, [](JsonReader& r, std::string& name) {
    for (auto item = r.object(); item.next();) {
      if (item.key() != "metadata") {
        if (!r.skip()) return false;
        continue;
      }
      for (auto metadata = r.object(); metadata.next();) {
        if (!(metadata.key() == "name" ? r.read_string(name) : r.skip())) return false;
      }
    }
    return !r.failed();
  });
}

std::string token_request_body(const std::vector<std::string>& audiences, int64_t seconds) {
  fmt::memory_buffer b;
  b.append(std::string_view(
      R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"audiences":)"));
  append_string_array(b, audiences);
  fmt::format_to(std::back_inserter(b), R"(,"expirationSeconds":{}}}}})", seconds);
  return fmt::to_string(b);
}

Result<IssuedToken> parse_token_request(std::string_view json) {
  JsonReader r(json);
  IssuedToken issued;
  for (auto m = r.object(); m.next();) {
    if (m.key() != "status") {
      if (!r.skip()) break;
      continue;
    }
    for (auto s = r.object(); s.next();) {
      std::string_view key = s.key();
      bool ok = key == "token"                 ? r.read_string(issued.token)
                : key == "expirationTimestamp" ? r.read_string_or_skip(issued.expiration)
                                               : r.skip();
      if (!ok) break;
    }
  }
  if (!r.finish()) return malformed("TokenRequest", r);
  if (issued.token.empty()) return plain_error("the TokenRequest's answer holds no token");
  return issued;
}

std::string token_review_body(std::string_view token, const std::vector<std::string>& audiences) {
  fmt::memory_buffer b;
  b.append(std::string_view(
      R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":)"));
  append_json_string(b, token);
  if (!audiences.empty()) {  // omitted, as Go's omitempty leaves it, for the API's own
    b.append(std::string_view(R"(,"audiences":)"));
    append_string_array(b, audiences);
  }
  b.append(std::string_view("}}"));
  return fmt::to_string(b);
}

Result<TokenVerdict> parse_token_review(std::string_view json) {
  JsonReader r(json);
  TokenVerdict verdict;
  bool has_status = false;
  for (auto m = r.object(); m.next();) {
    if (m.key() != "status") {
      if (!r.skip()) break;
      continue;
    }
    has_status = true;
    for (auto s = r.object(); s.next();) {
      std::string_view key = s.key();
      bool ok = true;
      if (key == "authenticated") {
        ok = r.read_bool(verdict.authenticated);
      } else if (key == "error") {
        ok = r.read_string(verdict.error);
      } else if (key == "audiences") {
        ok = read_string_list(r, verdict.audiences);
      } else if (key == "user") {
        for (auto u = r.object(); u.next();) {
          std::string_view field = u.key();
          bool read = field == "username" ? r.read_string(verdict.username)
                      : field == "uid"    ? r.read_string(verdict.uid)
                      : field == "groups" ? read_string_list(r, verdict.groups)
                      : field == "extra"  ? read_extra(r, verdict.extra)
                                          : r.skip();
          if (!read) break;
        }
      } else {
        ok = r.skip();
      }
      if (!ok) break;
    }
  }
  if (!r.finish()) return malformed("TokenReview", r);
  if (!has_status) return plain_error("the TokenReview's answer holds no status");
  return verdict;
}

std::string subject_access_review_body(const AccessQuestion& question) {
  fmt::memory_buffer b;
  b.append(std::string_view(
      R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{)"
      R"("nonResourceAttributes":{"path":)"));
  append_json_string(b, question.path);
  b.append(std::string_view(R"(,"verb":)"));
  append_json_string(b, question.verb);
  b.append(std::string_view(R"(},"user":)"));
  append_json_string(b, question.user);
  // Empty fields left out, as Go's omitempty leaves them.
  if (!question.groups.empty()) {
    b.append(std::string_view(R"(,"groups":)"));
    append_string_array(b, question.groups);
  }
  if (!question.uid.empty()) {
    b.append(std::string_view(R"(,"uid":)"));
    append_json_string(b, question.uid);
  }
  if (!question.extra.empty()) {
    b.append(std::string_view(R"(,"extra":{)"));
    for (size_t i = 0; i < question.extra.size(); ++i) {
      if (i != 0) b.push_back(',');
      append_json_string(b, question.extra[i].first);
      b.push_back(':');
      append_string_array(b, question.extra[i].second);
    }
    b.push_back('}');
  }
  b.append(std::string_view("}}"));
  return fmt::to_string(b);
}

Result<AccessVerdict> parse_subject_access_review(std::string_view json) {
  JsonReader r(json);
  AccessVerdict verdict;
  bool has_status = false;
  std::string kind;
  for (auto m = r.object(); m.next();) {
    std::string_view key = m.key();
    if (key == "kind") {
      if (!r.read_string(kind)) break;
      continue;
    }
    if (key != "status") {
      if (!r.skip()) break;
      continue;
    }
    has_status = true;
    for (auto s = r.object(); s.next();) {
      std::string_view field = s.key();
      bool ok = field == "allowed"           ? r.read_bool(verdict.allowed)
                : field == "denied"          ? r.read_bool(verdict.denied)
                : field == "reason"          ? r.read_string(verdict.reason)
                : field == "evaluationError" ? r.read_string(verdict.evaluation_error)
                                             : r.skip();
      if (!ok) break;
    }
  }
  if (!r.finish()) return malformed("SubjectAccessReview", r);
  if (!kind.empty() && kind != "SubjectAccessReview") {
    return plain_error("expected a SubjectAccessReview, got a " + kind);
  }
  if (!has_status) return plain_error("the SubjectAccessReview's answer holds no status");
  return verdict;
}

Result<ApiStatus> parse_status(std::string_view json) {
  JsonReader r(json);
  ApiStatus status;
  std::string kind;
  for (auto m = r.object(); m.next();) {
    std::string_view key = m.key();
    int64_t code = 0;
    bool ok = true;
    if (key == "kind") {
      ok = r.read_string(kind);
    } else if (key == "status") {
      ok = r.read_string_or_skip(status.status);
    } else if (key == "message") {
      ok = r.read_string(status.message);
    } else if (key == "reason") {
      ok = r.read_string(status.reason);
    } else if (key == "code") {
      ok = r.read_int(code);
      status.code = static_cast<int>(code);
    } else {
      ok = r.skip();
    }
    if (!ok) break;
  }
  if (!r.finish()) return malformed("Status", r);
  if (kind != "Status") return plain_error("not a Status");
  return status;
}

PolicyPod policy_pod_of(const PodSummary& pod) {
  PolicyPod out;
  out.pod_namespace = pod.pod_namespace;
  out.name = pod.name;
  out.labels = pod.labels;
  out.host_network = pod.host_network;
  for (const ContainerPort& port : pod.ports) {
    NamedPort named;
    named.name = port.name;
    named.port = port.port;
    named.protocol = policy_protocol_named(port.protocol).value_or(PolicyProtocol::kOther);
    out.ports.push_back(std::move(named));
  }
  return out;
}

}  // namespace socksnap
