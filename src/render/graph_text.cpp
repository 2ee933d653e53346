#include "render/graph_text.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "render/json_out.h"
#include "render/structured_writer.h"
#include "render/text_table.h"
#include "util/terminal_text.h"

namespace socksnap {
namespace {

constexpr GraphFormat kGraphFormats[] = {
    GraphFormat::kTable,   GraphFormat::kJson, GraphFormat::kJsonPretty, GraphFormat::kDot,
    GraphFormat::kMermaid, GraphFormat::kSvg,  GraphFormat::kHtml};

std::string_view format_name(GraphFormat format) {
  switch (format) {
    case GraphFormat::kTable:
      return "table";
    case GraphFormat::kJson:
      return "json";
    case GraphFormat::kJsonPretty:
      return "jsonpretty";
    case GraphFormat::kDot:
      return "dot";
    case GraphFormat::kMermaid:
      return "mermaid";
    case GraphFormat::kSvg:
      return "svg";
    case GraphFormat::kHtml:
      return "html";
  }
  return "";
}

// "TCP 80, UDP 53".
std::string ports_text(const GraphVertex& v) {
  std::string out;
  for (const GraphPort& p : v.ports) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", p.protocol, p.port);
  }
  return out;
}

// An edge as a person reads it: "TCP 8080 ×3 via shop/web:80" (the service's namespace/name);
// "UNIX ×2" for unix connections, which have no port.
std::string edge_text(const ServiceMap& map, const GraphEdge& e) {
  std::string out = e.protocol == protocol_name(Protocol::kUnix)
                        ? fmt::format("{} \u00d7{}", e.protocol, e.connections)
                        : fmt::format("{} {} \u00d7{}", e.protocol, e.port, e.connections);
  if (e.via >= 0) {
    const GraphVertex& via = map.vertices[e.via];
    out += " via ";
    if (!via.name_namespace.empty()) out += via.name_namespace + "/";
    out += fmt::format("{}:{}", via.name, e.via_port);
  }
  return out;
}

// --- JSON -----------------------------------------------------------------------------------

void render_json(const ServiceMap& map, bool pretty, OutputSink& out) {
  fmt::memory_buffer& b = out.buffer();
  JsonOut j(b, pretty);
  j.open('{');
  j.key("nodes");
  j.value_open('[');
  for (const GraphVertex& v : map.vertices) {
    j.item();
    j.open('{');
    j.key("id");
    j.string(v.id);
    j.key("kind");
    j.string(vertex_kind_name(v.kind));
    j.key("namespace");
    j.string(v.name_namespace);
    j.key("name");
    j.string(v.name);
    j.key("ports");
    j.value_open('[');
    for (const GraphPort& p : v.ports) {
      j.item();
      j.open('{');
      j.key("protocol");
      j.string(p.protocol);
      j.key("port");
      j.number(p.port);
      j.close('}');
    }
    j.close(']');
    j.close('}');
    out.maybe_flush();
  }
  j.close(']');
  j.key("edges");
  j.value_open('[');
  for (const GraphEdge& e : map.edges) {
    j.item();
    j.open('{');
    j.key("from");
    j.string(map.vertices[e.from].id);
    j.key("to");
    j.string(map.vertices[e.to].id);
    j.key("via");
    if (e.via >= 0) {
      j.string(map.vertices[e.via].id);
    } else {
      j.null();
    }
    j.key("viaPort");
    if (e.via >= 0) {
      j.number(e.via_port);
    } else {
      j.null();
    }
    j.key("protocol");
    j.string(e.protocol);
    j.key("port");
    j.number(e.port);
    j.key("connections");
    j.number(e.connections);
    j.close('}');
    out.maybe_flush();
  }
  j.close(']');
  j.close('}');
  b.push_back('\n');
}

// --- table ----------------------------------------------------------------------------------

void render_table(const ServiceMap& map, bool headers, OutputSink& out) {
  static const std::vector<TextColumn> kColumns = {
      {"FROM"}, {"TO"}, {"VIA"}, {"PROTOCOL"}, {"PORT", true}, {"CONNECTIONS", true}};
  std::vector<std::string> cells;
  cells.reserve(map.edges.size() * kColumns.size());
  for (const GraphEdge& e : map.edges) {
    std::string via;
    if (e.via >= 0) via = fmt::format("{}:{}", map.vertices[e.via].id, e.via_port);
    cells.push_back(terminal_safe(map.vertices[e.from].id, Backslash::kEscape));
    cells.push_back(terminal_safe(map.vertices[e.to].id, Backslash::kEscape));
    cells.push_back(terminal_safe(via, Backslash::kEscape));
    cells.push_back(e.protocol);
    // A unix connection has no port: its server is a name.
    cells.push_back(e.protocol == protocol_name(Protocol::kUnix) ? std::string()
                                                                 : std::to_string(e.port));
    cells.push_back(std::to_string(e.connections));
  }
  write_text_table(kColumns, cells, headers, out);
}

// --- DOT ------------------------------------------------------------------------------------

// A DOT quoted string: shown escaped for a terminal first (no control byte, invalid UTF-8 or
// reordering character reaches Graphviz, which would refuse or garble them), then '\' and '"'
// escaped, so that a name's own backslash never reads as Graphviz's \n, \N or \G.
void append_dot_string(fmt::memory_buffer& b, std::string_view text) {
  std::string safe = terminal_safe(text, Backslash::kEscape);
  b.push_back('"');
  for (char c : safe) {
    if (c == '"' || c == '\\') b.push_back('\\');
    b.push_back(c);
  }
  b.push_back('"');
}

// The label: the text escaped, with `\n` (Graphviz's line break) between lines.
void append_dot_label(fmt::memory_buffer& b, const std::vector<std::string>& lines) {
  b.push_back('"');
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i != 0) b.append(std::string_view("\\n"));
    std::string safe = terminal_safe(lines[i], Backslash::kEscape);
    for (char c : safe) {
      if (c == '"' || c == '\\') b.push_back('\\');
      b.push_back(c);
    }
  }
  b.push_back('"');
}

