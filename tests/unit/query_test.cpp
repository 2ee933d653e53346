// What the options compile to (snapshot/query.h): what the kernel is asked, which rows, and how
// they print, on each kind of node.
#include "snapshot/query.h"

#include <gtest/gtest.h>

#include "cli/options.h"
#include "model/states.h"
#include "render_fixture.h"

namespace socksnap {
namespace {

using test::names_of;
QueryOptions parsed_query(std::vector<const char*> args) {
  args.insert(args.begin(), "socksnap");
  ParsedArgs p = parse_args(static_cast<int>(args.size()), args.data());
  EXPECT_FALSE(p.exit_now);
  return p.line.query;
}

using Names = std::vector<std::string>;

Query plan_of(std::vector<const char*> args) {
  auto query = compile_query(parsed_query(std::move(args)));
  if (!query) {
    ADD_FAILURE() << query.error().message();
    return compile_query({}).value();
  }
  return std::move(query.value());
}

std::string plan_error(std::vector<const char*> args) {
  auto query = compile_query(parsed_query(std::move(args)));
  if (query) {
    ADD_FAILURE() << "the query compiled";
    return {};
  }
  return query.error().message();
}

TEST(CompileQuery, Defaults) {
  Query p = plan_of({});
  EXPECT_TRUE(p.request.tcp);
  EXPECT_TRUE(p.request.udp);
  EXPECT_TRUE(p.request.udplite);
  EXPECT_EQ(p.request.tcp_states, kDefaultTcpStates);
  EXPECT_EQ(p.request.tcp_states & kBoundInactiveState, 0U);
  EXPECT_EQ(p.request.udp_states, kAllStates);
  EXPECT_FALSE(p.request.tcp_info);
  EXPECT_TRUE(p.filters.empty());
  ASSERT_EQ(p.sort_for(NodeKind::kHost).size(), 4U);
  EXPECT_EQ(p.sort_for(NodeKind::kHost)[0].column->name, "netns");
  EXPECT_EQ(p.format, OutputFormat::kColumns);
  EXPECT_EQ(names_of(p.columns_for(NodeKind::kHost)),
            (Names{"netns", "protocol", "src", "dst", "status"}));
  EXPECT_TRUE(p.headers);
}

TEST(CompileQuery, ProtocolOption) {
  Query tcp = plan_of({"--protocol", "tcp"});
  EXPECT_TRUE(tcp.request.tcp);
  EXPECT_FALSE(tcp.request.udp);
  Query udp = plan_of({"--protocol", "udp"});
  EXPECT_FALSE(udp.request.tcp);
  EXPECT_TRUE(udp.request.udp);
}

TEST(CompileQuery, StatusListenIsPushedDownIntoTcpStatesAndSkipsUdp) {
  Query p = plan_of({"-F", "status:LISTEN"});
  EXPECT_TRUE(p.request.tcp);
  EXPECT_EQ(p.request.tcp_states, 1U << kTcpListen);
  EXPECT_FALSE(p.request.udp);
  EXPECT_FALSE(p.request.udplite);
  ASSERT_EQ(p.filters.size(), 1U);  // and still filtered afterwards
}

TEST(CompileQuery, UdpStatusesArePushedDownAndSkipTcp) {
  Query active = plan_of({"-F", "status:ACTIVE"});
  EXPECT_FALSE(active.request.tcp);
  EXPECT_TRUE(active.request.udp);
  EXPECT_EQ(active.request.udp_states, 1U << kTcpEstablished);
  Query inactive = plan_of({"-F", "status:INACTIVE"});
  EXPECT_FALSE(inactive.request.tcp);
  EXPECT_EQ(inactive.request.udp_states, 1U << kTcpClose);
}

TEST(CompileQuery, OnlyEqualityIsPushedDown) {
  Query p = plan_of({"-F", "status:!LISTEN", "-F", "status:~LISTEN", "-F", "protocol:!UDP"});
  EXPECT_TRUE(p.request.tcp);
  EXPECT_TRUE(p.request.udp);
  EXPECT_EQ(p.request.tcp_states, kDefaultTcpStates);
  EXPECT_EQ(p.request.udp_states, kAllStates);
}

TEST(CompileQuery, BoundInactiveSocketsOnlyWhenAskedFor) {
  EXPECT_EQ(plan_of({"--bound-inactive"}).request.tcp_states, kAllStates);
  // Bound-only sockets show as CLOSE, so a filter on CLOSE asks the kernel for them.
  Query close = plan_of({"-F", "status:CLOSE"});
  EXPECT_EQ(close.request.tcp_states, (1U << kTcpClose) | kBoundInactiveState);
  EXPECT_FALSE(close.request.udp);  // no UDP socket shows as CLOSE
  Query listen = plan_of({"--bound-inactive", "-F", "status:LISTEN"});
  EXPECT_EQ(listen.request.tcp_states, 1U << kTcpListen);
}

TEST(CompileQuery, ProtocolChoosesUdpLiteToo) {
  EXPECT_TRUE(plan_of({"--protocol", "all"}).request.udplite);
  EXPECT_FALSE(plan_of({"--protocol", "udp"}).request.udplite);
  Query lite = plan_of({"--proto", "UDPLite"});
  EXPECT_FALSE(lite.request.tcp);
  EXPECT_FALSE(lite.request.udp);
  EXPECT_TRUE(lite.request.udplite);
}

TEST(CompileQuery, ProtocolUdpFilterTurnsTcpOff) {
  Query p = plan_of({"-F", "protocol:UDP"});
  EXPECT_FALSE(p.request.tcp);
  EXPECT_TRUE(p.request.udp);
  Query both = plan_of({"--protocol", "udp", "-F", "protocol:TCP"});
  EXPECT_FALSE(both.request.tcp);
  EXPECT_FALSE(both.request.udp);
}

TEST(CompileQuery, StatusAndProtocolTogether) {
  Query p = plan_of({"-F", "protocol:TCP", "-F", "status:ESTABLISHED"});
  EXPECT_TRUE(p.request.tcp);
  EXPECT_EQ(p.request.tcp_states, 1U << kTcpEstablished);
  EXPECT_FALSE(p.request.udp);
}

TEST(CompileQuery, TcpInfoImpliedByItsColumnsFiltersAndSortKeys) {
  Query rtt = plan_of({"-o", "+rtt"});
  EXPECT_TRUE(rtt.request.tcp_info);
  EXPECT_EQ(names_of(rtt.columns_for(NodeKind::kHost)),
            (Names{"netns", "protocol", "src", "dst", "status", "rtt"}));
  EXPECT_TRUE(plan_of({"-o", "columns=src,cwnd"}).request.tcp_info);
  EXPECT_TRUE(plan_of({"-F", "retrans:>0"}).request.tcp_info);
  EXPECT_TRUE(plan_of({"--sort=-bytes.sent"}).request.tcp_info);
  EXPECT_TRUE(plan_of({"--tcp-info"}).request.tcp_info);
  EXPECT_FALSE(plan_of({"-o", "+inode", "-F", "uid:0", "--sort", "inode"}).request.tcp_info);
}

TEST(CompileQuery, QueuesAndCgroupReadWhereShownFilteredSortedOrCarried) {
  // No kind's default table shows them, nor do other columns need them.
  EXPECT_FALSE(plan_of({}).request.queues_and_cgroup);
  EXPECT_FALSE(plan_of({"-o", "+inode,+uid,+rtt,+pid", "-F", "uid:0", "--sort", "inode"})
                   .request.queues_and_cgroup);
  EXPECT_FALSE(plan_of({"-o", "columns=src,dst"}).request.queues_and_cgroup);
  // Shown, filtered on, sorted by.
  EXPECT_TRUE(plan_of({"-o", "+rx.queue"}).request.queues_and_cgroup);
  EXPECT_TRUE(plan_of({"-o", "columns=src,tx.queue"}).request.queues_and_cgroup);
  EXPECT_TRUE(plan_of({"-F", "rx.queue:>0"}).request.queues_and_cgroup);
  EXPECT_TRUE(plan_of({"--sort", "-tx.queue"}).request.queues_and_cgroup);
  // Rows that carry every field.
  EXPECT_TRUE(plan_of({"-o", "json"}).request.queues_and_cgroup);
  EXPECT_TRUE(plan_of({"-o", "jsonpretty"}).request.queues_and_cgroup);
  EXPECT_TRUE(plan_of({"-o", "yaml"}).request.queues_and_cgroup);
  // A summary weighs listeners by their accept queues; the map is given every field.
  QueryOptions summary;
  summary.summary = true;
  EXPECT_TRUE(compile_query(summary).value().request.queues_and_cgroup);
  QueryOptions graph;
  graph.graph = true;
  EXPECT_TRUE(compile_query(graph).value().request.queues_and_cgroup);
}

TEST(CompileQuery, IdentitiesReadWhereShownFilteredSortedOrCarried) {
  // No kind's default table shows a cookie, uid or interface, nor do other columns need them.
  EXPECT_FALSE(plan_of({}).request.identities);
  EXPECT_FALSE(plan_of({"-o", "+inode,+rtt,+pid,+rx.queue", "-F", "inode:>0", "--sort", "inode"})
                   .request.identities);
  EXPECT_FALSE(plan_of({"-o", "columns=src,dst"}).request.identities);
  // Shown, filtered on, sorted by: each of the three.
  EXPECT_TRUE(plan_of({"-o", "+uid"}).request.identities);
  EXPECT_TRUE(plan_of({"-o", "columns=src,cookie"}).request.identities);
  EXPECT_TRUE(plan_of({"-o", "columns=src,interface"}).request.identities);
  EXPECT_TRUE(plan_of({"-F", "uid:0"}).request.identities);
  EXPECT_TRUE(plan_of({"-F", "interface:lo"}).request.identities);
  EXPECT_TRUE(plan_of({"--sort", "-cookie"}).request.identities);
  // Rows that carry every field; the map; a watch, which pairs sockets by their cookies.
  EXPECT_TRUE(plan_of({"-o", "json"}).request.identities);
  EXPECT_TRUE(plan_of({"-o", "yaml"}).request.identities);
  QueryOptions graph;
  graph.graph = true;
  EXPECT_TRUE(compile_query(graph).value().request.identities);
  QueryOptions watch;
  watch.watch = true;
  EXPECT_TRUE(compile_query(watch).value().request.identities);
  // A summary reads every field (as it reads the queues).
  QueryOptions summary;
  summary.summary = true;
  EXPECT_TRUE(compile_query(summary).value().request.identities);
}

TEST(CompileQuery, InodesReadWhereHoldersAreFoundShownFilteredSortedOrCarried) {
  // The columns given for every kind, none of them an owner's or the inode, nor the filters'.
  EXPECT_FALSE(plan_of({"-o", "columns=src,dst"}).request.inodes);
  EXPECT_FALSE(plan_of({"-o", "columns=netns,protocol,src,dst,status,uid,rtt,rx.queue,cookie", "-F",
                        "uid:0", "--sort", "cookie"})
                   .request.inodes);
  // The default tables: a Kubernetes node's and a container host's show pods and containers,
  // which their holders tell, and which kind a run shows is known only after the sockets are
  // read (the census runs beside).
  EXPECT_TRUE(plan_of({}).request.inodes);
  EXPECT_TRUE(plan_of({"-o", "+uid"}).request.inodes);
  // Shown, filtered on, sorted by.
  EXPECT_TRUE(plan_of({"-o", "+inode"}).request.inodes);
  EXPECT_TRUE(plan_of({"-o", "columns=src,inode"}).request.inodes);
  EXPECT_TRUE(plan_of({"-F", "inode:>0"}).request.inodes);
  EXPECT_TRUE(plan_of({"--sort", "-inode"}).request.inodes);
  // The holders are found by them: owners shown, filtered on, or picked by pod or container.
  EXPECT_TRUE(plan_of({"-o", "+pid"}).request.inodes);
  EXPECT_TRUE(plan_of({"-o", "columns=src,comm"}).request.inodes);
  EXPECT_TRUE(plan_of({"-F", "comm:nginx"}).request.inodes);
  EXPECT_TRUE(plan_of({"-o", "columns=k8s.podName"}).request.inodes);
  EXPECT_TRUE(plan_of({"--podname", "web"}).request.inodes);
  // Rows that carry every field.
  EXPECT_TRUE(plan_of({"-o", "json"}).request.inodes);
  EXPECT_TRUE(plan_of({"-o", "yaml"}).request.inodes);
  QueryOptions summary;
  summary.summary = true;
  EXPECT_TRUE(compile_query(summary).value().request.inodes);
  QueryOptions graph;
  graph.graph = true;
  EXPECT_TRUE(compile_query(graph).value().request.inodes);
}

TEST(CompileQuery, InodesNeededByTheKindOfNodeShown) {
  // A host's default table needs none; a container host's and a Kubernetes node's show
  // containers and pods, which the holders tell.
  Query plain = plan_of({});
  EXPECT_FALSE(plain.needs_inodes(NodeKind::kHost));
  EXPECT_TRUE(plain.needs_inodes(NodeKind::kContainers));
  EXPECT_TRUE(plain.needs_inodes(NodeKind::kKubernetes));
  for (const auto& args : std::vector<std::vector<const char*>>{
           {"-o", "+pid"}, {"-o", "+inode"}, {"-F", "inode:>0"}, {"-o", "json"}, {"-o", "yaml"}}) {
    Query q = plan_of(args);
    for (NodeKind kind : {NodeKind::kHost, NodeKind::kContainers, NodeKind::kKubernetes}) {
      EXPECT_TRUE(q.needs_inodes(kind)) << args[1];
    }
  }
  Query given = plan_of({"-o", "columns=src,dst"});
  for (NodeKind kind : {NodeKind::kHost, NodeKind::kContainers, NodeKind::kKubernetes}) {
    EXPECT_FALSE(given.needs_inodes(kind));
  }
  QueryOptions summary;
  summary.summary = true;
  EXPECT_TRUE(compile_query(summary).value().needs_inodes(NodeKind::kHost));
}

TEST(CompileQuery, OutputFormatsAndColumns) {
  EXPECT_EQ(plan_of({"-o", "json"}).format, OutputFormat::kJson);
  EXPECT_EQ(plan_of({"-o", "jsonpretty"}).format, OutputFormat::kJsonPretty);
  EXPECT_EQ(plan_of({"-o", "yaml"}).format, OutputFormat::kYaml);
  EXPECT_EQ(plan_of({"-o", "json", "-o", "columns"}).format, OutputFormat::kColumns);
  EXPECT_EQ(names_of(plan_of({"-o", "columns=SRC,dst"}).columns_for(NodeKind::kHost)),
            (Names{"src", "dst"}));
  EXPECT_EQ(names_of(plan_of({"-o", "columns=+inode"}).columns_for(NodeKind::kHost)),
            (Names{"netns", "protocol", "src", "dst", "status", "inode"}));
  EXPECT_EQ(names_of(plan_of({"-o", "-netns", "-o", "+uid"}).columns_for(NodeKind::kHost)),
            (Names{"protocol", "src", "dst", "status", "uid"}));
  EXPECT_EQ(names_of(plan_of({"-o", "columns=src", "-o", "+dst"}).columns_for(NodeKind::kHost)),
            (Names{"src", "dst"}));
  EXPECT_FALSE(plan_of({"--no-headers"}).headers);
}

TEST(CompileQuery, SortOption) {
  Query p = plan_of({"--sort=-inode,src"});
  ASSERT_EQ(p.sort_for(NodeKind::kHost).size(), 2U);
  EXPECT_EQ(p.sort_for(NodeKind::kHost)[0].column->name, "inode");
  EXPECT_TRUE(p.sort_for(NodeKind::kHost)[0].descending);
  EXPECT_EQ(p.sort_for(NodeKind::kHost)[1].column->name, "src");
}

TEST(CompileQuery, Errors) {
  EXPECT_EQ(plan_error({"-o", "xml"}),
            "-o xml: unknown output (columns, columns=COL,..., +COL, -COL, json, jsonpretty, "
            "yaml)");
  EXPECT_EQ(plan_error({"-o", "columns=bogus"}),
            "unknown column 'bogus' (socksnap --help lists them)");
  EXPECT_EQ(plan_error({"-o", "+bogus"}), "unknown column 'bogus' (socksnap --help lists them)");
  EXPECT_EQ(plan_error({"-F", "status"}), "filter 'status' is not of the form column:value");
  EXPECT_EQ(plan_error({"--sort", "bogus"}),
            "--sort 'bogus': unknown column 'bogus' (socksnap --help lists them)");
}

}  // namespace
}  // namespace socksnap

