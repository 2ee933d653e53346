#include "snapshot/query.h"

#include <fmt/format.h>

#include <algorithm>

#include "analyze/summary.h"
#include "model/states.h"
#include "select/label_selector.h"
#include "util/strings.h"

namespace socksnap {
namespace {

constexpr NodeKind kKinds[] = {NodeKind::kHost, NodeKind::kContainers, NodeKind::kKubernetes};

Result<std::vector<const Column*>> resolve_columns(const std::vector<std::string>& specs,
                                                   NodeKind kind) {
  std::vector<const Column*> columns = default_columns(kind);
  for (const auto& spec : specs) {
    auto applied = apply_column_spec(columns, spec);
    if (!applied) return applied.error();
    columns = std::move(applied.value());
  }
  return columns;
}

// --by "a,b": the columns, each once, in the order given.
Result<std::vector<const Column*>> parse_by(std::string_view spec) {
  std::vector<const Column*> columns;
  for (std::string_view item : split(spec, ',')) {
    item = trim(item);
    if (item.empty()) return plain_error(fmt::format("--by '{}': empty column name", spec));
    auto column = column_named(item);
    if (!column) return plain_error(fmt::format("--by '{}': {}", spec, column.error().context));
    if (std::find(columns.begin(), columns.end(), *column) == columns.end()) {
      columns.push_back(*column);
    }
  }
  return columns;
}

// A summary's part of the options: the groups' columns for every kind, no sort, and outputs
// that choose only the format.
Result<void> compile_summary(const QueryOptions& options, Query& query,
                             std::array<std::vector<const Column*>, 3>& columns) {
  if (!options.sort.empty()) {
    return plain_error("--sort does not apply to a summary (its groups are sorted by count)");
  }
  for (const auto& output : options.outputs) {
    if (output == "columns") {
      query.format = OutputFormat::kColumns;
    } else if (output == "json") {
      query.format = OutputFormat::kJson;
    } else if (output == "jsonpretty") {
      query.format = OutputFormat::kJsonPretty;
    } else if (output == "yaml") {
      query.format = OutputFormat::kYaml;
    } else {
      return plain_error(fmt::format(
          "-o {}: unknown output for a summary (columns, json, jsonpretty, yaml; --by chooses "
          "the columns)",
          output));
    }
  }
  std::vector<const Column*> by;
  if (!options.by.empty()) {
    auto parsed = parse_by(options.by);
    if (!parsed) return parsed.error();
    by = std::move(parsed.value());
  }
  for (NodeKind kind : kKinds) {
    columns[static_cast<size_t>(kind)] = by.empty() ? default_summary_by(kind) : by;
  }
  return {};
}

}  // namespace

bool is_protocol_choice(std::string_view protocol) {
  for (std::string_view choice : kProtocolChoices) {
    if (protocol == choice) return true;
  }
  return false;
}

RenderOptions Query::render_for(NodeKind kind, unsigned threads) const {
  RenderOptions render;
  render.format = format;
  render.columns = columns_for(kind);
  render.headers = headers;
  render.threads = threads;
  return render;
}

bool Query::needs_owners(NodeKind kind) const {
  if (graph_) return true;
  if (!only_columns()) return true;  // JSON and YAML rows carry owners
  return (needs_of(columns_for(kind), selection_for(kind)) & kNeedsOwners) != 0;
}

bool Query::needs_holders() const {
  if (!graph_of_namespaces_) return true;
  return std::any_of(std::begin(kKinds), std::end(kKinds), [&](NodeKind kind) {
    return (needs_of({}, selection_for(kind)) & kNeedsOwners) != 0;
  });
}

bool Query::needs_labels(NodeKind kind) const {
  if (graph_) return (needs_of({}, selection_for(kind)) & kNeedsLabels) != 0;
  if (!only_columns()) return true;
  return (needs_of(columns_for(kind), selection_for(kind)) & kNeedsLabels) != 0;
}

bool Query::needs_inodes(NodeKind kind) const {
  if (graph_ || !only_columns() || summary_) return true;
  return needs_owners(kind) ||
         (needs_of(columns_for(kind), selection_for(kind)) & kNeedsInode) != 0;
}

bool Query::needs_direction(NodeKind kind) const {
  if (graph_) return true;
  if (!only_columns() && direction_in_rows_) return true;
  return (needs_of(columns_for(kind), selection_for(kind)) & kNeedsDirection) != 0;
}

bool Query::kind_matters() const {
  if (graph_) return true;  // the map's default level follows what the node runs
  return only_columns() && !absolute_columns_;
}

Result<Query> compile_query(const QueryOptions& options) {
  Query query;
  std::string protocol = to_lower(options.protocol);
  if (!is_protocol_choice(protocol)) {
    return plain_error(
        fmt::format("--protocol: {} not in {{inet,all,tcp,udp,udplite,unix}}", options.protocol));
  }
  bool inet = protocol == "all" || protocol == "inet";
  query.request.tcp = inet || protocol == "tcp";
  query.request.udp = inet || protocol == "udp";
  query.request.udplite = inet || protocol == "udplite";
  query.request.unix_sockets = protocol == "all" || protocol == "unix";
  if (options.bound_inactive) query.request.tcp_states |= kBoundInactiveState;

  OwnerSelector& owners = query.owners;
  if (options.all_namespaces && !options.pod_namespace.empty()) {
    return plain_error("-A/--all-namespaces and -n/--namespace exclude each other");
  }
  if (options.host && options.no_host) {
    return plain_error("--host and --no-host exclude each other");
  }
  if (!options.pod_namespace.empty()) owners.pod_namespace = options.pod_namespace;
  if (!options.pod_name.empty()) owners.pod_name = options.pod_name;
  if (!options.container_name.empty()) owners.container_name = options.container_name;
  if (!options.selector.empty()) {
    auto labels = parse_label_selector(options.selector);
    if (!labels) return labels.error();
    owners.labels = std::move(labels.value());
  }
  owners.include_host = !options.no_host;

  for (const auto& spec : options.filters) {
    auto filter = parse_filter(spec);
    if (!filter) return filter.error();
    query.filters.push_back(std::move(filter.value()));
  }
  if (options.summary) {
    query.summary_ = true;
    query.absolute_columns_ = !options.by.empty();
    if (auto done = compile_summary(options, query, query.columns_); !done) return done.error();
    query.headers = !options.no_headers;
    // Owners, TCP internals and directions as the groups' columns and the filters need them.
    query.request.tcp_info =
        options.tcp_info ||
        needs_tcp_info(query.columns_for(NodeKind::kHost), query.selection_for(NodeKind::kHost));
    bool direction = std::any_of(std::begin(kKinds), std::end(kKinds),
                                 [&](NodeKind kind) { return query.needs_direction(kind); });
    push_down(query.selection_for(NodeKind::kHost), query.request, direction);
    return query;
  }

  std::vector<SortKey> given_sort;
  query.sort_given = !options.sort.empty();
  if (query.sort_given) {
    auto keys = parse_sort(options.sort);
    if (!keys) return keys.error();
    given_sort = std::move(keys.value());
  }

  std::vector<std::string> column_specs;
  for (const auto& output : options.outputs) {
    std::string_view o = output;
    if (o == "columns") {
      query.format = OutputFormat::kColumns;
    } else if (o.substr(0, 8) == "columns=") {
      query.format = OutputFormat::kColumns;
      column_specs.emplace_back(o.substr(8));
    } else if (!o.empty() && (o.front() == '+' || o.front() == '-')) {
      column_specs.emplace_back(o);
    } else if (o == "json") {
      query.format = OutputFormat::kJson;
    } else if (o == "jsonpretty") {
      query.format = OutputFormat::kJsonPretty;
    } else if (o == "yaml") {
      query.format = OutputFormat::kYaml;
    } else {
      return plain_error(fmt::format(
          "-o {}: unknown output (columns, columns=COL,..., +COL, -COL, json, jsonpretty, yaml)",
          output));
    }
  }
  // An absolute "columns=a,b" replaces the defaults, whatever comes before or after it.
  query.absolute_columns_ =
      std::any_of(column_specs.begin(), column_specs.end(), [](const std::string& spec) {
        return !spec.empty() && spec.front() != '+' && spec.front() != '-';
      });
  // Every kind's defaults hold the same kinds of columns, so a specification that applies to
  // one applies to all (and one that empties the list errs the same way for all).
  for (NodeKind kind : kKinds) {
    auto columns = resolve_columns(column_specs, kind);
    if (!columns) return columns.error();
    query.columns_[Query::index(kind)] = std::move(columns.value());
  }
  for (NodeKind kind : kKinds) {
    std::vector<SortKey>& sort = query.sorts_[Query::index(kind)];
    if (query.sort_given) {
      sort = given_sort;
      continue;
    }
    // A node kind's sort starts with its name columns; if those are not shown, sorting by them
    // would only cost an owner scan: then it sorts as on a host.
    sort = default_sort(kind);
    const Column* lead = sort.front().column;
    const auto& shown = query.columns_for(kind);
    if (query.format == OutputFormat::kColumns &&
        std::find(shown.begin(), shown.end(), lead) == shown.end()) {
      sort = default_sort(NodeKind::kHost);
    }
  }
  query.headers = !options.no_headers;
  if (options.graph) {
    // The map is made of every selected socket, in no order; its rows are never printed.
    query.graph_ = true;
    query.graph_of_namespaces_ = options.graph_of_namespaces;
    for (auto& sort : query.sorts_) sort.clear();
  }
  query.direction_in_rows_ = !options.no_direction;

  // TCP internals when asked for, or when a column, filter or sort key shows them.
  const std::vector<const Column*> none;
  const auto& shown =
      query.format == OutputFormat::kColumns ? query.columns_for(NodeKind::kHost) : none;
  query.request.tcp_info =
      options.tcp_info || needs_tcp_info(shown, query.selection_for(NodeKind::kHost));
  // Fields some node's table shows, or filters or sorts by; JSON and YAML rows carry every
  // field (and the service map reads every field it is given).
  auto carried_or_needed = [&](uint32_t need) {
    return !query.only_columns() || query.graph_ ||
           std::any_of(std::begin(kKinds), std::end(kKinds), [&](NodeKind kind) {
             return (needs_of(query.columns_for(kind), query.selection_for(kind)) & need) != 0;
           });
  };
  // Queues (and the cgroup, read with them).
  query.request.queues_and_cgroup = carried_or_needed(kNeedsQueues);
  // Cookies, uids and interfaces; and for a watch, which pairs each poll's sockets with the last
  // poll's by their cookies.
  query.request.identities = options.watch || carried_or_needed(kNeedsIdentity);
  // Inodes where some kind of node needs them; a run that shows another kind stops reading them
  // once it knows (take_snapshot).
  query.request.inodes = std::any_of(std::begin(kKinds), std::end(kKinds),
                                     [&](NodeKind kind) { return query.needs_inodes(kind); });
  // The service map's edges go to where the node sent each connection: its tables and each
  // namespace's (a namespace with rules of its own, as the tests' and a sidecar's).
  if (options.translations || query.graph_) {
    query.request.conntrack = ConntrackScope::kNodeAndNamespaces;
  }
  bool direction = std::any_of(std::begin(kKinds), std::end(kKinds),
                               [&](NodeKind kind) { return query.needs_direction(kind); });
  push_down(query.selection_for(NodeKind::kHost), query.request, direction);
  // A connection in TIME_WAIT is over: the map never shows it (a busy host has many).
  if (query.graph_) query.request.tcp_states &= ~(1U << kTcpTimeWait);
  return query;
}

}  // namespace socksnap
