// `socksnap version` and `kubectl socksnap version`: what they print, in text, JSON and YAML,
// what an agent answers, and the warning when an agent is of another build.
#include "plugin/agent_versions.h"

#include <gtest/gtest.h>

#include "cmdline/version.h"

namespace socksnap {
namespace {

TEST(Version, ThisBuildAsTextJsonAndYaml) {
  BuildIdentity build{"0.1.0", "2910ecfce3236d378ac4c2401a5b14bec38e749d"};
  EXPECT_EQ(format_version(build, ""),
            "Version: 0.1.0\nCommit: 2910ecfce3236d378ac4c2401a5b14bec38e749d\n");
  EXPECT_EQ(format_version(build, "json"),
            "{\n  \"version\": \"0.1.0\",\n  \"commit\": "
            "\"2910ecfce3236d378ac4c2401a5b14bec38e749d\"\n}\n");
  EXPECT_EQ(format_version(build, "yaml"),
            "version: \"0.1.0\"\ncommit: \"2910ecfce3236d378ac4c2401a5b14bec38e749d\"\n");
  EXPECT_EQ(this_build().version, "0.1.0");
}

TEST(AgentVersions, TextJsonAndYamlAsKubectlVersionPrintsThem) {
  BuildIdentity client{"0.1.0", "2910ecfce3236d378ac4c2401a5b14bec38e749d"};
  std::vector<AgentVersion> agents = {
      {"node-2", {"0.0.9", "0123456789abcdef0123456789abcdef01234567"}, ""},
      {"node-1", client, ""},
      {"node-3", {}, "the agent answered 404 Not Found: not found: /version"},
  };
  EXPECT_EQ(format_cluster_versions(client, agents, ""),
            "Client Version: 0.1.0\n"
            "Client Commit: 2910ecfce3236d378ac4c2401a5b14bec38e749d\n"
            "NODE    AGENT VERSION  AGENT COMMIT\n"
            "node-1  0.1.0          2910ecfce3236d378ac4c2401a5b14bec38e749d\n"
            "node-2  0.0.9          0123456789abcdef0123456789abcdef01234567\n");
  EXPECT_EQ(format_cluster_versions(client, agents, "json"),
            R"({
  "clientVersion": {
    "version": "0.1.0",
    "commit": "2910ecfce3236d378ac4c2401a5b14bec38e749d"
  },
  "agentVersions": [
    {
      "node": "node-1",
      "version": "0.1.0",
      "commit": "2910ecfce3236d378ac4c2401a5b14bec38e749d"
    },
    {
      "node": "node-2",
      "version": "0.0.9",
      "commit": "0123456789abcdef0123456789abcdef01234567"
    }
  ]
}
)");
  EXPECT_EQ(format_cluster_versions(client, agents, "yaml"),
            "clientVersion:\n"
            "  version: \"0.1.0\"\n"
            "  commit: \"2910ecfce3236d378ac4c2401a5b14bec38e749d\"\n"
            "agentVersions:\n"
            "- node: \"node-1\"\n"
            "  version: \"0.1.0\"\n"
            "  commit: \"2910ecfce3236d378ac4c2401a5b14bec38e749d\"\n"
            "- node: \"node-2\"\n"
            "  version: \"0.0.9\"\n"
            "  commit: \"0123456789abcdef0123456789abcdef01234567\"\n");
  EXPECT_EQ(format_cluster_versions(client, {}, "json"),
            "{\n  \"clientVersion\": {\n    \"version\": \"0.1.0\",\n    \"commit\": "
            "\"2910ecfce3236d378ac4c2401a5b14bec38e749d\"\n  },\n  \"agentVersions\": []\n}\n");
  std::string empty_yaml = format_cluster_versions(client, {}, "yaml");
  EXPECT_EQ(empty_yaml.substr(empty_yaml.size() - 19), "\nagentVersions: []\n");

  EXPECT_EQ(version_skew_warning(client, agents[1]), "");
  EXPECT_EQ(version_skew_warning(client, agents[2]), "");
  EXPECT_EQ(version_skew_warning(client, agents[0]),
            "the agent on node node-2 is version 0.0.9 (commit 0123456789ab), this client 0.1.0 "
            "(commit 2910ecfce323): deploy the agent of this version, or use the client of the "
            "agent's");
  AgentVersion other_commit{"node-1", {"0.1.0", "ffff"}, ""};
  EXPECT_NE(version_skew_warning(client, other_commit), "");
}

TEST(AgentVersions, WhatTheClusterSaysIsEscapedOnATerminal) {
  BuildIdentity client{"0.1.0", "c"};
  std::vector<AgentVersion> agents = {{"node\x1b[2J", {"0.1\n0", "\xff\\"}, ""}};
  EXPECT_EQ(format_cluster_versions(client, agents, ""),
            "Client Version: 0.1.0\nClient Commit: c\n"
            "NODE         AGENT VERSION  AGENT COMMIT\n"
            "node\\x1b[2J  0.1\\n0         \\xff\\\\\n");
  EXPECT_EQ(version_skew_warning(client, agents[0]),
            "the agent on node node\\x1b[2J is version 0.1\\n0 (commit \\xff\\), this client "
            "0.1.0 (commit c): deploy the agent of this version, or use the client of the "
            "agent's");
}

TEST(AgentVersions, TheAgentsAnswer) {
  auto v = parse_agent_version(R"({"version":"0.1.0","commit":"abc","extra":[1]})");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->version, "0.1.0");
  EXPECT_EQ(v->commit, "abc");
  EXPECT_FALSE(parse_agent_version(R"({"commit":"abc"})"));
  EXPECT_FALSE(parse_agent_version("ok\n"));
}

}  // namespace
}  // namespace socksnap
