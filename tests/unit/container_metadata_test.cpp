// The runtimes' state files, parsed: real-shaped samples (the large ones are files under
// tests/data/runtime, written by make_samples.py there), exact values out.
#include "enrich/container_metadata.h"

#include <gtest/gtest.h>

#include <string>

#include "enrich/containers_storage.h"
#include "enrich/docker_config.h"
#include "runtime_fixture.h"

namespace socksnap {
namespace {

using test::kCrioSandboxId;
using test::kPodUid;
using test::kSandboxId;
using test::runtime_sample;

// containerd 1.6's CRI sandbox (pause) bundle, trimmed of mounts and seccomp.
constexpr std::string_view kContainerdSandbox =
    R"({"ociVersion":"1.0.2-dev","process":{"user":{"uid":65535,"gid":65535},"args":["/pause"],)"
    R"("env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"cwd":"/",)"
    R"("capabilities":{"bounding":["CAP_CHOWN"]},"noNewPrivileges":true,"oomScoreAdj":-998},)"
    R"("root":{"path":"rootfs","readonly":true},"hostname":"nginx-app","mounts":[{"destination":)"
    R"("/proc","type":"proc","source":"proc","options":["nosuid","noexec","nodev"]}],)"
    R"("annotations":{"io.kubernetes.cri.container-type":"sandbox",)"
    R"("io.kubernetes.cri.sandbox-id":"7f3a9c2e5b8d1f4a6c0e9b2d5f8a1c4e7b0d3f6a9c2e5b8d1f4a7c0e3b6d9f2a",)"
    R"("io.kubernetes.cri.sandbox-log-directory":"/var/log/pods/test-socketcollector_nginx-app_5d3b4a8e-7c1f-4e2a-9b6d-0f1e2d3c4b5a",)"
    R"("io.kubernetes.cri.sandbox-name":"nginx-app","io.kubernetes.cri.sandbox-namespace":)"
    R"("test-socketcollector","io.kubernetes.cri.sandbox-uid":"5d3b4a8e-7c1f-4e2a-9b6d-0f1e2d3c4b5a"},)"
    R"("linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}],"cpu":{"shares":2}},)"
    R"("cgroupsPath":"/kubepods/besteffort/pod5d3b4a8e-7c1f-4e2a-9b6d-0f1e2d3c4b5a/7f3a9c2e5b8d",)"
    R"("namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},)"
    R"({"type":"network","path":"/var/run/netns/cni-8f2c1b4e-3a5d-6e7f-8091-a2b3c4d5e6f7"}],)"
    R"("maskedPaths":["/proc/acpi"],"readonlyPaths":["/proc/bus"]}})";

// The same for a hostNetwork pod: no network namespace entry at all.
constexpr std::string_view kContainerdHostNetSandbox =
    R"({"ociVersion":"1.0.2-dev","annotations":{"io.kubernetes.cri.container-type":"sandbox",)"
    R"("io.kubernetes.cri.sandbox-id":"aa","io.kubernetes.cri.sandbox-name":"node-exporter-x2x9k",)"
    R"("io.kubernetes.cri.sandbox-namespace":"monitoring","io.kubernetes.cri.sandbox-uid":"u1"},)"
    R"("linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}]}})";

