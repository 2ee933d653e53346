// Where each connection really went: a client socket whose destination the node translated
// (kube-proxy's DNAT of a service's cluster IP to a backend) gets the backend's address and port
// from the connection tracking tables read (collect/conntrack.h), in Snapshot::translations.
//
// A socket matches an entry whose original tuple is the socket's own (protocol, local address
// and port, remote address and port) and whose destination was translated. The tables looked in,
// in this order: the socket's own namespace's (a rule of that namespace, such as a sidecar's
// redirect, acts first on what leaves it), then the node's (kube-proxy's rules act on pod traffic
// as the node routes it, and on the node's own clients). An IPv6 socket with IPv4-mapped
// addresses matches the IPv4 entry, and its translation is the IPv4 backend the table holds.
#pragma once

#include <cstddef>
#include <vector>

#include "collect/conntrack.h"
#include "model/snapshot.h"

namespace socksnap {

// Fills snap.translations, one per socket (valid only for the translated ones; left empty when
// none is), and returns how many sockets were translated. The entries are indexed once in a hash
// map (only those whose destination was translated), then each socket is looked up.
size_t translate_destinations(Snapshot& snap, const std::vector<ConntrackTable>& tables);

}  // namespace socksnap
