// /proc/PID/cgroup of processes in each runtime's containers, as the host sees them, on cgroup
// v1 (a line per hierarchy) and v2 ("0::/path").
#include "enrich/cgroup_identity.h"

#include <gtest/gtest.h>

#include <string>

namespace socksnap {
namespace {

const std::string kId = "3f1c9a7be25d4c8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b";
const std::string kInner = "e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4";
const std::string kUid = "0f4c2a9e-3b7d-4e1a-9c55-7a2b1d3e4f60";
const std::string kUidSystemd = "0f4c2a9e_3b7d_4e1a_9c55_7a2b1d3e4f60";
const std::string kStaticUid =
    "6c1f0e7d2b9a48c3a5e4d6f70819a2b3";  // kubelet's hash for a static pod

// A cgroup v1 (hybrid) file with every controller at `path`, as runc leaves a container's
// processes; the rdma, misc and unified lines stay at the root.
std::string v1(const std::string& path) {
  std::string out = "13:misc:/\n12:rdma:/\n";
  for (const char* controller :
       {"11:pids", "10:hugetlb", "9:net_cls,net_prio", "8:perf_event", "7:cpuset", "6:memory",
        "5:devices", "4:freezer", "3:blkio", "2:cpu,cpuacct", "1:name=systemd"}) {
    out += std::string(controller) + ":" + path + "\n";
  }
  return out + "0::/\n";
}

std::string v2(const std::string& path) {
  return "0::" + path + "\n";
}

struct CgroupCase {
  const char* name;
  std::string text;
  RuntimeKind runtime;
  std::string id;   // empty: no container
  std::string uid;  // expected pod uid
};

void PrintTo(const CgroupCase& c, std::ostream* os) {
  *os << c.name;
}

class CgroupIdentityTest : public ::testing::TestWithParam<CgroupCase> {};

TEST_P(CgroupIdentityTest, Parses) {
  const CgroupCase& c = GetParam();
  auto got = parse_proc_cgroup(c.text);
  if (c.id.empty()) {
    EXPECT_FALSE(got.has_value()) << "found " << got->container_id;
    return;
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->container_id, c.id);
  EXPECT_EQ(got->runtime, c.runtime) << runtime_name(got->runtime);
  EXPECT_EQ(got->pod_uid, c.uid);
}

constexpr auto kUnknown = RuntimeKind::kUnknown;
constexpr auto kContainerd = RuntimeKind::kContainerd;
constexpr auto kCrio = RuntimeKind::kCrio;
constexpr auto kDocker = RuntimeKind::kDocker;
constexpr auto kPodman = RuntimeKind::kPodman;

const std::string kSystemdPod =
    "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kUidSystemd + ".slice/";

INSTANTIATE_TEST_SUITE_P(
    Layouts, CgroupIdentityTest,
    ::testing::Values(
        // containerd, cgroupfs driver: a bare id, which Docker under dockershim also makes.
        CgroupCase{"containerd_cgroupfs_besteffort_v1",
                   v1("/kubepods/besteffort/pod" + kUid + "/" + kId), kUnknown, kId, kUid},
        CgroupCase{"containerd_cgroupfs_burstable_v2",
                   v2("/kubepods/burstable/pod" + kUid + "/" + kId), kUnknown, kId, kUid},
        CgroupCase{"containerd_cgroupfs_guaranteed_v1", v1("/kubepods/pod" + kUid + "/" + kId),
                   kUnknown, kId, kUid},
        CgroupCase{"containerd_cgroupfs_static_pod",
                   v2("/kubepods/burstable/pod" + kStaticUid + "/" + kId), kUnknown, kId,
                   kStaticUid},
        // containerd, systemd driver.
        CgroupCase{"containerd_systemd_besteffort_v2",
                   v2(kSystemdPod + "cri-containerd-" + kId + ".scope"), kContainerd, kId, kUid},
        CgroupCase{"containerd_systemd_guaranteed_v2",
                   v2("/kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/cri-containerd-" +
                      kId + ".scope"),
                   kContainerd, kId, kUid},
        CgroupCase{"containerd_systemd_burstable_v1",
                   v1("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
                      kUidSystemd + ".slice/cri-containerd-" + kId + ".scope"),
                   kContainerd, kId, kUid},
        // The agent reads /proc from inside its own cgroup namespace: paths climb out with "..".
        CgroupCase{"containerd_seen_from_another_cgroupns",
                   v2("/../../kubepods/besteffort/pod" + kUid + "/" + kId), kUnknown, kId, kUid},
        CgroupCase{"nerdctl", v2("/system.slice/nerdctl-" + kId + ".scope"), kContainerd, kId, ""},
        // CRI-O.
        CgroupCase{"crio_systemd_v2", v2(kSystemdPod + "crio-" + kId + ".scope"), kCrio, kId, kUid},
        CgroupCase{"crio_systemd_v2_container_subgroup",
                   v2(kSystemdPod + "crio-" + kId + ".scope/container"), kCrio, kId, kUid},
        CgroupCase{"crio_cgroupfs_v1", v1("/kubepods/besteffort/pod" + kUid + "/crio-" + kId),
                   kCrio, kId, kUid},
        CgroupCase{"crio_conmon_is_not_the_container",
                   v2(kSystemdPod + "crio-conmon-" + kId + ".scope"), kUnknown, "", ""},
        // Docker.
        CgroupCase{"docker_cgroupfs_v1", v1("/docker/" + kId), kDocker, kId, ""},
        CgroupCase{"docker_cgroupfs_v2", v2("/docker/" + kId), kDocker, kId, ""},
        CgroupCase{"docker_systemd_v2", v2("/system.slice/docker-" + kId + ".scope"), kDocker, kId,
                   ""},
        CgroupCase{"docker_systemd_v1", v1("/system.slice/docker-" + kId + ".scope"), kDocker, kId,
                   ""},
        CgroupCase{"cri_dockerd_systemd", v2(kSystemdPod + "docker-" + kId + ".scope"), kDocker,
                   kId, kUid},
        // podman, rootful.
        CgroupCase{"podman_systemd_v2", v2("/machine.slice/libpod-" + kId + ".scope"), kPodman, kId,
                   ""},
        CgroupCase{"podman_systemd_v2_container_subgroup",
                   v2("/machine.slice/libpod-" + kId + ".scope/container"), kPodman, kId, ""},
        CgroupCase{"podman_cgroupfs_v1", v1("/libpod_parent/libpod-" + kId), kPodman, kId, ""},
        CgroupCase{
            "podman_pod",
            v2("/machine.slice/machine-libpod_pod_" + kInner + ".slice/libpod-" + kId + ".scope"),
            kPodman, kId, ""},
        CgroupCase{"podman_conmon_is_not_the_container",
                   v2("/machine.slice/libpod-conmon-" + kId + ".scope"), kUnknown, "", ""},
        // podman, rootless (systemd user instance; older versions use user.slice, newer
        // app.slice).
        CgroupCase{
            "podman_rootless_user_slice",
            v2("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId + ".scope"),
            kPodman, kId, ""},
        CgroupCase{
            "podman_rootless_app_slice",
            v2("/user.slice/user-1000.slice/user@1000.service/app.slice/libpod-" + kId + ".scope"),
            kPodman, kId, ""},
        CgroupCase{"podman_rootless_conmon",
                   v2("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-" +
                      kId + ".scope"),
                   kUnknown, "", ""},
        // Nested: the innermost container, and the pod between it and the one around it.
        CgroupCase{
            "kind_node_v2",
            v2("/system.slice/docker-" + kId +
               ".scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
               "kubelet-kubepods-besteffort-pod" +
               kUidSystemd + ".slice/cri-containerd-" + kInner + ".scope"),
            kContainerd, kInner, kUid},
        CgroupCase{"kind_node_itself", v2("/system.slice/docker-" + kId + ".scope/init.scope"),
                   kDocker, kId, ""},
        CgroupCase{"kind_node_cgroupfs_v1",
                   v1("/docker/" + kId + "/kubepods/besteffort/pod" + kUid + "/" + kInner),
                   kUnknown, kInner, kUid},
        CgroupCase{"docker_in_docker_v1", v1("/docker/" + kId + "/docker/" + kInner), kDocker,
                   kInner, ""},
        CgroupCase{"docker_in_a_pod",
                   v2("/kubepods/besteffort/pod" + kUid + "/" + kId + "/docker/" + kInner), kDocker,
                   kInner, ""},
        // Host processes.
        CgroupCase{"session", v2("/user.slice/user-1000.slice/session-3.scope"), kUnknown, "", ""},
        CgroupCase{"service", v2("/system.slice/sshd.service"), kUnknown, "", ""},
        CgroupCase{"containerd_itself", v1("/system.slice/containerd.service"), kUnknown, "", ""},
        CgroupCase{"docker_daemon", v2("/system.slice/docker.service"), kUnknown, "", ""},
        CgroupCase{"root_v2", v2("/"), kUnknown, "", ""},
        CgroupCase{"root_v1", v1("/"), kUnknown, "", ""},
        CgroupCase{"init_scope", v2("/init.scope"), kUnknown, "", ""},
        CgroupCase{"kubelet_pod_slice_only",
                   v2("/kubepods.slice/kubepods-besteffort.slice/"
                      "kubepods-besteffort-pod" +
                      kUidSystemd + ".slice"),
                   kUnknown, "", ""},
        // Not quite ids.
        CgroupCase{"short_id", v2("/docker/" + kId.substr(1)), kUnknown, "", ""},
        CgroupCase{"uppercase_id", v2("/system.slice/docker-3F1C" + kId.substr(4) + ".scope"),
                   kUnknown, "", ""},
        CgroupCase{"pod_outside_kubepods", v2("/pod" + kUid + "/" + kId), kUnknown, kId, ""},
        CgroupCase{"empty", "", kUnknown, "", ""},
        CgroupCase{"no_colons", "garbage\n", kUnknown, "", ""},
        CgroupCase{"no_newline_at_end", "0::/docker/" + kId, kDocker, kId, ""}),
    [](const ::testing::TestParamInfo<CgroupCase>& param) {
      return std::string(param.param.name);
    });

TEST(RuntimeName, NamesEachKind) {
  EXPECT_EQ(runtime_name(RuntimeKind::kContainerd), "containerd");
  EXPECT_EQ(runtime_name(RuntimeKind::kCrio), "cri-o");
  EXPECT_EQ(runtime_name(RuntimeKind::kDocker), "docker");
  EXPECT_EQ(runtime_name(RuntimeKind::kPodman), "podman");
  EXPECT_EQ(runtime_name(RuntimeKind::kUnknown), "");
}

TEST(ParseProcCgroup, FirstLineNamingAContainerWins) {
  std::string text = "5:memory:/\n4:pids:/docker/" + kId + "\n3:cpu:/docker/" + kInner + "\n";
  auto got = parse_proc_cgroup(text);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->container_id, kId);
}

}  // namespace
}  // namespace socksnap