// CRI-O's sandbox (infra) config.json, as runtime-tools writes it (tab-indented), trimmed.
constexpr std::string_view kCrioSandbox = R"({
	"ociVersion": "1.0.2-dev",
	"process": {
		"user": {"uid": 0, "gid": 0},
		"args": ["/pause"],
		"cwd": "/"
	},
	"hostname": "nginx-app",
	"annotations": {
		"io.container.manager": "cri-o",
		"io.kubernetes.cri-o.Annotations": "{\"kubernetes.io/config.seen\":\"2024-05-02T09:14:01.9Z\",\"kubernetes.io/config.source\":\"api\"}",
		"io.kubernetes.cri-o.ContainerID": "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809",
		"io.kubernetes.cri-o.ContainerName": "k8s_POD_nginx-app_test-socketcollector_5d3b4a8e-7c1f-4e2a-9b6d-0f1e2d3c4b5a_0",
		"io.kubernetes.cri-o.ContainerType": "sandbox",
		"io.kubernetes.cri-o.HostNetwork": "false",
		"io.kubernetes.cri-o.HostName": "nginx-app",
		"io.kubernetes.cri-o.Image": "registry.k8s.io/pause:3.9",
		"io.kubernetes.cri-o.ImageName": "registry.k8s.io/pause:3.9",
		"io.kubernetes.cri-o.KubeName": "nginx-app",
		"io.kubernetes.cri-o.Labels": "{\"app\":\"web\",\"io.kubernetes.container.name\":\"POD\",\"io.kubernetes.pod.name\":\"nginx-app\",\"io.kubernetes.pod.namespace\":\"test-socketcollector\",\"io.kubernetes.pod.uid\":\"5d3b4a8e-7c1f-4e2a-9b6d-0f1e2d3c4b5a\",\"pod-template-hash\":\"7c9f8d6b5\",\"tier\":\"front\\u0026end\"}",
		"io.kubernetes.cri-o.Metadata": "{\"name\":\"nginx-app\",\"uid\":\"5d3b4a8e-7c1f-4e2a-9b6d-0f1e2d3c4b5a\",\"namespace\":\"test-socketcollector\"}",
		"io.kubernetes.cri-o.Name": "k8s_nginx-app_test-socketcollector_5d3b4a8e-7c1f-4e2a-9b6d-0f1e2d3c4b5a_0",
		"io.kubernetes.cri-o.Namespace": "test-socketcollector",
		"io.kubernetes.cri-o.SandboxID": "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809",
		"io.kubernetes.cri-o.SandboxName": "k8s_nginx-app_test-socketcollector_5d3b4a8e-7c1f-4e2a-9b6d-0f1e2d3c4b5a_0"
	},
	"linux": {
		"cgroupsPath": "kubepods-besteffort-pod5d3b4a8e_7c1f_4e2a_9b6d_0f1e2d3c4b5a.slice:crio:1a2b3c4d",
		"namespaces": [
			{"type": "pid"},
			{"type": "network", "path": "/var/run/netns/2b8f4c1a-6d3e-4f5a-8b9c-0d1e2f3a4b5c"},
			{"type": "ipc", "path": "/var/run/ipcns/2b8f4c1a-6d3e-4f5a-8b9c-0d1e2f3a4b5c"},
			{"type": "uts", "path": "/var/run/utsns/2b8f4c1a-6d3e-4f5a-8b9c-0d1e2f3a4b5c"},
			{"type": "mount"}
		]
	}
})";

// A hostNetwork CRI-O sandbox, whose Labels hold no name (crictl), so KubeName and Namespace
// name the pod.
constexpr std::string_view kCrioHostNetSandbox = R"({
	"annotations": {
		"io.kubernetes.cri-o.ContainerType": "sandbox",
		"io.kubernetes.cri-o.HostNetwork": "true",
		"io.kubernetes.cri-o.KubeName": "kube-proxy-7xk2p",
		"io.kubernetes.cri-o.Namespace": "kube-system",
		"io.kubernetes.cri-o.Labels": "{}",
		"io.kubernetes.cri-o.Metadata": "{\"name\":\"kube-proxy-7xk2p\",\"uid\":\"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d\",\"namespace\":\"kube-system\"}"
	},
	"linux": {"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]}
})";

// podman 4's userdata/config.json (rootful, bridge network), trimmed.
constexpr std::string_view kPodmanConfig =
    R"({"ociVersion":"1.1.0","process":{"user":{"uid":0,"gid":0},"args":["nginx","-g","daemon off;"],)"
    R"("env":["container=podman","HOSTNAME=6b2f0d1c9e8a"],"cwd":"/"},"root":{"path":)"
    R"("/var/lib/containers/storage/overlay/4e5f/merged"},"hostname":"6b2f0d1c9e8a",)"
    R"("annotations":{"io.container.manager":"libpod","io.podman.annotations.autoremove":"FALSE",)"
    R"("io.podman.annotations.init":"FALSE","io.podman.annotations.privileged":"FALSE",)"
    R"("io.podman.annotations.publish-all":"FALSE","org.opencontainers.image.stopSignal":"3"},)"
    R"("linux":{"cgroupsPath":"machine.slice:libpod:6b2f0d1c9e8a","namespaces":[{"type":"pid"},)"
    R"({"type":"network","path":"/run/netns/netns-3c1f9b2e-8d7a-6e5f-4a3b-2c1d0e9f8a7b"},)"
    R"({"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"cgroup"}]}})";

// runc's state.json as containerd's shim leaves it, trimmed.
constexpr std::string_view kRuncState =
    R"({"id":"c0ffee4a","init_process_pid":4242,"init_process_start":1234567,)"
    R"("created":"2024-05-02T09:14:07.123456789Z","config":{"no_pivot_root":false,"rootfs":)"
    R"("/run/containerd/io.containerd.runtime.v2.task/k8s.io/c0ffee4a/rootfs","labels":)"
    R"(["io.kubernetes.cri.container-type=container","bundle=/run/containerd/io.containerd.)"
    R"(runtime.v2.task/k8s.io/c0ffee4a"],"namespaces":[{"type":"NEWNET","path":"/proc/4100/ns/net"}]},)"
    R"("rootless":false,"cgroup_paths":{"memory":"/sys/fs/cgroup/memory/kubepods/x"},)"
    R"("namespace_paths":{"NEWNET":"/proc/4242/ns/net","NEWPID":"/proc/4242/ns/pid"},)"
    R"("external_descriptors":["/dev/null","pipe:[99]","pipe:[100]"],"intel_rdt_path":""})";

