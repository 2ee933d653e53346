#include "kubeconfig/kubeconfig.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "kubeconfig/exec_plugin.h"
#include "kubeconfig_fixture.h"
#include "test_support.h"
#include "util/base64.h"

namespace socksnap {
namespace {

using test::parse_kubeconfig_error;
using test::parse_kubeconfig_ok;

std::string kc(std::string_view name) {
  return test::data_path("kubeconfig/" + std::string(name));
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A folder under /tmp, removed with everything in it when the test ends.
class KubeconfigDir {
 public:
  KubeconfigDir() {
    char buf[] = "/tmp/socksnap-kube-XXXXXX";
    const char* made = ::mkdtemp(buf);
    path_ = made != nullptr ? made : "";
  }
  KubeconfigDir(const KubeconfigDir&) = delete;
  KubeconfigDir& operator=(const KubeconfigDir&) = delete;
  ~KubeconfigDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, std::string_view content, mode_t mode = 0644) const {
    std::string file = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(file).parent_path());
    std::ofstream(file, std::ios::binary) << content;
    ::chmod(file.c_str(), mode);
    return file;
  }

 private:
  std::string path_;
};

// Never the real home, /var/run or $KUBECONFIG; a plugin run is a test failure unless a test
// asks for one.
ConfigEnvironment test_env() {
  ConfigEnvironment env;
  env.home = "/nonexistent/socksnap-test-home";
  env.service_account_dir = "/nonexistent/socksnap-test-sa";
  env.cwd = '/';  // a char: at -O3 GCC 12 warns falsely (-Wrestrict) on = "/"
  env.run_exec = [](const ExecRequest& request) -> Result<std::string> {
    ADD_FAILURE() << "exec plugin " << request.command << " run unexpectedly";
    return plain_error("unexpected exec");
  };
  return env;
}

// The CA token.yaml names, which exists on a minikube user's machine and not here.
constexpr std::string_view kMinikubeCa = "/home/dev/.minikube/ca.crt";
constexpr std::string_view kMinikubePem =
    "-----BEGIN CERTIFICATE-----\nminikubeCA\n-----END CERTIFICATE-----\n";

ConfigEnvironment minikube_env() {
  ConfigEnvironment env = test_env();
  env.read_file = [](const std::string& path) -> Result<std::string> {
    if (path == kMinikubeCa) return std::string(kMinikubePem);
    return read_config_file(path);
  };
  return env;
}

Result<ApiCredentials> load_file(const std::string& path, const std::string& context = "",
                                 const ConfigEnvironment& env = test_env()) {
  KubeconfigOptions options;
  options.kubeconfig = path;
  options.context = context;
  return load_api_credentials(options, env);
}

ApiCredentials load_ok(const std::string& path, const std::string& context = "",
                       const ConfigEnvironment& env = test_env()) {
  auto creds = load_file(path, context, env);
  EXPECT_TRUE(creds.ok()) << (creds.ok() ? "" : creds.error().message());
  return creds.ok() ? std::move(creds).value() : ApiCredentials{};
}

std::string load_error(const KubeconfigOptions& options, const ConfigEnvironment& env) {
  auto creds = load_api_credentials(options, env);
  EXPECT_FALSE(creds.ok()) << "loaded " << (creds.ok() ? creds->server : "");
  return creds.ok() ? std::string() : creds.error().message();
}

std::string load_error(const std::string& path, const std::string& context = "",
                       const ConfigEnvironment& env = test_env()) {
  KubeconfigOptions options;
  options.kubeconfig = path;
  options.context = context;
  return load_error(options, env);
}

TEST(Kubeconfig, EveryFieldIsParsed) {
  Kubeconfig config = parse_kubeconfig_ok(R"(apiVersion: v1
kind: Config
preferences: {}
current-context: main
clusters:
- name: main-cluster
  cluster:
    server: https://api.main.example:6443
    certificate-authority: pki/ca.crt
    certificate-authority-data: Y2EtcGVt
    insecure-skip-tls-verify: false
    tls-server-name: api.internal
    proxy-url: http://proxy.example:3128
    disable-compression: true
    extensions: [{name: x, extension: {a: 1}}]
users:
- name: everything
  user:
    client-certificate: /abs/client.crt
    client-certificate-data: Y2VydC1wZW0=
    client-key: ../keys/client.key
    client-key-data: a2V5LXBlbQ==
    token: tok
    tokenFile: token
    username: admin
    password: secret
    as: someone-else
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: [--cluster, main, "--port=8080"]
      env:
      - name: AWS_PROFILE
        value: prod
      - name: EMPTY
      interactiveMode: Never
      provideClusterInfo: true
      installHint: install get-token
    auth-provider:
      name: oidc
      config: {idp-issuer-url: https://issuer}
- name: on-path
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws}
contexts:
- name: main
  context:
    cluster: main-cluster
    user: everything
    namespace: payments
    extensions: []
)",
                                          "/etc/kube");
  EXPECT_EQ(config.current_context, "main");
  ASSERT_EQ(config.clusters.size(), 1U);
  const KubeCluster& c = config.clusters.at("main-cluster");
  EXPECT_EQ(c.server, "https://api.main.example:6443");
  EXPECT_EQ(c.certificate_authority, "/etc/kube/pki/ca.crt");
  EXPECT_EQ(c.certificate_authority_data, "ca-pem");
  EXPECT_FALSE(c.insecure_skip_tls_verify);
  EXPECT_EQ(c.tls_server_name, "api.internal");
  EXPECT_EQ(c.proxy_url, "http://proxy.example:3128");

  ASSERT_EQ(config.users.size(), 2U);
  const KubeUser& u = config.users.at("everything");
  EXPECT_EQ(u.client_certificate, "/abs/client.crt");
  EXPECT_EQ(u.client_certificate_data, "cert-pem");
  EXPECT_EQ(u.client_key, "/etc/keys/client.key");
  EXPECT_EQ(u.client_key_data, "key-pem");
  EXPECT_EQ(u.token, "tok");
  EXPECT_EQ(u.token_file, "/etc/kube/token");
  EXPECT_EQ(u.username, "admin");
  EXPECT_EQ(u.password, "secret");
  ASSERT_TRUE(u.exec.has_value());
  EXPECT_EQ(u.exec->api_version, "client.authentication.k8s.io/v1");
  EXPECT_EQ(u.exec->command, "/etc/kube/bin/get-token");
  EXPECT_EQ(u.exec->args, (std::vector<std::string>{"--cluster", "main", "--port=8080"}));
  EXPECT_EQ(u.exec->env, (std::vector<std::pair<std::string, std::string>>{{"AWS_PROFILE", "prod"},
                                                                           {"EMPTY", ""}}));
  EXPECT_EQ(u.exec->interactive_mode, "Never");
  EXPECT_TRUE(u.exec->provide_cluster_info);
  EXPECT_EQ(u.exec->install_hint, "install get-token");
  EXPECT_TRUE(u.has_auth_provider);
  EXPECT_EQ(u.auth_provider_name, "oidc");

  const KubeUser& on_path = config.users.at("on-path");
  EXPECT_EQ(on_path.exec->command, "aws");                   // a bare name stays for $PATH
  EXPECT_EQ(on_path.exec->interactive_mode, "IfAvailable");  // v1beta1's default
  EXPECT_FALSE(on_path.exec->provide_cluster_info);
  EXPECT_FALSE(on_path.has_auth_provider);

