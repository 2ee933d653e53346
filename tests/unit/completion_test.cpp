// Shell completion in Cobra's protocol: what `socksnap __complete WORDS... CURRENT` and
// `kubectl-socksnap __complete ...` print for the programs' real option definitions, the word
// reading underneath, the output's safety, and what the plugin adds (the lists the API server
// answers with).
#include "cmdline/completion.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "cli/options.h"
#include "kubeapi/kube_objects.h"
#include "plugin/plugin.h"

namespace socksnap {
namespace {

// What `socksnap __complete WORDS...` prints.
std::string socksnap_completes(std::vector<const char*> words) {
  words.insert(words.begin(), {"socksnap", "__complete"});
  testing::internal::CaptureStdout();
  ParsedArgs parsed = parse_args(static_cast<int>(words.size()), words.data());
  std::string printed = testing::internal::GetCapturedStdout();
  EXPECT_TRUE(parsed.exit_now);
  EXPECT_EQ(parsed.exit_code, 0);
  return printed;
}

TEST(Completion, GraphItsOwnOutputsAndLevelsAndItsParentsSelection) {
  EXPECT_EQ(socksnap_completes({"graph", "-o", ""}),
            "table\tthe edges, for a terminal (the default)\n"
            "json\t{\"nodes\":[...],\"edges\":[...]} on one line\n"
            "jsonpretty\tthe JSON, indented\n"
            "dot\tGraphviz's DOT\n"
            "mermaid\ta Mermaid flowchart\n"
            "svg\tthe map drawn (Graphviz)\n"
            "html\ta page: the map drawn and its tables\n"
            ":4\n");
  EXPECT_EQ(socksnap_completes({"graph", "--output=m"}), "mermaid\ta Mermaid flowchart\n:4\n");
  EXPECT_EQ(socksnap_completes({"-n", "shop", "graph", "--level", "p"}),
            "pod\ta pod\nprocess\ta process (its command) in its container\n:4\n");
  // The snapshot's selection flags after the word, -o offered once (the graph's).
  EXPECT_EQ(
      socksnap_completes({"graph", "--pro"}),
      "--protocol\tinet (default: TCP, UDP, UDP-Lite), all (inet and unix), tcp, udp, udplite, "
      "unix\n"
      "--proto\tinet (default: TCP, UDP, UDP-Lite), all (inet and unix), tcp, udp, udplite, unix\n"
      ":4\n");
  EXPECT_EQ(socksnap_completes({"graph", "--ou"}),
            "--output\ttable, json, jsonpretty, dot, mermaid, svg, html (default: table)\n:4\n");
  EXPECT_EQ(socksnap_completes({"graph", "-F", "dire"}), "direction:\n:6\n");
}

TEST(Completion, SubcommandsFirstThenOptionsWhenADashIsTyped) {
  EXPECT_EQ(socksnap_completes({""}),
            "agent\tRun the node agent (socksnap agent --help)\n"
            "completion\tPrint the shell completion script (bash, zsh or fish)\n"
            "graph\tWho talks to whom: the service map of the sockets\n"
            "summary\tCount the sockets in groups of columns (socksnap summary --help)\n"
            "audit\tFindings: what is exposed, who talks across namespaces and to the Internet\n"
            "diff\tWhat changed between two saved snapshots (-o json)\n"
            "watch\tPrint the sockets' changes as they happen\n"
            "version\tPrint the version and the git commit\n"
            ":4\n");
  EXPECT_EQ(socksnap_completes({"ver"}), "version\tPrint the version and the git commit\n:4\n");
  EXPECT_EQ(
      socksnap_completes({"--pro"}),
      "--protocol\tinet (default: TCP, UDP, UDP-Lite), all (inet and unix), tcp, udp, udplite, "
      "unix\n"
      "--proto\tinet (default: TCP, UDP, UDP-Lite), all (inet and unix), tcp, udp, udplite, unix\n"
      ":4\n");
  EXPECT_EQ(socksnap_completes({"-n"}), "-n\tOnly sockets of pods in this namespace\n:4\n");
  // From the CLI11 definitions: every visible option, none of the hidden ones.
  std::string all = "\n" + socksnap_completes({"-"});
  for (const char* flag :
       {"--protocol\t", "-F\t", "--filter\t", "--sort\t", "-o\t", "--no-headers\t", "--netns\t",
        "--host-root\t", "--cri-socket\t", "--help\t", "--version\t", "-A\t", "--selector\t"}) {
    EXPECT_NE(all.find(std::string("\n") + flag), std::string::npos) << flag << "\n" << all;
  }
  EXPECT_EQ(all.find("--record-dump"), std::string::npos);
  EXPECT_EQ(all.find("--replay-dump"), std::string::npos);
  // An option given once is not offered again; a repeatable one is.
  EXPECT_EQ(socksnap_completes({"--sort", "src", "--so"}), ":4\n");
  EXPECT_EQ(socksnap_completes({"-F", "status:LISTEN", "--fil"}),
            "--filter\tKeep matching rows (repeatable; see Filters)\n:4\n");
}

TEST(Completion, ProtocolAndOutputValues) {
  // inet is the default; all adds unix sockets.
  const std::string protocols =
      "inet\tTCP, UDP and UDP-Lite (the default)\n"
      "all\tTCP, UDP, UDP-Lite and unix sockets\n"
      "tcp\tTCP only\n"
      "udp\tUDP only\n"
      "udplite\tUDP-Lite only\n"
      "unix\tunix sockets only\n"
      ":4\n";
  EXPECT_EQ(socksnap_completes({"--protocol", ""}), protocols);
  EXPECT_EQ(socksnap_completes({"--proto", ""}), protocols);
  EXPECT_EQ(socksnap_completes({"--protocol", "udp"}),
            "udp\tUDP only\nudplite\tUDP-Lite only\n:4\n");
  // --option=VALUE: the values alone, as Cobra answers.
  EXPECT_EQ(socksnap_completes({"--protocol=t"}), "tcp\tTCP only\n:4\n");

  EXPECT_EQ(socksnap_completes({"-o", ""}),
            "columns\tthe default columns\n"
            "columns=\tthese columns (COL,...), or the defaults with +COL and -COL\n"
            "json\tone JSON array on one line\n"
            "jsonpretty\tthe JSON array, indented\n"
            "yaml\ta YAML list\n"
            ":4\n");
  EXPECT_EQ(socksnap_completes({"-o", "columns="}).rfind("columns=netns\ncolumns=protocol\n", 0),
            0U);
  EXPECT_EQ(socksnap_completes({"-o", "columns=src,d"}),
            "columns=src,dst\ncolumns=src,dst.addr\ncolumns=src,dst.port\ncolumns=src,dst.path\n"
            "columns=src,direction\n:6\n");
  // Names already in the list are not offered again; + and - keep their sign.
  EXPECT_EQ(socksnap_completes({"-o", "columns=src,dst,dst."}),
            "columns=src,dst,dst.addr\ncolumns=src,dst,dst.port\ncolumns=src,dst,dst.path\n:6\n");
  EXPECT_EQ(socksnap_completes({"-o", "+k8s.pod"}), "+k8s.podName\n:6\n");
  EXPECT_EQ(socksnap_completes({"-o", "+pid,-st"}), "+pid,-status\n:6\n");
  EXPECT_EQ(socksnap_completes({"--output=j"}),
            "json\tone JSON array on one line\njsonpretty\tthe JSON array, indented\n:4\n");
  EXPECT_EQ(socksnap_completes({"-ojs"}),
            "-ojson\tone JSON array on one line\n-ojsonpretty\tthe JSON array, indented\n:4\n");
}

// `socksnap summary`: its --by takes columns, comma-separated; its -o only formats; the
// snapshot's selection options, but not --sort.
TEST(Completion, SummaryByColumnsAndFormats) {
  EXPECT_EQ(socksnap_completes({"sum"}),
            "summary\tCount the sockets in groups of columns (socksnap summary --help)\n:4\n");
  EXPECT_EQ(socksnap_completes({"summary", "--by", "k8s.na"}), "k8s.namespace\n:6\n");
  EXPECT_EQ(socksnap_completes({"summary", "--by", "status,di"}), "status,direction\n:6\n");
  EXPECT_EQ(socksnap_completes({"summary", "--by=k8s.namespace,k8s.podName,k8s.podName"}), ":6\n");
  EXPECT_EQ(socksnap_completes({"summary", "-o", ""}),
            "columns\ta table of the groups (the default)\njson\tone JSON array on one line\n"
            "jsonpretty\tthe JSON array, indented\nyaml\ta YAML list\n:4\n");
  EXPECT_EQ(socksnap_completes({"summary", "-F", "dir"}), "direction:\n:6\n");
  EXPECT_EQ(socksnap_completes({"summary", "--so"}), ":4\n");
  EXPECT_EQ(socksnap_completes({"summary", "--b"}),
            "--bound-inactive\tAlso read TCP sockets only bound (as ss -B)\n"
            "--backend\tHow sockets are read: bpf, netlink or auto (default: BPF where it can "
            "run)\n"
            "--by\tGroup by these columns (default: as the node runs; see below)\n:4\n");
  EXPECT_EQ(socksnap_completes({"--backend", ""}),
            "auto\tBPF iterators where they can run, else netlink\n"
            "bpf\tBPF iterators only\n"
            "netlink\tsock_diag and /proc only\n:4\n");
  EXPECT_EQ(socksnap_completes({"summary", "--backend", "n"}),
            "netlink\tsock_diag and /proc only\n:4\n");
}

TEST(Completion, FilterAndSortColumns) {
  EXPECT_EQ(socksnap_completes({"-F", "st"}), "status:\n:6\n");
  EXPECT_EQ(socksnap_completes({"-F", "src."}), "src.addr:\nsrc.port:\nsrc.path:\n:6\n");
  EXPECT_EQ(socksnap_completes({"--filter", "protocol:"}),
            "protocol:TCP\nprotocol:UDP\nprotocol:UDPLITE\nprotocol:UNIX\n:4\n");
  EXPECT_EQ(socksnap_completes({"-F", "type:"}), "type:stream\ntype:dgram\ntype:seqpacket\n:4\n");
  EXPECT_EQ(socksnap_completes({"-F", "status:!CLOS"}),
            "status:!CLOSE\nstatus:!CLOSE_WAIT\nstatus:!CLOSING\n:4\n");
  EXPECT_EQ(socksnap_completes({"-F", "status:"}),
            "status:ACTIVE\nstatus:CLOSE\nstatus:CLOSE_WAIT\nstatus:CLOSING\nstatus:ESTAB\n"
            "status:ESTABLISHED\nstatus:FIN_WAIT1\nstatus:FIN_WAIT2\nstatus:INACTIVE\n"
            "status:LAST_ACK\nstatus:LISTEN\nstatus:NEW_SYN_RECV\nstatus:SYN_RECV\n"
            "status:SYN_SENT\nstatus:TIME_WAIT\nstatus:UNCONN\n:4\n");
  EXPECT_EQ(socksnap_completes({"-F", "STATUS:LI"}), "STATUS:LISTEN\n:4\n");
  EXPECT_EQ(socksnap_completes({"-F", "src.port:"}), ":4\n");
  EXPECT_EQ(socksnap_completes({"--sort", "-rx"}), "-rx.queue\n:6\n");
  EXPECT_EQ(socksnap_completes({"--sort", "src,-dst.p"}), "src,-dst.port\nsrc,-dst.path\n:6\n");
}

TEST(Completion, PathsWhereAnOptionTakesOneAndNothingElsewhere) {
  EXPECT_EQ(socksnap_completes({"--host-root", ""}), ":16\n");  // directories
  EXPECT_EQ(socksnap_completes({"--containerd-state", "/r"}), ":16\n");
  EXPECT_EQ(socksnap_completes({"--netns", ""}), ":0\n");  // files: the shell's own
  EXPECT_EQ(socksnap_completes({"--cri-socket", ""}), ":0\n");
  EXPECT_EQ(socksnap_completes({"-n", ""}), ":4\n");  // a namespace: nothing to offer here
  EXPECT_EQ(socksnap_completes({"-j", ""}), ":4\n");
  EXPECT_EQ(socksnap_completes({"--", "-"}), ":4\n");  // after --, no options
}

TEST(Completion, Subcommands) {
  EXPECT_EQ(socksnap_completes({"completion", ""}), "bash\nzsh\nfish\n:4\n");
  EXPECT_EQ(socksnap_completes({"completion", "z"}), "zsh\n:4\n");
  EXPECT_EQ(socksnap_completes({"completion", "bash", ""}), ":4\n");
  EXPECT_EQ(socksnap_completes({"version", "-o", ""}), "json\nyaml\n:4\n");
  EXPECT_EQ(socksnap_completes({"version", "-"}),
            "--help\tPrint this help message and exit\n"
            "-h\tPrint this help message and exit\n"
            "--output\tjson or yaml (default: text)\n"
            "-o\tjson or yaml (default: text)\n"
            ":4\n");
}

TEST(Completion, TheWordsBeforeAreReadAsTheParserReadsThem) {
  CLI::App app("test", "test");
  std::string kubeconfig;
  std::vector<std::string> nodes;
  bool quiet = false;
  std::string value;
  app.add_option("--kubeconfig", kubeconfig)->option_text("FILE");
  app.add_option("--node", nodes);
  app.add_flag("-q,--quiet", quiet);
  app.add_option("-x", value);
  CLI::App* sub = app.add_subcommand("version", "v");
  sub->fallthrough();
  TypedWords seen;
  CompletionSpec spec;
  spec.values["node"] = [&](std::string_view typed, const TypedWords& words) {
    seen = words;
    return Completions{{{std::string(typed) + "!", ""}}, kCompletionNoFileComp};
  };
  auto complete = [&](std::vector<std::string> words) {
    return format_completions(complete_words(app, words, spec));
  };
  EXPECT_EQ(complete({"--kubeconfig", "/k", "-qx", "1", "--node", "n"}), "n!\n:4\n");
  EXPECT_EQ(seen.value_of("kubeconfig"), "/k");
  EXPECT_EQ(seen.value_of("x"), "");  // short only: no long name to look it up by
  EXPECT_EQ(seen.options.size(), 3U);
  EXPECT_EQ(complete({"--kubeconfig=/a", "--kubeconfig", "/b", "--node=m"}), "m!\n:4\n");
  EXPECT_EQ(seen.value_of("kubeconfig"), "/b");
  EXPECT_EQ(complete({"version", "--node", "a,b"}), "a,b!\n:4\n");
  EXPECT_EQ(seen.command_name, "version");
  EXPECT_EQ(complete({"-x", "--node", "--node", "z"}), "z!\n:4\n");  // -x took "--node"
  EXPECT_EQ(complete({"--kubeconfig", ""}), ":0\n");
  EXPECT_EQ(complete({"-x", ""}), ":4\n");
  // Inherited options of a subcommand that falls through to its parent are offered too.
  EXPECT_EQ(complete({"version", "--kube"}), "--kubeconfig\n:4\n");
}

TEST(Completion, ListItems) {
  std::vector<std::string> nodes = {"node-1", "node-2", "worker"};
  auto values = [](const Completions& c) {
    std::vector<std::string> out;
    for (const auto& item : c.items) out.push_back(item.value);
    return out;
  };
  using Values = std::vector<std::string>;
  EXPECT_EQ(values(complete_list_item("", nodes)), (Values{"node-1", "node-2", "worker"}));
  EXPECT_EQ(values(complete_list_item("node-1,", nodes)),
            (Values{"node-1,node-2", "node-1,worker"}));
  EXPECT_EQ(values(complete_list_item("worker,n", nodes)),
            (Values{"worker,node-1", "worker,node-2"}));
  EXPECT_EQ(complete_list_item("x", nodes).directive, kCompletionNoSpace | kCompletionNoFileComp);
}

// Names come from an API server, descriptions from anyone: nothing a shell would misread or a
// terminal would obey gets through.
TEST(Completion, OutputHoldsNoControlCharactersNorBrokenWords) {
  Completions c;
  c.items = {{"good", "a\tdescription\non two lines\x1b[31m"},
             {"evil\x1b]0;pwned\x07", ""},
             {"two words", ""},
             {"new\nline", ""},
             {"tab\tbed", ""},
             {"del\x7f", ""},
             {"c1\xc2\x9b", ""},
             {"bad\xff", ""},
             {"gnp.exe\xe2\x80\xae"
              "cod",
              ""},  // U+202E turns what follows around
             {"", "empty"},
             {"caf\xc3\xa9", "ok \xff"},
             {":4", ""}};
  c.directive = kCompletionNoFileComp;
  EXPECT_EQ(format_completions(c),
            "good\ta description on two lines [31m\n"
            "caf\xc3\xa9\tok\n"
            ":4\n"
            ":4\n");
}

TEST(Completion, ScriptsForEachShell) {
  for (const char* shell : {"bash", "zsh", "fish"}) {
    auto script = completion_script(shell, "socksnap");
    ASSERT_TRUE(script) << shell;
    EXPECT_NE(script->find("socksnap __complete"), std::string::npos) << shell;
    EXPECT_EQ(script->find("@NAME@"), std::string::npos) << shell;
    EXPECT_EQ(script->find("@FN@"), std::string::npos) << shell;
  }
  EXPECT_NE(completion_script("bash", "socksnap")
                ->find("complete -o default -F "
                       "__socksnap_complete socksnap\n"),
            std::string::npos);
  EXPECT_NE(completion_script("zsh", "socksnap")->find("#compdef socksnap\n"), std::string::npos);
  EXPECT_NE(completion_script("fish", "socksnap")
                ->find("complete -c socksnap -f -a "
                       "'(__socksnap_complete)'\n"),
            std::string::npos);
  auto bad = completion_script("tcsh", "socksnap");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "completion: 'tcsh' is not bash, zsh or fish");
}

// -- the plugin --------------------------------------------------------------------------------

std::string plugin_completes(std::vector<const char*> words) {
  words.insert(words.begin(), {"kubectl-socksnap", "__complete"});
  testing::internal::CaptureStdout();
  int status = run_plugin(static_cast<int>(words.size()), words.data());
  std::string printed = testing::internal::GetCapturedStdout();
  EXPECT_EQ(status, 0);
  return printed;
}

TEST(PluginCompletion, ItsOwnOptionsAndAQuietNothingWithoutAnApiServer) {
  ::setenv("KUBECONFIG", "/nonexistent/kubeconfig", 1);
  EXPECT_EQ(plugin_completes({"--no"}),
            "--no-headers\tPrint no header line\n"
            "--no-host\tOnly sockets of containers and pods\n"
            "--node\tOnly these nodes (comma-separated, repeatable)\n"
            ":4\n");
  EXPECT_EQ(plugin_completes({"-n", ""}), ":4\n");
  EXPECT_EQ(plugin_completes({"--node", "a,"}), ":4\n");
  EXPECT_EQ(plugin_completes({"--kubeconfig", ""}), ":0\n");
  EXPECT_EQ(plugin_completes({""}),
            "summary\tCount the sockets of every node in groups (kubectl socksnap summary "
            "--help)\n"
            "graph\tWho talks to whom: the service map of the sockets\n"
            "audit\tFindings: what is exposed, who talks across namespaces and to the Internet\n"
            "diff\tWhat changed between two saved snapshots (-o json)\n"
            "watch\tPrint the sockets' changes as they happen\n"
            "version\tPrint the client's version and git commit, and each node agent's\n:4\n");
  // The summary takes the cluster's options and --by.
  EXPECT_EQ(plugin_completes({"summary", "--node", "a,"}), ":4\n");
  EXPECT_EQ(plugin_completes({"summary", "--by", "k8s.node,k8s.po"}), "k8s.node,k8s.podName\n:6\n");
  EXPECT_EQ(plugin_completes({"summary", "-o", "j"}),
            "json\tone JSON array on one line\njsonpretty\tthe JSON array, indented\n:4\n");
  EXPECT_EQ(plugin_completes({"version", "-o", "y"}), "yaml\n:4\n");
  EXPECT_EQ(plugin_completes({"graph", "-o", "m"}), "mermaid\ta Mermaid flowchart\n:4\n");
  EXPECT_EQ(plugin_completes({"graph", "--level", "w"}),
            "workload\ta pod's controller (Deployment, StatefulSet, ...)\n:4\n");
  EXPECT_EQ(plugin_completes({"-F", "status:SYN"}), "status:SYN_RECV\nstatus:SYN_SENT\n:4\n");
  ::unsetenv("KUBECONFIG");
}

// NamespaceList and NodeList as the API documents them (a NodeList item trimmed to what a
// kubelet reports first).
TEST(PluginCompletion, NamesOfNamespaceAndNodeLists) {
  auto namespaces = parse_name_list(R"({
    "kind": "NamespaceList", "apiVersion": "v1",
    "metadata": {"resourceVersion": "1234", "continue": "next-page"},
    "items": [
      {"metadata": {"name": "default", "uid": "u1", "resourceVersion": "5",
                    "labels": {"kubernetes.io/metadata.name": "default"}},
       "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}},
      {"metadata": {"name": "kube-system"}, "spec": {}, "status": {"phase": "Active"}}
    ]})",
                                    "NamespaceList");
  ASSERT_TRUE(namespaces) << namespaces.error().message();
  EXPECT_EQ(namespaces->items, (std::vector<std::string>{"default", "kube-system"}));
  EXPECT_EQ(namespaces->continue_token, "next-page");

  auto nodes = parse_name_list(R"({"kind":"NodeList","apiVersion":"v1","metadata":{},
    "items":[{"metadata":{"name":"node-1","labels":{"kubernetes.io/hostname":"node-1"}},
              "spec":{"podCIDR":"10.244.0.0/24"},
              "status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"}]}}]})",
                               "NodeList");
  ASSERT_TRUE(nodes);
  EXPECT_EQ(nodes->items, std::vector<std::string>{"node-1"});
  EXPECT_TRUE(nodes->continue_token.empty());

  auto wrong = parse_name_list(R"({"kind":"PodList","items":[]})", "NodeList");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message(), "expected a NodeList, got a PodList");
  EXPECT_FALSE(parse_name_list(R"({"items":[{"metadata":{"name":7}}]})", "NodeList"));
}

}  // namespace
}  // namespace socksnap