namespace socksnap {
namespace {

std::string first_sort_key(const Query& query, NodeKind kind) {
  return std::string(query.sort_for(kind).front().column->name);
}

TEST(QueryForTheNode, TheNodeKindPicksDefaultColumnsAndSortOnlyWhereTheyShow) {
  Query k8s = plan_of({});
  EXPECT_EQ(first_sort_key(k8s, NodeKind::kKubernetes), "k8s.namespace");
  EXPECT_EQ(
      names_of(k8s.columns_for(NodeKind::kKubernetes)),
      (Names{"k8s.node", "k8s.namespace", "k8s.podName", "protocol", "src", "dst", "status"}));
  EXPECT_TRUE(k8s.needs_owners(NodeKind::kKubernetes));
  EXPECT_FALSE(k8s.needs_labels(NodeKind::kKubernetes));

  // Columns without owners: sorting by pod would cost an owner scan nobody sees.
  Query plain = plan_of({"-o", "columns=netns,protocol,src,dst,status"});
  EXPECT_EQ(first_sort_key(plain, NodeKind::kKubernetes), "netns");
  EXPECT_FALSE(plain.needs_owners(NodeKind::kKubernetes));

  Query labels = plan_of({"-o", "+k8s.labels"});
  EXPECT_TRUE(labels.needs_labels(NodeKind::kKubernetes));
}

TEST(QueryForTheNode, WhatDependsOnTheNodeAndWhatNeedsOwnersEverywhere) {
  struct Case {
    std::vector<const char*> args;
    bool kind_matters;
    bool owners_anywhere;
  };
  for (const Case& c : {Case{{}, true, false}, Case{{"-o", "columns=src,dst"}, false, false},
                        Case{{"-o", "-netns"}, true, false}, Case{{"-o", "+pid"}, true, true},
                        Case{{"-o", "columns=src,comm"}, false, true},
                        Case{{"-o", "json"}, false, true}, Case{{"-F", "comm:nginx"}, true, true},
                        Case{{"-n", "shop"}, true, true}, Case{{"--sort", "pid"}, true, true}}) {
    Query p = plan_of(c.args);
    std::string what;
    for (const char* a : c.args) what += std::string(a) + " ";
    EXPECT_EQ(p.kind_matters(), c.kind_matters) << what;
    EXPECT_EQ(p.needs_owners_on_any_node(), c.owners_anywhere) << what;
  }
}

}  // namespace
}  // namespace socksnap

