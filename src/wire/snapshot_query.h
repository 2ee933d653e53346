// What a client asks an agent for: the selection part of the command line (protocol, filters,
// owner selectors, TCP internals) as the query of GET /v1/snapshot, and back.
//
// protocol left out is inet (TCP, UDP, UDP-Lite), which an agent before unix sockets called
// "all" and took for the default: an older agent asked for all reads inet (it has no unix
// sockets to give), and a newer agent reads unix sockets (all, unix) only for a client of
// revision 5 or later, whose reader knows their rows.
//
//   /v1/snapshot?protocol=tcp&filter=status%3ALISTEN&filter=dst.port%3A%3E%3D1024&namespace=shop
//               &podname=web-0&containername=httpd&selector=app%3Dweb&host=false&tcpinfo=true
//               &boundinactive=true&direction=false&translations=true
//
// direction=false: the client shows no direction, so the agent need not work it out (nor keep the
// listeners that would take) unless a filter sent to it names the direction.
//
// translations=true has the agent read its node's conntrack tables and write each translated
// socket's "translatedDst" (revision 3): the service map asks for it.
// Sorting and columns are the client's: an agent always answers with every row's JSON.
//
// GET /v1/summary takes the same selection and the columns to group by:
//
//   /v1/summary?by=k8s.namespace%2Ck8s.podName%2Cdirection%2Cstatus&namespace=shop&...
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "snapshot/query.h"
#include "util/result.h"

namespace socksnap {

// Filters on `src` and `dst` are left out: their text names pods and services, which only the
// client knows; the client applies every filter again to what the agents sent.
std::string snapshot_query(const QueryOptions& options, bool tcp_info);

// GET /v1/summary's query: the selection as snapshot_query has it, and `by` (column names).
std::string summary_query(const QueryOptions& options, bool tcp_info,
                          const std::vector<const Column*>& by);

// `base` (the agent's own options: where to read) with the query's selection. Unknown
// parameters and bad values are errors naming them. `summary`: a summary's query, which may
// also have `by` (left out: the node kind's default columns).
Result<QueryOptions> options_from_query(
    QueryOptions base, const std::vector<std::pair<std::string, std::string>>& query,
    bool summary = false);

}  // namespace socksnap