// Docker 24's config.v2.json for `docker run -d --name web nginx:1.25`, trimmed.
constexpr std::string_view kDockerConfig =
    R"({"StreamConfig":{},"State":{"Running":true,"Paused":false,"Restarting":false,)"
    R"("OOMKilled":false,"RemovalInProgress":false,"Dead":false,"Pid":31337,"ExitCode":0,)"
    R"("Error":"","StartedAt":"2024-05-02T09:20:11.5Z","FinishedAt":"0001-01-01T00:00:00Z",)"
    R"("Health":null},"ID":"4f2e8d6c1b3a5f7e9d0c2b4a6f8e1d3c5b7a9f0e2d4c6b8a1f3e5d7c9b0a2f4e",)"
    R"("Created":"2024-05-02T09:20:11.2Z","Managed":false,"Path":"/docker-entrypoint.sh",)"
    R"("Args":["nginx","-g","daemon off;"],"Config":{"Hostname":"4f2e8d6c1b3a","Domainname":"",)"
    R"("User":"","AttachStdin":false,"ExposedPorts":{"80/tcp":{}},"Tty":false,"Env":)"
    R"(["PATH=/usr/local/sbin:/usr/local/bin","NGINX_VERSION=1.25.3"],"Cmd":["nginx","-g",)"
    R"("daemon off;"],"Image":"nginx:1.25","Volumes":null,"WorkingDir":"","Entrypoint":)"
    R"(["/docker-entrypoint.sh"],"OnBuild":null,"Labels":{"maintainer":"NGINX Docker )"
    R"(Maintainers \u003cdocker-maint@nginx.com\u003e"},"StopSignal":"SIGQUIT"},"Image":)"
    R"("sha256:a8758716bb6aa4d90071160d27028fe4eaee7ce8166221a97d30440c8eac2be6",)"
    R"("NetworkSettings":{"Bridge":"","SandboxID":"9c8b7a6f5e4d","HairpinMode":false,)"
    R"("LinkLocalIPv6Address":"","LinkLocalIPv6PrefixLen":0,"Networks":{"bridge":{"IPAMConfig":)"
    R"(null,"Links":null,"Aliases":null,"NetworkID":"1f2e","EndpointID":"3d4c","Gateway":)"
    R"("172.17.0.1","IPAddress":"172.17.0.2","IPPrefixLen":16,"MacAddress":"02:42:ac:11:00:02"}},)"
    R"("Service":null,"Ports":{"80/tcp":null},"SandboxKey":"/var/run/docker/netns/9c8b7a6f5e4d",)"
    R"("SecondaryIPAddresses":null,"IsAnonymousEndpoint":true,"HasSwarmEndpoint":false},)"
    R"("LogPath":"/var/lib/docker/containers/4f2e/4f2e-json.log","Name":"/web","Driver":)"
    R"("overlay2","OS":"linux","RestartCount":0,"HasBeenStartedBefore":true,)"
    R"("HasBeenManuallyStopped":false,"MountPoints":{},"SecretReferences":null,)"
    R"("ConfigReferences":null,"MountLabel":"","ProcessLabel":"","AppArmorProfile":)"
    R"("docker-default","SeccompProfile":"","NoNewPrivileges":false})";

// `docker run --network host`: attached to the "host" network, SandboxKey is the host's.
constexpr std::string_view kDockerHostNetConfig =
    R"({"State":{"Running":true,"Pid":2001},"ID":"ab","Config":{"Image":"prom/node-exporter",)"
    R"("Labels":{}},"NetworkSettings":{"Networks":{"host":{"NetworkID":"8e7d","Gateway":""}},)"
    R"("SandboxKey":"/var/run/docker/netns/default"},"Name":"/node-exporter"})";

