// An agent's answer for the service map (wire/graph_wire.h): written and read back member by
// member, bytes that are not UTF-8 kept, and read strictly: each fault named with its owner or
// end and its field.
#include "wire/graph_wire.h"

#include <gtest/gtest.h>

#include <string>

#include "plugin/workloads.h"
#include "wire/wire.h"

namespace socksnap {
namespace {

GraphEnds sample() {
  GraphEnds ends;
  ends.owners.push_back(
      {"node-1", "shop", "web-0", "uid-1", false, "nginx", "nginx", 4026532100, ""});
  ends.owners.push_back({"node-1", "", "", "", false, "", "s\xffh\"d", 4026531840, "host"});
  ends.owners.push_back(
      {"node-1", "kube-system", "proxy", "uid-2", true, "", "", 4026531840, "host"});
  GraphEnd listen;
  listen.owner = 0;
  listen.role = EndRole::kListen;
  listen.local = *parse_graph_address("0.0.0.0");
  listen.port = 80;
  GraphEnd server;
  server.owner = 0;
  server.role = EndRole::kServer;
  server.local = *parse_graph_address("10.1.0.1");
  server.remote = *parse_graph_address("10.1.0.2");
  server.port = 80;
  server.count = 12;
  GraphEnd other_client = server;  // the same server's end of another client's connection
  other_client.remote = *parse_graph_address("10.1.0.3");
  other_client.count = 1;
  GraphEnd client;
  client.owner = 1;
  client.protocol = Protocol::kUdp;
  client.role = EndRole::kClient;
  client.same_netns = true;
  client.local = *parse_graph_address("fd00::1");
  client.remote = *parse_graph_address("fd00::9");
  client.port = 53;
  client.client_port = 40000;
  client.translated = true;
  client.translated_addr = *parse_graph_address("fd00::7");
  client.translated_port = 5353;
  GraphEnd v4;
  v4 = client;
  v4.owner = 2;
  v4.protocol = Protocol::kTcp;
  v4.same_netns = false;
  v4.client_port = 0;
  v4.local = *parse_graph_address("10.0.0.5");
  v4.remote = *parse_graph_address("10.96.0.10");
  v4.translated_addr = *parse_graph_address("10.1.0.1");
  v4.translated_port = 8080;
  v4.count = 3;
  ends.ends = {listen, server, other_client, client, v4};
  ends.node_addresses = {{"node-1", *parse_graph_address("10.0.0.5")},
                         {"node-1", *parse_graph_address("fd00::5")}};
  return ends;
}

std::string written(const GraphEnds& ends, const std::vector<std::string>& warnings = {}) {
  std::string text;
  OutputSink sink(&text);
  write_graph_reply("node-1", ends, warnings, sink);
  EXPECT_TRUE(sink.finish());
  return text;
}

TEST(GraphWire, WrittenAsDocumented) {
  EXPECT_EQ(
      written(sample(), {"a \xff warning"}),
      R"({"apiVersion":"socksnap.io/v1","kind":"GraphEnds","node":"node-1","warnings":["a \udcff warning"],)"
      R"("nodeAddresses":["10.0.0.5","fd00::5"],)"
      R"("owners":[{"podNamespace":"shop","podName":"web-0","podUid":"uid-1","container":"nginx","comm":"nginx","netns":4026532100},)"
      R"({"comm":"s\udcffh\"d","netns":4026531840,"netnsName":"host"},)"
      R"({"podNamespace":"kube-system","podName":"proxy","podUid":"uid-2","hostNetwork":true,"netns":4026531840,"netnsName":"host"}],)"
      R"("ends":[{"owner":0,"protocol":"TCP","role":"listen","local":"0.0.0.0","port":80,"count":1},)"
      R"({"owner":0,"protocol":"TCP","role":"server","local":"10.1.0.1","port":80,"remotes":[["10.1.0.2",12],["10.1.0.3",1]]},)"
      R"({"owner":1,"protocol":"UDP","role":"client","local":"fd00::1","port":53,"sameNetns":true,"clientPort":40000,"remotes":[["fd00::9",1,"[fd00::7]:5353"]]},)"
      R"({"owner":2,"protocol":"TCP","role":"client","local":"10.0.0.5","port":53,"remotes":[["10.96.0.10",3,"10.1.0.1:8080"]]}]})"
      "\n");
}