  const KubeContext& ctx = config.contexts.at("main");
  EXPECT_EQ(ctx.cluster, "main-cluster");
  EXPECT_EQ(ctx.user, "everything");
  EXPECT_EQ(ctx.namespace_name, "payments");
}

TEST(Kubeconfig, EmptyAndNullFilesAreEmptyConfigs) {
  for (const char* text : {"", "# nothing yet\n", "clusters: null\nusers: []\ncontexts: ~\n"}) {
    Kubeconfig config = parse_kubeconfig_ok(text);
    EXPECT_TRUE(config.clusters.empty() && config.users.empty() && config.contexts.empty());
    EXPECT_EQ(config.current_context, "");
  }
}

TEST(Kubeconfig, JsonKubeconfig) {
  Kubeconfig config = parse_kubeconfig_ok(
      R"({"apiVersion":"v1","kind":"Config","clusters":[{"name":"j","cluster":{"server":"https://j:443","insecure-skip-tls-verify":true}}],"contexts":[{"name":"j","context":{"cluster":"j"}}],"current-context":"j"})");
  EXPECT_TRUE(config.clusters.at("j").insecure_skip_tls_verify);
  EXPECT_EQ(config.current_context, "j");
}

TEST(Kubeconfig, FieldErrorsNameLineAndField) {
  EXPECT_EQ(parse_kubeconfig_error("users:\n- name: u\n  user:\n    client-key-data: LS0t*LS0t\n"),
            "line 4: users[0].user.client-key-data: not base64 (illegal base64 data at input "
            "byte 4)");
  EXPECT_EQ(
      parse_kubeconfig_error("clusters:\n- name: a\n  cluster:\n    certificate-authority-data: "
                             "YWJjZA\n"),
      "line 4: clusters[0].cluster.certificate-authority-data: not base64 (illegal base64 "
      "data at input byte 4)");
  EXPECT_EQ(
      parse_kubeconfig_error("users:\n- name: ok\n- name: u\n  user:\n    client-certificate-data: "
                             "a b\n"),
      "line 5: users[1].user.client-certificate-data: not base64 (illegal base64 data at "
      "input byte 1)");
  EXPECT_EQ(parse_kubeconfig_error("clusters:\n- name: a\n  cluster:\n    server: https://a\n"
                                   "    insecure-skip-tls-verify: \"true\"\n"),
            "line 5: clusters[0].cluster.insecure-skip-tls-verify: expected true or false, found "
            "\"true\"");
  EXPECT_EQ(parse_kubeconfig_error("users:\n- name: u\n  user:\n    token: 12345\n"),
            "line 4: users[0].user.token: expected text, found the number 12345 (quote it)");
  EXPECT_EQ(parse_kubeconfig_error("contexts:\n- name: c\n  context:\n    namespace: yes\n"),
            "line 4: contexts[0].context.namespace: expected text, found the boolean yes (quote "
            "it)");
  EXPECT_EQ(parse_kubeconfig_error("clusters: {a: b}\n"),
            "line 1: clusters: expected a list, found a mapping");
  EXPECT_EQ(parse_kubeconfig_error("clusters:\n- just-a-name\n"),
            "line 2: clusters[0]: expected a mapping, found \"just-a-name\"");
  EXPECT_EQ(parse_kubeconfig_error("users:\n- name: u\n  user:\n    exec: aws\n"),
            "line 4: users[0].user.exec: expected a mapping, found \"aws\"");
  EXPECT_EQ(parse_kubeconfig_error("users:\n- name: u\n  user:\n    exec:\n      args: [a, [b]]\n"),
            "line 5: users[0].user.exec.args[1]: expected text, found a list");
  EXPECT_EQ(parse_kubeconfig_error("clusters:\n- name: a\n- name: b\n- name: a\n"),
            "line 4: clusters[2]: duplicate name \"a\"");
  EXPECT_EQ(parse_kubeconfig_error("- clusters\n"),
            "line 1: kubeconfig: expected a mapping, found a list");
  EXPECT_EQ(parse_kubeconfig_error("current-context: [a]\n"),
            "line 1: current-context: expected text, found a list");
  EXPECT_EQ(parse_kubeconfig_error("clusters:\n- name: a\n  cluster: {server: https://a\n"),
            "line 4 column 1: did not find expected ',' or '}' (while parsing a flow mapping at "
            "line 3 column 12)");
  // Values quoted in messages stay on one line.
  EXPECT_EQ(parse_kubeconfig_error("clusters:\n- name: \"a\\nb\"\n- name: \"a\\nb\"\n"),
            "line 3: clusters[1]: duplicate name \"a\\nb\"");
  EXPECT_EQ(
      parse_kubeconfig_error("users:\n- name: u\n  user: {token: \"x\", username: [\"\\e\"]}\n"),
      "line 3: users[0].user.username: expected text, found a list");
  EXPECT_EQ(parse_kubeconfig_error("users:\n- user: {token: \"" + std::string(100, 'x') +
                                   "\\n\", password: {}}\n"),
            "line 2: users[0].user.password: expected text, found a mapping");
  EXPECT_EQ(parse_kubeconfig_error("contexts:\n- name: c\n  context: {cluster: \"" +
                                   std::string(70, 'y') + "\", user: 1e3}\n"),
            "line 3: contexts[0].context.user: expected text, found the number 1e3 (quote it)");
  EXPECT_EQ(parse_kubeconfig_error("contexts:\n- \"" + std::string(70, 'z') + "\"\n"),
            "line 2: contexts[0]: expected a mapping, found \"" + std::string(60, 'z') + "...\"");
  // Quoted, the same values are text.
  Kubeconfig quoted =
      parse_kubeconfig_ok("users:\n- name: \"007\"\n  user: {token: '12345', password: 'yes'}\n");
  EXPECT_EQ(quoted.users.at("007").token, "12345");
  EXPECT_EQ(quoted.users.at("007").password, "yes");
}

TEST(Kubeconfig, Base64WrappedOverLinesInABlockScalar) {
  Kubeconfig config = parse_kubeconfig_ok(
      "clusters:\n- name: a\n  cluster:\n    certificate-authority-data: |\n      YWJj\n"
      "      ZGVm\n");
  EXPECT_EQ(config.clusters.at("a").certificate_authority_data, "abcdef");
}

TEST(Kubeconfig, KindClusterWithCertificateData) {
  std::string path = kc("kind.yaml");
  Kubeconfig config = parse_kubeconfig_ok(slurp(path), kc(""));
  const KubeCluster& cluster = config.clusters.at("kind-kind");
  EXPECT_EQ(cluster.certificate_authority_data, slurp(kc("pki/ca.crt")));
  EXPECT_EQ(cluster.certificate_authority, "");

  ApiCredentials creds = load_ok(path);
  EXPECT_EQ(creds.server, "https://127.0.0.1:39211");
  EXPECT_EQ(creds.ca_pem, slurp(kc("pki/ca.crt")));
  EXPECT_EQ(creds.cert_pem, slurp(kc("pki/client.crt")));
  EXPECT_EQ(creds.key_pem, slurp(kc("pki/client.key")));
  EXPECT_EQ(creds.cert_pem.rfind("-----BEGIN CERTIFICATE-----\n", 0), 0U);
  EXPECT_EQ(creds.key_pem.rfind("-----BEGIN EC PRIVATE KEY-----\n", 0), 0U);
  EXPECT_FALSE(creds.insecure);
  EXPECT_EQ(creds.token, "");
  EXPECT_EQ(creds.token_file, "");
  EXPECT_EQ(creds.default_namespace, "default");
  EXPECT_EQ(creds.context, "kind-kind");
  EXPECT_EQ(creds.source, "kubeconfig " + path + " context kind-kind");
}

TEST(Kubeconfig, GkeAndEksExecStanzas) {
  Kubeconfig config = parse_kubeconfig_ok(slurp(kc("gke-eks.yaml")), kc(""));
  EXPECT_EQ(config.current_context, "gke_acme-prod_europe-west1_payments");
  const ExecConfig& gke = *config.users.at("gke_acme-prod_europe-west1_payments").exec;
  EXPECT_EQ(gke.api_version, "client.authentication.k8s.io/v1beta1");
  EXPECT_EQ(gke.command, "gke-gcloud-auth-plugin");
  EXPECT_TRUE(gke.args.empty());
  EXPECT_EQ(gke.interactive_mode, "IfAvailable");
  EXPECT_TRUE(gke.provide_cluster_info);
  EXPECT_EQ(gke.install_hint,
            "Install gke-gcloud-auth-plugin for use with kubectl by following "
            "https://cloud.google.com/kubernetes-engine/docs/how-to/"
            "cluster-access-for-kubectl#install_plugin");
  const std::string eks_name = "arn:aws:eks:eu-west-1:123456789012:cluster/payments";
  const ExecConfig& eks = *config.users.at(eks_name).exec;
  EXPECT_EQ(eks.api_version, "client.authentication.k8s.io/v1");
  EXPECT_EQ(eks.command, "aws");
  EXPECT_EQ(eks.args, (std::vector<std::string>{"--region", "eu-west-1", "eks", "get-token",
                                                "--cluster-name", "payments", "--output", "json"}));
  EXPECT_EQ(eks.env,
            (std::vector<std::pair<std::string, std::string>>{
                {"AWS_PROFILE", "payments-admin"}, {"AWS_STS_REGIONAL_ENDPOINTS", "regional"}}));
  EXPECT_EQ(eks.interactive_mode, "Never");
  EXPECT_FALSE(eks.provide_cluster_info);
  EXPECT_EQ(config.contexts.at(eks_name).cluster, eks_name);
  EXPECT_EQ(config.clusters.at(eks_name).server,
            "https://6F2A0C4B1E8D9A7F3C5B2E1D0A9F8E7D.gr7.eu-west-1.eks.amazonaws.com");
}

TEST(Kubeconfig, ExecPluginRequestAsClientGoMakesIt) {
  std::vector<ExecRequest> requests;
  ConfigEnvironment env = test_env();
  env.run_exec = [&](const ExecRequest& request) -> Result<std::string> {
    requests.push_back(request);
    return std::string(R"({"kind":"ExecCredential","apiVersion":")" +
                       (request.command == "aws"
                            ? std::string("client.authentication.k8s.io/v1")
                            : std::string("client.authentication.k8s.io/v1beta1")) +
                       R"(","status":{"token":"tok-)" + request.command + "\"}}");
  };
  ApiCredentials gke = load_ok(kc("gke-eks.yaml"), "", env);
  EXPECT_EQ(gke.token, "tok-gke-gcloud-auth-plugin");
  EXPECT_EQ(gke.server, "https://34.76.12.201");
  EXPECT_EQ(gke.default_namespace, "checkout");
  ApiCredentials eks =
      load_ok(kc("gke-eks.yaml"), "arn:aws:eks:eu-west-1:123456789012:cluster/payments", env);
  EXPECT_EQ(eks.token, "tok-aws");
  ASSERT_EQ(requests.size(), 2U);

  const ExecRequest& g = requests[0];
  EXPECT_EQ(g.command, "gke-gcloud-auth-plugin");
  EXPECT_TRUE(g.args.empty());
  EXPECT_EQ(g.install_hint.rfind("Install gke-gcloud-auth-plugin", 0), 0U);
  ASSERT_EQ(g.env.size(), 1U);
  EXPECT_EQ(g.env[0].first, "KUBERNETES_EXEC_INFO");
  EXPECT_EQ(g.env[0].second,
            R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1",)"
            R"("spec":{"cluster":{"server":"https://34.76.12.201","certificate-authority-data":")" +
                base64_encode(slurp(kc("pki/ca.crt"))) + R"("},"interactive":false}})" + "\n");

  const ExecRequest& e = requests[1];
  EXPECT_EQ(e.command, "aws");
  EXPECT_EQ(e.args.size(), 8U);
  ASSERT_EQ(e.env.size(), 3U);
  EXPECT_EQ(e.env[0], (std::pair<std::string, std::string>{"AWS_PROFILE", "payments-admin"}));
  EXPECT_EQ(e.env[2].second,
            R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",)"
            R"("spec":{"interactive":false}})"
            "\n");
}