std::string_view dot_shape(VertexKind kind) {
  switch (kind) {
    case VertexKind::kService:
      return "ellipse";
    case VertexKind::kNode:
    case VertexKind::kWorld:
    case VertexKind::kPrivate:
    case VertexKind::kAddress:
      return "hexagon";
    default:
      return "box";
  }
}

std::vector<std::string> vertex_lines(const GraphVertex& v) {
  std::vector<std::string> lines{v.name};
  if (!v.ports.empty()) lines.push_back(ports_text(v));
  return lines;
}

// Vertices by Kubernetes namespace ("" first: those of none), in id order within each.
std::map<std::string, std::vector<size_t>> by_namespace(const ServiceMap& map) {
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < map.vertices.size(); ++i) {
    groups[map.vertices[i].name_namespace].push_back(i);
  }
  return groups;
}

void render_dot(const ServiceMap& map, OutputSink& out) {
  fmt::memory_buffer& b = out.buffer();
  b.append(std::string_view(
      "digraph \"socksnap\" {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n"
      "  edge [fontname=\"Helvetica\", fontsize=10];\n"));
  for (const auto& [ns, members] : by_namespace(map)) {
    std::string indent = ns.empty() ? "  " : "    ";
    if (!ns.empty()) {
      b.append(std::string_view("  subgraph "));
      append_dot_string(b, "cluster_" + ns);
      b.append(std::string_view(" {\n    label="));
      append_dot_string(b, ns);
      b.append(std::string_view(";\n"));
    }
    for (size_t i : members) {
      const GraphVertex& v = map.vertices[i];
      b.append(indent);
      append_dot_string(b, v.id);
      b.append(std::string_view(" [label="));
      append_dot_label(b, vertex_lines(v));
      fmt::format_to(std::back_inserter(b), ", shape={}, kind=\"{}\"];\n", dot_shape(v.kind),
                     vertex_kind_name(v.kind));
    }
    if (!ns.empty()) b.append(std::string_view("  }\n"));
    out.maybe_flush();
  }
  for (const GraphEdge& e : map.edges) {
    b.append(std::string_view("  "));
    append_dot_string(b, map.vertices[e.from].id);
    b.append(std::string_view(" -> "));
    append_dot_string(b, map.vertices[e.to].id);
    b.append(std::string_view(" [label="));
    append_dot_label(b, {edge_text(map, e)});
    if (e.via >= 0) {
      b.append(std::string_view(", via="));
      append_dot_string(b, map.vertices[e.via].id);
    }
    b.append(std::string_view("];\n"));
    out.maybe_flush();
  }
  b.append(std::string_view("}\n"));
}