TEST(GraphWire, ReadsBackEveryMemberAndByte) {
  GraphEnds ends = sample();
  auto reply = parse_graph_reply(written(ends, {"a \xff warning"}));
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->node, "node-1");
  EXPECT_EQ(reply->warnings, std::vector<std::string>{"a \xff warning"});
  EXPECT_EQ(reply->ends.owners, ends.owners);
  EXPECT_EQ(reply->ends.ends, ends.ends);
  EXPECT_EQ(reply->ends.node_addresses, ends.node_addresses);
}

std::string graph_reply_error(const std::string& text) {
  auto reply = parse_graph_reply(text);
  return reply ? "(read)" : reply.error().message();
}

std::string with_end(const std::string& end) {
  return R"({"apiVersion":"socksnap.io/v1","kind":"GraphEnds","node":"n","warnings":[],)"
         R"("nodeAddresses":[],"owners":[{"netns":1}],"ends":[{"owner":0,"protocol":"TCP",)"
         R"("role":"listen","local":"0.0.0.0","port":80,"count":1},)" +
         end + "]}";
}

TEST(GraphWire, StrictNamingTheOwnerOrEndAndTheField) {
  // A client's end object: `rest` follows its fixed members.
  auto client = [](std::string_view rest, std::string_view port = "80") {
    return fmt::format(R"({{"owner":0,"protocol":"TCP","role":"client","local":"10.0.0.1",)"
                       R"("port":{},{}}})",
                       port, rest);
  };
  EXPECT_EQ(graph_reply_error(
                with_end(client(R"("remotes":[["10.0.0.2",2],["10.0.0.3",1,"10.1.0.1:80"]])"))),
            "(read)");
  EXPECT_EQ(graph_reply_error(with_end(client(R"("remotes":[["10.0.0.2",2]])", "70000"))),
            R"(end 2: "port": 70000 is out of range (0 to 65535))");
  EXPECT_EQ(graph_reply_error(with_end(client(R"("remotes":[["10.0.0.2",2]],"colour":1)"))),
            R"(end 2: unknown field "colour")");
  EXPECT_EQ(graph_reply_error(with_end(client(R"("remote":"10.0.0.2")"))),
            R"(end 2: unknown field "remote")");
  EXPECT_EQ(graph_reply_error(
                with_end(R"({"owner":0,"protocol":"TCP","role":"client","local":"10.0.0.1",)"
                         R"("port":80})")),
            R"(end 2: missing field "remotes")");
  EXPECT_EQ(graph_reply_error(with_end(client(R"("remotes":[["10.0.0.2",2]],"count":2)"))),
            "end 2: a connection's counts are in its remotes");
  EXPECT_EQ(graph_reply_error(with_end(client(R"("remotes":[])"))),
            R"(end 2: "remotes": is empty)");
  EXPECT_EQ(graph_reply_error(
                with_end(R"({"owner":0,"protocol":"SCTP","role":"client","local":"10.0.0.1",)"
                         R"("port":80,"remotes":[["10.0.0.2",2]]})")),
            R"(end 2: "protocol": "SCTP" is not TCP, UDP, UDPLITE or UNIX)");
  EXPECT_EQ(
      graph_reply_error(with_end(R"({"owner":0,"protocol":"TCP","role":"peer","local":"10.0.0.1",)"
                                 R"("port":80,"remotes":[["10.0.0.2",2]]})")),
      R"(end 2: "role": "peer" is not listen, client or server)");
  EXPECT_EQ(graph_reply_error(
                with_end(R"({"owner":0,"protocol":"TCP","role":"client","local":"10.0.0.300",)"
                         R"("port":80,"remotes":[["10.0.0.2",2]]})")),
            R"(end 2: "local": "10.0.0.300" is not an IP address)");
  EXPECT_EQ(graph_reply_error(with_end(client(R"("remotes":[["10.0.0.2",2]])", R"("80")"))),
            R"(end 2: "port": expected a number, found "80")");
  // The far ends: [ADDRESS, COUNT] or [ADDRESS, COUNT, "ADDR:PORT"], each named by its place.
  EXPECT_EQ(graph_reply_error(with_end(client(R"("remotes":[["10.0.0.2",2],["10.0.0.3",0]])"))),
            R"(end 2: remotes[1]: "count": 0 is out of range (1 and up))");
  EXPECT_EQ(graph_reply_error(with_end(client(R"("remotes":[["10.0.0.256",2]])"))),
            R"(end 2: remotes[0]: "remote": "10.0.0.256" is not an IP address)");
  EXPECT_EQ(graph_reply_error(with_end(client(R"("remotes":[["10.0.0.2",2,"10.1.0.1"]])"))),
            R"(end 2: remotes[0]: "translated": "10.1.0.1" is not ADDRESS:PORT)");
  EXPECT_EQ(graph_reply_error(with_end(client(R"("remotes":[["10.0.0.2"]])"))),
            "end 2: remotes[0]: fewer than 2 items (remote, count)");
  EXPECT_EQ(graph_reply_error(with_end(client(R"("remotes":[["10.0.0.2",2,"10.1.0.1:80",4]])"))),
            "end 2: remotes[0]: more than 3 items");
  EXPECT_EQ(graph_reply_error(with_end(client(R"("remotes":["10.0.0.2"])"))),
            R"(end 2: remotes[0]: expected an array, found "10.0.0.2")");
  EXPECT_EQ(graph_reply_error(
                with_end(R"({"owner":1,"protocol":"TCP","role":"client","local":"10.0.0.1",)"
                         R"("port":80,"remotes":[["10.0.0.2",2]]})")),
            R"(end 2: "owner": 1 is past the 1 owners)");
  EXPECT_EQ(graph_reply_error(
                with_end(R"({"owner":0,"protocol":"TCP","role":"listen","local":"10.0.0.1",)"
                         R"("port":80,"count":2,"remotes":[["10.0.0.2",2]]})")),
            "end 2: a listener has no remotes");
  EXPECT_EQ(graph_reply_error(
                with_end(R"({"owner":0,"protocol":"TCP","role":"listen","local":"10.0.0.1",)"
                         R"("port":80})")),
            R"(end 2: missing field "count")");
  EXPECT_EQ(
      graph_reply_error(R"({"apiVersion":"socksnap.io/v1","kind":"GraphEnds","node":"n",)"
                        R"("warnings":[],"nodeAddresses":[],"owners":[{"netns":1,"podName":5}],)"
                        R"("ends":[]})"),
      R"(owner 1: "podName": expected a string, found 5)");
  EXPECT_EQ(
      graph_reply_error(R"({"apiVersion":"socksnap.io/v1","kind":"GraphEnds","node":"n",)"
                        R"("warnings":[],"nodeAddresses":[],"owners":[{"comm":"x"}],"ends":[]})"),
      R"(owner 1: missing field "netns")");
  EXPECT_EQ(graph_reply_error(R"({"apiVersion":"socksnap.io/v1","kind":"Snapshot","node":"n",)"
                              R"("warnings":[],"nodeAddresses":[],"owners":[],"ends":[]})"),
            R"("kind": "Snapshot" is not GraphEnds)");
  EXPECT_EQ(graph_reply_error(R"({"apiVersion":"socksnap.io/v1","kind":"GraphEnds","node":"n",)"
                              R"("warnings":[],"owners":[],"ends":[]})"),
            R"(missing field "nodeAddresses")");
  EXPECT_EQ(
      graph_reply_error(R"({"apiVersion":"socksnap.io/v2","kind":"GraphEnds","node":"n","x":1})"),
      wire_version_mismatch("socksnap.io/v2"));
  EXPECT_EQ(graph_reply_error(R"({"apiVersion":"socksnap.io/v1",)"), "malformed JSON at byte 31");
}