TEST(Kubeconfig, ExecPluginValidation) {
  KubeconfigDir dir;
  std::string head =
      "clusters: [{name: c, cluster: {server: https://c}}]\n"
      "contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
      "users:\n- name: u\n  user:\n    exec:\n";
  auto error_for = [&](const std::string& exec) {
    return load_error(dir.write("config", head + exec));
  };
  EXPECT_EQ(error_for("      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n"),
            "kubeconfig: user \"u\": exec: interactiveMode must be specified for "
            "client.authentication.k8s.io/v1");
  EXPECT_EQ(error_for("      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n"
                      "      interactiveMode: Sometimes\n"),
            "kubeconfig: user \"u\": exec: invalid interactiveMode \"Sometimes\"");
  EXPECT_EQ(error_for("      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n"
                      "      interactiveMode: Always\n"),
            "kubeconfig: user \"u\": exec plugin cannot support interactive mode: "
            "interactiveMode is Always, and socksnap runs plugins without a terminal");
  EXPECT_EQ(error_for("      apiVersion: client.authentication.k8s.io/v1alpha1\n"
                      "      command: aws\n"),
            "kubeconfig: user \"u\": exec plugin: invalid apiVersion "
            "\"client.authentication.k8s.io/v1alpha1\"");
  EXPECT_EQ(error_for("      apiVersion: client.authentication.k8s.io/v1beta1\n"),
            "kubeconfig: user \"u\": exec: command must be specified");
  EXPECT_EQ(error_for("      command: aws\n"),
            "kubeconfig: user \"u\": exec: apiVersion must be specified");
  EXPECT_EQ(error_for("      apiVersion: client.authentication.k8s.io/v1beta1\n"
                      "      command: aws\n      env: [{value: x}]\n"),
            "kubeconfig: user \"u\": exec: env variable name must be specified");
  EXPECT_EQ(error_for("      apiVersion: client.authentication.k8s.io/v1beta1\n"
                      "      command: aws\n    auth-provider: {name: gcp}\n"),
            "kubeconfig: user \"u\": auth-provider \"gcp\" is not supported; use an exec plugin "
            "(GKE: gke-gcloud-auth-plugin)");
}

