// Impersonation as kubectl does it: a kubeconfig user's as, as-uid, as-groups and as-user-extra
// (typed as kubectl's decoder types them), the flags --as, --as-group and --as-uid over them,
// and the Impersonate-* headers of client-go's ImpersonatingRoundTripper.
#include "kubeconfig/impersonation.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "kubeconfig/kubeconfig.h"
#include "kubeconfig_fixture.h"

namespace socksnap {
namespace {

using test::parse_kubeconfig_error;
using test::parse_kubeconfig_ok;

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kHead =
    "clusters: [{name: c, cluster: {server: https://c.example:6443}}]\n"
    "contexts: [{name: c, context: {cluster: c, user: alice}}]\n"
    "current-context: c\n"
    "users:\n"
    "- name: alice\n"
    "  user:\n"
    "    token: alice-token\n";

// The kubeconfig given as text, nothing else of the machine read.
ConfigEnvironment env_with(const std::string& text) {
  ConfigEnvironment env;
  env.home = "/nonexistent/socksnap-test-home";
  env.service_account_dir = "/nonexistent/socksnap-test-sa";
  env.cwd = '/';
  env.read_file = [text](const std::string& path) -> Result<std::string> {
    if (path == "/k/config") return text;
    return system_error(path, ENOENT);
  };
  env.run_exec = [](const ExecRequest&) -> Result<std::string> {
    return plain_error("unexpected exec");
  };
  return env;
}

Result<ApiCredentials> load(const std::string& text, const Impersonation& flags = {}) {
  KubeconfigOptions options;
  options.kubeconfig = "/k/config";
  options.impersonate = flags;
  return load_api_credentials(options, env_with(text));
}

TEST(Impersonation, KubeconfigFieldsAreParsed) {
  std::string text = std::string(kHead) +
                     "    as: bob\n"
                     "    as-uid: \"1234\"\n"
                     "    as-groups: [developers, \"system:masters\"]\n"
                     "    as-user-extra:\n"
                     "      scopes: [view, edit]\n"
                     "      acme.com/project: [shop]\n"
                     "      empty: null\n";
  Kubeconfig config = parse_kubeconfig_ok(text, "/etc/kube");
  const Impersonation& who = config.users.at("alice").impersonate;
  EXPECT_EQ(who.user, "bob");
  EXPECT_EQ(who.uid, "1234");
  EXPECT_EQ(who.groups, (std::vector<std::string>{"developers", "system:masters"}));
  EXPECT_EQ(who.extra,
            (std::map<std::string, std::vector<std::string>>{
                {"acme.com/project", {"shop"}}, {"empty", {}}, {"scopes", {"view", "edit"}}}));
  // None of them: nothing impersonated.
  EXPECT_TRUE(parse_kubeconfig_ok(kHead, "/etc/kube").users.at("alice").impersonate.empty());
  // A key given twice: the last one, as Go's decoders take it.
  Kubeconfig twice = parse_kubeconfig_ok(
      std::string(kHead) + "    as: bob\n    as-user-extra: {k: [a], k: [b]}\n", "/etc/kube");
  EXPECT_EQ(twice.users.at("alice").impersonate.extra.at("k"), std::vector<std::string>{"b"});
}

TEST(Impersonation, FieldsAreTypedAsKubectlDecodesThem) {
  std::string head(kHead);
  EXPECT_EQ(parse_kubeconfig_error(head + "    as: 1234\n"),
            "line 8: users[0].user.as: expected text, found the number 1234 (quote it)");
  EXPECT_EQ(parse_kubeconfig_error(head + "    as-uid: 1234\n"),
            "line 8: users[0].user.as-uid: expected text, found the number 1234 (quote it)");
  EXPECT_EQ(parse_kubeconfig_error(head + "    as-groups: developers\n"),
            "line 8: users[0].user.as-groups: expected a list, found \"developers\"");
  EXPECT_EQ(parse_kubeconfig_error(head + "    as-groups: [a, yes]\n"),
            "line 8: users[0].user.as-groups[1]: expected text, found the boolean yes (quote it)");
  EXPECT_EQ(parse_kubeconfig_error(head + "    as-user-extra: [a]\n"),
            "line 8: users[0].user.as-user-extra: expected a mapping, found a list");
  EXPECT_EQ(parse_kubeconfig_error(head + "    as-user-extra:\n      scopes: view\n"),
            "line 9: users[0].user.as-user-extra.scopes: expected a list, found \"view\"");
  EXPECT_EQ(parse_kubeconfig_error(head + "    as-user-extra:\n      scopes: [view, 7]\n"),
            "line 9: users[0].user.as-user-extra.scopes[1]: expected text, found the number 7 "
            "(quote it)");
  // What a message quotes from the file stays one printable line.
  EXPECT_EQ(parse_kubeconfig_error(head + "    as-groups: \"a\\e[31m\\nb\"\n"),
            "line 8: users[0].user.as-groups: expected a list, found \"a\\x1b[31m\\nb\"");
}

TEST(Impersonation, HeadersAsClientGoSendsThem) {
  Impersonation who;
  who.user = "bob";
  who.uid = "1234";
  who.groups = {"developers", "system:masters"};
  who.extra = {{"scopes", {"view", "edit"}}, {"acme.com/project", {"shop"}}, {"empty", {}}};
  EXPECT_EQ(impersonation_headers(who), (Headers{{"Impersonate-User", "bob"},
                                                 {"Impersonate-Uid", "1234"},
                                                 {"Impersonate-Group", "developers"},
                                                 {"Impersonate-Group", "system:masters"},
                                                 {"Impersonate-Extra-acme.com%2Fproject", "shop"},
                                                 {"Impersonate-Extra-scopes", "view"},
                                                 {"Impersonate-Extra-scopes", "edit"}}));
  EXPECT_EQ(impersonation_headers(Impersonation{}), Headers{});
  Impersonation only_user;
  only_user.user = "system:serviceaccount:ops:deployer";
  EXPECT_EQ(impersonation_headers(only_user),
            (Headers{{"Impersonate-User", "system:serviceaccount:ops:deployer"}}));
}

TEST(Impersonation, ExtraKeysAreEscapedAsClientGoEscapesThem) {
  // Token bytes stay (letters keep their case: the API server lower-cases the whole name).
  EXPECT_EQ(header_key_escape("Scopes"), "Scopes");
  EXPECT_EQ(header_key_escape("a-b_c.d~e!#$&'*+^`|"), "a-b_c.d~e!#$&'*+^`|");
  // '%' always, and every byte a token may not hold, as %XX with upper-case hex.
  EXPECT_EQ(header_key_escape("100%"), "100%25");
  EXPECT_EQ(header_key_escape("acme.com/project"), "acme.com%2Fproject");
  EXPECT_EQ(header_key_escape("a b:c"), "a%20b%3Ac");
  EXPECT_EQ(header_key_escape("\"(),;<=>?@[\\]{}"),
            "%22%28%29%2C%3B%3C%3D%3E%3F%40%5B%5C%5D%7B%7D");
  EXPECT_EQ(header_key_escape("\xC3\xA9t\xC3\xA9"), "%C3%A9t%C3%A9");
  EXPECT_EQ(header_key_escape(std::string("a\0\x1b\x7f", 4)), "a%00%1B%7F");
  EXPECT_EQ(header_key_escape(""), "");
}

TEST(Impersonation, FlagsOverrideTheKubeconfigAsClientcmdMergesThem) {
  Impersonation file;
  file.user = "bob";
  file.uid = "1";
  file.groups = {"a", "b"};
  file.extra = {{"scopes", {"view"}}};
  Impersonation flags;
  flags.groups = {"c"};
  Impersonation merged = override_impersonation(file, flags);
  EXPECT_EQ(merged.user, "bob");
  EXPECT_EQ(merged.uid, "1");
  EXPECT_EQ(merged.groups, std::vector<std::string>{"c"});  // replaced, not added to
  EXPECT_EQ(merged.extra, file.extra);
  flags.user = "carol";
  flags.uid = "2";
  merged = override_impersonation(file, flags);
  EXPECT_EQ(merged.user, "carol");
  EXPECT_EQ(merged.uid, "2");
  EXPECT_EQ(override_impersonation(Impersonation{}, Impersonation{}).empty(), true);
}

TEST(Impersonation, LoadedCredentialsCarryWhoToActAs) {
  std::string text = std::string(kHead) +
                     "    as: bob\n    as-groups: [developers]\n"
                     "    as-user-extra: {scopes: [view]}\n";
  auto creds = load(text);
  ASSERT_TRUE(creds.ok()) << creds.error().message();
  EXPECT_EQ(creds->token, "alice-token");  // still authenticated as alice
  EXPECT_EQ(creds->impersonate.user, "bob");
  EXPECT_EQ(creds->impersonate.groups, std::vector<std::string>{"developers"});
  EXPECT_EQ(creds->impersonate.extra.at("scopes"), std::vector<std::string>{"view"});

  Impersonation flags;
  flags.user = "carol";
  flags.uid = "42";
  flags.groups = {"ops", "audit"};
  creds = load(text, flags);
  ASSERT_TRUE(creds.ok()) << creds.error().message();
  EXPECT_EQ(creds->impersonate.user, "carol");
  EXPECT_EQ(creds->impersonate.uid, "42");
  EXPECT_EQ(creds->impersonate.groups, (std::vector<std::string>{"ops", "audit"}));
  EXPECT_EQ(creds->impersonate.extra.at("scopes"), std::vector<std::string>{"view"});

  // The flags alone, on a user with no as-* fields.
  creds = load(std::string(kHead), flags);
  ASSERT_TRUE(creds.ok()) << creds.error().message();
  EXPECT_EQ(creds->impersonate.user, "carol");
  EXPECT_TRUE(load(std::string(kHead))->impersonate.empty());
}

TEST(Impersonation, AUidGroupsOrExtrasWithoutAUserIsKubectlsError) {
  const std::string kError =
      "requesting uid, groups or user-extra for alice without impersonating a user";
  std::string head(kHead);
  EXPECT_EQ(load(head + "    as-groups: [developers]\n").error().message(), kError);
  EXPECT_EQ(load(head + "    as-uid: \"7\"\n").error().message(), kError);
  EXPECT_EQ(load(head + "    as-user-extra: {scopes: [view]}\n").error().message(), kError);
  // A key without values still asks for extras, as in client-go's check.
  EXPECT_EQ(load(head + "    as-user-extra: {scopes: null}\n").error().message(), kError);
  Impersonation group_only;
  group_only.groups = {"ops"};
  EXPECT_EQ(load(head, group_only).error().message(), kError);
  Impersonation uid_only;
  uid_only.uid = "7";
  EXPECT_EQ(load(head, uid_only).error().message(), kError);
  // --as gives the user the file lacks.
  Impersonation user;
  user.user = "bob";
  auto creds = load(head + "    as-groups: [developers]\n", user);
  ASSERT_TRUE(creds.ok()) << creds.error().message();
  EXPECT_EQ(creds->impersonate.groups, std::vector<std::string>{"developers"});
}

TEST(Impersonation, InAPodTheFlagsApplyToTheServiceAccount) {
  ConfigEnvironment env = env_with("");
  env.service_host = "10.96.0.1";
  env.service_port = "443";
  env.service_account_dir = "/sa";
  env.read_file = [](const std::string& path) -> Result<std::string> {
    if (path == "/sa/token") return std::string("sa-token\n");
    return system_error(path, ENOENT);
  };
  KubeconfigOptions options;
  options.impersonate.user = "bob";
  options.impersonate.groups = {"ops"};
  auto creds = load_api_credentials(options, env);
  ASSERT_TRUE(creds.ok()) << creds.error().message();
  EXPECT_EQ(creds->source, "in-cluster");
  EXPECT_EQ(creds->token, "sa-token");
  EXPECT_EQ(creds->impersonate.user, "bob");
  EXPECT_EQ(creds->impersonate.groups, std::vector<std::string>{"ops"});
  options.impersonate.user.clear();
  EXPECT_EQ(load_api_credentials(options, env).error().message(),
            "requesting uid, groups or user-extra for the in-cluster user without impersonating a "
            "user");
}

}  // namespace
}  // namespace socksnap