TEST(Workloads, ThroughReplicaSetsAndJobsToTheirControllers) {
  auto pod = [](std::string ns, std::string name, std::vector<OwnerReference> owners) {
    PodSummary p;
    p.pod_namespace = std::move(ns);
    p.name = std::move(name);
    p.owners = std::move(owners);
    return p;
  };
  std::vector<PodSummary> pods = {
      pod("shop", "web-7d4b9c8f5-abcde", {{"ReplicaSet", "web-7d4b9c8f5", true}}),
      pod("shop", "db-0", {{"StatefulSet", "db", true}}),
      pod("kube-system", "proxy-x1", {{"DaemonSet", "kube-proxy", true}}),
      pod("shop", "backup-28871-zz", {{"Job", "backup-28871", true}}),
      pod("shop", "migrate-qq", {{"Job", "migrate", true}}),
      pod("shop", "lone-rs-1", {{"ReplicaSet", "lone", true}}),
      pod("shop", "bare", {}),
      pod("shop", "owned-not-controlled", {{"ConfigMap", "x", false}}),
      pod("kube-system", "etcd-node-1", {{"Node", "node-1", true}}),
      // Same names in another namespace: another ReplicaSet.
      pod("other", "web-7d4b9c8f5-fghij", {{"ReplicaSet", "web-7d4b9c8f5", true}}),
  };
  std::vector<OwnedObject> replicasets = {
      {"shop", "web-7d4b9c8f5", {{"Deployment", "web", true}}},
      {"shop", "lone", {}},
      {"other", "web-7d4b9c8f5", {{"Deployment", "frontend", true}}}};
  std::vector<OwnedObject> jobs = {{"shop", "backup-28871", {{"CronJob", "backup", true}}},
                                   {"shop", "migrate", {}}};
  Workloads w(pods, replicasets, jobs);
  auto text = [&](std::string_view ns, std::string_view name) -> std::string {
    auto workload = w.of(ns, name);
    return workload ? workload->kind + "/" + workload->name : "(none)";
  };
  EXPECT_EQ(text("shop", "web-7d4b9c8f5-abcde"), "Deployment/web");
  EXPECT_EQ(text("other", "web-7d4b9c8f5-fghij"), "Deployment/frontend");
  EXPECT_EQ(text("shop", "db-0"), "StatefulSet/db");
  EXPECT_EQ(text("kube-system", "proxy-x1"), "DaemonSet/kube-proxy");
  EXPECT_EQ(text("shop", "backup-28871-zz"), "CronJob/backup");
  EXPECT_EQ(text("shop", "migrate-qq"), "Job/migrate");
  EXPECT_EQ(text("shop", "lone-rs-1"), "ReplicaSet/lone");
  EXPECT_EQ(text("shop", "bare"), "(none)");
  EXPECT_EQ(text("shop", "owned-not-controlled"), "(none)");
  EXPECT_EQ(text("kube-system", "etcd-node-1"), "(none)");
  EXPECT_EQ(text("shop", "unknown"), "(none)");
  // Without the ReplicaSets listed, the pod's own controller.
  Workloads unlisted(pods, {}, {});
  EXPECT_EQ(unlisted.of("shop", "web-7d4b9c8f5-abcde")->name, "web-7d4b9c8f5");
}

}  // namespace
}  // namespace socksnap
