// Graphviz's library keeps global state (its error function, its error level, the plugins'
// tables) and is not thread-safe: every drawing holds one mutex, so that a plugin serving two
// requests at once draws them one after the other. Its messages (agerr) are captured through
// agseterrf, never printed: an error becomes the Result's error.
//
// One Graphviz context serves every drawing of the process, made at the first and never freed,
// rather than one per drawing: Graphviz 2.43's pango plugin keeps a pointer to the last font name
// it measured, which lives in the context's font table, so a drawing after a context was freed
// reads freed memory (AddressSanitizer shows it in pango's textlayout on the second call). The
// context holds only the plugins and that table; each graph's layout and rendering are freed.
//
// How Graphviz reads a label decides the escaping (Graphviz 2.43, Debian 12): before layout it
// substitutes \N, \G, \E, \H, \T and \L, decodes HTML entities (&lt;, &#1;), and reads \n, \l, \r
// as line breaks and any other backslash pair as its second character; when it writes SVG it
// escapes &, <, >, " and ' itself. So a name is first made printable (terminal_text.h: no control
// character or invalid byte can reach the XML, where they are not allowed even as references),
// then each backslash is doubled and each & written &amp;, and only the line breaks socksnap puts
// between a label's lines are Graphviz's. Node and cluster names are our own ("v12",
// "cluster_3"): Graphviz writes them into <title> and comments with entities left undecoded, where
// a name's "&#1;" would make the SVG invalid.
#include "picture/graph_picture.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "util/terminal_text.h"

namespace socksnap {
namespace {

struct KindStyle {
  VertexKind kind;
  std::string_view word;   // as JSON names the kind
  std::string_view shape;  // Graphviz's node shape
  std::string_view style;
  std::string_view fill;
};

// In VertexKind's order.
constexpr std::array<KindStyle, 10> kKindStyles = {{
    {VertexKind::kWorkload, "workload", "box", "rounded,filled", "#cfe2f3"},
    {VertexKind::kPod, "pod", "box", "filled", "#d9ead3"},
    {VertexKind::kContainer, "container", "component", "filled", "#d0e0e3"},
    {VertexKind::kProcess, "process", "ellipse", "filled", "#ead1dc"},
    {VertexKind::kNetns, "netns", "folder", "filled", "#eeeeee"},
    {VertexKind::kService, "service", "hexagon", "filled", "#fff2cc"},
    {VertexKind::kNode, "node", "box3d", "filled", "#d9d2e9"},
    {VertexKind::kWorld, "world", "ellipse", "filled,dashed", "#f4cccc"},
    {VertexKind::kPrivate, "private", "ellipse", "filled,dashed", "#fce5cd"},
    {VertexKind::kAddress, "address", "note", "filled", "#ffffff"},
}};

constexpr bool kinds_in_order() {
  for (size_t i = 0; i < kKindStyles.size(); ++i) {
    if (static_cast<size_t>(kKindStyles[i].kind) != i) return false;
  }
  return true;
}
static_assert(kinds_in_order(), "kKindStyles follows VertexKind's order");

const KindStyle& style_of(VertexKind kind) {
  return kKindStyles.at(static_cast<size_t>(kind));
}

// A name as a person may read it in XML: printable (terminal_text.h), and without U+FFFE and
// U+FFFF, valid UTF-8 that XML 1.0 does not allow.
std::string shown(std::string_view text) {
  std::string out = terminal_safe(text, Backslash::kKeep);
  for (size_t at = out.find("\xEF\xBF"); at != std::string::npos; at = out.find("\xEF\xBF", at)) {
    if (at + 2 < out.size() && (out[at + 2] == '\xBE' || out[at + 2] == '\xBF')) {
      out.replace(at, 3, out[at + 2] == '\xBE' ? "\\ufffe" : "\\uffff");
    } else {
      at += 2;
    }
  }
  return out;
}

// Lines of shown text as one Graphviz label (see the file's opening comment).
std::string graphviz_label(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += "\\n";
    for (char c : lines[i]) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '&') {
        out += "&amp;";
      } else {
        out += c;
      }
    }
  }
  return out;
}

std::string port_text(const GraphPort& port) {
  return fmt::format(":{}/{}", port.port, shown(port.protocol));
}

