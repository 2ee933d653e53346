// The real socksnap's completion scripts in the real shells: bash (non-interactive) loads
// `socksnap completion bash` and completes words as bash hands them over (COMP_WORDS split at
// = and :, as COMP_WORDBREAKS splits them); zsh and fish check their scripts' syntax. Also
// `socksnap version` (the commit stamped at build time) and the agent's word for stray arguments.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "harness.h"
#include "support/files.h"

namespace socksnap::test {
namespace {

std::string binary_dir() {
  std::string path = SOCKSNAP_BINARY;
  return path.substr(0, path.rfind('/'));
}

// Runs `script` in bash with socksnap's completion loaded and socksnap on PATH. complete_line
// LINE WORD... sets what bash sets for a completion of LINE (the cursor at its end) and prints
// COMPREPLY, one [entry] a line.
CommandResult bash_completion(const std::string& script) {
  std::string prelude = fmt::format(R"(
set -u
source <('{}' completion bash) || exit 9
complete_line() {{
  COMP_LINE=$1
  COMP_POINT=${{#COMP_LINE}}
  shift
  COMP_WORDS=("$@")
  COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
  COMP_TYPE=9
  COMPREPLY=()
  __socksnap_complete
  printf '[%s]\n' "${{COMPREPLY[@]}}"
}}
)",
                                    SOCKSNAP_BINARY);
  return run_command(
      {"bash", "-c", prelude + script},
      {{"PATH", binary_dir() + ":/usr/sbin:/usr/bin:/sbin:/bin"}, {"COLUMNS", "80"}});
}

TEST(ShellCompletion, BashCompletesOptionsValuesAndColumns) {
  CommandResult registered = bash_completion("complete -p socksnap");
  EXPECT_EQ(registered.exit_code, 0) << registered.err;
  EXPECT_EQ(registered.out, "complete -o default -F __socksnap_complete socksnap\n");

  auto complete = [](const std::string& call) {
    CommandResult r = bash_completion("complete_line " + call);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  EXPECT_EQ(complete("'socksnap --tcp' socksnap --tcp"), "[--tcp-info]\n");
  EXPECT_EQ(complete("'socksnap --no-hea' socksnap --no-hea"), "[--no-headers]\n");
  // Several candidates: each with its description, as wide as COLUMNS allows.
  EXPECT_EQ(complete("'socksnap --protocol ' socksnap --protocol ''"),
            "[inet     (TCP, UDP and UDP-Lite (the default))]\n"
            "[all      (TCP, UDP, UDP-Lite and unix sockets)]\n"
            "[tcp      (TCP only)]\n"
            "[udp      (UDP only)]\n"
            "[udplite  (UDP-Lite only)]\n"
            "[unix     (unix sockets only)]\n");
  // bash splits at = and : and replaces only what follows the last of them.
  EXPECT_EQ(complete("'socksnap -o columns=src,d' socksnap -o columns = src,d"),
            "[src,dst]\n[src,dst.addr]\n[src,dst.port]\n[src,dst.path]\n[src,direction]\n");
  EXPECT_EQ(complete("'socksnap -F status:LI' socksnap -F status : LI"), "[LISTEN]\n");
  EXPECT_EQ(complete("'socksnap -F direction:in' socksnap -F direction : in"), "[inbound]\n");
  EXPECT_EQ(complete("'socksnap --output=jsonp' socksnap --output = jsonp"), "[jsonpretty]\n");
  EXPECT_EQ(complete("'socksnap completion ' socksnap completion ''"), "[bash]\n[zsh]\n[fish]\n");
  EXPECT_EQ(complete("'socksnap graph -o d' socksnap graph -o d"), "[dot]\n");
  EXPECT_EQ(complete("'socksnap -n shop graph --level net' socksnap -n shop graph --level net"),
            "[netns]\n");
  EXPECT_EQ(complete("'socksnap graph --no-g' socksnap graph --no-g"), "[--no-group-external]\n");
  EXPECT_EQ(complete("'socksnap graph --protoc' socksnap graph --protoc"), "[--protocol]\n");
  // A summary's --by takes columns, comma-separated.
  EXPECT_EQ(complete("'socksnap sum' socksnap sum"), "[summary]\n");
  EXPECT_EQ(complete("'socksnap summary --by k8s.na' socksnap summary --by k8s.na"),
            "[k8s.namespace]\n");
  EXPECT_EQ(complete("'socksnap summary --by status,dir' socksnap summary --by status,dir"),
            "[status,direction]\n");
  EXPECT_EQ(complete("'socksnap summary --by=src.po' socksnap summary --by = src.po"),
            "[src.port]\n");
  EXPECT_EQ(complete("'socksnap summary --by=src.p' socksnap summary --by = src.p"),
            "[src.port]\n[src.path]\n");
  // The agent's options come from socksnap-agent itself.
  EXPECT_EQ(complete("'socksnap agent --liste' socksnap agent --liste"), "[--listen]\n");
  EXPECT_EQ(complete("'socksnap --bogus' socksnap --bogus"), "[]\n");
}

// What `zsh -n` or `fish --no-execute` says of `script`.
CommandResult syntax_check(const std::string& shell, const std::string& script) {
  std::string path = fmt::format("/tmp/socksnap-completion-{}.{}", ::getpid(), shell);
  FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return {};
  std::fwrite(script.data(), 1, script.size(), file);
  std::fclose(file);
  CommandResult checked = shell == "zsh" ? run_command({"zsh", "-n", path})
                                         : run_command({"fish", "--no-execute", path});
  std::remove(path.c_str());
  return checked;
}

TEST(ShellCompletion, ZshAndFishScriptsAreValid) {
  for (const char* shell : {"zsh", "fish"}) {
    CommandResult script = run_socksnap({"completion", shell});
    ASSERT_EQ(script.exit_code, 0) << script.err;
    CommandResult checked = syntax_check(shell, script.out);
    EXPECT_EQ(checked.exit_code, 0) << shell << ": " << checked.err;
    EXPECT_EQ(checked.err, "") << shell;
  }
  // A broken script is caught: the check is not a formality.
  EXPECT_NE(syntax_check("zsh", "_socksnap() {\n  if [[ x ]]; then\n}\n").exit_code, 0);
  EXPECT_NE(syntax_check("fish", "function __socksnap_complete\n").exit_code, 0);

  CommandResult unknown = run_socksnap({"completion", "tcsh"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err, "socksnap: shell: tcsh not in {bash,zsh,fish}\n");
}

TEST(Version, TheCommitTheBuildWasMadeFrom) {
  CommandResult head = run_command({"git", "-C", SOCKSNAP_SOURCE_DIR, "rev-parse", "HEAD"});
  ASSERT_EQ(head.exit_code, 0) << head.err;
  std::string commit = head.out.substr(0, head.out.find('\n'));
  CommandResult r = run_socksnap({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, fmt::format("Version: 0.1.0\nCommit: {}\n", commit));
  CommandResult as_json = run_socksnap({"version", "-o", "json"});
  EXPECT_EQ(as_json.out,
            fmt::format("{{\n  \"version\": \"0.1.0\",\n  \"commit\": \"{}\"\n}}\n", commit));
}

// The build's stamp (cmake/build_commit.cmake): the checkout's commit, or "unknown" for a
// source tree that is not the top of a git checkout, even inside another one.
TEST(Version, TheStampOfATreeThatIsNoCheckoutIsUnknown) {
  TempDir temp("socksnap-stamp");
  const std::string& dir = temp.path();
  ASSERT_EQ(run_command({"mkdir", "-p", dir + "/repo/src"}).exit_code, 0);
  ASSERT_EQ(run_command({"git", "-C", dir + "/repo", "init", "-q"}).exit_code, 0);
  ASSERT_EQ(run_command({"git", "-C", dir + "/repo", "-c", "user.name=t", "-c", "user.email=t@t",
                         "commit", "-q", "--allow-empty", "-m", "x"})
                .exit_code,
            0);
  std::string repo_head =
      run_command({"git", "-C", dir + "/repo", "rev-parse", "HEAD"}).out.substr(0, 40);
  auto stamp = [&](const std::string& source) {
    std::string header = dir + "/build_commit.h";
    CommandResult r = run_command({"cmake", "-DSOURCE_DIR=" + source, "-DOUTPUT=" + header, "-P",
                                   std::string(SOCKSNAP_SOURCE_DIR) + "/cmake/build_commit.cmake"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return run_command({"cat", header}).out;
  };
  EXPECT_EQ(stamp(dir), "#define SOCKSNAP_GIT_COMMIT \"unknown\"\n");
  EXPECT_EQ(stamp(dir + "/repo/src"), "#define SOCKSNAP_GIT_COMMIT \"unknown\"\n");
  EXPECT_EQ(stamp(dir + "/repo"), "#define SOCKSNAP_GIT_COMMIT \"" + repo_head + "\"\n");
  CommandResult head = run_command({"git", "-C", SOCKSNAP_SOURCE_DIR, "rev-parse", "HEAD"});
  EXPECT_EQ(stamp(SOCKSNAP_SOURCE_DIR),
            "#define SOCKSNAP_GIT_COMMIT \"" + head.out.substr(0, 40) + "\"\n");
}

TEST(Version, HelpNamesEverySubcommand) {
  CommandResult r = run_socksnap({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* line :
       {"\n  agent                           Run the node agent (socksnap agent --help)\n",
        "\n  completion                      Print the shell completion script (bash, zsh or "
        "fish)\n",
        "\n  graph                           Who talks to whom: the service map of the "
        "sockets\n",
        "\n  summary                         Count the sockets in groups of columns (socksnap "
        "summary --help)\n",
        "\n  version                         Print the version and the git commit\n"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line;
  }
}

TEST(Version, TheAgentNamesStrayArgumentsInTheirOrder) {
  CommandResult r = run_socksnap({"agent", "a", "b", "c"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "socksnap-agent: The following arguments were not expected: a b c\n");
}

}  // namespace
}  // namespace socksnap::test
