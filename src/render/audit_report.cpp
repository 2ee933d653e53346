#include "render/audit_report.h"

#include <map>
#include <tuple>

#include <fmt/format.h>

#include "model/states.h"
#include "render/json_out.h"
#include "render/renderer.h"
#include "render/text_table.h"
#include "util/terminal_text.h"

namespace socksnap {
namespace {

constexpr std::pair<std::string_view, AuditFormat> kAuditFormats[] = {
    {"table", AuditFormat::kTable},
    {"json", AuditFormat::kJson},
    {"jsonpretty", AuditFormat::kJsonPretty},
    {"sarif", AuditFormat::kSarif},
    {"markdown", AuditFormat::kMarkdown}};

std::string allowed_text(const AuditDocument& doc, const AuditFinding& f) {
  return fmt::format("{}:{}", doc.policy_file, f.allowed_by);
}

std::string where(const AuditFinding& f) {
  return f.from ? fmt::format("{} -> {}", f.from->name(), f.to.name()) : f.to.name();
}

// --- table ----------------------------------------------------------------------------------

void render_table(const AuditDocument& doc, bool headers, OutputSink& out) {
  static const std::vector<TextColumn> kColumns = {
      {"SEVERITY"},          {"RULE"},   {"FROM"},  {"TO"}, {"PROTOCOL"}, {"PORT", true},
      {"CONNECTIONS", true}, {"STATUS"}, {"REASON"}};
  std::vector<std::string> cells;
  for (const AuditFinding& f : doc.report->findings) {
    const AuditRuleInfo& rule = audit_rule_info(f.rule);
    cells.emplace_back(severity_name(rule.severity));
    cells.emplace_back(rule.id);
    cells.push_back(f.from ? terminal_safe(f.from->name(), Backslash::kEscape) : "");
    cells.push_back(terminal_safe(f.to.name(), Backslash::kEscape));
    cells.emplace_back(protocol_name(f.protocol));
    cells.push_back(std::to_string(f.port));
    cells.push_back(f.from ? std::to_string(f.connections) : "");
    cells.push_back(f.allowed_by == 0
                        ? "violation"
                        : "allowed by " + terminal_safe(allowed_text(doc, f), Backslash::kEscape));
    cells.push_back(terminal_safe(f.reason, Backslash::kEscape));
  }
  if (cells.empty()) return;  // no findings: an empty table says it (the count goes to stderr)
  write_text_table(kColumns, cells, headers, out);
}

// --- JSON -----------------------------------------------------------------------------------

void write_end(JsonOut& j, const AuditEnd& end) {
  j.value_open('{');
  j.member("node", end.node);
  j.member("namespace", end.pod_namespace);
  j.member("pod", end.pod);
  j.key("hostNetwork");
  j.boolean(end.host_network);
  j.member("comm", end.comm);
  j.member("service", end.service);
  j.member("address", end.address);
  j.close('}');
}

void render_json(const AuditDocument& doc, bool pretty, OutputSink& out) {
  fmt::memory_buffer& b = out.buffer();
  JsonOut j(b, pretty);
  j.open('{');
  j.member("apiVersion", "socksnap.io/v1");
  j.member("kind", "Audit");
  j.member("scope", doc.scope);
  j.key("policy");
  if (doc.policy_file.empty()) {
    j.null();
  } else {
    j.string(doc.policy_file);
  }
  j.member("violations", doc.report->violations());
  j.key("findings");
  j.value_open('[');
  for (const AuditFinding& f : doc.report->findings) {
    const AuditRuleInfo& rule = audit_rule_info(f.rule);
    j.item();
    j.open('{');
    j.member("rule", rule.id);
    j.member("severity", severity_name(rule.severity));
    j.member("reason", f.reason);
    if (f.from) {
      j.key("from");
      write_end(j, *f.from);
    }
    j.key("to");
    write_end(j, f.to);
    j.member("protocol", protocol_name(f.protocol));
    j.member("port", f.port);
    j.member("connections", f.connections);
    if (f.allowed_by != 0) j.member("allowedBy", allowed_text(doc, f));
    j.key("sockets");
    j.value_open('[');
    if (!f.rows.empty()) {
      j.item();  // the rows' piece separates its own items
      j.raw(StructuredPieces::format(*doc.snap, f.rows, OutputFormat::kJson));
    }
    j.close(']');
    j.close('}');
    out.maybe_flush();
  }
  j.close(']');
  j.key("skipped");
  j.value_open('[');
  for (const auto& [rule, reason] : doc.report->skipped) {
    j.item();
    j.open('{');
    j.member("rule", audit_rule_info(rule).id);
    j.member("reason", reason);
    j.close('}');
  }
  j.close(']');
  j.key("notes");
  j.value_open('[');
  for (const auto& note : doc.report->notes) {
    j.item();
    j.string(note);
  }
  j.close(']');
  j.close('}');
  b.push_back('\n');
}

// --- SARIF 2.1.0 ----------------------------------------------------------------------------

// "exposed-listener" -> "ExposedListener": SARIF's reportingDescriptor.name.
std::string pascal_case(std::string_view id) {
  std::string out;
  bool upper = true;
  for (char c : id) {
    if (c == '-') {
      upper = true;
      continue;
    }
    out.push_back(upper ? static_cast<char>(c - 'a' + 'A') : c);
    upper = false;
  }
  return out;
}

void write_logical_location(JsonOut& j, const AuditEnd& end, std::string_view role) {
  j.item();
  j.open('{');
  j.member("name", end.pod.empty() ? end.name() : end.pod);
  j.member("fullyQualifiedName", end.name());
  j.member("kind", "resource");
  j.key("properties");
  j.value_open('{');
  j.member("role", role);
  j.member("node", end.node);
  j.member("address", end.address);
  j.close('}');
  j.close('}');
}

void render_sarif(const AuditDocument& doc, OutputSink& out) {
  fmt::memory_buffer& b = out.buffer();
  JsonOut j(b, true);
  j.open('{');
  j.member("$schema", "https://json.schemastore.org/sarif-2.1.0.json");
  j.member("version", "2.1.0");
  j.key("runs");
  j.value_open('[');
  j.item();
  j.open('{');
  j.key("tool");
  j.value_open('{');
  j.key("driver");
  j.value_open('{');
  j.member("name", "socksnap");
  j.member("version", doc.tool_version);
  j.key("rules");
  j.value_open('[');
  for (const AuditRuleInfo& rule : audit_rules()) {
    j.item();
    j.open('{');
    j.member("id", rule.id);
    j.member("name", pascal_case(rule.id));
    j.key("shortDescription");
    j.value_open('{');
    j.member("text", rule.summary);
    j.close('}');
    j.key("defaultConfiguration");
    j.value_open('{');
    j.member("level", severity_name(rule.severity));
    j.close('}');
    j.close('}');
  }
  j.close(']');
  j.close('}');
  j.close('}');
  j.key("invocations");
  j.value_open('[');
  j.item();
  j.open('{');
  j.key("executionSuccessful");
  j.boolean(true);
  j.key("toolExecutionNotifications");
  j.value_open('[');
  for (const auto& [rule, reason] : doc.report->skipped) {
    j.item();
    j.open('{');
    j.key("message");
    j.value_open('{');
    j.member("text", fmt::format("{} skipped: {}", audit_rule_info(rule).id, reason));
    j.close('}');
    j.member("level", "note");
    j.close('}');
  }
  for (const auto& note : doc.report->notes) {
    j.item();
    j.open('{');
    j.key("message");
    j.value_open('{');
    j.member("text", note);
    j.close('}');
    j.member("level", "note");
    j.close('}');
  }
  j.close(']');
  j.close('}');
  j.close(']');
  j.key("results");
  j.value_open('[');
  for (const AuditFinding& f : doc.report->findings) {
    const AuditRuleInfo& rule = audit_rule_info(f.rule);
    j.item();
    j.open('{');
    j.member("ruleId", rule.id);
    j.member("ruleIndex", static_cast<uint64_t>(f.rule));
    j.member("level", severity_name(rule.severity));
    j.key("message");
    j.value_open('{');
    j.member("text", f.reason);
    j.close('}');
    j.key("locations");
    j.value_open('[');
    j.item();
    j.open('{');
    j.key("logicalLocations");
    j.value_open('[');
    if (f.from) write_logical_location(j, *f.from, "client");
    write_logical_location(j, f.to, f.from ? "server" : "listener");
    j.close(']');
    j.close('}');
    j.close(']');
    // What stays the same from one run to the next: dashboards match results by it.
    j.key("partialFingerprints");
    j.value_open('{');
    j.member("socksnapFinding/v1",
             fmt::format("{}|{}|{}|{}", rule.id, where(f), protocol_name(f.protocol), f.port));
    j.close('}');
    if (f.allowed_by != 0) {
      j.key("suppressions");
      j.value_open('[');
      j.item();
      j.open('{');
      j.member("kind", "external");
      j.member("justification", "allowed by " + allowed_text(doc, f));
      j.close('}');
      j.close(']');
    }
    j.key("properties");
    j.value_open('{');
    j.member("protocol", protocol_name(f.protocol));
    j.member("port", f.port);
    j.member("connections", f.connections);
    j.member("sockets", f.rows.size());
    j.close('}');
    j.close('}');
    out.maybe_flush();
  }
  j.close(']');
  j.close('}');
  j.close(']');
  j.close('}');
  b.push_back('\n');
}

// --- Markdown -------------------------------------------------------------------------------

// Text for a Markdown table cell: escaped for the terminal (no control byte, no invalid UTF-8,
// no line break), then each character that could start markup in a cell backslash-escaped (as
// CommonMark allows for any ASCII punctuation): a backslash, code, emphasis and strikethrough,
// a link or image, HTML or an autolink, an entity, a cell's end. Nothing a name holds reads as
// anything but its text.
std::string md(std::string_view text) {
  static constexpr std::string_view kMarkup = "\\`*_~[]()<>&|!#";
  std::string safe = terminal_safe(text, Backslash::kEscape);
  std::string out;
  out.reserve(safe.size());
  for (char c : safe) {
    if (kMarkup.find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

void md_table(fmt::memory_buffer& b, const std::vector<std::string_view>& headers,
              const std::vector<std::string>& cells) {
  fmt::format_to(std::back_inserter(b), "| {} |\n|", fmt::join(headers, " | "));
  for (size_t i = 0; i < headers.size(); ++i) b.append(std::string_view("---|"));
  b.push_back('\n');
  for (size_t row = 0; row + headers.size() <= cells.size(); row += headers.size()) {
    b.append(std::string_view("|"));
    for (size_t c = 0; c < headers.size(); ++c) {
      fmt::format_to(std::back_inserter(b), " {} |", cells[row + c]);
    }
    b.push_back('\n');
  }
}

// A row's owner as the report names it.
std::string owner_name(const Snapshot& snap, uint32_t i) {
  if (const PodInfo* pod = snap.pod_of(i)) {
    return fmt::format("pod {}/{}{}", pod->pod_namespace, pod->name,
                       pod->host_network ? " (hostNetwork)" : "");
  }
  if (const ContainerInfo* container = snap.container_of(i)) return "container " + container->name;
  if (const ProcessInfo* process = snap.first_holder_of(i)) return "process " + process->comm;
  return "";
}

void render_markdown(const AuditDocument& doc, OutputSink& out) {
  fmt::memory_buffer& b = out.buffer();
  const AuditReport& report = *doc.report;
  fmt::format_to(std::back_inserter(b), "# socksnap audit: {}\n\n", md(doc.scope));
  fmt::format_to(std::back_inserter(b), "{}{}.\n\n", audit_tally(report),
                 doc.policy_file.empty() ? "" : " by " + md(doc.policy_file));

  b.append(std::string_view("## Findings\n\n"));
  if (report.findings.empty()) {
    b.append(std::string_view("None.\n"));
  } else {
    std::vector<std::string> cells;
    for (const AuditFinding& f : report.findings) {
      const AuditRuleInfo& rule = audit_rule_info(f.rule);
      cells.emplace_back(severity_name(rule.severity));
      cells.push_back(fmt::format("`{}`", rule.id));
      cells.push_back(f.from ? md(f.from->name()) : "");
      cells.push_back(md(f.to.name()));
      cells.push_back(fmt::format("{} {}", protocol_name(f.protocol), f.port));
      cells.push_back(f.from ? std::to_string(f.connections) : "");
      cells.push_back(md(f.reason));
      cells.push_back(f.allowed_by == 0 ? "**violation**"
                                        : "allowed by " + md(allowed_text(doc, f)));
    }
    md_table(b, {"Severity", "Rule", "From", "To", "Port", "Connections", "Reason", "Status"},
             cells);
  }
  if (!report.skipped.empty() || !report.notes.empty()) {
    b.push_back('\n');
    for (const auto& [rule, reason] : report.skipped) {
      fmt::format_to(std::back_inserter(b), "- `{}` was not checked: {}.\n",
                     audit_rule_info(rule).id, md(reason));
    }
    for (const auto& note : report.notes)
      fmt::format_to(std::back_inserter(b), "- {}.\n", md(note));
  }

  // What listens: each listener once (the sockets of one port's SO_REUSEPORT group counted).
  b.append(std::string_view("\n## What listens\n\n"));
  std::map<std::tuple<std::string, std::string, std::string, int, std::string, uint16_t>, size_t>
      listeners;
  const Snapshot& snap = *doc.snap;
  for (uint32_t i : *doc.rows) {
    const SocketRecord& s = snap.sockets[i];
    bool listening = s.protocol == Protocol::kTcp ? s.state == kTcpListen : s.state == kTcpClose;
    if (!listening || s.protocol == Protocol::kUnix) continue;  // what listens on the network
    // The network namespace: the node's own, the pod's own, or its inode.
    const NetnsInfo* netns = snap.find_netns(s.netns, snap.node_index_of(i));
    const PodInfo* pod = snap.pod_of(i);
    std::string where = netns != nullptr && netns->is_node_namespace() ? "node's"
                        : pod != nullptr && pod->netns == s.netns      ? "pod's"
                                                                       : std::to_string(s.netns);
    ++listeners[{snap.node_of(i), std::move(where), owner_name(snap, i),
                 static_cast<int>(s.protocol),
                 address_text(graph_address(s.ip_version, s.src_addr)), s.src_port}];
  }
  if (listeners.empty()) {
    b.append(std::string_view("Nothing.\n"));
  } else {
    std::vector<std::string> cells;
    for (const auto& [key, count] : listeners) {
      const auto& [node, netns, owner, protocol, address, port] = key;
      cells.push_back(md(node));
      cells.push_back(md(netns));
      cells.push_back(md(owner));
      cells.emplace_back(protocol_name(static_cast<Protocol>(protocol)));
      cells.push_back(md(address));
      cells.push_back(std::to_string(port));
      cells.push_back(std::to_string(count));
    }
    md_table(b, {"Node", "Network namespace", "Owner", "Protocol", "Address", "Port", "Sockets"},
             cells);
  }

  b.append(std::string_view("\n## Who talks to whom\n\n"));
  if (doc.map == nullptr || doc.map->edges.empty()) {
    b.append(std::string_view("No connections.\n"));
  } else {
    const ServiceMap& map = *doc.map;
    std::vector<std::string> cells;
    for (const GraphEdge& e : map.edges) {
      cells.push_back(md(map.vertices[e.from].id));
      cells.push_back(md(map.vertices[e.to].id));
      cells.push_back(e.via >= 0 ? md(fmt::format("{}:{}", map.vertices[e.via].id, e.via_port))
                                 : "");
      // A unix connection has no port: its server is a name.
      cells.push_back(e.protocol == protocol_name(Protocol::kUnix)
                          ? e.protocol
                          : fmt::format("{} {}", e.protocol, e.port));
      cells.push_back(std::to_string(e.connections));
    }
    md_table(b, {"From", "To", "Via", "Port", "Connections"}, cells);
  }
}

}  // namespace

std::optional<AuditFormat> audit_format_named(std::string_view name) {
  for (const auto& [n, format] : kAuditFormats) {
    if (n == name) return format;
  }
  return std::nullopt;
}

std::string_view audit_format_names() {
  return "table, json, jsonpretty, sarif, markdown";
}

void render_audit(const AuditDocument& doc, AuditFormat format, bool headers, OutputSink& out) {
  switch (format) {
    case AuditFormat::kTable:
      render_table(doc, headers, out);
      break;
    case AuditFormat::kJson:
    case AuditFormat::kJsonPretty:
      render_json(doc, format == AuditFormat::kJsonPretty, out);
      break;
    case AuditFormat::kSarif:
      render_sarif(doc, out);
      break;
    case AuditFormat::kMarkdown:
      render_markdown(doc, out);
      break;
  }
}

}  // namespace socksnap
