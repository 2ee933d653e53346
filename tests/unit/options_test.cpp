// The command line: parse_args (argv to options) and make_plan (options to what the kernel is
// asked, which rows, and how they print). parse_args prints on usage errors and --help.
#include "cli/options.h"

#include <gtest/gtest.h>

#include "cluster/plugin.h"
#include "model/states.h"

namespace socksnap {
namespace {

ParsedArgs parse(std::vector<const char*> args) {
  args.insert(args.begin(), "socksnap");
  return parse_args(static_cast<int>(args.size()), args.data());
}

Options parsed_ok(std::vector<const char*> args) {
  ParsedArgs p = parse(args);
  EXPECT_FALSE(p.exit_now);
  return p.options;
}

std::vector<std::string> names(const std::vector<const Column*>& columns) {
  std::vector<std::string> out;
  for (const Column* c : columns) out.emplace_back(c->name);
  return out;
}

using Names = std::vector<std::string>;

TEST(ParseArgs, Defaults) {
  Options o = parsed_ok({});
  EXPECT_EQ(o.protocol, "all");
  EXPECT_TRUE(o.netns.empty());
  EXPECT_TRUE(o.filters.empty());
  EXPECT_EQ(o.sort, "");
  EXPECT_TRUE(o.outputs.empty());
  EXPECT_FALSE(o.no_headers);
  EXPECT_EQ(o.host_root, "/");
  EXPECT_FALSE(o.quiet);
  EXPECT_FALSE(o.verbose);
  EXPECT_FALSE(o.tcp_info);
  EXPECT_EQ(o.jobs, 0U);
  EXPECT_EQ(o.record_dump, "");
  EXPECT_EQ(o.replay_dump, "");
}

TEST(ParseArgs, EveryOption) {
  Options o = parsed_ok({"--proto",
                         "UDP",
                         "--netns",
                         "/run/netns/a",
                         "--netns",
                         "4026531840",
                         "-F",
                         "status:LISTEN",
                         "--filter",
                         "src.port:>=80",
                         "--sort",
                         "inode,src",
                         "-o",
                         "json",
                         "--no-headers",
                         "--tcp-info",
                         "--host-root",
                         "/host",
                         "-j",
                         "4",
                         "-q",
                         "-v",
                         "--record-dump",
                         "/tmp/r",
                         "--replay-dump",
                         "/tmp/p"});
  EXPECT_EQ(o.protocol, "udp");
  EXPECT_EQ(o.netns, (std::vector<std::string>{"/run/netns/a", "4026531840"}));
  EXPECT_EQ(o.filters, (std::vector<std::string>{"status:LISTEN", "src.port:>=80"}));
  EXPECT_EQ(o.sort, "inode,src");
  EXPECT_EQ(o.outputs, (std::vector<std::string>{"json"}));
  EXPECT_TRUE(o.no_headers);
  EXPECT_TRUE(o.tcp_info);
  EXPECT_EQ(o.host_root, "/host");
  EXPECT_EQ(o.jobs, 4U);
  EXPECT_TRUE(o.quiet);
  EXPECT_TRUE(o.verbose);
  EXPECT_EQ(o.record_dump, "/tmp/r");
  EXPECT_EQ(o.replay_dump, "/tmp/p");
}

TEST(ParseArgs, ProtocolIsCaseInsensitive) {
  EXPECT_EQ(parsed_ok({"--protocol", "TCP"}).protocol, "tcp");
  EXPECT_EQ(parsed_ok({"--protocol", "Udp"}).protocol, "udp");
  EXPECT_EQ(parsed_ok({"--protocol=all"}).protocol, "all");
}

TEST(ParseArgs, OutputForms) {
  EXPECT_EQ(parsed_ok({"-o", "-inode"}).outputs, (std::vector<std::string>{"-inode"}));
  EXPECT_EQ(parsed_ok({"-o", "+rtt,+cwnd"}).outputs, (std::vector<std::string>{"+rtt,+cwnd"}));
  EXPECT_EQ(parsed_ok({"--output", "-netns"}).outputs, (std::vector<std::string>{"-netns"}));
  EXPECT_EQ(parsed_ok({"-o", "columns=src,dst"}).outputs,
            (std::vector<std::string>{"columns=src,dst"}));
  EXPECT_EQ(parsed_ok({"-o", "yaml", "-o", "+inode"}).outputs,
            (std::vector<std::string>{"yaml", "+inode"}));
  EXPECT_EQ(parsed_ok({"--output=jsonpretty"}).outputs, (std::vector<std::string>{"jsonpretty"}));
}

TEST(ParseArgs, DescendingSortKeyFirst) {
  // "--sort -src" as the help describes it ("'-' before a column for descending").
  Options o = parsed_ok({"--sort", "-src,dst"});
  EXPECT_EQ(o.sort, "-src,dst");
}

TEST(ParseArgs, UsageErrorsExitWithTwo) {
  for (std::vector<const char*> args : std::vector<std::vector<const char*>>{{"--protocol", "sctp"},
                                                                             {"--bogus"},
                                                                             {"-j", "0"},
                                                                             {"-j", "257"},
                                                                             {"-j", "many"},
                                                                             {"extra-positional"},
                                                                             {"-o"}}) {
    ParsedArgs p = parse(args);
    EXPECT_TRUE(p.exit_now) << args[0];
    EXPECT_EQ(p.exit_code, 2) << args[0];
  }
}

TEST(ParseArgs, HelpAndVersionExitWithZero) {
  testing::internal::CaptureStdout();
  ParsedArgs help = parse({"--help"});
  ParsedArgs version = parse({"--version"});
  std::string printed = testing::internal::GetCapturedStdout();
  EXPECT_TRUE(help.exit_now);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(version.exit_now);
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(printed.find("--protocol"), std::string::npos);
  EXPECT_NE(printed.find("rx.queue"), std::string::npos);       // the footer lists the columns
  EXPECT_EQ(printed.find("--record-dump"), std::string::npos);  // hidden
}

// CLI11 2.1 names extra arguments last first; each program names them as they were given.
TEST(ParseArgs, ExtraArgumentsAreNamedInTheOrderGiven) {
  testing::internal::CaptureStderr();
  ParsedArgs three = parse({"a", "b", "c"});
  ParsedArgs one = parse({"-q", "stray"});
  ParsedArgs after_version = parse({"version", "b", "c"});
  std::vector<const char*> plugin_argv = {"kubectl-socksnap", "--node", "n", "x", "y"};
  int plugin = run_plugin(static_cast<int>(plugin_argv.size()), plugin_argv.data());
  std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_EQ(three.exit_code, 2);
  EXPECT_EQ(one.exit_code, 2);
  EXPECT_EQ(after_version.exit_code, 2);
  EXPECT_EQ(plugin, 2);
  EXPECT_EQ(printed,
            "socksnap: The following arguments were not expected: a b c\n"
            "socksnap: The following argument was not expected: stray\n"
            "socksnap: The following arguments were not expected: b c\n"
            "kubectl socksnap: The following arguments were not expected: x y\n");
}

TEST(ParseArgs, HelpNamesTheSubcommands) {
  testing::internal::CaptureStdout();
  parse({"--help"});
  std::string help = testing::internal::GetCapturedStdout();
  EXPECT_NE(help.find("Usage: socksnap [OPTIONS] [SUBCOMMAND]\n"), std::string::npos) << help;
  EXPECT_NE(help.find("Subcommands:\n"
                      "  agent                           Run the node agent (socksnap agent "
                      "--help)\n"
                      "  completion                      Print the shell completion script "
                      "(bash, zsh or fish)\n"
                      "  version                         Print the version and the git commit\n"),
            std::string::npos)
      << help;
}

TEST(ParseArgs, Subcommands) {
  ParsedArgs version = parse({"version", "-o", "yaml"});
  EXPECT_FALSE(version.exit_now);
  EXPECT_EQ(version.subcommand, "version");
  EXPECT_EQ(version.version_output, "yaml");
  ParsedArgs completion = parse({"completion", "zsh"});
  EXPECT_EQ(completion.subcommand, "completion");
  EXPECT_EQ(completion.shell, "zsh");
  EXPECT_EQ(parse({"-q"}).subcommand, "");
  testing::internal::CaptureStderr();
  ParsedArgs tcsh = parse({"completion", "tcsh"});
  ParsedArgs xml = parse({"version", "-o", "xml"});
  std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_EQ(tcsh.exit_code, 2);
  EXPECT_EQ(xml.exit_code, 2);
  EXPECT_EQ(printed,
            "socksnap: shell: tcsh not in {bash,zsh,fish}\n"
            "socksnap: --output: xml not in {json,yaml}\n");
}

Plan plan_ok(const Options& o) {
  auto plan = make_plan(o);
  if (!plan) {
    ADD_FAILURE() << plan.error().message();
    return Plan{};
  }
  return std::move(plan.value());
}

Plan plan_of(std::vector<const char*> args) {
  return plan_ok(parsed_ok(std::move(args)));
}

std::string plan_error(std::vector<const char*> args) {
  auto plan = make_plan(parsed_ok(std::move(args)));
  if (plan) {
    ADD_FAILURE() << "plan was made";
    return {};
  }
  return plan.error().message();
}

TEST(MakePlan, Defaults) {
  Plan p = plan_of({});
  EXPECT_TRUE(p.request.tcp);
  EXPECT_TRUE(p.request.udp);
  EXPECT_TRUE(p.request.udplite);
  EXPECT_EQ(p.request.tcp_states, kDefaultTcpStates);
  EXPECT_EQ(p.request.tcp_states & kBoundInactiveState, 0U);
  EXPECT_EQ(p.request.udp_states, kAllStates);
  EXPECT_FALSE(p.request.tcp_info);
  EXPECT_TRUE(p.selection.filters.empty());
  ASSERT_EQ(p.selection.sort.size(), 4U);
  EXPECT_EQ(p.selection.sort[0].column->name, "netns");
  EXPECT_EQ(p.render.format, OutputFormat::kColumns);
  EXPECT_EQ(names(p.render.columns), (Names{"netns", "protocol", "src", "dst", "status"}));
  EXPECT_TRUE(p.render.headers);
}

TEST(MakePlan, ProtocolOption) {
  Plan tcp = plan_of({"--protocol", "tcp"});
  EXPECT_TRUE(tcp.request.tcp);
  EXPECT_FALSE(tcp.request.udp);
  Plan udp = plan_of({"--protocol", "udp"});
  EXPECT_FALSE(udp.request.tcp);
  EXPECT_TRUE(udp.request.udp);
}

TEST(MakePlan, StatusListenIsPushedDownIntoTcpStatesAndSkipsUdp) {
  Plan p = plan_of({"-F", "status:LISTEN"});
  EXPECT_TRUE(p.request.tcp);
  EXPECT_EQ(p.request.tcp_states, 1U << kTcpListen);
  EXPECT_FALSE(p.request.udp);
  EXPECT_FALSE(p.request.udplite);
  ASSERT_EQ(p.selection.filters.size(), 1U);  // and still filtered afterwards
}

TEST(MakePlan, UdpStatusesArePushedDownAndSkipTcp) {
  Plan active = plan_of({"-F", "status:ACTIVE"});
  EXPECT_FALSE(active.request.tcp);
  EXPECT_TRUE(active.request.udp);
  EXPECT_EQ(active.request.udp_states, 1U << kTcpEstablished);
  Plan inactive = plan_of({"-F", "status:INACTIVE"});
  EXPECT_FALSE(inactive.request.tcp);
  EXPECT_EQ(inactive.request.udp_states, 1U << kTcpClose);
}

TEST(MakePlan, OnlyEqualityIsPushedDown) {
  Plan p = plan_of({"-F", "status:!LISTEN", "-F", "status:~LISTEN", "-F", "protocol:!UDP"});
  EXPECT_TRUE(p.request.tcp);
  EXPECT_TRUE(p.request.udp);
  EXPECT_EQ(p.request.tcp_states, kDefaultTcpStates);
  EXPECT_EQ(p.request.udp_states, kAllStates);
}

TEST(MakePlan, BoundInactiveSocketsOnlyWhenAskedFor) {
  EXPECT_EQ(plan_of({"--bound-inactive"}).request.tcp_states, kAllStates);
  // Bound-only sockets show as CLOSE, so a filter on CLOSE asks the kernel for them.
  Plan close = plan_of({"-F", "status:CLOSE"});
  EXPECT_EQ(close.request.tcp_states, (1U << kTcpClose) | kBoundInactiveState);
  EXPECT_FALSE(close.request.udp);  // no UDP socket shows as CLOSE
  Plan listen = plan_of({"--bound-inactive", "-F", "status:LISTEN"});
  EXPECT_EQ(listen.request.tcp_states, 1U << kTcpListen);
}

TEST(MakePlan, ProtocolChoosesUdpLiteToo) {
  EXPECT_TRUE(plan_of({"--protocol", "all"}).request.udplite);
  EXPECT_FALSE(plan_of({"--protocol", "udp"}).request.udplite);
  Plan lite = plan_of({"--proto", "UDPLite"});
  EXPECT_FALSE(lite.request.tcp);
  EXPECT_FALSE(lite.request.udp);
  EXPECT_TRUE(lite.request.udplite);
}

TEST(MakePlan, ProtocolUdpFilterTurnsTcpOff) {
  Plan p = plan_of({"-F", "protocol:UDP"});
  EXPECT_FALSE(p.request.tcp);
  EXPECT_TRUE(p.request.udp);
  Plan both = plan_of({"--protocol", "udp", "-F", "protocol:TCP"});
  EXPECT_FALSE(both.request.tcp);
  EXPECT_FALSE(both.request.udp);
}

TEST(MakePlan, StatusAndProtocolTogether) {
  Plan p = plan_of({"-F", "protocol:TCP", "-F", "status:ESTABLISHED"});
  EXPECT_TRUE(p.request.tcp);
  EXPECT_EQ(p.request.tcp_states, 1U << kTcpEstablished);
  EXPECT_FALSE(p.request.udp);
}

TEST(MakePlan, TcpInfoImpliedByItsColumnsFiltersAndSortKeys) {
  Plan rtt = plan_of({"-o", "+rtt"});
  EXPECT_TRUE(rtt.request.tcp_info);
  EXPECT_EQ(names(rtt.render.columns), (Names{"netns", "protocol", "src", "dst", "status", "rtt"}));
  EXPECT_TRUE(plan_of({"-o", "columns=src,cwnd"}).request.tcp_info);
  EXPECT_TRUE(plan_of({"-F", "retrans:>0"}).request.tcp_info);
  EXPECT_TRUE(plan_of({"--sort=-bytes.sent"}).request.tcp_info);
  EXPECT_TRUE(plan_of({"--tcp-info"}).request.tcp_info);
  EXPECT_FALSE(plan_of({"-o", "+inode", "-F", "uid:0", "--sort", "inode"}).request.tcp_info);
}

TEST(MakePlan, OutputFormatsAndColumns) {
  EXPECT_EQ(plan_of({"-o", "json"}).render.format, OutputFormat::kJson);
  EXPECT_EQ(plan_of({"-o", "jsonpretty"}).render.format, OutputFormat::kJsonPretty);
  EXPECT_EQ(plan_of({"-o", "yaml"}).render.format, OutputFormat::kYaml);
  EXPECT_EQ(plan_of({"-o", "json", "-o", "columns"}).render.format, OutputFormat::kColumns);
  EXPECT_EQ(names(plan_of({"-o", "columns=SRC,dst"}).render.columns), (Names{"src", "dst"}));
  EXPECT_EQ(names(plan_of({"-o", "columns=+inode"}).render.columns),
            (Names{"netns", "protocol", "src", "dst", "status", "inode"}));
  EXPECT_EQ(names(plan_of({"-o", "-netns", "-o", "+uid"}).render.columns),
            (Names{"protocol", "src", "dst", "status", "uid"}));
  EXPECT_EQ(names(plan_of({"-o", "columns=src", "-o", "+dst"}).render.columns),
            (Names{"src", "dst"}));
  EXPECT_FALSE(plan_of({"--no-headers"}).render.headers);
}

TEST(MakePlan, SortOption) {
  Plan p = plan_of({"--sort=-inode,src"});
  ASSERT_EQ(p.selection.sort.size(), 2U);
  EXPECT_EQ(p.selection.sort[0].column->name, "inode");
  EXPECT_TRUE(p.selection.sort[0].descending);
  EXPECT_EQ(p.selection.sort[1].column->name, "src");
}

TEST(MakePlan, Errors) {
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

std::string first_sort_key(const Plan& plan) {
  return std::string(plan.selection.sort.front().column->name);
}

TEST(SettlePlan, TheNodeKindPicksDefaultColumnsAndSortOnlyWhereTheyShow) {
  Plan k8s = plan_of({});
  settle_plan(k8s, NodeKind::kKubernetes);
  EXPECT_EQ(first_sort_key(k8s), "k8s.namespace");
  EXPECT_TRUE(needs_owners(k8s));
  EXPECT_FALSE(needs_labels(k8s));

  // Columns without owners: sorting by pod would cost an owner scan nobody sees.
  Plan plain = plan_of({"-o", "columns=netns,protocol,src,dst,status"});
  settle_plan(plain, NodeKind::kKubernetes);
  EXPECT_EQ(first_sort_key(plain), "netns");
  EXPECT_FALSE(needs_owners(plain));

  Plan labels = plan_of({"-o", "+k8s.labels"});
  settle_plan(labels, NodeKind::kKubernetes);
  EXPECT_TRUE(needs_labels(labels));
}

TEST(SettlePlan, WhatDependsOnTheNodeAndWhatNeedsOwnersEverywhere) {
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
    Plan p = plan_of(c.args);
    std::string what;
    for (const char* a : c.args) what += std::string(a) + " ";
    EXPECT_EQ(kind_matters(p), c.kind_matters) << what;
    EXPECT_EQ(needs_owners_on_any_node(p), c.owners_anywhere) << what;
  }
}

}  // namespace
}  // namespace socksnap
