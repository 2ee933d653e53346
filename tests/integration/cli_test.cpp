// How the real binary answers bad input and missing privileges: one line, non-zero, no output.
#include <gtest/gtest.h>

#include "harness.h"

namespace socksnap::test {
namespace {

struct BadInput {
  std::vector<std::string> args;
  std::string message;
};

class BadInputTest : public testing::TestWithParam<BadInput> {};

TEST_P(BadInputTest, OneLineOnStderrExitTwoNothingOnStdout) {
  auto r = run_socksnap(GetParam().args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "socksnap: " + GetParam().message + "\n");
}

INSTANTIATE_TEST_SUITE_P(
    Cli, BadInputTest,
    testing::Values(
        BadInput{{"-o", "columns=src,nosuch"},
                 "unknown column 'nosuch' (socksnap --help lists them)"},
        BadInput{{"-o", "xml"},
                 "-o xml: unknown output (columns, columns=COL,..., +COL, -COL, json, "
                 "jsonpretty, yaml)"},
        BadInput{{"-F", "status"}, "filter 'status' is not of the form column:value"},
        BadInput{{"-F", "src.port:>http"},
                 "filter 'src.port:>http': column src.port takes a number, not 'http'"},
        BadInput{{"-F", "src:~("}, "filter 'src:~(': bad regular expression: missing ): ("},
        BadInput{
            {"-F", "comm:~(?P<x"},
            "filter 'comm:~(?P<x': bad regular expression: invalid named capture group: (?P<x"},
        BadInput{{"--sort", "src,bogus"},
                 "--sort 'src,bogus': unknown column 'bogus' (socksnap --help lists them)"},
        BadInput{{"--protocol", "sctp"}, "--protocol: sctp not in {inet,all,tcp,udp,udplite,unix}"},
        BadInput{{"--netns", "/nonexistent"},
                 "--netns open /nonexistent: No such file or directory"},
        BadInput{{"--netns", "/etc/hostname"}, "--netns /etc/hostname is not a network namespace"},
        BadInput{{"--netns", "1"}, "--netns 1: no network namespace with that inode was found"},
        BadInput{{"--no-such-flag"}, "The following argument was not expected: --no-such-flag"},
        BadInput{{"-A", "-n", "shop"}, "-A/--all-namespaces and -n/--namespace exclude each other"},
        BadInput{{"--host", "--no-host"}, "--host and --no-host exclude each other"},
        BadInput{{"-l", "app=web,=oops"},
                 "--selector 'app=web,=oops': found '=', expected: identifier after ','"},
        BadInput{{"-l", "a=b=c"},
                 "--selector 'a=b=c': found '=', expected: ',' or 'end of string'"},
        BadInput{{"-l", "a==="},
                 "--selector 'a===': unable to parse requirement: found '=', expected: identifier"},
        BadInput{{"a", "b", "c"}, "The following arguments were not expected: a b c"}));

TEST(Cli, WithoutCapabilitiesSaysWhichOneIsMissing) {
  auto r = run_command({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", SOCKSNAP_BINARY});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "socksnap: missing capability CAP_SYS_ADMIN (to enter network namespaces) and "
            "CAP_SYS_PTRACE (to find the namespaces of other users' processes); run as root\n");
}

TEST(Cli, HelpListsTheColumnsAndExitsZero) {
  auto r = run_socksnap({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Columns (case-insensitive): netns, protocol, src, dst, status, inode"),
            std::string::npos);
  EXPECT_EQ(r.err, "");
}

TEST(Cli, OutputToAClosedPipeEndsQuietly) {
  auto r = run_command({"sh", "-c", std::string(SOCKSNAP_BINARY) + " -q -o json | head -c 1"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "[");
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace socksnap::test