// dockershim's sandbox and container (Kubernetes <= 1.23 on Docker).
constexpr std::string_view kDockershimSandbox =
    R"({"State":{"Pid":5100},"ID":"5a4b3c2d1e0f","Config":{"Image":"k8s.gcr.io/pause:3.6",)"
    R"("Labels":{"annotation.kubernetes.io/config.seen":"2022-01-05T10:00:00Z",)"
    R"("annotation.kubernetes.io/config.source":"api","app":"web",)"
    R"("io.kubernetes.container.name":"POD","io.kubernetes.docker.type":"podsandbox",)"
    R"("io.kubernetes.pod.name":"nginx-app","io.kubernetes.pod.namespace":"default",)"
    R"("io.kubernetes.pod.uid":"0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b","pod-template-hash":"5f6d"}},)"
    R"("NetworkSettings":{"Networks":{"none":{}},"SandboxKey":"/var/run/docker/netns/77aa"},)"
    R"("Name":"/k8s_POD_nginx-app_default_0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b_0"})";

constexpr std::string_view kDockershimContainer =
    R"({"State":{"Pid":5230},"ID":"6b5c4d3e2f1a","Config":{"Image":"sha256:a8758716bb6a",)"
    R"("Labels":{"annotation.io.kubernetes.container.hash":"8e2a1f3c",)"
    R"("io.kubernetes.container.logpath":"/var/log/pods/default_nginx-app_0e1f/nginx/0.log",)"
    R"("io.kubernetes.container.name":"nginx","io.kubernetes.docker.type":"container",)"
    R"("io.kubernetes.pod.name":"nginx-app","io.kubernetes.pod.namespace":"default",)"
    R"("io.kubernetes.pod.uid":"0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",)"
    R"("io.kubernetes.sandbox.id":"5a4b3c2d1e0f"}},"NetworkSettings":{"Networks":{},)"
    R"("SandboxKey":""},"Name":"/k8s_nginx_nginx-app_default_0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b_0"})";

TEST(OciConfig, ContainerdContainer) {
  auto meta = parse_oci_config(runtime_sample("containerd-container.config.json"),
                               RuntimeKind::kContainerd);
  ASSERT_TRUE(meta.ok()) << meta.error().message();
  EXPECT_EQ(meta->runtime, RuntimeKind::kContainerd);
  EXPECT_EQ(meta->id, "");  // the directory names it, not the file
  EXPECT_EQ(meta->name, "nginx");
  EXPECT_EQ(meta->image, "docker.io/library/nginx:1.25");
  EXPECT_FALSE(meta->sandbox);
  EXPECT_EQ(meta->pod_name, "nginx-app");
  EXPECT_EQ(meta->pod_namespace, "test-socketcollector");
  EXPECT_EQ(meta->pod_uid, kPodUid);
  EXPECT_EQ(meta->sandbox_id, kSandboxId);
  EXPECT_TRUE(meta->pod_labels.empty());
  EXPECT_FALSE(meta->host_network);
  EXPECT_EQ(meta->netns_path, "/proc/4242/ns/net");
  EXPECT_EQ(meta->pid, 0);
}

TEST(OciConfig, ContainerdSandbox) {
  auto meta = parse_oci_config(kContainerdSandbox, RuntimeKind::kContainerd);
  ASSERT_TRUE(meta.ok()) << meta.error().message();
  EXPECT_TRUE(meta->sandbox);
  EXPECT_EQ(meta->name, "");
  EXPECT_EQ(meta->image, "");
  EXPECT_EQ(meta->pod_name, "nginx-app");
  EXPECT_EQ(meta->pod_namespace, "test-socketcollector");
  EXPECT_EQ(meta->pod_uid, kPodUid);
  EXPECT_EQ(meta->sandbox_id, kSandboxId);
  EXPECT_FALSE(meta->host_network);
  EXPECT_EQ(meta->netns_path, "/var/run/netns/cni-8f2c1b4e-3a5d-6e7f-8091-a2b3c4d5e6f7");
}

TEST(OciConfig, ContainerdHostNetworkSandbox) {
  auto meta = parse_oci_config(kContainerdHostNetSandbox, RuntimeKind::kContainerd);
  ASSERT_TRUE(meta.ok()) << meta.error().message();
  EXPECT_TRUE(meta->sandbox);
  EXPECT_EQ(meta->pod_name, "node-exporter-x2x9k");
  EXPECT_EQ(meta->pod_namespace, "monitoring");
  EXPECT_TRUE(meta->host_network);
  EXPECT_EQ(meta->netns_path, "");
}