// A vertex's label: its name, then its listening ports a few to a line; past a dozen the table
// of the page has them.
std::vector<std::string> label_lines(const GraphVertex& vertex) {
  constexpr size_t kPortsPerLine = 3;
  constexpr size_t kPortsShown = 12;
  std::vector<std::string> lines{shown(vertex.name.empty() ? vertex.id : vertex.name)};
  size_t shown_ports = std::min(vertex.ports.size(), kPortsShown);
  for (size_t i = 0; i < shown_ports; i += kPortsPerLine) {
    std::string line;
    for (size_t j = i; j < std::min(i + kPortsPerLine, shown_ports); ++j) {
      if (j > i) line += ' ';
      line += port_text(vertex.ports[j]);
    }
    lines.push_back(std::move(line));
  }
  if (vertex.ports.size() > shown_ports) {
    lines.push_back(fmt::format("+{} more", vertex.ports.size() - shown_ports));
  }
  return lines;
}

// "TCP 80 ×3"; "UNIX ×2": a unix connection's server is a name, not a port. (The map's text for
// Protocol::kUnix: this library links no model.)
bool has_port(std::string_view protocol) {
  return protocol != "UNIX";
}

std::string edge_label(std::string_view protocol, uint16_t port, uint64_t connections) {
  if (!has_port(protocol)) return fmt::format("{} \u00d7{}", shown(protocol), connections);
  return fmt::format("{} {} \u00d7{}", shown(protocol), port, connections);
}

// --- Graphviz ---------------------------------------------------------------------------------

std::mutex graphviz_mutex;
std::string* graphviz_messages = nullptr;  // set while graphviz_mutex is held

// agerr calls this with a message in pieces ("Error", ": ", the text).
int collect_graphviz_message(char* text) {
  if (graphviz_messages != nullptr) graphviz_messages->append(text);
  return 0;
}

// Holds the mutex and Graphviz's messages for one drawing.
class GraphvizSession {
 public:
  GraphvizSession() : lock_(graphviz_mutex) {
    graphviz_messages = &messages_;
    previous_ = agseterrf(collect_graphviz_message);
    previous_level_ = agseterr(AGWARN);  // every message to the function, none to a file
    agreseterrors();
  }
  ~GraphvizSession() {
    agseterr(previous_level_);
    agseterrf(previous_);
    graphviz_messages = nullptr;
  }
  GraphvizSession(const GraphvizSession&) = delete;
  GraphvizSession& operator=(const GraphvizSession&) = delete;

  // Whether Graphviz reported an error (warnings, such as a font it substituted, do not stop
  // the drawing).
  bool failed() const { return agerrors() >= AGERR; }

  // Graphviz's messages on one line, for the one line socksnap prints on failure.
  Error error(std::string_view what) const {
    std::string text;
    for (char c : messages_) {
      if (c == '\n') {
        if (!text.empty() && text.back() != ' ') text += "; ";
      } else {
        text += c;
      }
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == ';')) text.pop_back();
    if (text.empty()) text = "no message";
    return plain_error(fmt::format("graphviz: {}: {}", what, shown(text)));
  }

 private:
  std::lock_guard<std::mutex> lock_;
  std::string messages_;
  agusererrf previous_ = nullptr;
  agerrlevel_t previous_level_ = AGWARN;
};

struct GraphClose {
  void operator()(Agraph_t* graph) const { agclose(graph); }
};
struct RenderDataFree {
  void operator()(char* data) const { gvFreeRenderData(data); }
};

// The IDs of a graph's objects. cgraph's own discipline makes a name's ID the address of its copy
// of the name, and orders a graph's subgraphs by ID: the clusters would come out in an order that
// changes from run to run. Here a name's ID follows the order names are first seen, so that the
// drawing does too. (Leaving names to cgraph's internal map would do the same, but agclose does
// not free that map's entries.)
struct NameIds {
  std::map<std::string, IDTYPE, std::less<>> ids;
  std::vector<const std::string*> names;  // the name of ID 2 * (i + 1)
  IDTYPE next_anonymous = 1;              // anonymous objects' IDs are odd, as in cgraph's own
};

void* open_ids(Agraph_t* /*graph*/, Agdisc_t* /*discipline*/) {
  return new NameIds;
}