TEST(Kubeconfig, ExecPluginIsNotRunWhenAnotherCredentialIsSet) {
  KubeconfigDir dir;
  std::string path =
      dir.write("config",
                "clusters: [{name: c, cluster: {server: https://c}}]\n"
                "contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
                "users:\n- name: u\n  user:\n    token: static\n    exec:\n"
                "      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n"
                "      interactiveMode: Never\n");
  ApiCredentials creds = load_ok(path);  // test_env() fails the test if a plugin runs
  EXPECT_EQ(creds.token, "static");
}

class RealExecPlugin : public ::testing::Test {
 protected:
  // A kubeconfig in the temp folder whose user runs ./plugin.sh from that folder.
  std::string kubeconfig(const std::string& extra_exec = "") {
    return dir.write(
        "kube/config",
        "clusters:\n- name: eks\n  cluster:\n    server: https://eks.example:443\n"
        "    tls-server-name: api.eks\n    certificate-authority-data: " +
            base64_encode("-----BEGIN CERTIFICATE-----\neks\n-----END CERTIFICATE-----\n") +
            "\ncontexts: [{name: eks, context: {cluster: eks, user: eks}}]\n"
            "current-context: eks\n"
            "users:\n- name: eks\n  user:\n    exec:\n"
            "      apiVersion: client.authentication.k8s.io/v1\n"
            "      command: ../bin/plugin.sh\n"
            "      args: [--region, eu-west-1, 'two words']\n"
            "      interactiveMode: IfAvailable\n"
            "      provideClusterInfo: true\n"
            "      env:\n"
            "      - {name: OUT_DIR, value: '" +
            dir.path() +
            "'}\n"
            "      - {name: AWS_PROFILE, value: first}\n"
            "      - {name: AWS_PROFILE, value: payments}\n"
            "      - {name: SOCKSNAP_TEST_OUTER, value: inner}\n" +
            extra_exec);
  }
  void plugin(const std::string& body) { dir.write("bin/plugin.sh", "#!/bin/sh\n" + body, 0755); }
  ConfigEnvironment real_env() {
    ConfigEnvironment env = test_env();
    env.run_exec = run_exec_plugin;
    return env;
  }
  KubeconfigDir dir;
};

// This process's standard input holding `text` for the object's lifetime, as if a user typed it.
class ScopedStdin {
 public:
  explicit ScopedStdin(std::string_view text) : saved_(::dup(STDIN_FILENO)) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    EXPECT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fds[1]);
    ::dup2(fds[0], STDIN_FILENO);
    ::close(fds[0]);
  }
  ScopedStdin(const ScopedStdin&) = delete;
  ScopedStdin& operator=(const ScopedStdin&) = delete;
  ~ScopedStdin() {
    ::dup2(saved_, STDIN_FILENO);
    ::close(saved_);
  }

 private:
  int saved_;
};

TEST_F(RealExecPlugin, PrintsAToken) {
  plugin(
      "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$OUT_DIR/exec-info\"\n"
      "printf '%s|' \"$@\" > \"$OUT_DIR/args\"\n"
      "env | grep -E '^(AWS_PROFILE|SOCKSNAP_TEST_OUTER)=' | sort > \"$OUT_DIR/env\"\n"
      "readlink /proc/self/fd/0 > \"$OUT_DIR/stdin-is\"\n"
      "cat > \"$OUT_DIR/stdin\"\n"
      "cat <<'EOF'\n"
      "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
      "\"spec\":{\"interactive\":false},\"status\":{\"expirationTimestamp\":"
      "\"2030-01-01T00:00:00Z\",\"token\":\"k8s-aws-v1.aHR0cHM6Ly9zdHM\"}}\n"
      "EOF\n");
  ::setenv("SOCKSNAP_TEST_OUTER", "outer", 1);
  ApiCredentials creds;
  {
    ScopedStdin typed("typed-by-the-user\n");
    creds = load_ok(kubeconfig(), "", real_env());
  }
  ::unsetenv("SOCKSNAP_TEST_OUTER");
  EXPECT_EQ(creds.token, "k8s-aws-v1.aHR0cHM6Ly9zdHM");
  EXPECT_EQ(creds.server, "https://eks.example:443");
  EXPECT_EQ(creds.tls_server_name, "api.eks");
  EXPECT_EQ(creds.ca_pem, "-----BEGIN CERTIFICATE-----\neks\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(slurp(dir.path() + "/args"), "--region|eu-west-1|two words|");
  // Each name once: the last of a name given twice, the kubeconfig's over ours.
  EXPECT_EQ(slurp(dir.path() + "/env"), "AWS_PROFILE=payments\nSOCKSNAP_TEST_OUTER=inner\n");
  EXPECT_EQ(slurp(dir.path() + "/stdin-is"), "/dev/null\n");
  EXPECT_EQ(slurp(dir.path() + "/stdin"), "");
  EXPECT_EQ(slurp(dir.path() + "/exec-info"),
            R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",)"
            R"("spec":{"cluster":{"server":"https://eks.example:443","tls-server-name":"api.eks",)"
            R"("certificate-authority-data":")" +
                base64_encode("-----BEGIN CERTIFICATE-----\neks\n-----END CERTIFICATE-----\n") +
                R"("},"interactive":false}})" + "\n");
}

TEST_F(RealExecPlugin, PrintsAClientCertificate) {
  plugin(
      "echo 'a warning on stderr is passed through' >&2\n"
      "cat <<'EOF'\n"
      "apiVersion: client.authentication.k8s.io/v1\n"
      "kind: ExecCredential\n"
      "status:\n"
      "  clientCertificateData: \"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END "
      "CERTIFICATE-----\\n\"\n"
      "  clientKeyData: \"-----BEGIN EC PRIVATE KEY-----\\nMHcC\\n-----END EC PRIVATE "
      "KEY-----\\n\"\n"
      "EOF\n");
  ApiCredentials creds = load_ok(kubeconfig(), "", real_env());
  EXPECT_EQ(creds.token, "");
  EXPECT_EQ(creds.cert_pem, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(creds.key_pem, "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n");
}

TEST_F(RealExecPlugin, FailsWithItsStandardError) {
  plugin(
      "echo 'could not get token: AccessDenied' >&2\n"
      "echo '  retry after: aws sso login  ' >&2\n"
      "echo 'partial output'\n"
      "exit 3\n");
  EXPECT_EQ(load_error(kubeconfig(), "", real_env()),
            "kubeconfig: user \"eks\": exec: executable " + dir.path() +
                "/bin/plugin.sh failed with exit code 3: could not get token: AccessDenied; "
                "retry after: aws sso login");
}

TEST_F(RealExecPlugin, KilledBySignal) {
  plugin("kill -9 $$\n");
  EXPECT_EQ(load_error(kubeconfig(), "", real_env()),
            "kubeconfig: user \"eks\": exec: executable " + dir.path() +
                "/bin/plugin.sh killed by signal 9");
}

TEST_F(RealExecPlugin, PrintsSomethingElse) {
  plugin(
      "echo '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
      "\"status\":{\"token\":\"t\"}}'\n");
  EXPECT_EQ(load_error(kubeconfig(), "", real_env()),
            "kubeconfig: user \"eks\": exec plugin is configured to use API version "
            "client.authentication.k8s.io/v1, plugin returned version "
            "client.authentication.k8s.io/v1beta1");
  plugin("echo 'Error: [not json'\n");
  EXPECT_EQ(load_error(kubeconfig(), "", real_env()),
            "kubeconfig: user \"eks\": decoding the plugin's output: line 2 column 1: did not "
            "find expected ',' or ']' (while parsing a flow sequence at line 1 column 8)");
}

TEST_F(RealExecPlugin, NotInstalled) {
  std::string path =
      dir.write("config",
                "clusters: [{name: c, cluster: {server: https://c}}]\n"
                "contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
                "users:\n- name: u\n  user:\n    exec:\n"
                "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                "      command: socksnap-test-no-such-plugin\n"
                "      installHint: |\n        socksnap-test-no-such-plugin is needed.\n"
                "        Install it with your package manager.\n");
  EXPECT_EQ(load_error(path, "", real_env()),
            "kubeconfig: user \"u\": exec: executable socksnap-test-no-such-plugin not found: "
            "socksnap-test-no-such-plugin is needed.; Install it with your package manager.");
}

std::vector<std::string> lines_starting(std::string_view text, std::string_view prefix) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  }
  return out;
}