// --- Mermaid --------------------------------------------------------------------------------

// A Mermaid quoted label's text: escaped for a terminal first, then every character Mermaid or
// the HTML it makes would read as syntax written as an entity code (#quot; #35; #lt; ...),
// which Mermaid turns back into the character.
void append_mermaid_text(std::string& out, std::string_view text) {
  std::string safe = terminal_safe(text, Backslash::kEscape);
  for (char c : safe) {
    switch (c) {
      case '"':
        out += "#quot;";
        break;
      case '#':
        out += "#35;";
        break;
      case '&':
        out += "#amp;";
        break;
      case '<':
        out += "#lt;";
        break;
      case '>':
        out += "#gt;";
        break;
      case '`':
        out += "#96;";
        break;
      default:
        out += c;
    }
  }
}

std::string mermaid_label(const std::vector<std::string>& lines) {
  std::string out = "\"";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i != 0) out += "<br/>";
    append_mermaid_text(out, lines[i]);
  }
  return out + "\"";
}

// The shape brackets around a vertex's label.
std::pair<std::string_view, std::string_view> mermaid_shape(VertexKind kind) {
  switch (kind) {
    case VertexKind::kService:
      return {"([", "])"};
    case VertexKind::kNode:
    case VertexKind::kWorld:
    case VertexKind::kPrivate:
    case VertexKind::kAddress:
      return {"{{", "}}"};
    default:
      return {"[", "]"};
  }
}

void render_mermaid(const ServiceMap& map, OutputSink& out) {
  fmt::memory_buffer& b = out.buffer();
  b.append(std::string_view("flowchart LR\n"));
  for (const auto& [ns, members] : by_namespace(map)) {
    std::string indent = ns.empty() ? "  " : "    ";
    if (!ns.empty()) {
      // The namespace's own identifier: "n_" and the escaped name, apart from vertices' "v_".
      std::string id = mermaid_id(ns);
      id[0] = 'n';
      b.append(fmt::format("  subgraph {} [{}]\n", id, mermaid_label({ns})));
    }
    for (size_t i : members) {
      const GraphVertex& v = map.vertices[i];
      auto [open, close] = mermaid_shape(v.kind);
      b.append(fmt::format("{}{}{}{}{}\n", indent, mermaid_id(v.id), open,
                           mermaid_label(vertex_lines(v)), close));
    }
    if (!ns.empty()) b.append(std::string_view("  end\n"));
    out.maybe_flush();
  }
  for (const GraphEdge& e : map.edges) {
    b.append(fmt::format("  {} -->|{}| {}\n", mermaid_id(map.vertices[e.from].id),
                         mermaid_label({edge_text(map, e)}), mermaid_id(map.vertices[e.to].id)));
    out.maybe_flush();
  }
}

}  // namespace

std::optional<GraphFormat> graph_format_named(std::string_view name) {
  for (GraphFormat format : kGraphFormats) {
    if (format_name(format) == name) return format;
  }
  return std::nullopt;
}

std::string_view graph_format_names() {
  return "table, json, jsonpretty, dot, mermaid, svg, html";
}

std::string mermaid_id(std::string_view id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "v_";
  for (char ch : id) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      out += ch;
    } else {
      out += '_';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

void render_graph(const ServiceMap& map, GraphFormat format, bool headers, OutputSink& out) {
  switch (format) {
    case GraphFormat::kTable:
      render_table(map, headers, out);
      break;
    case GraphFormat::kJson:
    case GraphFormat::kJsonPretty:
      render_json(map, format == GraphFormat::kJsonPretty, out);
      break;
    case GraphFormat::kDot:
      render_dot(map, out);
      break;
    case GraphFormat::kMermaid:
      render_mermaid(map, out);
      break;
    case GraphFormat::kSvg:
    case GraphFormat::kHtml:
      break;  // drawn, not written here: picture/graph_output.h
  }
}

}  // namespace socksnap