long map_id(void* state, int /*kind*/, char* name, IDTYPE* id, int create) {
  auto* ids = static_cast<NameIds*>(state);
  if (name == nullptr) {
    *id = ids->next_anonymous;
    ids->next_anonymous += 2;
    return 1;
  }
  if (auto found = ids->ids.find(std::string_view(name)); found != ids->ids.end()) {
    *id = found->second;
    return 1;
  }
  if (create == 0) return 0;
  IDTYPE next = 2 * (ids->names.size() + 1);
  ids->names.push_back(&ids->ids.emplace(name, next).first->first);
  *id = next;
  return 1;
}

long alloc_id(void* /*state*/, int /*kind*/, IDTYPE /*request*/) {
  return 0;  // no object is made with an ID of the caller's choosing
}

void free_id(void* /*state*/, int /*kind*/, IDTYPE /*id*/) {}

char* print_id(void* state, int /*kind*/, IDTYPE id) {
  const auto* ids = static_cast<const NameIds*>(state);
  if (id % 2 != 0 || id == 0 || id / 2 > ids->names.size()) return nullptr;
  return const_cast<char*>(ids->names[id / 2 - 1]->c_str());
}

void close_ids(void* state) {
  delete static_cast<NameIds*>(state);
}

void register_id(void* /*state*/, int /*kind*/, void* /*object*/) {}

Agiddisc_t kNameIds = {open_ids, map_id, alloc_id, free_id, print_id, close_ids, register_id};

// cgraph's API takes char* for text it only reads and copies.
std::string writable(std::string_view text) {
  return std::string(text);
}

// An attribute declared for every object of `kind`, with `value` as its default.
Agsym_t* declare(Agraph_t* graph, int kind, std::string_view name, std::string_view value) {
  std::string n = writable(name);
  std::string v = writable(value);
  return agattr(graph, kind, n.data(), v.data());
}

void set(void* object, Agsym_t* attribute, const std::string& value) {
  std::string v = value;
  agxset(object, attribute, v.data());
}

struct Attributes {
  Agsym_t* graph_label;
  Agsym_t* graph_style;
  Agsym_t* graph_color;
  Agsym_t* graph_fontcolor;
  Agsym_t* node_label;
  Agsym_t* node_shape;
  Agsym_t* node_style;
  Agsym_t* node_fill;
  Agsym_t* edge_label;
};

Attributes declare_attributes(Agraph_t* graph) {
  constexpr std::string_view kFont = "Helvetica";
  declare(graph, AGRAPH, "rankdir", "LR");
  declare(graph, AGRAPH, "fontname", kFont);
  declare(graph, AGRAPH, "fontsize", "13");
  declare(graph, AGRAPH, "nodesep", "0.3");
  declare(graph, AGRAPH, "ranksep", "0.7");
  declare(graph, AGRAPH, "pad", "0.2");
  declare(graph, AGRAPH, "labeljust", "l");
  declare(graph, AGNODE, "fontname", kFont);
  declare(graph, AGNODE, "fontsize", "14");
  declare(graph, AGNODE, "color", "#333333");
  declare(graph, AGNODE, "margin", "0.15,0.06");
  declare(graph, AGEDGE, "fontname", kFont);
  declare(graph, AGEDGE, "fontsize", "11");
  declare(graph, AGEDGE, "color", "#555555");
  declare(graph, AGEDGE, "fontcolor", "#333333");
  declare(graph, AGEDGE, "arrowsize", "0.7");
  return Attributes{
      .graph_label = declare(graph, AGRAPH, "label", ""),
      .graph_style = declare(graph, AGRAPH, "style", ""),
      .graph_color = declare(graph, AGRAPH, "color", "black"),
      .graph_fontcolor = declare(graph, AGRAPH, "fontcolor", "black"),
      .node_label = declare(graph, AGNODE, "label", ""),
      .node_shape = declare(graph, AGNODE, "shape", "box"),
      .node_style = declare(graph, AGNODE, "style", "filled"),
      .node_fill = declare(graph, AGNODE, "fillcolor", "#ffffff"),
      .edge_label = declare(graph, AGEDGE, "label", ""),
  };
}

Result<void> check_edges(const ServiceMap& map) {
  const size_t count = map.vertices.size();
  for (size_t i = 0; i < map.edges.size(); ++i) {
    const GraphEdge& edge = map.edges[i];
    if (edge.from >= count || edge.to >= count || edge.via >= static_cast<int64_t>(count)) {
      return plain_error(
          fmt::format("the service map's edge {} names vertex {}, {} or {} of only {}", i,
                      edge.from, edge.to, edge.via, count));
    }
  }
  return {};
}

