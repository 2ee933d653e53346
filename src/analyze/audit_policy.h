// What an audit is told to expect (`socksnap audit --policy FILE`): the listeners and the
// connections that are no violation. A YAML (or JSON) file, documented by
// docs/audit-policy.schema.json:
//
//   listeners:                      # allowed listeners
//     - {namespace: monitoring, selector: "app=node-exporter", port: 9100, protocol: TCP,
//        address: 10.0.0.0/8}
//   connections:                    # allowed connections
//     - from: {namespace: frontend, selector: "app=web"}
//       to: {namespace: backend, selector: "app=api", cidr: 10.244.0.0/16}
//       port: 8443
//       protocol: TCP
//
// Every key is optional, and one left out matches anything. `namespace` and `selector` (a label
// selector, as -l takes it) match a pod's socket only; `cidr` and `address` an address range (an
// address alone is itself); `port` the listener's, or the connection's server port; `protocol`
// TCP, UDP or UDPLITE. Errors name the file, the line and the key (`policy.yaml:4:
// listeners[0].port: 70000 is not a port (1 to 65535)`).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/network_policy.h"
#include "model/labels.h"
#include "model/socket.h"
#include "select/label_selector.h"
#include "util/result.h"

namespace socksnap {

struct AuditPeer {
  std::optional<std::string> pod_namespace;
  std::optional<std::vector<LabelRequirement>> selector;
  std::optional<Cidr> cidr;
};

struct AllowedListener {
  std::optional<std::string> pod_namespace;
  std::optional<std::vector<LabelRequirement>> selector;
  std::optional<uint16_t> port;
  std::optional<Protocol> protocol;
  std::optional<Cidr> address;
  int line = 0;  // in the file, for what a report says
};

struct AllowedConnection {
  AuditPeer from;
  AuditPeer to;
  std::optional<uint16_t> port;
  std::optional<Protocol> protocol;
  int line = 0;
};

struct AuditPolicy {
  std::vector<AllowedListener> listeners;
  std::vector<AllowedConnection> connections;
};

// Pure. `file` names the file in errors. An empty file allows nothing.
Result<AuditPolicy> parse_audit_policy(std::string_view text, std::string_view file);

// One end as the audit sees it: a pod's (namespace and labels non-null) or not, at an address.
struct AuditSide {
  const std::string* pod_namespace = nullptr;
  const Labels* pod_labels = nullptr;
  GraphAddress address;
};

bool allows(const AllowedListener& rule, const AuditSide& listener, uint16_t port,
            Protocol protocol);
bool allows(const AllowedConnection& rule, const AuditSide& client, const AuditSide& server,
            uint16_t port, Protocol protocol);

}  // namespace socksnap
