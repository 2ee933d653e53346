// A DaemonSet's pod on one node, for the node simulator: what the DaemonSet controller makes of
// the template (a pod named NAME-xxxxx in the DaemonSet's namespace), what admission adds (the
// service account's token volume) and what a kubelet sends down the CRI for it (namespaces,
// security context, hostPath volumes, fieldRef environment, ports), read from the manifest
// itself so that a test runs what is deployed. A field it does not emulate is an error naming the
// field and its line, unless it cannot change how the pod runs once it is on the node (each such
// field is listed in daemonset_pod.cpp, with why).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kubeconfig/yaml_tree.h"
#include "node_sim.h"

namespace socksnap::test {

// Every document of a multi-document YAML file ("---" between them), empty ones left out.
// Throws std::runtime_error naming `file` and the line on a syntax error.
std::vector<YamlNode> yaml_documents(std::string_view text, const std::string& file);

struct HostPathVolume {
  std::string path;
  std::string type;  // "" (no check), Directory or DirectoryOrCreate
};

struct DaemonSetPod {
  std::string daemonset;        // the DaemonSet's name
  nodesim::PodSpec spec;        // as far as the manifest says; prepare_pod() does the rest
  std::string service_account;  // spec.serviceAccountName ("default" when not given)
  bool automount_token = true;  // spec.automountServiceAccountToken
  std::vector<HostPathVolume> host_paths;
};

// Throws std::runtime_error for a manifest that is not a DaemonSet or has a field not emulated.
DaemonSetPod daemonset_pod(const YamlNode& manifest, const std::string& file);

// What a kubelet does before it starts the pod, and what it tells the containers.
struct KubeletSetup {
  std::string pods_dir;  // the kubelet's pods folder: volumes go in PODS_DIR/UID/volumes/...
  std::string api_host;  // the "kubernetes" service, as pods see it
  uint16_t api_port = 443;
  std::string ca_pem;  // the cluster's CA (the kube-root-ca.crt ConfigMap)
  std::string token;   // the service account's token for the API server's audience
};

// Makes the DirectoryOrCreate hostPath folders that are missing (mode 0755), writes the
// projected service-account volume (token, ca.crt, namespace, laid out as the kubelet's atomic
// writer lays them out) and mounts it read-only on every container at
// /var/run/secrets/kubernetes.io/serviceaccount, and gives every container the API server's
// service variables (KUBERNETES_SERVICE_HOST, ...). Appends the hostPath folders it made to
// `made_dirs`, deepest last, for the caller to remove (also when it throws).
void prepare_pod(DaemonSetPod& pod, const KubeletSetup& kubelet,
                 std::vector<std::string>& made_dirs);

}  // namespace socksnap::test