// What is drawn: one arrow per edge, except that an edge made through a service is drawn
// client → service and service → backend, and those halves are added up over the edges that
// share them (two clients of one service share its arrows to the backends).
struct Arrow {
  uint32_t from = 0;
  uint32_t to = 0;
  std::string protocol;
  uint16_t port = 0;
  uint64_t connections = 0;
};

std::vector<Arrow> arrows_of(const ServiceMap& map) {
  using Key = std::tuple<uint32_t, uint32_t, std::string, uint16_t>;
  std::map<Key, uint64_t> through_services;
  std::vector<Arrow> arrows;
  for (const GraphEdge& edge : map.edges) {
    if (edge.via >= 0 && static_cast<uint32_t>(edge.via) != edge.to) {
      auto service = static_cast<uint32_t>(edge.via);
      through_services[Key{edge.from, service, edge.protocol, edge.via_port}] += edge.connections;
      through_services[Key{service, edge.to, edge.protocol, edge.port}] += edge.connections;
    } else {
      arrows.push_back({edge.from, edge.to, edge.protocol, edge.port, edge.connections});
    }
  }
  for (auto& [key, connections] : through_services) {
    auto& [from, to, protocol, port] = key;
    arrows.push_back({from, to, protocol, port, connections});
  }
  return arrows;
}

Result<std::string> render_svg(const ServiceMap& map) {
  if (auto checked = check_edges(map); !checked) return checked.error();
  GraphvizSession session;
  static GVC_t* const context = gvContext();  // see the file's opening comment
  if (context == nullptr) return session.error("cannot make a context");
  Agdisc_t discipline{&AgMemDisc, &kNameIds, &AgIoDisc};
  std::string graph_name = "socksnap";
  std::unique_ptr<Agraph_t, GraphClose> graph(agopen(graph_name.data(), Agdirected, &discipline));
  if (!graph) return session.error("cannot make a graph");
  Attributes attributes = declare_attributes(graph.get());

  // One cluster per Kubernetes namespace, in the namespaces' order.
  std::map<std::string_view, Agraph_t*> clusters;
  for (const GraphVertex& vertex : map.vertices) {
    if (!vertex.name_namespace.empty()) clusters.emplace(vertex.name_namespace, nullptr);
  }
  size_t cluster_index = 0;
  for (auto& [name_namespace, cluster] : clusters) {
    std::string name = fmt::format("cluster_{}", cluster_index++);
    cluster = agsubg(graph.get(), name.data(), 1);
    set(cluster, attributes.graph_label, graphviz_label({"namespace " + shown(name_namespace)}));
    set(cluster, attributes.graph_style, "dashed");
    set(cluster, attributes.graph_color, "#888888");
    set(cluster, attributes.graph_fontcolor, "#444444");
  }

  std::vector<Agnode_t*> nodes;
  nodes.reserve(map.vertices.size());
  for (size_t i = 0; i < map.vertices.size(); ++i) {
    const GraphVertex& vertex = map.vertices[i];
    std::string name = fmt::format("v{}", i);
    Agnode_t* node = agnode(graph.get(), name.data(), 1);
    const KindStyle& style = style_of(vertex.kind);
    set(node, attributes.node_label, graphviz_label(label_lines(vertex)));
    set(node, attributes.node_shape, std::string(style.shape));
    set(node, attributes.node_style, std::string(style.style));
    set(node, attributes.node_fill, std::string(style.fill));
    if (!vertex.name_namespace.empty()) agsubnode(clusters.at(vertex.name_namespace), node, 1);
    nodes.push_back(node);
  }

  std::vector<Arrow> arrows = arrows_of(map);
  for (const Arrow& arrow : arrows) {
    // Anonymous: in a graph that is not strict, each call makes a new edge.
    Agedge_t* edge = agedge(graph.get(), nodes[arrow.from], nodes[arrow.to], nullptr, 1);
    set(edge, attributes.edge_label,
        graphviz_label({edge_label(arrow.protocol, arrow.port, arrow.connections)}));
  }
  if (map.edges.empty()) {
    set(graph.get(), attributes.graph_label, "no connections");
    set(graph.get(), attributes.graph_fontcolor, "#555555");
  }
  if (session.failed()) return session.error("cannot build the graph");

  int laid_out = gvLayout(context, graph.get(), "dot");
  // The layout's data goes before the graph does, whatever happens below.
  auto free_layout = [](Agraph_t* g) { gvFreeLayout(context, g); };
  std::unique_ptr<Agraph_t, decltype(free_layout)> layout(graph.get(), free_layout);
  if (laid_out != 0 || session.failed()) return session.error("cannot lay out the graph");
  char* data = nullptr;
  unsigned int length = 0;
  int rendered = gvRenderData(context, graph.get(), "svg", &data, &length);
  std::unique_ptr<char, RenderDataFree> owned(data);
  if (rendered != 0 || data == nullptr || session.failed()) {
    return session.error("cannot draw the graph as SVG");
  }
  return std::string(data, length);
}

