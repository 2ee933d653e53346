// The service map's picture (picture/graph_picture.h) on maps written by hand: every vertex kind,
// edges made through a service, hostile names. The SVG and the page are parsed as XML by
// libxml2, strictly (any error fails), and read back: one <g class="node"> per vertex with its
// label's exact lines, one <g class="edge"> per arrow with its exact label, one cluster per
// namespace holding its vertices, the page's tables cell by cell, its Content-Security-Policy's
// hash against its style sheet. The page in a real browser: tests/picture.
#include "picture/graph_picture.h"

#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "util/base64.h"

namespace socksnap {
namespace {

// --- reading XML ------------------------------------------------------------------------------

struct DocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

void collect_error(void* errors, xmlError* error) {
  static_cast<std::vector<std::string>*>(errors)->push_back(
      std::to_string(error->line) + ": " + (error->message ? error->message : "?"));
}

// `text` as XML, strictly: no recovery, no network, no DTD loaded; every error or warning of the
// parser is a failure.
Doc parse_xml(const std::string& text) {
  std::vector<std::string> errors;
  xmlSetStructuredErrorFunc(&errors, collect_error);
  xmlParserCtxt* context = xmlNewParserCtxt();
  Doc doc(xmlCtxtReadMemory(context, text.data(), static_cast<int>(text.size()), "picture.xml",
                            nullptr, XML_PARSE_NONET));
  bool well_formed = context->wellFormed != 0 && context->nsWellFormed != 0;
  xmlFreeParserCtxt(context);
  xmlSetStructuredErrorFunc(nullptr, nullptr);
  std::string all;
  for (const std::string& e : errors) all += e;
  EXPECT_TRUE(doc && well_formed && errors.empty()) << "not well-formed XML: " << all;
  return doc;
}

std::string name_of(const xmlNode* node) {
  return reinterpret_cast<const char*>(node->name);
}

std::string attribute(const xmlNode* node, const char* name) {
  xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  if (value == nullptr) return {};
  std::string out = reinterpret_cast<const char*>(value);
  xmlFree(value);
  return out;
}

bool has_attribute(const xmlNode* node, const char* name) {
  return xmlHasProp(node, reinterpret_cast<const xmlChar*>(name)) != nullptr;
}

std::string text_of(const xmlNode* node) {
  xmlChar* value = xmlNodeGetContent(node);
  std::string out = value ? reinterpret_cast<const char*>(value) : "";
  xmlFree(value);
  return out;
}

std::vector<const xmlNode*> children(const xmlNode* node, const std::string& name = "") {
  std::vector<const xmlNode*> out;
  for (const xmlNode* c = node->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && (name.empty() || name_of(c) == name)) out.push_back(c);
  }
  return out;
}

// Every element below `node` (itself included) for which `match` holds, in document order.
template <typename Match>
void find_all(const xmlNode* node, const Match& match, std::vector<const xmlNode*>& out) {
  if (node->type == XML_ELEMENT_NODE && match(node)) out.push_back(node);
  for (const xmlNode* c = node->children; c != nullptr; c = c->next) find_all(c, match, out);
}

std::vector<const xmlNode*> by_name(const xmlDoc* doc, const std::string& name) {
  std::vector<const xmlNode*> out;
  find_all(
      xmlDocGetRootElement(doc), [&](const xmlNode* n) { return name_of(n) == name; }, out);
  return out;
}

std::vector<const xmlNode*> by_class(const xmlDoc* doc, const std::string& name,
                                     const std::string& css_class) {
  std::vector<const xmlNode*> out;
  find_all(
      xmlDocGetRootElement(doc),
      [&](const xmlNode* n) { return name_of(n) == name && attribute(n, "class") == css_class; },
      out);
  return out;
}

std::vector<std::string> texts(const xmlNode* node) {
  std::vector<std::string> out;
  for (const xmlNode* t : children(node, "text")) out.push_back(text_of(t));
  return out;
}

// --- what the SVG holds -----------------------------------------------------------------------

struct DrawnVertex {
  std::vector<std::string> lines;  // its label's lines
  std::string shape;               // the element that draws it: polygon, path, ellipse
  std::string fill;
  double x = 0, y = 0;  // where its label is
};

// The <g class="node"> elements by their <title> (the vertex's index: "v3").
std::map<std::string, DrawnVertex> drawn_vertices(const xmlDoc* doc) {
  std::map<std::string, DrawnVertex> out;
  for (const xmlNode* g : by_class(doc, "g", "node")) {
    DrawnVertex v;
    v.lines = texts(g);
    for (const xmlNode* c : children(g)) {
      if (name_of(c) != "title" && name_of(c) != "text" && has_attribute(c, "fill")) {
        v.shape = name_of(c);
        v.fill = attribute(c, "fill");
        break;
      }
    }
    if (auto t = children(g, "text"); !t.empty()) {
      v.x = std::strtod(attribute(t[0], "x").c_str(), nullptr);
      v.y = std::strtod(attribute(t[0], "y").c_str(), nullptr);
    }
    auto title = children(g, "title");
    EXPECT_EQ(title.size(), 1U);
    if (!title.empty()) {
      EXPECT_TRUE(out.emplace(text_of(title[0]), v).second);
    }
  }
  return out;
}

// The <g class="edge"> elements as "title: label" ("v1->v7: TCP 80 ×3"), sorted.
std::multiset<std::string> drawn_edges(const xmlDoc* doc) {
  std::multiset<std::string> out;
  for (const xmlNode* g : by_class(doc, "g", "edge")) {
    std::string label;
    for (const std::string& line : texts(g)) label += line;
    out.insert(text_of(children(g, "title").at(0)) + ": " + label);
  }
  return out;
}

struct Box {
  double left = 1e9, top = 1e9, right = -1e9, bottom = -1e9;
  bool holds(double x, double y) const { return x > left && x < right && y > top && y < bottom; }
};

// The clusters by their label, each with the box of its outline (a polygon's points).
std::map<std::string, Box> drawn_clusters(const xmlDoc* doc) {
  std::map<std::string, Box> out;
  for (const xmlNode* g : by_class(doc, "g", "cluster")) {
    Box box;
    std::istringstream points(attribute(children(g, "polygon").at(0), "points"));
    double x = 0, y = 0;
    char comma = 0;
    while (points >> x >> comma >> y) {
      box.left = std::min(box.left, x);
      box.right = std::max(box.right, x);
      box.top = std::min(box.top, y);
      box.bottom = std::max(box.bottom, y);
    }
    auto label = texts(g);
    EXPECT_EQ(label.size(), 1U);
    if (!label.empty()) {
      out.emplace(label[0], box);
    }
  }
  return out;
}

std::string svg_of(const ServiceMap& map) {
  Result<std::string> svg = graph_svg(map);
  EXPECT_TRUE(svg.ok()) << (svg.ok() ? "" : svg.error().message());
  return svg.ok() ? *svg : std::string();
}

std::string html_of(const ServiceMap& map, const HtmlPageInfo& info) {
  Result<std::string> html = graph_html(map, info);
  EXPECT_TRUE(html.ok()) << (html.ok() ? "" : html.error().message());
  return html.ok() ? *html : std::string();
}

// --- the maps ---------------------------------------------------------------------------------

// One vertex of every kind; two clients reach web-0 through the service web, so that the
// service's arrow to web-0 adds their connections up.
ServiceMap every_kind_map() {
  ServiceMap map;
  map.vertices = {
      {"address/10.9.8.7", VertexKind::kAddress, "", "10.9.8.7", {}},
      {"container/shop/web-0/nginx", VertexKind::kContainer, "shop", "web-0/nginx", {{"TCP", 80}}},
      {"netns/4026532177", VertexKind::kNetns, "", "netns 4026532177", {}},
      {"node/node-1", VertexKind::kNode, "", "node-1", {{"TCP", 10250}}},
      {"pod/shop/web-0", VertexKind::kPod, "shop", "web-0", {{"TCP", 8080}, {"UDP", 8125}}},
      {"private", VertexKind::kPrivate, "", "private", {}},
      {"process/node-1/sshd", VertexKind::kProcess, "", "sshd", {{"TCP", 22}}},
      {"svc/shop/web", VertexKind::kService, "shop", "web", {{"TCP", 80}}},
      {"workload/kube-system/DaemonSet/agent",
       VertexKind::kWorkload,
       "kube-system",
       "DaemonSet/agent",
       {}},
      {"world", VertexKind::kWorld, "", "world", {}},
  };
  map.edges = {
      {1, 4, 7, 80, "TCP", 8080, 2}, {2, 3, -1, 0, "TCP", 10250, 1}, {4, 5, -1, 0, "TCP", 5432, 1},
      {4, 5, -1, 0, "UDP", 53, 4},   {6, 0, -1, 0, "TCP", 443, 2},   {8, 4, 7, 80, "TCP", 8080, 3},
      {9, 6, -1, 0, "TCP", 22, 1},
  };
  return map;
}

// Names made to break out of DOT, XML, HTML and Graphviz's own label escapes.
ServiceMap hostile_map() {
  const std::string ns = "ns\"]<&x";
  ServiceMap map;
  map.vertices = {
      {"pod/a", VertexKind::kPod, ns, R"(<b>&amp;"'</b>)", {{"T<C>P&", 80}}},
      {"process/b", VertexKind::kProcess, "", "ctl\x01\x1b[31m\x7f", {}},
      {"container/c", VertexKind::kContainer, "", R"("]; evil -> x [label="pwn")", {}},
      {"netns/d", VertexKind::kNetns, "", "caf\xe9\xff\xfe", {}},
      {"workload/e", VertexKind::kWorkload, "", R"(back\N\G\E\n\l\\)", {}},
      {"svc/f", VertexKind::kService, ns, "&#1;&lt;&foo;&#x41;", {}},
      {"address/g",
       VertexKind::kAddress,
       "",
       "nonchar\xEF\xBF\xBE\xEF\xBF\xBF bidi\xE2\x80\xAE end",
       {}},
      {"node/h", VertexKind::kNode, "", "line\nbreak\ttab", {}},
      {"world<&>", VertexKind::kWorld, "", "", {}},
      {"private/j", VertexKind::kPrivate, "", "日本語 ünïcödé", {}},
  };
  map.edges = {
      {1, 0, 5, 1, "T<C>P&", 80, 1},
      {2, 3, -1, 0, "UDP", 53, 7},
  };
  return map;
}

// What the picture shows of hostile_map's names, in its order.
const std::vector<std::vector<std::string>> kHostileLines = {
    {R"(<b>&amp;"'</b>)", ":80/T<C>P&"},
    {R"(ctl\x01\x1b[31m\x7f)"},
    {R"("]; evil -> x [label="pwn")"},
    {R"(caf\xe9\xff\xfe)"},
    {R"(back\N\G\E\n\l\\)"},
    {"&#1;&lt;&foo;&#x41;"},
    {R"(nonchar\ufffe\uffff bidi\u202e end)"},
    {R"(line\nbreak\ttab)"},
    {"world<&>"},
    {"日本語 ünïcödé"},
};

// --- the SVG ----------------------------------------------------------------------------------

TEST(GraphPictureTest, EveryKindIsDrawnLabelledShapedAndColoured) {
  Doc doc = parse_xml(svg_of(every_kind_map()));
  ASSERT_TRUE(doc);
  struct Expected {
    std::vector<std::string> lines;
    std::string shape, fill;
  };
  const std::map<std::string, Expected> expected = {
      {"v0", {{"10.9.8.7"}, "polygon", "#ffffff"}},
      {"v1", {{"web-0/nginx", ":80/TCP"}, "polygon", "#d0e0e3"}},
      {"v2", {{"netns 4026532177"}, "polygon", "#eeeeee"}},
      {"v3", {{"node-1", ":10250/TCP"}, "polygon", "#d9d2e9"}},
      {"v4", {{"web-0", ":8080/TCP :8125/UDP"}, "polygon", "#d9ead3"}},
      {"v5", {{"private"}, "ellipse", "#fce5cd"}},
      {"v6", {{"sshd", ":22/TCP"}, "ellipse", "#ead1dc"}},
      {"v7", {{"web", ":80/TCP"}, "polygon", "#fff2cc"}},
      {"v8", {{"DaemonSet/agent"}, "path", "#cfe2f3"}},
      {"v9", {{"world"}, "ellipse", "#f4cccc"}},
  };
  std::map<std::string, DrawnVertex> drawn = drawn_vertices(doc.get());
  EXPECT_EQ(by_class(doc.get(), "g", "node").size(), 10U);
  ASSERT_EQ(drawn.size(), expected.size());
  for (const auto& [title, want] : expected) {
    SCOPED_TRACE(title);
    ASSERT_EQ(drawn.count(title), 1U);
    EXPECT_EQ(drawn[title].lines, want.lines);
    EXPECT_EQ(drawn[title].shape, want.shape);
    EXPECT_EQ(drawn[title].fill, want.fill);
  }
  // Through the service: agent → web and nginx → web, then web → web-0 once with both counts.
  EXPECT_EQ(
      drawn_edges(doc.get()),
      (std::multiset<std::string>{"v1->v7: TCP 80 ×2", "v8->v7: TCP 80 ×3", "v7->v4: TCP 8080 ×5",
                                  "v2->v3: TCP 10250 ×1", "v4->v5: TCP 5432 ×1",
                                  "v4->v5: UDP 53 ×4", "v6->v0: TCP 443 ×2", "v9->v6: TCP 22 ×1"}));
  EXPECT_EQ(by_class(doc.get(), "g", "edge").size(), 8U);

  // A cluster per namespace, around its vertices and none other.
  std::map<std::string, Box> clusters = drawn_clusters(doc.get());
  EXPECT_EQ(by_class(doc.get(), "g", "cluster").size(), 2U);
  ASSERT_EQ(clusters.size(), 2U);
  const Box& shop = clusters["namespace shop"];
  const Box& kube_system = clusters["namespace kube-system"];
  for (const auto& [title, vertex] : drawn) {
    SCOPED_TRACE(title);
    EXPECT_EQ(shop.holds(vertex.x, vertex.y), title == "v1" || title == "v4" || title == "v7");
    EXPECT_EQ(kube_system.holds(vertex.x, vertex.y), title == "v8");
  }
}

TEST(GraphPictureTest, HostileNamesStayTextAndTheSvgStaysValid) {
  ServiceMap map = hostile_map();
  testing::internal::CaptureStderr();
  std::string svg = svg_of(map);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");  // Graphviz's messages are not printed
  Doc doc = parse_xml(svg);
  ASSERT_TRUE(doc);
  std::map<std::string, DrawnVertex> drawn = drawn_vertices(doc.get());
  EXPECT_EQ(by_class(doc.get(), "g", "node").size(), map.vertices.size());
  ASSERT_EQ(drawn.size(), map.vertices.size());
  for (size_t i = 0; i < map.vertices.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(drawn["v" + std::to_string(i)].lines, kHostileLines[i]);
  }
  EXPECT_EQ(drawn_edges(doc.get()),
            (std::multiset<std::string>{"v1->v5: T<C>P& 1 ×1", "v5->v0: T<C>P& 80 ×1",
                                        "v2->v3: UDP 53 ×7"}));
  std::map<std::string, Box> clusters = drawn_clusters(doc.get());
  ASSERT_EQ(clusters.size(), 1U);
  EXPECT_EQ(clusters.begin()->first, "namespace ns\"]<&x");
  // Nothing of the names became markup: the only elements are Graphviz's.
  std::vector<const xmlNode*> elements;
  find_all(
      xmlDocGetRootElement(doc.get()), [](const xmlNode*) { return true; }, elements);
  std::set<std::string> names;
  for (const xmlNode* element : elements) names.insert(name_of(element));
  EXPECT_EQ(names, (std::set<std::string>{"svg", "g", "title", "polygon", "polyline", "path",
                                          "ellipse", "text"}));
}

TEST(GraphPictureTest, AnEmptyMapSaysNoConnections) {
  Doc doc = parse_xml(svg_of(ServiceMap{}));
  ASSERT_TRUE(doc);
  EXPECT_EQ(by_class(doc.get(), "g", "node").size(), 0U);
  EXPECT_EQ(by_class(doc.get(), "g", "edge").size(), 0U);
  std::vector<const xmlNode*> graph = by_class(doc.get(), "g", "graph");
  ASSERT_EQ(graph.size(), 1U);
  EXPECT_EQ(texts(graph[0]), std::vector<std::string>{"no connections"});
}

TEST(GraphPictureTest, ListenersWithoutConnectionsShowTheirPorts) {
  ServiceMap map;
  GraphVertex busy{"process/n/busy", VertexKind::kProcess, "", "busy", {}};
  for (uint16_t port = 1; port <= 14; ++port) busy.ports.push_back({"TCP", port});
  map.vertices = {busy, {"process/n/quiet", VertexKind::kProcess, "", "quiet", {{"UDP", 53}}}};
  Doc doc = parse_xml(svg_of(map));
  ASSERT_TRUE(doc);
  std::map<std::string, DrawnVertex> drawn = drawn_vertices(doc.get());
  EXPECT_EQ(drawn["v0"].lines, (std::vector<std::string>{
                                   "busy", ":1/TCP :2/TCP :3/TCP", ":4/TCP :5/TCP :6/TCP",
                                   ":7/TCP :8/TCP :9/TCP", ":10/TCP :11/TCP :12/TCP", "+2 more"}));
  EXPECT_EQ(drawn["v1"].lines, (std::vector<std::string>{"quiet", ":53/UDP"}));
  EXPECT_EQ(by_class(doc.get(), "g", "edge").size(), 0U);
  EXPECT_EQ(texts(by_class(doc.get(), "g", "graph").at(0)),
            std::vector<std::string>{"no connections"});
}

TEST(GraphPictureTest, AnEdgeToNoVertexIsAnError) {
  ServiceMap map;
  map.vertices = {{"world", VertexKind::kWorld, "", "world", {}}};
  map.edges = {{0, 3, -1, 0, "TCP", 80, 1}};
  Result<std::string> svg = graph_svg(map);
  ASSERT_FALSE(svg.ok());
  EXPECT_EQ(svg.error().message(), "the service map's edge 0 names vertex 0, 3 or -1 of only 1");
  map.edges = {{0, 0, 1, 80, "TCP", 80, 1}};
  Result<std::string> html = graph_html(map, {});
  ASSERT_FALSE(html.ok());
  EXPECT_EQ(html.error().message(), "the service map's edge 0 names vertex 0, 0 or 1 of only 1");
}

// Graphviz is not thread-safe: calls from several threads are drawn one at a time, each alike.
TEST(GraphPictureTest, ThreadsDrawOneAtATime) {
  const ServiceMap map = every_kind_map();
  const std::string expected = svg_of(map);
  ASSERT_FALSE(expected.empty());
  std::array<std::string, 4> results;
  std::vector<std::thread> threads;
  threads.reserve(results.size());
  for (std::string& result : results) {
    threads.emplace_back([&map, &result] {
      for (int i = 0; i < 3; ++i) {
        Result<std::string> svg = graph_svg(map);
        result = svg.ok() ? *svg : "error: " + svg.error().message();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& result : results) EXPECT_EQ(result, expected);
}

// --- the page ---------------------------------------------------------------------------------

std::vector<std::vector<std::string>> table_rows(const xmlDoc* doc, const std::string& css_class) {
  std::vector<std::vector<std::string>> rows;
  for (const xmlNode* table : by_class(doc, "table", css_class)) {
    for (const xmlNode* part : children(table)) {
      for (const xmlNode* tr : children(part, "tr")) {
        std::vector<std::string> cells;
        for (const xmlNode* cell : children(tr)) cells.push_back(text_of(cell));
        rows.push_back(cells);
      }
    }
  }
  return rows;
}

std::string sha256_base64(const std::string& text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EXPECT_EQ(EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr), 1);
  return base64_encode(std::string(reinterpret_cast<const char*>(digest.data()), length));
}

// The page loads nothing and runs nothing: no element that fetches or scripts, no attribute
// that names a resource, and a policy that would refuse them anyway.
void expect_self_contained(const xmlDoc* doc) {
  const std::set<std::string> forbidden = {"script", "link",  "img",   "iframe",       "object",
                                           "embed",  "base",  "form",  "image",        "use",
                                           "audio",  "video", "frame", "foreignObject"};
  std::vector<const xmlNode*> found;
  find_all(
      xmlDocGetRootElement(doc),
      [&](const xmlNode* n) {
        if (forbidden.count(name_of(n)) != 0) return true;
        for (const xmlAttr* a = n->properties; a != nullptr; a = a->next) {
          std::string attr = reinterpret_cast<const char*>(a->name);
          if (attr == "src" || attr == "href" || attr.rfind("on", 0) == 0 || attr == "style") {
            return true;
          }
        }
        return false;
      },
      found);
  EXPECT_TRUE(found.empty()) << "first: <" << name_of(found.at(0)) << ">";
  std::vector<const xmlNode*> style = by_name(doc, "style");
  ASSERT_EQ(style.size(), 1U);
  std::string sheet = text_of(style[0]);
  EXPECT_EQ(sheet.find("url("), std::string::npos);
  EXPECT_EQ(sheet.find("@import"), std::string::npos);
  std::vector<const xmlNode*> policy;
  find_all(
      xmlDocGetRootElement(doc),
      [](const xmlNode* n) {
        return name_of(n) == "meta" && attribute(n, "http-equiv") == "Content-Security-Policy";
      },
      policy);
  ASSERT_EQ(policy.size(), 1U);
  EXPECT_EQ(attribute(policy[0], "content"), "default-src 'none'; style-src 'sha256-" +
                                                 sha256_base64(sheet) +
                                                 "'; base-uri 'none'; form-action 'none'")
      << "the style sheet changed: kStyleSheetHash in graph_picture.cpp is now sha256-"
      << sha256_base64(sheet);
}

TEST(GraphPictureTest, ThePageHoldsTheMapAndItsTables) {
  ServiceMap map = every_kind_map();
  Doc doc = parse_xml(html_of(map, {"cluster map", "2025-06-01 12:00:00 UTC", "kind-1"}));
  ASSERT_TRUE(doc);
  expect_self_contained(doc.get());
  EXPECT_EQ(text_of(by_name(doc.get(), "title").at(0)), "cluster map");
  EXPECT_EQ(text_of(by_name(doc.get(), "h1").at(0)), "cluster map");
  EXPECT_EQ(text_of(by_class(doc.get(), "p", "about").at(0)),
            "Taken 2025-06-01 12:00:00 UTC from kind-1: 10 vertices, 7 edges, 14 connections.");
  // The drawing, inline: the same vertices and arrows as the SVG alone.
  std::vector<const xmlNode*> svg = by_class(doc.get(), "div", "map");
  ASSERT_EQ(svg.size(), 1U);
  EXPECT_EQ(name_of(children(svg[0]).at(0)), "svg");
  EXPECT_EQ(by_class(doc.get(), "g", "node").size(), 10U);
  EXPECT_EQ(by_class(doc.get(), "g", "edge").size(), 8U);
  std::vector<const xmlNode*> legend = by_class(doc.get(), "ul", "legend");
  ASSERT_EQ(legend.size(), 1U);
  std::vector<std::string> kinds;
  for (const xmlNode* li : children(legend[0], "li")) kinds.push_back(text_of(li));
  EXPECT_EQ(kinds, (std::vector<std::string>{"workload", "pod", "container", "process", "netns",
                                             "service", "node", "world", "private", "address"}));

  using Rows = std::vector<std::vector<std::string>>;
  EXPECT_EQ(table_rows(doc.get(), "edges"),
            (Rows{{"FROM", "TO", "VIA", "PROTOCOL", "PORT", "CONNECTIONS"},
                  {"shop/web-0/nginx", "shop/web-0", "shop/web:80", "TCP", "8080", "2"},
                  {"netns 4026532177", "node-1", "", "TCP", "10250", "1"},
                  {"shop/web-0", "private", "", "TCP", "5432", "1"},
                  {"shop/web-0", "private", "", "UDP", "53", "4"},
                  {"sshd", "10.9.8.7", "", "TCP", "443", "2"},
                  {"kube-system/DaemonSet/agent", "shop/web-0", "shop/web:80", "TCP", "8080", "3"},
                  {"world", "sshd", "", "TCP", "22", "1"}}));
  EXPECT_EQ(table_rows(doc.get(), "vertices"),
            (Rows{{"KIND", "NAMESPACE", "NAME", "PORTS"},
                  {"address", "", "10.9.8.7", ""},
                  {"container", "shop", "web-0/nginx", "80/TCP"},
                  {"netns", "", "netns 4026532177", ""},
                  {"node", "", "node-1", "10250/TCP"},
                  {"pod", "shop", "web-0", "8080/TCP, 8125/UDP"},
                  {"private", "", "private", ""},
                  {"process", "", "sshd", "22/TCP"},
                  {"service", "shop", "web", "80/TCP"},
                  {"workload", "kube-system", "DaemonSet/agent", ""},
                  {"world", "", "world", ""}}));
}

TEST(GraphPictureTest, ThePageEscapesHostileNames) {
  ServiceMap map = hostile_map();
  Doc doc = parse_xml(html_of(map, {"<title>&", "\x1b[2J", "</p><script>x</script>"}));
  ASSERT_TRUE(doc);
  expect_self_contained(doc.get());
  EXPECT_EQ(text_of(by_name(doc.get(), "title").at(0)), "<title>&");
  EXPECT_EQ(text_of(by_class(doc.get(), "p", "about").at(0)),
            "Taken \\x1b[2J from </p><script>x</script>: 10 vertices, 2 edges, 8 connections.");
  std::map<std::string, DrawnVertex> drawn = drawn_vertices(doc.get());
  ASSERT_EQ(drawn.size(), map.vertices.size());
  for (size_t i = 0; i < map.vertices.size(); ++i) {
    EXPECT_EQ(drawn["v" + std::to_string(i)].lines, kHostileLines[i]) << i;
  }
  using Rows = std::vector<std::vector<std::string>>;
  EXPECT_EQ(table_rows(doc.get(), "edges"),
            (Rows{{"FROM", "TO", "VIA", "PROTOCOL", "PORT", "CONNECTIONS"},
                  {"ctl\\x01\\x1b[31m\\x7f", "ns\"]<&x/<b>&amp;\"'</b>",
                   "ns\"]<&x/&#1;&lt;&foo;&#x41;:1", "T<C>P&", "80", "1"},
                  {"\"]; evil -> x [label=\"pwn\"", "caf\\xe9\\xff\\xfe", "", "UDP", "53", "7"}}));
  Rows vertices = table_rows(doc.get(), "vertices");
  ASSERT_EQ(vertices.size(), 11U);
  EXPECT_EQ(vertices[1],
            (std::vector<std::string>{"pod", "ns\"]<&x", "<b>&amp;\"'</b>", "80/T<C>P&"}));
  for (size_t i = 0; i < map.vertices.size(); ++i) {
    EXPECT_EQ(vertices[i + 1].at(2), kHostileLines[i][0]) << i;
  }
}

TEST(GraphPictureTest, AnEmptyPageSaysNoConnections) {
  Doc doc = parse_xml(html_of(ServiceMap{}, {}));
  ASSERT_TRUE(doc);
  expect_self_contained(doc.get());
  EXPECT_EQ(text_of(by_name(doc.get(), "title").at(0)), "socksnap graph");
  EXPECT_EQ(text_of(by_class(doc.get(), "p", "about").at(0)),
            "0 vertices, 0 edges, 0 connections.");
  std::vector<std::string> notes;
  for (const xmlNode* p : by_class(doc.get(), "p", "none")) notes.push_back(text_of(p));
  EXPECT_EQ(notes, (std::vector<std::string>{"No connections.", "No vertices."}));
  EXPECT_TRUE(by_name(doc.get(), "table").empty());
  EXPECT_TRUE(by_class(doc.get(), "ul", "legend").empty());
  EXPECT_EQ(texts(by_class(doc.get(), "g", "graph").at(0)),
            std::vector<std::string>{"no connections"});
}

}  // namespace
}  // namespace socksnap