TEST(OciConfig, CrioContainer) {
  auto meta = parse_oci_config(runtime_sample("crio-container.config.json"), RuntimeKind::kCrio);
  ASSERT_TRUE(meta.ok()) << meta.error().message();
  EXPECT_EQ(meta->runtime, RuntimeKind::kCrio);
  EXPECT_EQ(meta->name, "nginx");
  EXPECT_EQ(meta->image, "docker.io/library/nginx:1.25");
  EXPECT_FALSE(meta->sandbox);
  EXPECT_EQ(meta->pod_name, "nginx-app");
  EXPECT_EQ(meta->pod_namespace, "test-socketcollector");
  EXPECT_EQ(meta->pod_uid, kPodUid);
  EXPECT_EQ(meta->sandbox_id, kCrioSandboxId);
  // A container's Labels annotation holds only kubelet's keys: its pod's labels are the
  // sandbox's.
  EXPECT_TRUE(meta->pod_labels.empty());
  EXPECT_FALSE(meta->host_network);
  EXPECT_EQ(meta->netns_path, "/var/run/netns/2b8f4c1a-6d3e-4f5a-8b9c-0d1e2f3a4b5c");
}

TEST(OciConfig, CrioSandboxHoldsThePodLabels) {
  auto meta = parse_oci_config(kCrioSandbox, RuntimeKind::kCrio);
  ASSERT_TRUE(meta.ok()) << meta.error().message();
  EXPECT_TRUE(meta->sandbox);
  EXPECT_EQ(meta->name, "");
  EXPECT_EQ(meta->image, "registry.k8s.io/pause:3.9");
  EXPECT_EQ(meta->pod_name, "nginx-app");
  EXPECT_EQ(meta->pod_namespace, "test-socketcollector");
  EXPECT_EQ(meta->pod_uid, kPodUid);
  EXPECT_EQ(meta->sandbox_id, kCrioSandboxId);
  EXPECT_EQ(meta->pod_labels,
            (Labels{{"app", "web"}, {"pod-template-hash", "7c9f8d6b5"}, {"tier", "front&end"}}));
  EXPECT_FALSE(meta->host_network);
  EXPECT_EQ(meta->netns_path, "/var/run/netns/2b8f4c1a-6d3e-4f5a-8b9c-0d1e2f3a4b5c");
}

TEST(OciConfig, CrioHostNetworkSandboxNamedByKubeNameAndMetadata) {
  auto meta = parse_oci_config(kCrioHostNetSandbox, RuntimeKind::kCrio);
  ASSERT_TRUE(meta.ok()) << meta.error().message();
  EXPECT_EQ(meta->pod_name, "kube-proxy-7xk2p");
  EXPECT_EQ(meta->pod_namespace, "kube-system");
  EXPECT_EQ(meta->pod_uid, "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d");
  EXPECT_TRUE(meta->pod_labels.empty());
  EXPECT_TRUE(meta->host_network);
  EXPECT_EQ(meta->netns_path, "");
}

TEST(OciConfig, Podman) {
  auto meta = parse_oci_config(kPodmanConfig, RuntimeKind::kPodman);
  ASSERT_TRUE(meta.ok()) << meta.error().message();
  EXPECT_EQ(meta->runtime, RuntimeKind::kPodman);
  EXPECT_EQ(meta->name, "");  // in containers.json, not here
  EXPECT_EQ(meta->pod_name, "");
  EXPECT_FALSE(meta->sandbox);
  EXPECT_FALSE(meta->host_network);
  EXPECT_EQ(meta->netns_path, "/run/netns/netns-3c1f9b2e-8d7a-6e5f-4a3b-2c1d0e9f8a7b");
}

TEST(OciConfig, RuntimeFromAnnotationsWhenNotGiven) {
  EXPECT_EQ(parse_oci_config(kContainerdSandbox, RuntimeKind::kUnknown)->runtime,
            RuntimeKind::kContainerd);
  EXPECT_EQ(parse_oci_config(kCrioSandbox, RuntimeKind::kUnknown)->runtime, RuntimeKind::kCrio);
  EXPECT_EQ(parse_oci_config(kPodmanConfig, RuntimeKind::kUnknown)->runtime, RuntimeKind::kPodman);
  EXPECT_EQ(
      parse_oci_config(R"({"annotations":{"nerdctl/name":"web"}})", RuntimeKind::kUnknown)->name,
      "web");
  EXPECT_EQ(parse_oci_config("{}", RuntimeKind::kUnknown)->runtime, RuntimeKind::kUnknown);
}

TEST(OciConfig, NewNetworkNamespaceWithoutPathIsNotTheHosts) {
  auto meta =
      parse_oci_config(R"({"linux":{"namespaces":[{"type":"network"}]}})", RuntimeKind::kPodman);
  ASSERT_TRUE(meta.ok());
  EXPECT_FALSE(meta->host_network);
  EXPECT_EQ(meta->netns_path, "");
}

