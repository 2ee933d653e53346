// The service map as text: a table of its edges for a terminal, JSON, Graphviz's DOT and a
// Mermaid flowchart. Every name may be anyone's (a process's comm, a container's name), so each
// format escapes in its own way and stays valid whatever the bytes: the table as the snapshot's
// cells (util/terminal_text.h), JSON as -o json, DOT in quoted strings, Mermaid in quoted labels
// with its entity codes and identifiers made of letters, digits and '_' only.
#pragma once

#include <optional>
#include <string_view>

#include "analyze/service_map.h"
#include "render/output_sink.h"

namespace socksnap {

// kSvg and kHtml are pictures, drawn by Graphviz: picture/graph_output.h writes every format.
enum class GraphFormat : uint8_t { kTable, kJson, kJsonPretty, kDot, kMermaid, kSvg, kHtml };

// "table" (the default), "json", "jsonpretty", "dot", "mermaid", "svg", "html"; nullopt for
// anything else.
std::optional<GraphFormat> graph_format_named(std::string_view name);
// The names, for messages and help: "table, json, jsonpretty, dot, mermaid, svg, html".
std::string_view graph_format_names();

// The text formats; writes nothing for kSvg and kHtml. `headers`: the table's header line
// (--no-headers leaves it out).
void render_graph(const ServiceMap& map, GraphFormat format, bool headers, OutputSink& out);

// The Mermaid identifier of a vertex id: "v_" then the id, each byte that is not an ASCII letter
// or digit written as '_' and two hex digits ("pod/shop/web" -> "v_pod_2Fshop_2Fweb").
std::string mermaid_id(std::string_view id);

}  // namespace socksnap
