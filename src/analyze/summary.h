// `socksnap summary`: a snapshot's rows counted in groups of equal values of some columns
// (--by), for the questions "how many connections, where" (troubleshooting, capacity planning).
// Pure: a snapshot, its selected rows and the columns in, the groups out, largest first.
//
// Capacity. A TCP listener's rx_queue is its accept queue (connections the kernel completed and
// the application has not accepted yet) and its tx_queue the queue's limit (the backlog given to
// listen(), capped by net.core.somaxconn), as `ss` shows them; a unix listener's are the same
// (UNIX_DIAG_RQLEN). A group whose status is LISTEN or whose direction is listen is a listener
// group; it carries the sums of its TCP and unix listeners' queues and limits. Sums, not maxima:
// counts are sums too, so that groups add up across nodes and a coarser --by gives the totals of a
// finer one; the queue over the limit is then the group's fill. A listener about to overflow alone
// shows in a finer group (--by ...,src).
//
// On a cluster each agent summarizes its own rows and the plugin summarizes the agents' groups
// again: each group comes back as one row of a snapshot (its values) with a weight (its count
// and sums), and the same function groups them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/snapshot.h"
#include "select/columns.h"

namespace socksnap {

// What a row adds to its group: a socket counts once, a TCP or unix listener adds its queue and
// limit. A row that stands for a group already (a cluster's) adds the group's.
struct GroupWeight {
  uint64_t count = 1;
  uint64_t listeners = 0;     // TCP and unix listeners among them
  uint64_t accept_queue = 0;  // their rx_queue, summed
  uint64_t backlog = 0;       // their tx_queue, summed
};

GroupWeight weight_of(const SocketRecord& socket);

struct SummaryGroup {
  uint32_t row = 0;                 // a row of the group: its cells are the group's values
  std::vector<std::string> values;  // each --by column's text, as the column writes it
  GroupWeight weight;
  bool listener_group = false;  // its status is LISTEN or its direction listen
  // Whether the group shows its accept queue and backlog: listeners, TCP ones among them.
  bool shows_queues() const { return listener_group && weight.listeners > 0; }
};

struct Summary {
  std::vector<const Column*> by;
  // Whether --by holds a column that makes listener groups (status, direction): the table then
  // has QUEUE and BACKLOG, whatever the groups turn out to be.
  bool queue_columns = false;
  // By count, largest first, then by the values in the columns' order (--sort's: numbers as
  // numbers, addresses by their bytes), then by their text.
  std::vector<SummaryGroup> groups;
  uint64_t rows = 0;  // the rows counted (the sum of the counts)
};

// The columns a summary groups by when --by is not given: what the node runs, as for the
// snapshot's default columns. Pods: k8s.namespace,k8s.podName,direction,status; containers:
// runtime.containerName,direction,status; else netns,direction,status.
std::vector<const Column*> default_summary_by(NodeKind kind);

// Whether grouping by `by` makes listener groups (status or direction is one of them).
bool groups_listeners(const std::vector<const Column*>& by);

// Groups `rows` of `snap` by the text of `by`'s columns. `weights`: per socket of `snap` (null:
// weight_of each socket).
Summary summarize(const Snapshot& snap, const std::vector<uint32_t>& rows,
                  const std::vector<const Column*>& by,
                  const std::vector<GroupWeight>* weights = nullptr);

}  // namespace socksnap