TEST(OciConfig, MissingFieldsAreEmpty) {
  for (std::string_view text :
       {"{}", R"({"linux":{}})", R"({"annotations":null,"linux":null})",
        R"({"annotations":[],"linux":[]})", R"({"annotations":{"io.kubernetes.cri.container-name":7,
        "io.kubernetes.cri.sandbox-name":["x"],"io.kubernetes.cri.image-name":null}})",
        R"({"linux":{"namespaces":[1,"network",null,{"type":7,"path":{}}]}})"}) {
    auto meta = parse_oci_config(text, RuntimeKind::kContainerd);
    ASSERT_TRUE(meta.ok()) << text << ": " << meta.error().message();
    EXPECT_EQ(meta->name, "") << text;
    EXPECT_EQ(meta->image, "") << text;
    EXPECT_EQ(meta->pod_name, "") << text;
    EXPECT_FALSE(meta->sandbox) << text;
    EXPECT_EQ(meta->netns_path, "") << text;
  }
  // A namespace list without a network entry is the host's network; no list says nothing.
  EXPECT_FALSE(parse_oci_config("{}", RuntimeKind::kContainerd)->host_network);
  EXPECT_TRUE(
      parse_oci_config(R"({"linux":{"namespaces":[]}})", RuntimeKind::kContainerd)->host_network);
}

TEST(OciConfig, EscapedKeysAndValues) {
  auto meta =
      parse_oci_config(R"({"annotations":{"io.kubernetes.cri.container\u002dname":"ng\u0069nx",)"
                       R"("io.kubernetes.cri.image-name":"registry.example\/team\/app:v1"}})",
                       RuntimeKind::kContainerd);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->name, "nginx");
  EXPECT_EQ(meta->image, "registry.example/team/app:v1");
}

TEST(OciConfig, MalformedJsonIsAnError) {
  std::string big = runtime_sample("containerd-container.config.json");
  for (std::string_view text :
       {std::string_view(big).substr(0, big.size() / 2), std::string_view(big).substr(1),
        std::string_view(""), std::string_view("[]"), std::string_view("null"),
        std::string_view(R"({"annotations":{"a":"b"})"), std::string_view("{} trailing"),
        std::string_view(R"({"annotations":{"a":"unterminated}})")}) {
    auto meta = parse_oci_config(text, RuntimeKind::kContainerd);
    EXPECT_FALSE(meta.ok()) << text.substr(0, 60);
  }
  auto meta = parse_oci_config(std::string_view(big).substr(0, 1000), RuntimeKind::kContainerd);
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(meta.error().message(), "OCI config: malformed JSON at byte 1000");
}

TEST(RuncState, InitProcessPid) {
  auto pid = parse_runc_state_pid(kRuncState);
  ASSERT_TRUE(pid.ok()) << pid.error().message();
  EXPECT_EQ(*pid, 4242);
}

TEST(RuncState, MissingPidIsZero) {
  auto pid = parse_runc_state_pid(R"({"id":"x","init_process_pid":null,"created":"t"})");
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(*pid, 0);
  EXPECT_EQ(*parse_runc_state_pid("{}"), 0);
}

TEST(RuncState, BadPidOrJsonIsAnError) {
  for (std::string_view text : {R"({"init_process_pid":-1})", R"({"init_process_pid":4294967296})",
                                R"({"init_process_pid":12.5})", R"({"init_process_pid":4242)", "",
                                "[4242]", R"({"init_process_pid":4242} x)"}) {
    EXPECT_FALSE(parse_runc_state_pid(text).ok()) << text;
  }
}

TEST(DockerConfig, PlainContainer) {
  auto meta = parse_docker_config(kDockerConfig);
  ASSERT_TRUE(meta.ok()) << meta.error().message();
  EXPECT_EQ(meta->runtime, RuntimeKind::kDocker);
  EXPECT_EQ(meta->id, "4f2e8d6c1b3a5f7e9d0c2b4a6f8e1d3c5b7a9f0e2d4c6b8a1f3e5d7c9b0a2f4e");
  EXPECT_EQ(meta->name, "web");
  EXPECT_EQ(meta->image, "nginx:1.25");
  EXPECT_EQ(meta->pid, 31337);
  EXPECT_FALSE(meta->sandbox);
  EXPECT_EQ(meta->pod_name, "");
  EXPECT_EQ(meta->sandbox_id, "");
  EXPECT_TRUE(meta->pod_labels.empty());  // a Docker container's labels are not a pod's
  EXPECT_FALSE(meta->host_network);
  EXPECT_EQ(meta->netns_path, "/var/run/docker/netns/9c8b7a6f5e4d");
}

TEST(DockerConfig, HostNetwork) {
  auto meta = parse_docker_config(kDockerHostNetConfig);
  ASSERT_TRUE(meta.ok()) << meta.error().message();
  EXPECT_EQ(meta->name, "node-exporter");
  EXPECT_EQ(meta->pid, 2001);
  EXPECT_TRUE(meta->host_network);
  EXPECT_EQ(meta->netns_path, "");
}