// --- the page ---------------------------------------------------------------------------------

void append_escaped(fmt::memory_buffer& out, std::string_view text) {
  for (char c : shown(text)) {
    switch (c) {
      case '&':
        fmt::format_to(std::back_inserter(out), "&amp;");
        break;
      case '<':
        fmt::format_to(std::back_inserter(out), "&lt;");
        break;
      case '>':
        fmt::format_to(std::back_inserter(out), "&gt;");
        break;
      case '"':
        fmt::format_to(std::back_inserter(out), "&quot;");
        break;
      case '\'':
        fmt::format_to(std::back_inserter(out), "&#39;");
        break;
      default:
        out.push_back(c);
    }
  }
}

std::string escaped(std::string_view text) {
  fmt::memory_buffer out;
  append_escaped(out, text);
  return fmt::to_string(out);
}

// The page's one style sheet. Its hash is kStyleSheetHash, the only style the page's
// Content-Security-Policy allows: a change here needs the new hash there (the unit test
// graph_picture_test computes it and says it).
constexpr std::string_view kStyleSheet =
    "body{font-family:sans-serif;margin:1.5em;color:#222;background:#fff}"
    "h1{font-size:1.4em;margin:0 0 .3em}"
    "h2{font-size:1.15em;margin:1.5em 0 .5em}"
    ".about{color:#555;margin:0 0 1em}"
    ".map{margin:0;overflow:auto}"
    ".map svg{max-width:100%;height:auto}"
    ".legend{list-style:none;padding:0;margin:.5em 0;display:flex;flex-wrap:wrap;gap:.4em 1.2em}"
    ".legend svg{vertical-align:middle;margin-right:.3em}"
    "table{border-collapse:collapse;font-size:.9em}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}"
    "th{background:#f2f2f2}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".none{color:#555;font-style:italic}";
constexpr std::string_view kStyleSheetHash = "sha256-QZl74gr1ho/qGHQIl1qrhgd/z3eMyIbrL+MqY1u0jlI=";

std::string vertex_text(const GraphVertex& vertex) {
  std::string name = vertex.name.empty() ? vertex.id : vertex.name;
  return vertex.name_namespace.empty() ? name : vertex.name_namespace + "/" + name;
}

std::string plural(uint64_t count, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", count, count == 1 ? one : many);
}

void append_about(fmt::memory_buffer& out, const ServiceMap& map, const HtmlPageInfo& info) {
  auto to = std::back_inserter(out);
  uint64_t connections = 0;
  for (const GraphEdge& edge : map.edges) connections += edge.connections;
  fmt::format_to(to, "<p class=\"about\">");
  if (!info.taken_at.empty() || !info.source.empty()) {
    fmt::format_to(to, "Taken");
    if (!info.taken_at.empty()) fmt::format_to(to, " {}", escaped(info.taken_at));
    if (!info.source.empty()) fmt::format_to(to, " from {}", escaped(info.source));
    fmt::format_to(to, ": ");
  }
  fmt::format_to(to, "{}, {}, {}.</p>\n", plural(map.vertices.size(), "vertex", "vertices"),
                 plural(map.edges.size(), "edge", "edges"),
                 plural(connections, "connection", "connections"));
}

void append_legend(fmt::memory_buffer& out, const ServiceMap& map) {
  auto to = std::back_inserter(out);
  std::set<VertexKind> kinds;
  for (const GraphVertex& vertex : map.vertices) kinds.insert(vertex.kind);
  if (kinds.empty()) return;
  fmt::format_to(to, "<ul class=\"legend\">\n");
  for (VertexKind kind : kinds) {
    const KindStyle& style = style_of(kind);
    fmt::format_to(to,
                   "<li><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"14\" height=\"14\" "
                   "viewBox=\"0 0 14 14\"><rect x=\"0.5\" y=\"0.5\" width=\"13\" height=\"13\" "
                   "fill=\"{}\" stroke=\"#333333\"/></svg>{}</li>\n",
                   style.fill, style.word);
  }
  fmt::format_to(to, "</ul>\n");
}

void append_edges(fmt::memory_buffer& out, const ServiceMap& map) {
  auto to = std::back_inserter(out);
  fmt::format_to(to, "<h2>Connections</h2>\n");
  if (map.edges.empty()) {
    fmt::format_to(to, "<p class=\"none\">No connections.</p>\n");
    return;
  }
  fmt::format_to(to,
                 "<table class=\"edges\">\n<thead><tr><th>FROM</th><th>TO</th><th>VIA</th>"
                 "<th>PROTOCOL</th><th>PORT</th><th>CONNECTIONS</th></tr></thead>\n<tbody>\n");
  for (const GraphEdge& edge : map.edges) {
    std::string via;
    if (edge.via >= 0) {
      via = fmt::format("{}:{}", vertex_text(map.vertices[static_cast<size_t>(edge.via)]),
                        edge.via_port);
    }
    fmt::format_to(
        to,
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td></tr>\n",
        escaped(vertex_text(map.vertices[edge.from])), escaped(vertex_text(map.vertices[edge.to])),
        escaped(via), escaped(edge.protocol),
        has_port(edge.protocol) ? std::to_string(edge.port) : std::string(), edge.connections);
  }
  fmt::format_to(to, "</tbody>\n</table>\n");
}

void append_vertices(fmt::memory_buffer& out, const ServiceMap& map) {
  auto to = std::back_inserter(out);
  fmt::format_to(to, "<h2>Vertices</h2>\n");
  if (map.vertices.empty()) {
    fmt::format_to(to, "<p class=\"none\">No vertices.</p>\n");
    return;
  }
  fmt::format_to(to,
                 "<table class=\"vertices\">\n<thead><tr><th>KIND</th><th>NAMESPACE</th>"
                 "<th>NAME</th><th>PORTS</th></tr></thead>\n<tbody>\n");
  for (const GraphVertex& vertex : map.vertices) {
    std::string ports;
    for (const GraphPort& port : vertex.ports) {
      if (!ports.empty()) ports += ", ";
      ports += fmt::format("{}/{}", port.port, port.protocol);
    }
    fmt::format_to(to, "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                   style_of(vertex.kind).word, escaped(vertex.name_namespace),
                   escaped(vertex.name.empty() ? vertex.id : vertex.name), escaped(ports));
  }
  fmt::format_to(to, "</tbody>\n</table>\n");
}

}  // namespace