TEST(RunExecPlugin, EnvironmentHasEachNameOnce) {
  ::setenv("SOCKSNAP_TEST_OUTER", "outer", 1);
  ExecRequest request;
  request.command = "env";  // looked up in $PATH; prints its environment as it got it
  request.env = {
      {"SOCKSNAP_TEST_A", "1"}, {"SOCKSNAP_TEST_OUTER", "inner"}, {"SOCKSNAP_TEST_A", "2"}};
  auto output = run_exec_plugin(request);
  ::unsetenv("SOCKSNAP_TEST_OUTER");
  ASSERT_TRUE(output.ok()) << output.error().message();
  EXPECT_EQ(lines_starting(*output, "SOCKSNAP_TEST_"),
            (std::vector<std::string>{"SOCKSNAP_TEST_OUTER=inner", "SOCKSNAP_TEST_A=2"}));
  EXPECT_EQ(lines_starting(*output, "PATH=").size(), 1U);  // the rest of ours is passed on
}

TEST(RunExecPlugin, OutputIsBounded) {
  ExecRequest request;
  request.command = "head";
  request.args = {"-c", "5000000", "/dev/zero"};
  auto output = run_exec_plugin(request);
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().message(), "exec: executable head printed more than 4 MiB");
  // One that would never stop is stopped.
  request.command = "cat";
  request.args = {"/dev/zero"};
  output = run_exec_plugin(request);
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().message(), "exec: executable cat printed more than 4 MiB");
}

TEST(ExecCredential, ParsesAndChecksAsClientGo) {
  constexpr std::string_view kV1 = "client.authentication.k8s.io/v1";
  auto cred = parse_exec_credential(
      R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{},)"
      R"("status":{"token":"abc","expirationTimestamp":"2030-01-01T00:00:00Z"}})",
      kV1);
  ASSERT_TRUE(cred.ok()) << cred.error().message();
  EXPECT_EQ(cred->token, "abc");
  EXPECT_EQ(cred->expiration_timestamp, "2030-01-01T00:00:00Z");
  auto error_of = [&](std::string_view output) {
    auto r = parse_exec_credential(output, kV1);
    EXPECT_FALSE(r.ok()) << output;
    return r.ok() ? std::string() : r.error().message();
  };
  const std::string head =
      R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1")";
  EXPECT_EQ(error_of(head + "}"), "exec plugin didn't return a status field");
  EXPECT_EQ(error_of(head + R"(,"status":null})"), "exec plugin didn't return a status field");
  EXPECT_EQ(error_of(head + R"(,"status":{}})"),
            "exec plugin didn't return a token or a cert/key pair");
  EXPECT_EQ(error_of(head + R"(,"status":{"clientCertificateData":"c"}})"),
            "exec plugin returned only certificate or key, not both");
  EXPECT_EQ(error_of(head + R"(,"status":{"clientKeyData":"k","token":"t"}})"),
            "exec plugin returned only certificate or key, not both");
  EXPECT_EQ(error_of(head + R"(,"status":"token"})"),
            "decoding the plugin's output: status is not an object");
  EXPECT_EQ(error_of(R"({"kind":"ExecCredential","status":{"token":"t"}})"),
            "decoding the plugin's output: no apiVersion");
  EXPECT_EQ(error_of(R"({"kind":"Status","apiVersion":"v1"})"),
            "decoding the plugin's output: kind \"Status\", not ExecCredential");
  EXPECT_EQ(error_of(""), "decoding the plugin's output: not an ExecCredential object");
  EXPECT_EQ(error_of("[1]"), "decoding the plugin's output: not an ExecCredential object");
  EXPECT_EQ(error_of(R"({"kind":"ExecCredential","apiVersion":"v1\nEvil: yes","status":{}})"),
            "exec plugin is configured to use API version client.authentication.k8s.io/v1, "
            "plugin returned version v1\\nEvil: yes");
}

TEST(Kubeconfig, TokenTokenFileAndBasicAuth) {
  std::string path = kc("token.yaml");
  ConfigEnvironment env = minikube_env();
  ApiCredentials token = load_ok(path, "", env);
  EXPECT_EQ(token.context, "static-token");
  EXPECT_EQ(token.token, "eyJhbGciOiJSUzI1NiJ9.c3RhdGljLXRva2Vu.c2ln");
  EXPECT_EQ(token.token_file, "");
  EXPECT_EQ(token.ca_pem, kMinikubePem);
  EXPECT_EQ(token.server, "https://192.168.49.2:8443");

  ApiCredentials file = load_ok(path, "token-file", env);
  EXPECT_EQ(file.token, "ci-token-from-file");  // trimmed
  EXPECT_EQ(file.token_file, kc("tokens/ci.token"));

  ApiCredentials both = load_ok(path, "both", env);
  EXPECT_EQ(both.token, "from-the-field");  // token before tokenFile
  EXPECT_EQ(both.token_file, "");

  ApiCredentials basic = load_ok(path, "basic", env);
  EXPECT_EQ(basic.username, "admin");
  EXPECT_EQ(basic.password, "0123");
  EXPECT_EQ(basic.token, "");

  // Without the fake, the minikube CA is a file that is not there.
  EXPECT_EQ(load_error(path),
            "kubeconfig: cluster \"minikube\": certificate-authority /home/dev/.minikube/ca.crt: "
            "No such file or directory");
}

TEST(Kubeconfig, CredentialConflicts) {
  KubeconfigDir dir;
  std::string head =
      "clusters: [{name: c, cluster: {server: https://c}}]\n"
      "contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
      "users:\n- name: u\n  user:\n";
  EXPECT_EQ(load_error(dir.write("a", head + "    token: t\n    username: admin\n")),
            "kubeconfig: user \"u\": more than one authentication method found (token and basic "
            "auth), only one is allowed");
  EXPECT_EQ(load_error(dir.write("b", head + "    client-certificate-data: Y2VydA==\n")),
            "kubeconfig: user \"u\": client-key-data or client-key must be specified to use the "
            "client certificate");
  EXPECT_EQ(load_error(dir.write("c", head + "    client-certificate: missing.crt\n"
                                             "    client-key: missing.key\n")),
            "kubeconfig: user \"u\": client-certificate " + dir.path() +
                "/missing.crt: No such file or directory");
  EXPECT_EQ(load_error(dir.write("d", head + "    tokenFile: /nonexistent/token\n")),
            "kubeconfig: user \"u\": tokenFile /nonexistent/token: No such file or directory");
}

