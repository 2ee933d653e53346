// Where the Kubernetes API server is and how to talk to it, found as kubectl finds it:
// --kubeconfig, else $KUBECONFIG (several files, ':'-separated, merged: for each named cluster,
// user and context, and for current-context, the first file that has it wins), else
// ~/.kube/config; --context, else current-context. Or the in-cluster service account.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kubeconfig/exec_plugin.h"
#include "kubeconfig/impersonation.h"
#include "util/result.h"

namespace socksnap {

struct KubeCluster {
  std::string server;
  std::string certificate_authority;       // a file (made absolute against the kubeconfig's folder)
  std::string certificate_authority_data;  // decoded PEM
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string proxy_url;
};

struct ExecConfig {         // client.authentication.k8s.io exec plugin
  std::string api_version;  // e.g. "client.authentication.k8s.io/v1"
  std::string command;      // made absolute against the kubeconfig's folder when it has a '/'
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string interactive_mode;  // "Never", "IfAvailable", "Always"
  bool provide_cluster_info = false;
  std::string install_hint;  // shown when the command is not installed
};

struct KubeUser {
  std::string client_certificate;       // file
  std::string client_certificate_data;  // decoded PEM
  std::string client_key;               // file
  std::string client_key_data;          // decoded PEM
  std::string token;
  std::string token_file;
  std::string username, password;  // basic auth
  std::optional<ExecConfig> exec;
  bool has_auth_provider = false;  // legacy auth-provider: not supported, reported clearly
  std::string auth_provider_name;
  Impersonation impersonate;  // as, as-uid, as-groups, as-user-extra
};

struct KubeContext {
  std::string cluster;
  std::string user;
  std::string namespace_name;
};

struct Kubeconfig {
  std::map<std::string, KubeCluster> clusters;
  std::map<std::string, KubeUser> users;
  std::map<std::string, KubeContext> contexts;
  std::string current_context;
};

// Pure: one file's text. `dir` is the folder relative file paths are resolved against ("" leaves
// them as written). Errors name the line and field: "line 12: users[1].user.client-key-data:
// not base64 (illegal base64 data at input byte 40)". Fields are typed as kubectl's decoder
// types them: a plain `token: 1234` is a number, not text, and refused the same way.
Result<Kubeconfig> parse_kubeconfig(std::string_view text, std::string_view dir);
// Pure: several files in order of precedence (first wins per name, and for current-context).
Kubeconfig merge_kubeconfigs(const std::vector<Kubeconfig>& files);

// What a client needs: the server and credentials, every file read, PEM in memory.
struct ApiCredentials {
  std::string server;  // "https://host:port" (no trailing slash)
  std::string ca_pem;  // empty with insecure or for the system's CAs
  bool insecure = false;
  std::string tls_server_name;
  std::string proxy_url;
  std::string cert_pem, key_pem;   // client certificate
  std::string token;               // bearer token (token, token file, exec plugin or SA)
  std::string token_file;          // where token came from, when a file (re-read on 401)
  std::string username, password;  // basic auth
  Impersonation impersonate;       // who the requests act as (Impersonate-* headers)
  std::string default_namespace;   // the context's namespace, or the SA's; "default" when none
  std::string context;             // the context used ("" in-cluster)
  std::string source;              // "kubeconfig /root/.kube/config context kind-a", "in-cluster"
};

struct KubeconfigOptions {
  std::string kubeconfig;      // --kubeconfig
  std::string context;         // --context
  std::string cluster;         // --cluster (override the context's)
  std::string user;            // --user
  std::string namespace_name;  // overrides the context's namespace (-n is socksnap's pod filter)
  Impersonation impersonate;   // --as, --as-uid, --as-group: override the user's as-* fields
};

// The whole of a small file (at most 16 MiB); errors carry errno and the path.
Result<std::string> read_config_file(const std::string& path);

// The environment a load reads, a seam for tests.
struct ConfigEnvironment {
  std::string kubeconfig_env;              // $KUBECONFIG
  std::string home;                        // $HOME
  std::string service_host, service_port;  // $KUBERNETES_SERVICE_HOST/PORT
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  std::string pod_namespace;  // $POD_NAMESPACE, which kubectl prefers to the SA's in a pod
  std::string cwd;            // what relative kubeconfig paths start from ("" keeps them relative)
  // Reading a file, and running an exec plugin (stdin none, returns stdout or an error with its
  // stderr).
  std::function<Result<std::string>(const std::string& path)> read_file = read_config_file;
  std::function<Result<std::string>(const ExecRequest& request)> run_exec = run_exec_plugin;

  static ConfigEnvironment from_process();  // reads the real environment
};

// kubectl's order: --kubeconfig; $KUBECONFIG; ~/.kube/config; else in-cluster (when
// KUBERNETES_SERVICE_HOST/PORT are set and the token file exists). Errors are one line:
// "no kubeconfig: set --kubeconfig or $KUBECONFIG, or create ~/.kube/config",
// "kubeconfig: context \"x\" not found in /root/.kube/config", "kubeconfig /a/b: line 4 ...".
// A context naming a user that no file defines is an error (kubectl would go on anonymously);
// a context with no user at all is anonymous, as in kubectl. Impersonation: the user's as-*
// fields with the flags over them; a uid, groups or extras without a user to act as is
// kubectl's error ("requesting uid, groups or user-extra for NAME without impersonating a
// user"). In-cluster too the flags apply (kubectl 1.32 drops the in-cluster configuration when
// --as is given, and then fails to reach localhost:8080).
Result<ApiCredentials> load_api_credentials(const KubeconfigOptions& options,
                                            const ConfigEnvironment& env);
// In-cluster only: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (IPv6 bracketed),
// the SA's token, ca.crt and namespace.
Result<ApiCredentials> in_cluster_credentials(const ConfigEnvironment& env);

}  // namespace socksnap