namespace socksnap {
namespace {

TEST(QueryForTheGraph, OwnersDirectionsAndTranslationsNoOrderNoTimeWait) {
  QueryOptions options;
  options.graph = true;
  Query p = compile_query(options).value();
  for (NodeKind kind : {NodeKind::kHost, NodeKind::kContainers, NodeKind::kKubernetes}) {
    EXPECT_TRUE(p.needs_owners(kind));
    EXPECT_TRUE(p.needs_direction(kind));
    EXPECT_FALSE(p.needs_labels(kind));  // the map shows none
    EXPECT_TRUE(p.sort_for(kind).empty());
  }
  EXPECT_TRUE(p.needs_translations());
  EXPECT_TRUE(p.kind_matters());  // the default level follows what the node runs
  EXPECT_EQ(p.request.tcp_states, kDefaultTcpStates & ~(1U << kTcpTimeWait));
  EXPECT_FALSE(p.request.tcp_info);

  // A label selector still needs the labels; a snapshot needs no translations.
  options.selector = "app=web";
  EXPECT_TRUE(compile_query(options).value().needs_labels(NodeKind::kKubernetes));
  EXPECT_FALSE(compile_query(QueryOptions{}).value().needs_translations());
}

TEST(QueryForTheGraph, AMapOfNamespacesReadsNoDescriptorsUnlessItsSelectionNamesOwners) {
  QueryOptions options;
  options.graph = true;
  EXPECT_TRUE(compile_query(options).value().needs_holders());  // processes are vertices
  options.graph_of_namespaces = true;
  EXPECT_FALSE(compile_query(options).value().needs_holders());
  options.protocol = "tcp";
  options.filters = {"src.port:80"};
  EXPECT_FALSE(compile_query(options).value().needs_holders());
  // A host-network pod's sockets are its by the processes holding them.
  for (auto select : {+[](QueryOptions& o) { o.pod_namespace = "shop"; },
                      +[](QueryOptions& o) { o.pod_name = "web"; },
                      +[](QueryOptions& o) { o.selector = "app=web"; },
                      +[](QueryOptions& o) { o.filters = {"comm:nginx"}; }}) {
    QueryOptions owned = options;
    select(owned);
    EXPECT_TRUE(compile_query(owned).value().needs_holders());
  }
  EXPECT_TRUE(compile_query(QueryOptions{}).value().needs_holders());
}

}  // namespace
}  // namespace socksnap