TEST(Kubeconfig, SeveralContextsAndNamespaces) {
  std::string path = kc("multi.yaml");
  const std::string dev_ca = "-----BEGIN CERTIFICATE-----\ndev\n-----END CERTIFICATE-----\n";
  const std::string prod_ca = "-----BEGIN CERTIFICATE-----\nprod\n-----END CERTIFICATE-----\n";
  ApiCredentials dev = load_ok(path);
  EXPECT_EQ(dev.context, "dev");
  EXPECT_EQ(dev.server, "https://dev.k8s.acme.internal:6443");
  EXPECT_EQ(dev.ca_pem, dev_ca);
  EXPECT_EQ(dev.token, "alice-dev-token");
  EXPECT_EQ(dev.default_namespace, "team-a");
  EXPECT_EQ(dev.tls_server_name, "");

  ApiCredentials prod = load_ok(path, "prod");
  EXPECT_EQ(prod.server, "https://prod.k8s.acme.internal:6443");
  EXPECT_EQ(prod.ca_pem, prod_ca);
  EXPECT_EQ(prod.tls_server_name, "kubernetes.default.svc");
  EXPECT_EQ(prod.token, "alice-prod-token");
  EXPECT_EQ(prod.default_namespace, "team-b");
  EXPECT_EQ(prod.source, "kubeconfig " + path + " context prod");

  EXPECT_EQ(load_ok(path, "staging").default_namespace, "default");
  ApiCredentials anonymous = load_ok(path, "anonymous");
  EXPECT_EQ(anonymous.token, "");
  EXPECT_EQ(anonymous.username, "");

  KubeconfigOptions options;
  options.kubeconfig = path;
  options.cluster = "prod";
  auto overridden = load_api_credentials(options, test_env());
  ASSERT_TRUE(overridden.ok()) << overridden.error().message();
  EXPECT_EQ(overridden->server, "https://prod.k8s.acme.internal:6443");  // --cluster
  EXPECT_EQ(overridden->ca_pem, prod_ca);
  EXPECT_EQ(overridden->token, "alice-dev-token");  // still dev's user
  EXPECT_EQ(overridden->default_namespace, "team-a");
  options.cluster.clear();
  options.user = "alice-prod";
  options.namespace_name = "override";
  auto user = load_api_credentials(options, test_env());
  ASSERT_TRUE(user.ok()) << user.error().message();
  EXPECT_EQ(user->server, "https://dev.k8s.acme.internal:6443");
  EXPECT_EQ(user->token, "alice-prod-token");  // --user
  EXPECT_EQ(user->default_namespace, "override");
}

TEST(Kubeconfig, ContextErrors) {
  std::string path = kc("multi.yaml");
  EXPECT_EQ(load_error(path, "nope"),
            "kubeconfig: context \"nope\" not found in " + path +
                " (contexts: anonymous, broken-cluster, broken-user, dev, prod, staging)");
  EXPECT_EQ(load_error(path, "broken-cluster"),
            "kubeconfig: cluster \"decommissioned\" of context \"broken-cluster\" not found in " +
                path + " (clusters: dev, prod)");
  EXPECT_EQ(load_error(path, "broken-user"),
            "kubeconfig: user \"bob\" of context \"broken-user\" not found in " + path +
                " (users: alice, alice-prod)");
  KubeconfigOptions options;
  options.kubeconfig = path;
  options.cluster = "nope";
  EXPECT_EQ(
      load_error(options, test_env()),
      "kubeconfig: cluster \"nope\" (--cluster) not found in " + path + " (clusters: dev, prod)");
  options.cluster = "two\nlines";
  EXPECT_EQ(load_error(options, test_env()),
            "kubeconfig: cluster \"two\\nlines\" (--cluster) not found in " + path +
                " (clusters: dev, prod)");
  options.cluster.clear();
  options.user = "nope";
  EXPECT_EQ(load_error(options, test_env()), "kubeconfig: user \"nope\" (--user) not found in " +
                                                 path + " (users: alice, alice-prod)");
}

TEST(Kubeconfig, CurrentContextMissing) {
  KubeconfigDir dir;
  std::string none = dir.write(
      "none",
      "clusters: [{name: c, cluster: {server: https://c}}]\n"
      "contexts:\n- {name: b, context: {cluster: c}}\n- {name: a, context: {cluster: c}}\n");
  EXPECT_EQ(
      load_error(none),
      "kubeconfig " + none + ": no current-context; choose one with --context (contexts: a, b)");
  std::string empty = dir.write("empty", "clusters: [{name: c, cluster: {server: https://c}}]\n");
  EXPECT_EQ(load_error(empty), "kubeconfig " + empty +
                                   ": no current-context; choose one with --context (it has no "
                                   "contexts)");
  std::string dangling = dir.write(
      "dangling", "current-context: gone\ncontexts: [{name: a, context: {cluster: c}}]\n");
  EXPECT_EQ(load_error(dangling),
            "kubeconfig: context \"gone\" (its current-context) not found in " + dangling +
                " (contexts: a)");
  std::string unnamed_cluster =
      dir.write("unnamed", "current-context: a\ncontexts: [{name: a, context: {namespace: x}}]\n");
  EXPECT_EQ(load_error(unnamed_cluster), "kubeconfig: context \"a\" names no cluster");
  std::string no_server =
      dir.write("no-server",
                "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
                "clusters: [{name: c, cluster: {insecure-skip-tls-verify: true}}]\n");
  EXPECT_EQ(load_error(no_server), "kubeconfig: cluster \"c\" has no server");

  // --cluster alone needs no context.
  KubeconfigOptions options;
  options.kubeconfig = none;
  options.cluster = "c";
  auto creds = load_api_credentials(options, test_env());
  ASSERT_TRUE(creds.ok()) << creds.error().message();
  EXPECT_EQ(creds->server, "https://c");
  EXPECT_EQ(creds->context, "");
  EXPECT_EQ(creds->source, "kubeconfig " + none + " cluster c");
}

TEST(Kubeconfig, InsecureTlsServerNameAndProxy) {
  ApiCredentials creds = load_ok(kc("insecure.yaml"));
  EXPECT_TRUE(creds.insecure);
  EXPECT_EQ(creds.ca_pem, "");
  EXPECT_EQ(creds.server, "https://10.0.0.15:6443");
  EXPECT_EQ(creds.tls_server_name, "api.lab.local");
  EXPECT_EQ(creds.proxy_url, "socks5://127.0.0.1:1080");
  EXPECT_EQ(creds.default_namespace, "kube-system");
  EXPECT_EQ(creds.token, "lab-token");

  KubeconfigDir dir;
  std::string both =
      dir.write("both",
                "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
                "clusters: [{name: c, cluster: {server: https://c, insecure-skip-tls-verify: true, "
                "certificate-authority-data: Y2E=}}]\n");
  EXPECT_EQ(load_error(both),
            "kubeconfig: cluster \"c\": insecure-skip-tls-verify with a certificate authority is "
            "not allowed");
  std::string proxy =
      dir.write("proxy",
                "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
                "clusters: [{name: c, cluster: {server: https://c, proxy-url: ftp://p:21}}]\n");
  EXPECT_EQ(load_error(proxy),
            "kubeconfig: cluster \"c\": invalid proxy-url \"ftp://p:21\": unsupported scheme "
            "\"ftp\", must be http, https, or socks5");
}