TEST(DockerConfig, InspectShapeWithHostConfig) {
  auto meta = parse_docker_config(
      R"({"Id":"cd","Name":"/x","HostConfig":{"NetworkMode":"host"},"NetworkSettings":)"
      R"({"Networks":{"bridge":{}},"SandboxKey":"/var/run/docker/netns/default"}})");
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->id, "cd");
  EXPECT_TRUE(meta->host_network);
  auto bridged = parse_docker_config(R"({"HostConfig":{"NetworkMode":"bridge"},)"
                                     R"("NetworkSettings":{"Networks":{"host":{}}}})");
  ASSERT_TRUE(bridged.ok());
  EXPECT_FALSE(bridged->host_network);  // HostConfig says so, whatever the networks look like
}

TEST(DockerConfig, DockershimSandbox) {
  auto meta = parse_docker_config(kDockershimSandbox);
  ASSERT_TRUE(meta.ok()) << meta.error().message();
  EXPECT_TRUE(meta->sandbox);
  EXPECT_EQ(meta->name, "");
  EXPECT_EQ(meta->pod_name, "nginx-app");
  EXPECT_EQ(meta->pod_namespace, "default");
  EXPECT_EQ(meta->pod_uid, "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b");
  EXPECT_EQ(meta->sandbox_id, "5a4b3c2d1e0f");
  EXPECT_EQ(meta->pod_labels, (Labels{{"app", "web"}, {"pod-template-hash", "5f6d"}}));
  EXPECT_EQ(meta->netns_path, "/var/run/docker/netns/77aa");
}

// Labels given twice: the last value, as Go's encoding/json decodes a map (moby's
// Config.Labels, CRI-O's Labels annotation, both map[string]string).
TEST(DockerConfig, TheLastOfADuplicateLabelWins) {
  auto meta = parse_docker_config(
      R"({"ID":"5a4b","Config":{"Labels":{"app":"web","io.kubernetes.docker.type":"podsandbox",)"
      R"("io.kubernetes.pod.name":"old","tier":"front","app":"db","io.kubernetes.pod.name":"new"}}})");
  ASSERT_TRUE(meta.ok()) << meta.error().message();
  EXPECT_EQ(meta->pod_name, "new");
  EXPECT_EQ(meta->pod_labels, (Labels{{"app", "db"}, {"tier", "front"}}));
}

TEST(OciConfig, CrioTheLastOfADuplicateLabelWins) {
  auto meta = parse_oci_config(
      R"({"annotations":{"io.kubernetes.cri-o.ContainerType":"sandbox",)"
      R"("io.kubernetes.cri-o.Labels":"{\"app\":\"web\",\"io.kubernetes.pod.uid\":\"u-1\",)"
      R"(\"app\":\"db\",\"io.kubernetes.pod.uid\":\"u-2\"}"}})",
      RuntimeKind::kCrio);
  ASSERT_TRUE(meta.ok()) << meta.error().message();
  EXPECT_EQ(meta->pod_uid, "u-2");
  EXPECT_EQ(meta->pod_labels, (Labels{{"app", "db"}}));
}

TEST(DockerConfig, DockershimContainer) {
  auto meta = parse_docker_config(kDockershimContainer);
  ASSERT_TRUE(meta.ok()) << meta.error().message();
  EXPECT_FALSE(meta->sandbox);
  EXPECT_EQ(meta->name, "nginx");
  EXPECT_EQ(meta->pod_name, "nginx-app");
  EXPECT_EQ(meta->sandbox_id, "5a4b3c2d1e0f");
  EXPECT_EQ(meta->pid, 5230);
  EXPECT_TRUE(meta->pod_labels.empty());
  EXPECT_EQ(meta->netns_path, "");  // it shares the sandbox's, which hostconfig.json names
}

TEST(DockerConfig, MissingFieldsAreEmpty) {
  for (std::string_view text :
       {"{}", R"({"Config":null,"State":null,"NetworkSettings":null})",
        R"({"Config":{"Labels":null,"Image":7},"State":{"Pid":"9"},"Name":5})",
        R"({"State":{"Pid":-4},"Config":{"Labels":{"io.kubernetes.docker.type":1}}})"}) {
    auto meta = parse_docker_config(text);
    ASSERT_TRUE(meta.ok()) << text << ": " << meta.error().message();
    EXPECT_EQ(meta->name, "") << text;
    EXPECT_EQ(meta->image, "") << text;
    EXPECT_EQ(meta->pid, 0) << text;
    EXPECT_FALSE(meta->sandbox) << text;
    EXPECT_FALSE(meta->host_network) << text;
  }
}

