// A Kubernetes node without kubelet, for end-to-end tests: a real containerd (CRI plugin, runc,
// CNI bridge) whose root, state, socket, runc state (runc's --root), CNI config and IPAM all live
// in one folder, on a tmpfs of its own, driven through the CRI gRPC API the way a kubelet drives
// it. See shared/NODE-SIM.md.
//
// What it writes outside its folder, all removed by down(): the CNI bridge and the pods' veths,
// libcni's cache (/var/lib/cni/results/<network>-<sandbox>-eth0, cni-loopback-<sandbox>-lo), the
// shims' sockets (/run/containerd/s/<hash>), the pods' cgroups (kubepods/besteffort/pod<uid> in
// every hierarchy), and net.ipv4.ip_forward, which the bridge plugin sets (put back to 0 when it
// was 0). Nodes in different folders can run at once (each has its own bridge and /24).
//
// Not thread-safe; one NodeSim per folder at a time (the CLI's commands must not overlap).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace socksnap::nodesim {

inline constexpr const char* kBusyboxImage = "socksnap.test/busybox:1";
inline constexpr const char* kPauseImage = "socksnap.test/pause:1";  // same layer, netprobe pause

struct Options {
  std::string netprobe_path;  // the static netprobe binary; empty: the one this build made
  std::string busybox_path = "/bin/busybox";
  std::string runc_path = "/usr/bin/runc";
  std::string cni_bin_dir = "/usr/lib/cni";
  // containerd gets SIGTERM when the thread that started it ends (a crashed test leaves no
  // daemon behind). Off for the CLI, whose `up` returns while containerd keeps running.
  bool stop_with_parent = true;
  std::chrono::seconds ready_timeout{30};
  // The node's name (a pod's spec.nodeName); empty: this machine's host name, as kubelet's.
  std::string node_name;
  // containerd runs in a mount namespace of its own in which /run/containerd is DIR/state, which
  // then holds the socket and runc's root too: a pod with a hostPath volume of /run finds the
  // runtime where a stock containerd keeps it (/run/containerd/containerd.sock,
  // /run/containerd/io.containerd.runtime.v2.task, /run/containerd/runc). paths() are the host's
  // view, as always. While it runs, /run/containerd exists on the host with a file of this node's
  // in it (so that no other node's teardown removes the directory it is mounted on), and its
  // mount namespace holds copies of the mounts the host had at `up`.
  bool stock_runtime_paths = false;
};

// A volume in a container, as a kubelet passes it (CRI Mount).
struct MountSpec {
  enum class Propagation { kPrivate, kHostToContainer, kBidirectional };
  std::string container_path;
  std::string host_path;
  bool read_only = false;
  Propagation propagation = Propagation::kPrivate;
};

// An environment variable: a value, or a pod field resolved when the container is created, as
// a kubelet resolves a fieldRef: metadata.name, metadata.namespace, metadata.uid, spec.nodeName,
// status.podIP (each the value it has on this node).
struct EnvSpec {
  std::string name;
  std::string value;
  std::string field_path;  // when not empty, the value is this field's
};

struct PortSpec {
  std::string name;
  uint16_t container_port = 0;
  std::string protocol = "TCP";  // TCP, UDP, SCTP
  uint16_t host_port = 0;
  std::string host_ip;
};

// A container's security context as CRI's LinuxContainerSecurityContext has it.
struct SecuritySpec {
  bool privileged = false;
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  bool read_only_root = false;
  bool no_new_privs = false;
  std::vector<std::string> add_capabilities;   // "SYS_ADMIN", as a pod spec names them
  std::vector<std::string> drop_capabilities;  // "ALL" too
  // "" (the runtime's default), "Unconfined", "RuntimeDefault", "Localhost/<path or profile>".
  std::string seccomp;
  std::string apparmor;
};

struct ContainerSpec {
  std::string name;
  std::string image = kBusyboxImage;
  std::vector<std::string> args;  // the whole command line, e.g. {"httpd", "-f", "-p", "8080"}
  // What the container's own processes must hold before the pod counts as running:
  //   "tcp-listen:PORT"       a TCP socket listening on PORT
  //   "udp-bound:PORT"        a UDP socket bound to PORT
  //   "tcp-established:PORT"  an ESTABLISHED TCP socket with PORT at either end
  //   "udp-connected:PORT"    a connected UDP socket whose peer port is PORT
  std::vector<std::string> wait_for;
  // CRI args (a pod spec's `args`): after `args` above, or, when that is empty, after the
  // image's Entrypoint in place of its Cmd.
  std::vector<std::string> image_args;
  std::string working_dir;
  std::vector<EnvSpec> env;
  std::vector<MountSpec> mounts;
  std::vector<PortSpec> ports;  // the pod's sandbox gets them as port mappings, as from kubelet
  SecuritySpec security;
};

struct PodSpec {
  std::string name;
  std::string pod_namespace = "default";
  std::string uid;  // generated when empty
  // Besides these the pod gets io.kubernetes.pod.{name,namespace,uid}, as kubelet sets them.
  std::map<std::string, std::string> labels;
  bool host_network = false;
  std::vector<ContainerSpec> containers;
  bool host_pid = false;  // the node's PID namespace for the sandbox and every container
  std::map<std::string, std::string> annotations;
};

