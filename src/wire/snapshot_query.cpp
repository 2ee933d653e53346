#include "wire/snapshot_query.h"

#include <fmt/format.h>

#include "util/strings.h"
#include "wire/wire.h"

namespace socksnap {
namespace {

void add(std::string& query, std::string_view key, std::string_view value) {
  if (!query.empty()) query.push_back('&');
  query.append(key);
  query.push_back('=');
  query.append(percent_encode(value));
}

// The column a filter names: "src:~^p/" -> "src".
std::string_view filter_column(std::string_view spec) {
  return spec.substr(0, spec.find(':'));
}

Result<bool> parse_bool(std::string_view key, std::string_view value) {
  if (value == "true" || value == "1" || value.empty()) return true;
  if (value == "false" || value == "0") return false;
  return plain_error(fmt::format("query parameter {}: '{}' is not true or false", key, value));
}

}  // namespace

std::string snapshot_query(const QueryOptions& options, bool tcp_info) {
  std::string query;
  // Left out, the protocol is inet (an agent before unix sockets called it "all").
  if (to_lower(options.protocol) != kDefaultProtocol) add(query, "protocol", options.protocol);
  for (const auto& spec : options.filters) {
    std::string_view column = filter_column(spec);
    if (iequals(column, "src") || iequals(column, "dst")) continue;
    add(query, "filter", spec);
  }
  if (!options.pod_namespace.empty()) add(query, "namespace", options.pod_namespace);
  if (!options.pod_name.empty()) add(query, "podname", options.pod_name);
  if (!options.container_name.empty()) add(query, "containername", options.container_name);
  if (!options.selector.empty()) add(query, "selector", options.selector);
  if (options.no_host) add(query, "host", "false");
  if (tcp_info || options.tcp_info) add(query, "tcpinfo", "true");
  if (options.bound_inactive) add(query, "boundinactive", "true");
  if (options.no_direction) add(query, "direction", "false");
  if (options.translations) add(query, "translations", "true");
  // The rows' fields this client reads; an agent of an older revision writes its own.
  add(query, kWireRevisionParameter, fmt::format("{}", kRowFieldsRevision));
  return query;
}

std::string summary_query(const QueryOptions& options, bool tcp_info,
                          const std::vector<const Column*>& by) {
  std::string names;
  for (const Column* column : by) {
    if (!names.empty()) names.push_back(',');
    names.append(column->name);
  }
  std::string query;
  add(query, "by", names);
  query.push_back('&');
  query += snapshot_query(options, tcp_info);
  return query;
}

Result<QueryOptions> options_from_query(
    QueryOptions base, const std::vector<std::pair<std::string, std::string>>& query,
    bool summary) {
  QueryOptions& o = base;
  o.outputs = {"json"};
  o.summary = summary;
  auto revision = wire_revision(query);
  if (!revision) return revision.error();
  for (const auto& [key, value] : query) {
    if (key == "protocol") {
      std::string protocol = to_lower(value);
      if (!is_protocol_choice(protocol)) {
        return plain_error(fmt::format(
            "query parameter protocol: '{}' is not inet, all, tcp, udp, udplite or unix", value));
      }
      // A client before unix sockets (revision 5) reads none: its "all" is inet.
      if (*revision < 5 && protocol == "all") protocol = kDefaultProtocol;
      if (*revision < 5 && protocol == "unix") {
        return plain_error(fmt::format(
            "query parameter protocol: 'unix' needs a client of revision 5 or later (this one "
            "reads {})",
            *revision));
      }
      o.protocol = protocol;
    } else if (key == "filter") {
      o.filters.push_back(value);
    } else if (key == "namespace") {
      o.pod_namespace = value;
    } else if (key == "podname") {
      o.pod_name = value;
    } else if (key == "containername") {
      o.container_name = value;
    } else if (key == "selector") {
      o.selector = value;
    } else if (key == "host" || key == "tcpinfo" || key == "boundinactive" || key == "direction" ||
               key == "translations") {
      auto flag = parse_bool(key, value);
      if (!flag) return flag.error();
      if (key == "host") {
        o.no_host = !*flag;
      } else if (key == "tcpinfo") {
        o.tcp_info = *flag;
      } else if (key == "direction") {
        o.no_direction = !*flag;
      } else if (key == "translations") {
        o.translations = *flag;
      } else {
        o.bound_inactive = *flag;
      }
    } else if (key == "by" && summary) {
      o.by = value;
    } else if (key == kWireRevisionParameter) {
      // Not a selection: how the answer is written (wire_revision).
    } else {
      return plain_error(fmt::format("unknown query parameter '{}'", key));
    }
  }
  return base;
}

}  // namespace socksnap
