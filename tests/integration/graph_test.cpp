// `socksnap graph` on real sockets in namespaces the test makes: a client namespace C and a
// server namespace S joined by a veth pair (C 10.214.5.2, S 10.214.5.1), three TCP connections
// and a connected UDP socket from C to S, one more connection closed (TIME_WAIT, not counted), a
// loopback pair inside S (local), and a connection from C to a third namespace X (10.214.7.2,
// over another veth pair) that the run leaves out with --netns: its address names nothing the
// map knows, so it is `private` (or itself with --no-group-external).
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "harness.h"

namespace socksnap::test {
namespace {

using nlohmann::json;

void link(const TestNetns& a, const std::string& a_addr, const TestNetns& b,
          const std::string& b_addr, const std::string& prefix) {
  std::string va = prefix + "a";
  std::string vb = prefix + "b";
  must({"ip", "-n", a.name(), "link", "add", va, "type", "veth", "peer", "name", vb, "netns",
        b.name()});
  must({"ip", "-n", a.name(), "addr", "add", a_addr + "/24", "dev", va});
  must({"ip", "-n", b.name(), "addr", "add", b_addr + "/24", "dev", vb});
  must({"ip", "-n", a.name(), "link", "set", va, "up"});
  must({"ip", "-n", b.name(), "link", "set", vb, "up"});
}

json vertex(const std::string& id, const std::string& kind, const std::string& name,
            const std::vector<std::pair<std::string, int>>& ports) {
  json p = json::array();
  for (const auto& [protocol, port] : ports) p.push_back({{"protocol", protocol}, {"port", port}});
  return {{"id", id}, {"kind", kind}, {"namespace", ""}, {"name", name}, {"ports", p}};
}

json edge(const std::string& from, const std::string& to, const std::string& protocol, int port,
          int connections) {
  return {{"from", from},
          {"to", to},
          {"via", nullptr},
          {"viaPort", nullptr},
          {"protocol", protocol},
          {"port", port},
          {"connections", connections}};
}

// The map's JSON, its vertices and edges in the order socksnap sorts them (by id).
json map_of(std::vector<json> vertices, std::vector<json> edges) {
  auto id = [](const json& v) { return v.at("id").get<std::string>(); };
  std::sort(vertices.begin(), vertices.end(),
            [&](const json& a, const json& b) { return id(a) < id(b); });
  std::sort(edges.begin(), edges.end(), [](const json& a, const json& b) {
    return std::tie(a.at("from"), a.at("to"), a.at("protocol"), a.at("port")) <
           std::tie(b.at("from"), b.at("to"), b.at("protocol"), b.at("port"));
  });
  return {{"nodes", vertices}, {"edges", edges}};
}

TEST(Graph, TwoNamespacesLoopbackAndAnAddressLeftOut) {
  TestNetns c;
  TestNetns s;
  TestNetns x;
  link(c, "10.214.5.2", s, "10.214.5.1", "gs");
  link(c, "10.214.7.1", x, "10.214.7.2", "gx");

  UniqueFd listener;
  UniqueFd loop_listener;
  UniqueFd udp_server;
  std::vector<UniqueFd> held;
  s.run_inside([&] {
    listener = tcp_listen("10.214.5.1", 8080);
    loop_listener = tcp_listen("127.0.0.1", 9000);
    udp_server = udp_bind("0.0.0.0", 5353);
  });
  UniqueFd far_listener;
  x.run_inside([&] { far_listener = tcp_listen("10.214.7.2", 9100); });
  UniqueFd closed;
  c.run_inside([&] {
    for (int i = 0; i < 3; ++i) held.push_back(tcp_connect("10.214.5.1", 8080));
    held.push_back(udp_connect("10.214.5.1", 5353));
    held.push_back(tcp_connect("10.214.7.2", 9100));
    closed = tcp_connect("10.214.5.1", 8080);
  });
  UniqueFd closed_accepted;
  s.run_inside([&] {
    for (int i = 0; i < 3; ++i) held.push_back(tcp_accept(listener));
    closed_accepted = tcp_accept(listener);
    held.push_back(tcp_connect("127.0.0.1", 9000));
    held.push_back(tcp_accept(loop_listener));
  });
  x.run_inside([&] { held.push_back(tcp_accept(far_listener)); });
  // The client closes first: its end waits in TIME_WAIT, which is no connection.
  uint16_t closed_port = local_port(closed);
  closed = UniqueFd();
  closed_accepted = UniqueFd();

  auto rows = run_socksnap({"--netns", c.path(), "-o", "json", "-q"});
  ASSERT_EQ(rows.exit_code, 0) << rows.err;
  bool time_wait = false;
  for (const auto& row : rows_of(rows.out, c.inode())) {
    time_wait |= row.at("src").at("port") == closed_port && row.at("status") == "TIME_WAIT";
  }
  ASSERT_TRUE(time_wait) << rows.out;

  const std::string cv = "netns/test-node/" + c.name();
  const std::string sv = "netns/test-node/" + s.name();
  json want = map_of(
      {vertex(cv, "netns", "test-node/" + c.name(), {}),
       vertex(sv, "netns", "test-node/" + s.name(), {{"TCP", 8080}, {"TCP", 9000}, {"UDP", 5353}}),
       vertex("private", "private", "private", {})},
      {edge(cv, sv, "TCP", 8080, 3), edge(cv, sv, "UDP", 5353, 1),
       edge(cv, "private", "TCP", 9100, 1), edge(sv, sv, "TCP", 9000, 1)});
  auto r = run_socksnap({"graph", "--level", "netns", "-o", "json", "--netns", c.path(), "--netns",
                         s.path(), "--node-name", "test-node", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), want) << r.out;

  // The far address itself, without grouping.
  want = map_of(
      {vertex(cv, "netns", "test-node/" + c.name(), {}),
       vertex(sv, "netns", "test-node/" + s.name(), {{"TCP", 8080}, {"TCP", 9000}, {"UDP", 5353}}),
       vertex("address/10.214.7.2", "address", "10.214.7.2", {{"TCP", 9100}})},
      {edge(cv, sv, "TCP", 8080, 3), edge(cv, sv, "UDP", 5353, 1),
       edge(cv, "address/10.214.7.2", "TCP", 9100, 1), edge(sv, sv, "TCP", 9000, 1)});
  auto ungrouped =
      run_socksnap({"--netns", c.path(), "--netns", s.path(), "graph", "--level", "netns",
                    "--no-group-external", "-o", "json", "--node-name", "test-node", "-q"});
  ASSERT_EQ(ungrouped.exit_code, 0) << ungrouped.err;
  EXPECT_EQ(json::parse(ungrouped.out), want) << ungrouped.out;

  // Only the server's sockets make the map (-F): the clients' are read, count nothing, and
  // name their namespace as the far end.
  const std::vector<std::pair<std::string, int>> s_ports = {
      {"TCP", 8080}, {"TCP", 9000}, {"UDP", 5353}};
  auto servers = run_socksnap({"graph", "--level", "netns", "-o", "json", "--netns", c.path(),
                               "--netns", s.path(), "--node-name", "test-node", "-q", "-F",
                               fmt::format("netns:{}", s.inode())});
  ASSERT_EQ(servers.exit_code, 0) << servers.err;
  EXPECT_EQ(json::parse(servers.out),
            map_of({vertex(cv, "netns", "test-node/" + c.name(), {}),
                    vertex(sv, "netns", "test-node/" + s.name(), s_ports)},
                   {edge(cv, sv, "TCP", 8080, 3), edge(sv, sv, "TCP", 9000, 1)}))
      << servers.out;
  // The clients' namespace not read at all: they are named by their address.
  auto alone = run_socksnap({"graph", "--level", "netns", "-o", "json", "--netns", s.path(),
                             "--node-name", "test-node", "-q"});
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  EXPECT_EQ(json::parse(alone.out),
            map_of({vertex(sv, "netns", "test-node/" + s.name(), s_ports),
                    vertex("private", "private", "private", {})},
                   {edge("private", sv, "TCP", 8080, 3), edge(sv, sv, "TCP", 9000, 1)}))
      << alone.out;

  // The default level on a host without containers is the process: the test's own, which
  // holds every socket here, so every edge is its own.
  auto processes = run_socksnap({"graph", "-o", "json", "--netns", c.path(), "--netns", s.path(),
                                 "--node-name", "test-node", "-q"});
  ASSERT_EQ(processes.exit_code, 0) << processes.err;
  json doc = json::parse(processes.out);
  ASSERT_EQ(doc["nodes"].size(), 2U) << processes.out;
  EXPECT_EQ(doc["nodes"][0]["kind"], "private");
  EXPECT_EQ(doc["nodes"][1]["kind"], "process");
  std::string me = doc["nodes"][1]["id"];
  EXPECT_EQ(me.rfind("process/test-node/", 0), 0U) << me;
  EXPECT_EQ(doc["edges"],
            json::array({edge(me, "private", "TCP", 9100, 1), edge(me, me, "TCP", 8080, 3),
                         edge(me, me, "TCP", 9000, 1), edge(me, me, "UDP", 5353, 1)}))
      << processes.out;

  // The table, and what is refused.
  auto table = run_socksnap({"graph", "--level", "netns", "--netns", c.path(), "--netns", s.path(),
                             "--node-name", "test-node", "-q"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("FROM"), std::string::npos);
  EXPECT_EQ(std::count(table.out.begin(), table.out.end(), '\n'), 5) << table.out;
  auto png = run_socksnap({"graph", "-o", "png", "--netns", c.path()});
  EXPECT_EQ(png.exit_code, 2);
  EXPECT_EQ(png.out, "");
  EXPECT_EQ(png.err,
            "socksnap: -o png: unknown output of graph (table, json, jsonpretty, dot, mermaid, "
            "svg, html)\n");
  auto workload = run_socksnap({"graph", "--level", "workload", "--netns", c.path()});
  EXPECT_EQ(workload.exit_code, 2);
  EXPECT_EQ(workload.err,
            "socksnap: --level workload: a host does not know pods' controllers (the API server "
            "does: kubectl socksnap graph); use --level pod\n");
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A text as Graphviz writes it in SVG: '-' as a character reference.
std::string in_svg(const std::string& text) {
  std::string out;
  for (char ch : text) out += ch == '-' ? std::string("&#45;") : std::string(1, ch);
  return out;
}

// -o svg and -o html: drawn by the picture plugin, loaded only for them; a run that cannot load
// it fails before it takes the snapshot and prints nothing.
TEST(Graph, PicturesAreDrawnByThePluginAndNothingIsPrintedWithoutIt) {
  TestNetns c;
  TestNetns s;
  link(c, "10.214.9.2", s, "10.214.9.1", "gp");
  UniqueFd listener;
  s.run_inside([&] { listener = tcp_listen("10.214.9.1", 8080); });
  std::vector<UniqueFd> held;
  c.run_inside([&] {
    for (int i = 0; i < 2; ++i) held.push_back(tcp_connect("10.214.9.1", 8080));
  });
  s.run_inside([&] {
    for (int i = 0; i < 2; ++i) held.push_back(tcp_accept(listener));
  });
  const std::vector<std::string> scope = {"graph",       "--level", "netns",  "--netns",
                                          c.path(),      "--netns", s.path(), "--node-name",
                                          "test-node-p", "-q"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = scope;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  const std::string cn = "test-node-p/" + c.name();
  const std::string sn = "test-node-p/" + s.name();

  auto svg = run_socksnap(with({"-o", "svg"}));
  ASSERT_EQ(svg.exit_code, 0) << svg.err;
  EXPECT_EQ(svg.out.rfind("<?xml", 0), 0U) << svg.out.substr(0, 200);
  EXPECT_EQ(svg.out.substr(svg.out.size() - 7), "</svg>\n");
  EXPECT_EQ(occurrences(svg.out, "<g id=\"node"), 2U) << svg.out;
  EXPECT_EQ(occurrences(svg.out, "<g id=\"edge"), 1U) << svg.out;
  EXPECT_EQ(occurrences(svg.out, ">" + in_svg(cn) + "</text>"), 1U) << svg.out;
  EXPECT_EQ(occurrences(svg.out, ">" + in_svg(sn) + "</text>"), 1U) << svg.out;
  EXPECT_EQ(occurrences(svg.out, ">:8080/TCP</text>"), 1U) << svg.out;
  EXPECT_EQ(occurrences(svg.out, ">TCP 8080 ×2</text>"), 1U) << svg.out;

  auto html = run_socksnap(with({"-o", "html", "-v"}));
  ASSERT_EQ(html.exit_code, 0) << html.err;
  EXPECT_EQ(html.out.rfind("<!DOCTYPE html>", 0), 0U) << html.out.substr(0, 200);
  EXPECT_EQ(occurrences(html.out, "<title>socksnap graph</title>"), 1U) << html.out;
  EXPECT_EQ(occurrences(html.out, " from host test-node-p: 2 vertices, 1 edge, 2 connections."), 1U)
      << html.out;
  EXPECT_EQ(occurrences(html.out, "<svg"), 1U + occurrences(html.out, "<li><svg")) << html.out;
  // Where the plugin came from: beside the program, in the build tree.
  const std::string program = SOCKSNAP_BINARY;
  std::string plugin_line = "socksnap: picture plugin: " + program.substr(0, program.rfind('/')) +
                            "/socksnap-picture.so\n";
  EXPECT_NE(html.err.find(plugin_line), std::string::npos) << html.err;

  // Without the plugin: one line, status 1, nothing printed; the text formats do not need it.
  const std::map<std::string, std::string> missing = {
      {"SOCKSNAP_PICTURE_PLUGIN", "/nonexistent/socksnap-picture.so"}};
  for (const char* format : {"svg", "html"}) {
    auto refused = run_socksnap(with({"-o", format}), missing);
    EXPECT_EQ(refused.exit_code, 1) << format;
    EXPECT_EQ(refused.out, "") << format;
    EXPECT_EQ(refused.err, fmt::format("socksnap: -o {}: cannot find the picture plugin: none of "
                                       "/nonexistent/socksnap-picture.so exists\n",
                                       format));
  }
  auto dot = run_socksnap(with({"-o", "dot"}), missing);
  EXPECT_EQ(dot.exit_code, 0) << dot.err;
  EXPECT_EQ(dot.out.rfind("digraph", 0), 0U) << dot.out;
}

}  // namespace
}  // namespace socksnap::test