struct ContainerInfo {
  std::string name;
  std::string id;
  pid_t pid = 0;         // the container's init process, in the host's PID namespace
  std::string log_path;  // its CRI log file (stdout and stderr, one line per record)
};

struct PodInfo {
  std::string sandbox_id;
  std::string name;
  std::string pod_namespace;
  std::string uid;
  std::map<std::string, std::string> labels;  // as given to RunPodSandbox
  bool host_network = false;
  std::string ip;             // empty for a host-network pod
  std::string netns_path;     // the pinned network namespace; empty for a host-network pod
  pid_t sandbox_pid = 0;      // the pause process
  std::string cgroup_parent;  // /kubepods/besteffort/pod<uid>
  std::vector<ContainerInfo> containers;
};

// Where socksnap must look on this node (its RuntimePaths and --cri-socket).
struct NodePaths {
  std::string dir;
  std::string socket;            // containerd's gRPC (and CRI) socket
  std::string containerd_root;   // persistent data (images, snapshots, metadata)
  std::string containerd_state;  // io.containerd.runtime.v2.task/k8s.io/<id>/config.json
  std::string runc_root;         // k8s.io/<id>/state.json
  std::string cni_conf_dir;
  std::string cni_network;  // the CNI network name
  std::string bridge;
  std::string subnet;  // e.g. 10.244.123.0/24
  std::string containerd_log;
};

class NodeSim {
 public:
  // Mounts a tmpfs on `dir` (created if missing, must be empty), writes the config there,
  // starts containerd, waits until its CRI runtime and network are ready, and imports the test
  // images. On failure removes what it made and throws std::runtime_error.
  static std::unique_ptr<NodeSim> up(const std::string& dir, const Options& options = {});
  // The node that `up` (maybe in another process) started in `dir`.
  static std::unique_ptr<NodeSim> attach(const std::string& dir, const Options& options = {});

  // Calls down() unless detach() was called.
  ~NodeSim();
  NodeSim(const NodeSim&) = delete;
  NodeSim& operator=(const NodeSim&) = delete;

  // RunPodSandbox, then CreateContainer + StartContainer for each container; returns when every
  // container runs and holds what its wait_for names. Throws std::runtime_error (with the
  // container's log) on failure.
  PodInfo run_pod(const PodSpec& spec);
  // StopPodSandbox only: the sandbox stays, NOTREADY, until remove_pod().
  void stop_pod(const std::string& sandbox_id);
  // StopPodSandbox + RemovePodSandbox, and the pod's cgroups.
  void remove_pod(const std::string& sandbox_id);
  std::vector<PodInfo> pods() const;

  // Stops every pod, stops containerd, removes everything the node made, inside and outside its
  // folder (and the folder). Returns what it found left over afterwards: empty when clean.
  std::vector<std::string> down();
  // Leave the node running when this object goes (the CLI).
  void detach() { detached_ = true; }

  // Imports an OCI image archive (oci_image.h) and waits until the CRI plugin sees `images`.
  void import_images(const std::string& archive, const std::vector<std::string>& images);

  const NodePaths& paths() const { return paths_; }
  const std::string& node_name() const { return node_name_; }
  pid_t containerd_pid() const { return containerd_pid_; }
  // The pods' shim sockets (in /run/containerd/s), for tests that check teardown.
  const std::vector<std::string>& shim_sockets() const { return shim_sockets_; }

 private:
  NodeSim() = default;
  void save() const;
  void start_containerd();
  void keep_run_containerd();
  std::string pod_field(const PodInfo& pod, const EnvSpec& env) const;
  void wait_ready();
  void import_test_images();

  Options options_;
  NodePaths paths_;
  pid_t containerd_pid_ = 0;
  bool containerd_is_child_ = false;
  bool armed_ = false;  // the folder is this node's: down() may remove it
  bool detached_ = false;
  bool down_ = false;
  // Recorded for cleanup, kept in <dir>/nodesim.json for attach().
  std::vector<PodInfo> pods_;
  std::vector<std::string> pod_uids_;       // every uid ever run (cgroups to remove)
  std::vector<std::string> sandbox_ids_;    // every sandbox ever run (CNI result cache entries)
  std::vector<std::string> shim_sockets_;   // /run/containerd/s/<hash>
  std::vector<std::string> outside_netns_;  // netns pins outside the folder, if any
  std::string ip_forward_before_;
  std::string node_name_;
  std::string run_containerd_keep_;  // stock_runtime_paths: the host's /run/containerd/<file>
};

// The parse of a CLI pod spec, JSON:
//   {"name": "web", "namespace": "default", "uid": "...", "labels": {"app": "web"},
//    "host_network": false,
//    "containers": [{"name": "httpd", "image": "...", "args": ["httpd", "-f", "-p", "8080"],
//                    "wait_for": ["tcp-listen:8080"]}]}
PodSpec parse_pod_spec(const std::string& json_text);
std::string pod_info_json(const PodInfo& pod);
std::string node_paths_json(const NodePaths& paths, pid_t containerd_pid);

}  // namespace socksnap::nodesim