Result<std::string> graph_svg(const ServiceMap& map) {
  return render_svg(map);
}

Result<std::string> graph_html(const ServiceMap& map, const HtmlPageInfo& info) {
  Result<std::string> svg = render_svg(map);
  if (!svg) return svg.error();
  // Inline, the SVG is an element: its XML declaration, doctype and comments before it go.
  size_t start = svg->find("<svg");
  if (start == std::string::npos) return plain_error("graphviz: its SVG has no <svg> element");

  fmt::memory_buffer out;
  auto to = std::back_inserter(out);
  std::string title = escaped(info.title.empty() ? "socksnap graph" : info.title);
  fmt::format_to(to,
                 "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n"
                 "<head>\n<meta charset=\"utf-8\"/>\n"
                 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                 "style-src '{}'; base-uri 'none'; form-action 'none'\"/>\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
                 "<meta name=\"generator\" content=\"socksnap\"/>\n"
                 "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
                 kStyleSheetHash, title, kStyleSheet, title);
  append_about(out, map, info);
  fmt::format_to(to, "<div class=\"map\">\n{}</div>\n", std::string_view(*svg).substr(start));
  append_legend(out, map);
  append_edges(out, map);
  append_vertices(out, map);
  fmt::format_to(to, "</body>\n</html>\n");
  return fmt::to_string(out);
}

}  // namespace socksnap