TEST(Kubeconfig, ServerUrlAsClientGoDefaultsIt) {
  KubeconfigDir dir;
  auto server_for = [&](const std::string& cluster) {
    std::string path =
        dir.write("config",
                  "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
                  "clusters: [{name: c, cluster: " +
                      cluster + "}]\n");
    return load_ok(path).server;
  };
  EXPECT_EQ(server_for("{server: '127.0.0.1:6443', certificate-authority-data: Y2E=}"),
            "https://127.0.0.1:6443");
  EXPECT_EQ(server_for("{server: '127.0.0.1:6443', insecure-skip-tls-verify: true}"),
            "https://127.0.0.1:6443");
  EXPECT_EQ(server_for("{server: 'localhost:8080'}"), "http://localhost:8080");
  EXPECT_EQ(server_for("{server: 'https://h:1/prefix//'}"), "https://h:1/prefix");
  EXPECT_EQ(server_for("{server: 'https://[::1]:6443/'}"), "https://[::1]:6443");
}

TEST(Kubeconfig, MergeFirstFileWinsPerName) {
  std::vector<Kubeconfig> files;
  for (const char* name : {"merge/first.yaml", "merge/second.yaml", "merge/third.yaml"}) {
    files.push_back(parse_kubeconfig_ok(slurp(kc(name))));
  }
  Kubeconfig merged = merge_kubeconfigs(files);
  EXPECT_EQ(merged.current_context, "second-ctx");  // first has none
  EXPECT_EQ(merged.clusters.size(), 2U);
  EXPECT_EQ(merged.clusters.at("shared").server, "https://first.example:6443");
  EXPECT_FALSE(merged.clusters.at("shared").insecure_skip_tls_verify);  // no field-level merge
  EXPECT_EQ(merged.clusters.at("only-second").server, "https://only-second.example:6443");
  EXPECT_EQ(merged.users.at("shared-user").token, "first-token");
  EXPECT_EQ(merged.users.at("second-user").token, "second-user-token");
  EXPECT_EQ(merged.contexts.at("shared-ctx").cluster, "shared");
  EXPECT_EQ(merged.contexts.at("shared-ctx").namespace_name, "first-ns");
  EXPECT_EQ(merged.contexts.size(), 3U);
  std::reverse(files.begin(), files.end());
  Kubeconfig reversed = merge_kubeconfigs(files);
  EXPECT_EQ(reversed.current_context, "third-ctx");
  EXPECT_EQ(reversed.clusters.at("only-second").server, "https://third.example:6443");
  EXPECT_EQ(reversed.users.at("shared-user").token, "second-token");
  EXPECT_TRUE(merge_kubeconfigs({}).clusters.empty());
}

TEST(Kubeconfig, KubeconfigEnvironmentMergesAndSkipsMissingFiles) {
  ConfigEnvironment env = test_env();
  const std::string first = kc("merge/first.yaml");
  const std::string second = kc("merge/second.yaml");
  const std::string third = kc("merge/third.yaml");
  env.kubeconfig_env = "/nonexistent/config:" + first + "::" + second + ":" + third + ":" + first;
  KubeconfigOptions options;
  auto current = load_api_credentials(options, env);
  ASSERT_TRUE(current.ok()) << current.error().message();
  EXPECT_EQ(current->context, "second-ctx");
  EXPECT_EQ(current->server, "https://only-second.example:6443");
  EXPECT_EQ(current->token, "first-token");
  EXPECT_EQ(current->source, "kubeconfig " + second + " context second-ctx");

  options.context = "shared-ctx";
  auto shared = load_api_credentials(options, env);
  ASSERT_TRUE(shared.ok()) << shared.error().message();
  EXPECT_EQ(shared->server, "https://first.example:6443");
  EXPECT_FALSE(shared->insecure);
  EXPECT_EQ(shared->default_namespace, "first-ns");

  options.context = "third-ctx";
  auto third_ctx = load_api_credentials(options, env);
  ASSERT_TRUE(third_ctx.ok()) << third_ctx.error().message();
  EXPECT_EQ(third_ctx->server, "https://first.example:6443");
  EXPECT_EQ(third_ctx->token, "second-user-token");
  EXPECT_EQ(third_ctx->default_namespace, "third-ns");
  EXPECT_EQ(third_ctx->source, "kubeconfig " + third + " context third-ctx");

  options.context = "nope";
  EXPECT_EQ(load_error(options, env), "kubeconfig: context \"nope\" not found in " + first + ", " +
                                          second + ", " + third +
                                          " (contexts: second-ctx, shared-ctx, third-ctx)");

  // --kubeconfig wins over $KUBECONFIG.
  options.context.clear();
  options.kubeconfig = kc("kind.yaml");
  auto flag = load_api_credentials(options, env);
  ASSERT_TRUE(flag.ok()) << flag.error().message();
  EXPECT_EQ(flag->context, "kind-kind");
}

TEST(Kubeconfig, WhereKubeconfigsAreLookedFor) {
  ConfigEnvironment env = test_env();
  KubeconfigOptions options;
  EXPECT_EQ(load_error(options, env),
            "no kubeconfig: set --kubeconfig or $KUBECONFIG, or create ~/.kube/config");
  env.kubeconfig_env = "/nonexistent/a:/nonexistent/b";
  EXPECT_EQ(
      load_error(options, env),
      "no kubeconfig: none of the files in $KUBECONFIG exists (/nonexistent/a:/nonexistent/b)");
  options.kubeconfig = "/nonexistent/config";
  EXPECT_EQ(load_error(options, env), "kubeconfig /nonexistent/config: No such file or directory");
  options.kubeconfig = kc("");
  EXPECT_EQ(load_error(options, env), "kubeconfig " + kc("") + ": Is a directory");

  // ~/.kube/config when neither flag nor variable is set.
  KubeconfigDir home;
  home.write(".kube/config", slurp(kc("kind.yaml")));
  env.kubeconfig_env.clear();
  env.home = home.path();
  options.kubeconfig.clear();
  auto from_home = load_api_credentials(options, env);
  ASSERT_TRUE(from_home.ok()) << from_home.error().message();
  EXPECT_EQ(from_home->source, "kubeconfig " + home.path() + "/.kube/config context kind-kind");

  // A file that is there but cannot be read is an error, not skipped.
  env.kubeconfig_env = kc("multi.yaml");
  env.read_file = [](const std::string& path) -> Result<std::string> {
    return system_error(path, EACCES);
  };
  EXPECT_EQ(load_error(options, env), "kubeconfig " + kc("multi.yaml") + ": Permission denied");

  // A syntax error names the file and the place.
  KubeconfigDir dir;
  std::string broken = dir.write("broken", "clusters:\n- name: a\n   cluster: x\n");
  EXPECT_EQ(load_error(broken), "kubeconfig " + broken +
                                    ": line 3 column 11: mapping values are not allowed in this "
                                    "context");
}

