// Names are whatever their owners made them. A real process names itself with invalid UTF-8 and
// terminal escapes (prctl PR_SET_NAME) and listens on a socket bound to an interface whose name
// holds more of them; every output of the real binary must stay valid and parse back: JSON with
// Python's json, YAML with PyYAML's pure-Python reader and its libyaml one, and the table with no
// control byte, no DEL and no invalid UTF-8 in it.
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "harness.h"
#include "support/files.h"

namespace socksnap::test {
namespace {

// ESC [31m, invalid bytes, DEL: 12 bytes, within the 15 a task name holds.
const std::string kEvilComm = "\xff\xfe\x1b[31mevil\x7f";
// ESC, an invalid byte and a C1 control (CSI, valid UTF-8): a name the kernel accepts.
const std::string kEvilInterface = "\x1b[7m\xff\xc2\x9b";
constexpr uint16_t kPort = 8790;

// A child that enters `netns_path`, listens on kPort bound to kEvilInterface, renames itself
// and waits to be killed.
class EvilProcess {
 public:
  explicit EvilProcess(const std::string& netns_path)
      : child_("the evil process", [&netns_path] {
          int ns = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
          int fd = -1;
          if (ns >= 0 && ::setns(ns, CLONE_NEWNET) == 0) fd = ::socket(AF_INET, SOCK_STREAM, 0);
          sockaddr_in a{};
          a.sin_family = AF_INET;
          a.sin_port = htons(kPort);
          return fd >= 0 &&
                 ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, kEvilInterface.data(),
                              static_cast<socklen_t>(kEvilInterface.size())) == 0 &&
                 ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                 ::listen(fd, 4) == 0 && ::prctl(PR_SET_NAME, kEvilComm.c_str(), 0, 0, 0) == 0;
        }) {}

 private:
  ForkedChild child_;
};

// Reads `path` strictly as UTF-8 with `loader` (json, yaml, cyaml) and prints the listener's
// comm, its first holder's comm and its interface as one ASCII JSON array.
CommandResult parse_back(const std::string& path, const std::string& loader) {
  const std::string script = fmt::format(R"(
import json, sys, yaml
text = open(sys.argv[1], encoding="utf-8", errors="strict").read()
loader = sys.argv[2]
if loader == "json":
    rows = json.loads(text)
elif loader == "yaml":
    rows = yaml.load(text, Loader=yaml.SafeLoader)
else:
    rows = yaml.load(text, Loader=yaml.CSafeLoader)
row = [r for r in rows if r["src"]["port"] == {}][0]
print(json.dumps([row["comm"], row["processes"][0]["comm"], row["interface"]]))
)",
                                         kPort);
  // Debian's python3 with python3-yaml (scripts/setup.sh), not whatever python3 PATH finds.
  return run_command({"/usr/bin/python3", "-c", script, path, loader});
}

// Whether `text` is valid UTF-8 with no control byte but newlines, and no DEL.
bool is_clean_terminal_text(const std::string& text) {
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\n') || c == 0x7F) return false;
      ++i;
      continue;
    }
    size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

TEST(HostileNames, EveryOutputStaysValidAndParsesBack) {
  TestNetns ns;
  auto link = run_command({"ip", "-n", ns.name(), "link", "add", "name", kEvilInterface, "type",
                           "veth", "peer", "name", "peer0"});
  ASSERT_EQ(link.exit_code, 0) << link.err;
  ASSERT_EQ(run_command({"ip", "-n", ns.name(), "link", "set", kEvilInterface, "up"}).exit_code, 0);
  EvilProcess evil(ns.path());

  // What every structured output must read back as: U+FFFD for each invalid byte, the rest as
  // it is (Python's json.dumps escapes it all to ASCII).
  const std::string expected =
      R"(["\ufffd\ufffd\u001b[31mevil\u007f", "\ufffd\ufffd\u001b[31mevil\u007f", )"
      R"("\u001b[7m\ufffd\u009b"])"
      "\n";
  TempDir temp("socksnap-hostile");
  for (const char* format : {"json", "jsonpretty", "yaml"}) {
    auto r = run_socksnap({"--netns", ns.path(), "-o", format});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string path = temp.write(std::string(format) + ".out", r.out);
    for (const char* loader : std::string(format) == "yaml"
                                  ? std::vector<const char*>{"yaml", "cyaml"}
                                  : std::vector<const char*>{"json"}) {
      auto parsed = parse_back(path, loader);
      EXPECT_EQ(parsed.exit_code, 0) << format << " with " << loader << ": " << parsed.err;
      EXPECT_EQ(parsed.out, expected) << format << " with " << loader;
    }
  }

  // The table shows the bytes escaped, as `ls -b` does, and nothing raw.
  auto table = run_socksnap({"--netns", ns.path(), "-o", "columns=src,comm,interface", "-F",
                             fmt::format("src.port:{}", kPort)});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out,
            "SRC             COMM                      INTERFACE\n"
            "r/0.0.0.0:8790  \\xff\\xfe\\x1b[31mevil\\x7f  \\x1b[7m\\xff\\u009b\n");
  EXPECT_TRUE(is_clean_terminal_text(table.out));
  // A summary's groups: the table escapes them as the snapshot's does, its JSON and YAML read
  // back as the rows do.
  auto groups = run_socksnap({"summary", "--netns", ns.path(), "--by", "comm,interface", "-F",
                              fmt::format("src.port:{}", kPort)});
  ASSERT_EQ(groups.exit_code, 0) << groups.err;
  EXPECT_EQ(groups.out,
            "COMM                      INTERFACE          COUNT\n"
            "\\xff\\xfe\\x1b[31mevil\\x7f  \\x1b[7m\\xff\\u009b      1\n");
  EXPECT_TRUE(is_clean_terminal_text(groups.out));
  for (const char* format : {"json", "yaml"}) {
    auto r = run_socksnap({"summary", "--netns", ns.path(), "--by", "comm,interface", "-F",
                           fmt::format("src.port:{}", kPort), "-o", format});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string path = temp.write(std::string("summary.") + format, r.out);
    auto parsed = run_command({"python3", "-c",
                               "import json, sys, yaml\n"
                               "load = json.load if sys.argv[2] == 'json' else yaml.safe_load\n"
                               "g = load(open(sys.argv[1]))[0]\n"
                               "print(json.dumps([g['comm'], g['interface'], g['count']]))\n",
                               path, format});
    EXPECT_EQ(parsed.exit_code, 0) << format << ": " << parsed.err;
    EXPECT_EQ(parsed.out, R"(["\ufffd\ufffd\u001b[31mevil\u007f", "\u001b[7m\ufffd\u009b", 1])"
                          "\n")
        << format;
  }

  // What is seen can be searched for: the filter takes the raw bytes (RE2 escapes).
  auto found = run_socksnap({"--netns", ns.path(), "-o", "columns=src", "--no-headers", "-F",
                             R"(comm:~^\xff?.*\x1b\[31mevil\x7f$)"});
  EXPECT_EQ(found.out, "r/0.0.0.0:8790\n") << found.err;
}

}  // namespace
}  // namespace socksnap::test
