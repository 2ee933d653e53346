// The command line: parse_args (argv to the query's and the host's options, and the front-end's
// own). parse_args prints on usage errors and --help. What the query compiles to: query_test.cpp.
#include "cli/options.h"

#include <gtest/gtest.h>

#include "model/states.h"
#include "plugin/plugin.h"

namespace socksnap {
namespace {

ParsedArgs parse(std::vector<const char*> args) {
  args.insert(args.begin(), "socksnap");
  return parse_args(static_cast<int>(args.size()), args.data());
}

CommandLine parsed_ok(std::vector<const char*> args) {
  ParsedArgs p = parse(args);
  EXPECT_FALSE(p.exit_now);
  return p.line;
}

TEST(ParseArgs, Defaults) {
  CommandLine o = parsed_ok({});
  EXPECT_EQ(o.query.protocol, "inet");
  EXPECT_TRUE(o.host.netns.empty());
  EXPECT_TRUE(o.query.filters.empty());
  EXPECT_EQ(o.query.sort, "");
  EXPECT_TRUE(o.query.outputs.empty());
  EXPECT_FALSE(o.query.no_headers);
  EXPECT_EQ(o.host.root, "/");
  EXPECT_FALSE(o.quiet);
  EXPECT_FALSE(o.verbose);
  EXPECT_FALSE(o.query.tcp_info);
  EXPECT_EQ(o.host.jobs, 0U);
  EXPECT_EQ(o.host.record_dump, "");
  EXPECT_EQ(o.host.replay_dump, "");
}

TEST(ParseArgs, EveryOption) {
  CommandLine o = parsed_ok({"--proto",
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
  EXPECT_EQ(o.query.protocol, "udp");
  EXPECT_EQ(o.host.netns, (std::vector<std::string>{"/run/netns/a", "4026531840"}));
  EXPECT_EQ(o.query.filters, (std::vector<std::string>{"status:LISTEN", "src.port:>=80"}));
  EXPECT_EQ(o.query.sort, "inode,src");
  EXPECT_EQ(o.query.outputs, (std::vector<std::string>{"json"}));
  EXPECT_TRUE(o.query.no_headers);
  EXPECT_TRUE(o.query.tcp_info);
  EXPECT_EQ(o.host.root, "/host");
  EXPECT_EQ(o.host.jobs, 4U);
  EXPECT_TRUE(o.quiet);
  EXPECT_TRUE(o.verbose);
  EXPECT_EQ(o.host.record_dump, "/tmp/r");
  EXPECT_EQ(o.host.replay_dump, "/tmp/p");
}

TEST(ParseArgs, ProtocolIsCaseInsensitive) {
  EXPECT_EQ(parsed_ok({"--protocol", "TCP"}).query.protocol, "tcp");
  EXPECT_EQ(parsed_ok({"--protocol", "Udp"}).query.protocol, "udp");
  EXPECT_EQ(parsed_ok({"--protocol=all"}).query.protocol, "all");
}

TEST(ParseArgs, OutputForms) {
  EXPECT_EQ(parsed_ok({"-o", "-inode"}).query.outputs, (std::vector<std::string>{"-inode"}));
  EXPECT_EQ(parsed_ok({"-o", "+rtt,+cwnd"}).query.outputs,
            (std::vector<std::string>{"+rtt,+cwnd"}));
  EXPECT_EQ(parsed_ok({"--output", "-netns"}).query.outputs, (std::vector<std::string>{"-netns"}));
  EXPECT_EQ(parsed_ok({"-o", "columns=src,dst"}).query.outputs,
            (std::vector<std::string>{"columns=src,dst"}));
  EXPECT_EQ(parsed_ok({"-o", "yaml", "-o", "+inode"}).query.outputs,
            (std::vector<std::string>{"yaml", "+inode"}));
  EXPECT_EQ(parsed_ok({"--output=jsonpretty"}).query.outputs,
            (std::vector<std::string>{"jsonpretty"}));
}

TEST(ParseArgs, DescendingSortKeyFirst) {
  // "--sort -src" as the help describes it ("'-' before a column for descending").
  CommandLine o = parsed_ok({"--sort", "-src,dst"});
  EXPECT_EQ(o.query.sort, "-src,dst");
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

TEST(ParseArgs, GraphTakesItsFlagsAndTheSelectionBeforeOrAfterIt) {
  ParsedArgs p =
      parse({"-n", "shop", "graph", "--level", "container", "-o", "dot", "--no-group-external",
             "--protocol", "TCP", "-F", "status:ESTABLISHED", "--netns", "/run/netns/a"});
  ASSERT_FALSE(p.exit_now);
  EXPECT_EQ(p.subcommand, "graph");
  EXPECT_EQ(p.graph.level, "container");
  EXPECT_EQ(p.graph.output, "dot");
  EXPECT_TRUE(p.graph.no_group_external);
  EXPECT_EQ(p.line.query.pod_namespace, "shop");
  EXPECT_EQ(p.line.query.protocol, "tcp");
  EXPECT_EQ(p.line.query.filters, std::vector<std::string>{"status:ESTABLISHED"});
  EXPECT_EQ(p.line.host.netns, std::vector<std::string>{"/run/netns/a"});
  EXPECT_TRUE(p.line.query.outputs.empty());

  // The graph's -o, else one given before the word; an unknown one is named.
  std::vector<std::string> before = {"mermaid"};
  EXPECT_EQ(graph_output(GraphCommand{}, before).value(), GraphFormat::kMermaid);
  EXPECT_TRUE(before.empty());
  before = {"json"};
  EXPECT_EQ(graph_output(GraphCommand{"", false, "dot"}, before).value(), GraphFormat::kDot);
  before = {};
  EXPECT_EQ(graph_output(GraphCommand{}, before).value(), GraphFormat::kTable);
  before = {"+pid"};
  EXPECT_EQ(graph_output(GraphCommand{}, before).error().message(),
            "-o +pid: unknown output of graph (table, json, jsonpretty, dot, mermaid, svg, html)");

  // A level it does not have is refused as usage.
  testing::internal::CaptureStderr();
  ParsedArgs bad = parse({"graph", "--level", "cluster"});
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(bad.exit_now);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(err, "socksnap: --level: cluster not in {workload,pod,container,process,netns}\n");
}

TEST(ParseArgs, HelpNamesTheSubcommands) {
  testing::internal::CaptureStdout();
  parse({"--help"});
  std::string help = testing::internal::GetCapturedStdout();
  EXPECT_NE(help.find("Usage: socksnap [OPTIONS] [SUBCOMMAND]\n"), std::string::npos) << help;
  EXPECT_NE(
      help.find("Subcommands:\n"
                "  agent                           Run the node agent (socksnap agent "
                "--help)\n"
                "  completion                      Print the shell completion script "
                "(bash, zsh or fish)\n"
                "  graph                           Who talks to whom: the service map of "
                "the sockets\n"
                "  summary                         Count the sockets in groups of columns "
                "(socksnap summary --help)\n"
                "  audit                           Findings: what is exposed, who talks "
                "across namespaces and to the Internet\n"
                "  diff                            What changed between two saved snapshots "
                "(-o json)\n"
                "  watch                           Print the sockets' changes as they happen\n"
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

}  // namespace
}  // namespace socksnap