TEST(DockerConfig, MalformedJsonIsAnError) {
  for (std::string_view text :
       {std::string_view(kDockerConfig).substr(0, 300), std::string_view(""),
        std::string_view("[]"), std::string_view(R"({"Name":"/a",})")}) {
    EXPECT_FALSE(parse_docker_config(text).ok()) << text.substr(0, 60);
  }
}

TEST(DockerHostConfig, NetworkMode) {
  EXPECT_EQ(*parse_docker_network_mode(
                R"({"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"json-file",)"
                R"("Config":{}},"NetworkMode":"host","PortBindings":{},"RestartPolicy":)"
                R"({"Name":"no","MaximumRetryCount":0}})"),
            "host");
  EXPECT_EQ(*parse_docker_network_mode(R"({"NetworkMode":"container:5a4b3c2d1e0f"})"),
            "container:5a4b3c2d1e0f");
  EXPECT_EQ(*parse_docker_network_mode(R"({"NetworkMode":"bridge"})"), "bridge");
  EXPECT_EQ(*parse_docker_network_mode("{}"), "");
  EXPECT_FALSE(parse_docker_network_mode(R"({"NetworkMode":"host")").ok());
}

// podman 4's overlay-containers/containers.json: one entry per container, metadata a JSON
// document in a string. A CRI-O entry for comparison.
constexpr std::string_view kContainersJson =
    R"([{"id":"6b2f0d1c9e8a7f6e5d4c3b2a19081726354453627180918a7b6c5d4e3f2a1b0c",)"
    R"("names":["web"],"image":"a8758716bb6aa4d90071160d27028fe4eaee7ce8166221a97d30440c8eac2be6",)"
    R"("layer":"4e5f6a7b","metadata":"{\"image-name\":\"docker.io/library/nginx:1.25\",)"
    R"(\"image-id\":\"a8758716bb6a\",\"name\":\"web\",\"created-at\":1714641607,)"
    R"(\"mountlabel\":\"system_u:object_r:container_file_t:s0:c1,c2\"}",)"
    R"("big-data-names":["volatile-container-data"],"big-data-sizes":{"volatile-container-data":4106},)"
    R"("created":"2024-05-02T09:20:07.1Z","flags":{"MountLabel":"","ProcessLabel":""}},)"
    R"({"id":"1a2b3c","names":["k8s_POD_nginx-app_default_0e1f_0"],"image":"e6f18160",)"
    R"("metadata":"{\"pod-name\":\"k8s_nginx-app_default_0e1f_0\",\"pod-id\":\"1a2b3c\",)"
    R"(\"image-name\":\"registry.k8s.io/pause:3.9\",\"name\":\"k8s_POD_nginx-app\"}"},)"
    R"({"id":"77","metadata":"not json"},{"names":["no id"]},"not an object"])";

TEST(StorageContainers, NamesAndImages) {
  auto list = parse_storage_containers(kContainersJson);
  ASSERT_TRUE(list.ok()) << list.error().message();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].id, "6b2f0d1c9e8a7f6e5d4c3b2a19081726354453627180918a7b6c5d4e3f2a1b0c");
  EXPECT_EQ((*list)[0].name, "web");
  EXPECT_EQ((*list)[0].image, "docker.io/library/nginx:1.25");
  EXPECT_EQ((*list)[1].name, "k8s_POD_nginx-app_default_0e1f_0");
  EXPECT_EQ((*list)[1].image, "registry.k8s.io/pause:3.9");
  EXPECT_EQ((*list)[2].id, "77");
  EXPECT_EQ((*list)[2].name, "");
  EXPECT_EQ((*list)[2].image, "");
  EXPECT_TRUE(parse_storage_containers("[]")->empty());
  EXPECT_FALSE(parse_storage_containers("{}").ok());
  EXPECT_FALSE(parse_storage_containers(kContainersJson.substr(0, 100)).ok());
}

TEST(Pidfile, DecimalPid) {
  EXPECT_EQ(parse_pidfile("4242"), 4242);
  EXPECT_EQ(parse_pidfile("4242\n"), 4242);
  EXPECT_EQ(parse_pidfile(""), std::nullopt);
  EXPECT_EQ(parse_pidfile("0"), std::nullopt);
  EXPECT_EQ(parse_pidfile("-5"), std::nullopt);
  EXPECT_EQ(parse_pidfile("42x"), std::nullopt);
  EXPECT_EQ(parse_pidfile("99999999999"), std::nullopt);
}

}  // namespace
}  // namespace socksnap