TEST(Kubeconfig, RelativePathsResolveAgainstTheFilesFolder) {
  const std::string dir = kc("relative");
  Kubeconfig config = parse_kubeconfig_ok(slurp(dir + "/config"), dir);
  EXPECT_EQ(config.clusters.at("lab").certificate_authority, dir + "/certs/ca.crt");
  EXPECT_EQ(config.users.at("lab-admin").client_certificate, kc("pki/client.crt"));
  EXPECT_EQ(config.users.at("lab-admin").client_key, kc("pki/client.key"));
  EXPECT_EQ(config.users.at("lab-bot").token_file, dir + "/bot.token");
  EXPECT_EQ(config.users.at("lab-plugin").exec->command, dir + "/bin/lab-login");
  // With no folder given, paths stay as written.
  Kubeconfig unresolved = parse_kubeconfig_ok(slurp(dir + "/config"), "");
  EXPECT_EQ(unresolved.clusters.at("lab").certificate_authority, "certs/ca.crt");

  // A relative --kubeconfig starts from the working directory.
  ConfigEnvironment env = test_env();
  env.cwd = kc("");
  ApiCredentials admin = load_ok("relative/config", "", env);
  EXPECT_EQ(admin.server, "https://lab.internal:6443");
  EXPECT_EQ(admin.ca_pem, slurp(kc("pki/ca.crt")));
  EXPECT_EQ(admin.cert_pem, slurp(kc("pki/client.crt")));
  EXPECT_EQ(admin.key_pem, slurp(kc("pki/client.key")));
  EXPECT_EQ(admin.default_namespace, "monitoring");
  EXPECT_EQ(admin.source, "kubeconfig relative/config context lab");
  ApiCredentials bot = load_ok("relative/config", "lab-bot", env);
  EXPECT_EQ(bot.token,
            "eyJhbGciOiJSUzI1NiIsImtpZCI6ImxhYi1ib3QifQ.bG9uZy1saXZlZC1ib3Q.c2lnbmF0dXJl");
  EXPECT_EQ(bot.token_file, dir + "/bot.token");

  std::string ran;
  env.run_exec = [&](const ExecRequest& request) -> Result<std::string> {
    ran = request.command;
    return plain_error("exec: executable " + request.command + " failed with exit code 1");
  };
  EXPECT_EQ(load_error("relative/config", "lab-plugin", env),
            "kubeconfig: user \"lab-plugin\": exec: executable " + dir +
                "/bin/lab-login failed with exit code 1");
  EXPECT_EQ(ran, dir + "/bin/lab-login");
}

TEST(Kubeconfig, AuthProviderIsReportedClearly) {
  EXPECT_EQ(load_error(kc("auth-provider.yaml")),
            "kubeconfig: user \"gke_old\": auth-provider \"gcp\" is not supported; use an exec "
            "plugin (GKE: gke-gcloud-auth-plugin)");
  Kubeconfig config = parse_kubeconfig_ok(slurp(kc("auth-provider.yaml")));
  EXPECT_TRUE(config.users.at("gke_old").has_auth_provider);
  EXPECT_EQ(config.users.at("gke_old").auth_provider_name, "gcp");
}

class InCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    sa.write("token", "eyJhbGciOiJSUzI1NiJ9.c2EtdG9rZW4.c2ln\n");
    sa.write("ca.crt", "-----BEGIN CERTIFICATE-----\ncluster-ca\n-----END CERTIFICATE-----\n");
    sa.write("namespace", "payments\n");
    env.service_account_dir = sa.path();
    env.service_host = "fd00:10:96::1";
    env.service_port = "443";
  }
  KubeconfigDir sa;
  ConfigEnvironment env = test_env();
};

TEST_F(InCluster, ServiceAccount) {
  auto creds = in_cluster_credentials(env);
  ASSERT_TRUE(creds.ok()) << creds.error().message();
  EXPECT_EQ(creds->server, "https://[fd00:10:96::1]:443");
  EXPECT_EQ(creds->token, "eyJhbGciOiJSUzI1NiJ9.c2EtdG9rZW4.c2ln");
  EXPECT_EQ(creds->token_file, sa.path() + "/token");
  EXPECT_EQ(creds->ca_pem, "-----BEGIN CERTIFICATE-----\ncluster-ca\n-----END CERTIFICATE-----\n");
  EXPECT_FALSE(creds->insecure);
  EXPECT_EQ(creds->default_namespace, "payments");
  EXPECT_EQ(creds->context, "");
  EXPECT_EQ(creds->source, "in-cluster");

  env.service_host = "10.96.0.1";
  env.service_port = "6443";
  env.pod_namespace = "from-downward-api";
  creds = in_cluster_credentials(env);
  ASSERT_TRUE(creds.ok());
  EXPECT_EQ(creds->server, "https://10.96.0.1:6443");
  EXPECT_EQ(creds->default_namespace, "from-downward-api");
}

TEST_F(InCluster, MissingPieces) {
  std::filesystem::remove(sa.path() + "/namespace");
  std::filesystem::remove(sa.path() + "/ca.crt");
  auto creds = in_cluster_credentials(env);
  ASSERT_TRUE(creds.ok()) << creds.error().message();
  EXPECT_EQ(creds->default_namespace, "default");
  EXPECT_EQ(creds->ca_pem, "");  // the system's CAs, as client-go

  sa.write("token", " \n");
  EXPECT_EQ(in_cluster_credentials(env).error().message(),
            "in-cluster: service account token " + sa.path() + "/token is empty");
  std::filesystem::remove(sa.path() + "/token");
  EXPECT_EQ(in_cluster_credentials(env).error().message(),
            "in-cluster: service account token " + sa.path() + "/token: No such file or directory");
  env.service_port.clear();
  EXPECT_EQ(in_cluster_credentials(env).error().message(),
            "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
}

TEST_F(InCluster, LoadFallsBackToItWithoutAKubeconfig) {
  KubeconfigOptions options;
  auto creds = load_api_credentials(options, env);
  ASSERT_TRUE(creds.ok()) << creds.error().message();
  EXPECT_EQ(creds->source, "in-cluster");
  env.kubeconfig_env = "/nonexistent/a";
  creds = load_api_credentials(options, env);
  ASSERT_TRUE(creds.ok()) << creds.error().message();
  EXPECT_EQ(creds->source, "in-cluster");
  // A kubeconfig, when there is one, comes first.
  env.kubeconfig_env = kc("kind.yaml");
  creds = load_api_credentials(options, env);
  ASSERT_TRUE(creds.ok()) << creds.error().message();
  EXPECT_EQ(creds->context, "kind-kind");
  // Asked for a context, a pod without a kubeconfig has none to give.
  env.kubeconfig_env.clear();
  options.context = "kind-kind";
  EXPECT_EQ(load_error(options, env),
            "no kubeconfig: set --kubeconfig or $KUBECONFIG, or create ~/.kube/config");
  // Without the token, not in a cluster.
  options.context.clear();
  std::filesystem::remove(sa.path() + "/token");
  EXPECT_EQ(load_error(options, env),
            "no kubeconfig: set --kubeconfig or $KUBECONFIG, or create ~/.kube/config");
}

}  // namespace
}  // namespace socksnap
