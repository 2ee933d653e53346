// The service map drawn, for `-o svg` and `-o html` of `socksnap graph` and `kubectl socksnap
// graph`: laid out by Graphviz's library (dot). A library of its own so that only the programs
// that draw (socksnap, kubectl-socksnap) link Graphviz, never the node agent.
//
// Every name in a map may be hostile (a process can call itself anything): the graph is built
// through cgraph's API, never from DOT text, and every text is shown escaped as on a terminal
// (control characters and invalid bytes as \xNN, util/terminal_text.h), so that the SVG and the
// page stay well-formed XML and read as what the name was.
#pragma once

#include <string>

#include "analyze/service_map.h"
#include "util/result.h"

namespace socksnap {

// What the page says about the map it shows; free text, escaped like the rest. An empty field is
// left out.
struct HtmlPageInfo {
  std::string title;     // the page's title and heading, e.g. "socksnap graph"
  std::string taken_at;  // when the snapshot was taken, as the caller writes times
  std::string source;    // what it was taken from: a host's name, a cluster's context
};

// One SVG document: the vertices labelled with their names and listening ports, shaped and
// coloured by kind, grouped per Kubernetes namespace; edges from client to server labelled
// "PROTOCOL PORT ×CONNECTIONS", those made through a service drawn client → service → backend.
// Fails with Graphviz's own message when Graphviz fails, or when an edge names no vertex.
Result<std::string> graph_svg(const ServiceMap& map);

// One self-contained page (no script, no external resource, a Content-Security-Policy that
// allows only its own style sheet), written so that it also parses as XML: the SVG inline, a
// legend of the kinds shown, the table of edges and the table of vertices with their ports.
Result<std::string> graph_html(const ServiceMap& map, const HtmlPageInfo& info);

}  // namespace socksnap
