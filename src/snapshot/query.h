// What a run shows and how: the selection and output part of every front-end's command line
// (--protocol, -F, --sort, -o, -n, -A, -p, -c, -l, --host), compiled once and completely into
// what the stages need: what to ask the kernel, which rows, in which order, which columns. The
// columns and sort follow what the node runs (the default columns of a host, of containers, of
// pods); they are resolved here for each kind of node, so that nothing is parsed again once the
// census has said which kind this node is. Compiling is pure: every usage error comes out here,
// before anything is collected.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "collect/socket_source.h"
#include "render/renderer.h"
#include "select/selection.h"
#include "util/result.h"

namespace socksnap {

// --protocol's values. The default, inet, is TCP, UDP and UDP-Lite; all adds unix sockets, which a
// host has by the hundred: they are listed only when asked for (all, unix).
inline constexpr std::string_view kDefaultProtocol = "inet";
inline constexpr std::string_view kProtocolChoices[] = {"inet", "all",     "tcp",
                                                        "udp",  "udplite", "unix"};
bool is_protocol_choice(std::string_view protocol);  // lower case

// The options as a front-end parsed them (strings as typed; compile_query checks them).
struct QueryOptions {
  std::string protocol{kDefaultProtocol};  // one of kProtocolChoices (any case)
  std::vector<std::string> filters;
  std::string sort;
  std::vector<std::string> outputs;  // -o, each as given
  bool no_headers = false;
  bool tcp_info = false;
  bool bound_inactive = false;
  std::string pod_namespace;    // -n
  bool all_namespaces = false;  // -A
  std::string pod_name;         // -p
  std::string container_name;   // -c
  std::string selector;         // -l
  bool host = false;            // --host
  bool no_host = false;         // --no-host
  // For the service map (socksnap graph): every socket's owners and direction, and where the
  // node translated its destination; no columns, no order.
  bool graph = false;
  // A map of network namespaces (graph --level netns): a socket's owner is its namespace's pod,
  // found from the census, so no process's descriptors are read.
  bool graph_of_namespaces = false;
  // The rows' direction is left out of JSON and YAML too, so not worked out unless a filter or
  // the sort needs it: an agent's client that shows no direction says so, and the agent then
  // neither keeps listeners it would not send nor classifies every socket.
  bool no_direction = false;
  // Where connections to a service really went (Snapshot::translations), from the conntrack
  // tables of the node and of each namespace read: what the service map asks for.
  bool translations = false;
  // `socksnap summary`: the rows are counted in groups of columns (analyze/summary.h), those of
  // `by` ("a,b") or, when it is empty, the node kind's default. The columns are then the groups'
  // (what the run must compute follows them, whatever the format), the outputs choose only the
  // format (columns: the table), and nothing is sorted (the groups are, by count).
  bool summary = false;
  std::string by;
  // `socksnap watch`: each poll's sockets are paired with the last poll's by their cookies too.
  bool watch = false;
};

class Query {
 public:
  // What the kernel is asked for (only the protocols, states and extensions the run can show).
  CollectRequest request;
  // Which rows: owners and filters; the order is the kind's (sort_for).
  OwnerSelector owners;
  std::vector<Filter> filters;
  OutputFormat format = OutputFormat::kColumns;
  bool headers = true;
  bool sort_given = false;  // --sort was given: every kind sorts alike

  // `socksnap summary`: columns_for() are the columns grouped by.
  bool summary() const { return summary_; }

  // The columns shown (grouped by, for a summary), the sort and the selection on a node of
  // this kind.
  const std::vector<const Column*>& columns_for(NodeKind kind) const {
    return columns_[index(kind)];
  }
  const std::vector<SortKey>& sort_for(NodeKind kind) const { return sorts_[index(kind)]; }
  Selection selection_for(NodeKind kind) const { return {owners, filters, sort_for(kind)}; }
  RenderOptions render_for(NodeKind kind, unsigned threads) const;

  // Whether the run must find each socket's processes, containers and pods, and pod labels.
  bool needs_owners(NodeKind kind) const;
  // Whether owners need every process's descriptors (the processes holding each socket), or
  // only the namespaces' pods: a map of namespaces whose selection names no owner (-n, -p, -l
  // select a host-network pod's sockets by the processes holding them).
  bool needs_holders() const;
  bool needs_labels(NodeKind kind) const;
  // Whether the run needs each socket's inode: to find its holders, or shown, filtered or
  // sorted by; rows that carry every field (JSON, YAML, the map), and summaries, always.
  // request.inodes is whether some kind of node does.
  bool needs_inodes(NodeKind kind) const;
  // Whether the run must work out each socket's direction: shown (JSON and YAML carry it),
  // filtered or sorted by.
  bool needs_direction(NodeKind kind) const;
  // Whether what is shown depends on what the node runs (its default columns): if not, the run
  // needs no census of the node's processes.
  bool kind_matters() const;
  // Whether owners are needed whatever the node runs: they can then be looked for while the
  // sockets are collected.
  bool needs_owners_on_any_node() const { return needs_owners(NodeKind::kHost); }
  // Whether the run reads conntrack tables to fill Snapshot::translations (request.conntrack):
  // the service map's, or what an agent's client asked for.
  bool needs_translations() const { return request.conntrack != ConntrackScope::kOff; }

 private:
  friend Result<Query> compile_query(const QueryOptions& options);
  static size_t index(NodeKind kind) { return static_cast<size_t>(kind); }

  std::array<std::vector<const Column*>, 3> columns_;
  std::array<std::vector<SortKey>, 3> sorts_;
  bool absolute_columns_ = false;  // "columns=a,b" (or --by) replaced the defaults
  bool summary_ = false;
  // Whether the run shows only the columns (a table, or a summary in any format): JSON and YAML
  // rows carry every field.
  bool only_columns() const { return format == OutputFormat::kColumns || summary_; }
  bool direction_in_rows_ = true;     // JSON and YAML rows carry the direction
  bool graph_ = false;                // QueryOptions::graph
  bool graph_of_namespaces_ = false;  // QueryOptions::graph_of_namespaces
};

// Checks every option; errors are one line naming what was wrong ("unknown column 'x' (...)",
// "filter 'src:~(': bad regular expression: ...", "--selector 'a=b=c': ...", "--by 'x': ...").
Result<Query> compile_query(const QueryOptions& options);

}  // namespace socksnap
