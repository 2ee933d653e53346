#!/usr/bin/env python3
"""Writes host_tree/: a node as socksnap sees it under --host-root, recorded small.

/proc holds what the census and the descriptor scan read (stat, cgroup, ns/net, fd/), with the
links as a copy of the live /proc keeps them: ns/net reads "net:[INODE]" and fd/N "socket:[INODE]",
pointing nowhere. The runtimes' state is in their own places and formats: containerd's bundles and
runc's state, CRI-O's and podman's containers/storage, Docker's config.v2.json. Nothing reads
/sys/fs/cgroup: a process's container comes from its /proc/PID/cgroup.

The containerd pod's network namespace is two_families.dump's, so that the dump replayed on this
tree gives its sockets owners. The unit tests (attribution_test.cpp) assert what this tree says;
change both together. Run from this directory.

pid   comm           container (runtime)              pod (namespace/name)        netns
1     systemd        -                                -                           host
410   sshd           -                                -                           host
1500  sshd           -                                -                           host
2000  pause          web's sandbox (containerd)       shop/web                    4026532177
2100  nginx          nginx (containerd)               shop/web                    4026532177
2101  nginx          nginx (containerd)               shop/web                    4026532177
2500  node_exporter  node-exporter (containerd)       monitoring/node-exporter    host
3100  api-server     api (cri-o)                      shop/api-7d9f               4026532300
4100  redis-server   redis (docker)                   -                           4026532400
5100  postgres       db (podman)                      -                           4026532500
"""
import json
import os
import shutil

HOST_NETNS = 4026531840
WEB_NETNS = 4026532177  # two_families.dump's namespace
API_NETNS = 4026532300
REDIS_NETNS = 4026532400
DB_NETNS = 4026532500

WEB_UID = "0b1e7c3a-1d2f-4a5b-8c6d-7e8f9a0b1c2d"
EXPORTER_UID = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
API_UID = "9f8e7d6c-5b4a-4938-8271-6a5b4c3d2e1f"

WEB_SANDBOX = "a1" * 32
NGINX = "a2" * 32
EXPORTER = "a3" * 32
EXPORTER_SANDBOX = "a4" * 32
API = "b1" * 32
API_SANDBOX = "b2" * 32
REDIS = "d1" * 32
DB = "e1" * 32

ROOT = "host_tree"


def systemd_pod_slice(qos, uid):
    return (f"/kubepods.slice/kubepods-{qos}.slice/"
            f"kubepods-{qos}-pod{uid.replace('-', '_')}.slice")


# pid -> comm, cgroup v2 path, netns, {fd: link}
PROCESSES = {
    1: ("systemd", "/init.scope", HOST_NETNS, {0: "/dev/null"}),
    410: ("sshd", "/system.slice/ssh.service", HOST_NETNS, {3: "socket:[3001]"}),
    1500: ("sshd", "/user.slice/user-1000.slice/session-3.scope", HOST_NETNS,
           {3: "socket:[3001]", 4: "socket:[3002]", 5: "pipe:[88]", 6: "/dev/null"}),
    # containerd, cgroupfs driver: the path names the pod but not the runtime.
    2000: ("pause", f"/kubepods/besteffort/pod{WEB_UID}/{WEB_SANDBOX}", WEB_NETNS,
           {0: "/dev/null"}),
    2100: ("nginx", f"/kubepods/besteffort/pod{WEB_UID}/{NGINX}", WEB_NETNS,
           {6: "socket:[13491]", 7: "socket:[13492]"}),
    2101: ("nginx", f"/kubepods/besteffort/pod{WEB_UID}/{NGINX}", WEB_NETNS,
           {6: "socket:[13491]", 9: "socket:[13494]"}),
    # containerd, systemd driver, on the host's network.
    2500: ("node_exporter",
           f"{systemd_pod_slice('burstable', EXPORTER_UID)}/cri-containerd-{EXPORTER}.scope",
           HOST_NETNS, {3: "socket:[7001]"}),
    3100: ("api-server", f"{systemd_pod_slice('burstable', API_UID)}/crio-{API}.scope",
           API_NETNS, {3: "socket:[4001]"}),
    4100: ("redis-server", f"/system.slice/docker-{REDIS}.scope", REDIS_NETNS,
           {6: "socket:[5001]"}),
    5100: ("postgres", f"/machine.slice/libpod-{DB}.scope", DB_NETNS, {5: "socket:[6001]"}),
}


def write(path, text):
    full = os.path.join(ROOT, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)


def link(path, target):
    full = os.path.join(ROOT, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    os.symlink(target, full)


def compact(value):
    return json.dumps(value, separators=(",", ":"))


def proc():
    for pid, (comm, cgroup, netns, fds) in PROCESSES.items():
        start = 1000 + pid  # field 22, clock ticks after boot
        write(f"/proc/{pid}/stat",
              f"{pid} ({comm}) S 1 {pid} {pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 {start} "
              "0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n")
        write(f"/proc/{pid}/cgroup", f"0::{cgroup}\n")
        link(f"/proc/{pid}/ns/net", f"net:[{netns}]")
        os.makedirs(os.path.join(ROOT, f"proc/{pid}/fd"), exist_ok=True)
        for fd, target in fds.items():
            link(f"/proc/{pid}/fd/{fd}", target)


def containerd():
    tasks = "/run/containerd/io.containerd.runtime.v2.task/k8s.io"
    runc = "/run/containerd/runc/k8s.io"

    def bundle(cid, pid, annotations, namespaces):
        write(f"{tasks}/{cid}/config.json",
              compact({"ociVersion": "1.1.0", "process": {"args": ["/run"]},
                       "annotations": annotations, "linux": {"namespaces": namespaces}}))
        write(f"{runc}/{cid}/state.json",
              compact({"id": cid, "init_process_pid": pid, "status": "running"}))

    pod_ns = [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
              {"type": "network", "path": "/var/run/netns/cni-5e1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"}]
    web = {"io.kubernetes.cri.sandbox-id": WEB_SANDBOX,
           "io.kubernetes.cri.sandbox-name": "web",
           "io.kubernetes.cri.sandbox-namespace": "shop",
           "io.kubernetes.cri.sandbox-uid": WEB_UID}
    bundle(WEB_SANDBOX, 2000, {"io.kubernetes.cri.container-type": "sandbox", **web}, pod_ns)
    joined = [{"type": "pid"}, {"type": "ipc", "path": "/proc/2000/ns/ipc"},
              {"type": "uts", "path": "/proc/2000/ns/uts"}, {"type": "mount"},
              {"type": "network", "path": "/proc/2000/ns/net"}]
    bundle(NGINX, 2100, {"io.kubernetes.cri.container-name": "nginx",
                         "io.kubernetes.cri.container-type": "container",
                         "io.kubernetes.cri.image-name": "docker.io/library/nginx:1.25", **web},
           joined)
    # hostNetwork: no network namespace of its own in the spec.
    bundle(EXPORTER, 2500,
           {"io.kubernetes.cri.container-name": "node-exporter",
            "io.kubernetes.cri.container-type": "container",
            "io.kubernetes.cri.image-name": "quay.io/prometheus/node-exporter:v1.8.1",
            "io.kubernetes.cri.sandbox-id": EXPORTER_SANDBOX,
            "io.kubernetes.cri.sandbox-name": "node-exporter",
            "io.kubernetes.cri.sandbox-namespace": "monitoring",
            "io.kubernetes.cri.sandbox-uid": EXPORTER_UID},
           [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}])


def crio():
    store = "/run/containers/storage/overlay-containers"
    kube = {"io.kubernetes.pod.name": "api-7d9f", "io.kubernetes.pod.namespace": "shop",
            "io.kubernetes.pod.uid": API_UID}
    # The pod's labels as CRI-O writes them: a JSON string. "app" is given twice; Go's
    # encoding/json, which kubelet and CRI-O read it with, keeps the last.
    labels = ('{"app":"api","tier":"backend","app":"api-v2",'
              '"io.kubernetes.pod.name":"api-7d9f","io.kubernetes.pod.namespace":"shop",'
              f'"io.kubernetes.pod.uid":"{API_UID}"}}')
    write(f"{store}/{API_SANDBOX}/userdata/config.json", compact({
        "ociVersion": "1.1.0",
        "annotations": {"io.container.manager": "cri-o",
                        "io.kubernetes.cri-o.ContainerType": "sandbox",
                        "io.kubernetes.cri-o.SandboxID": API_SANDBOX,
                        "io.kubernetes.cri-o.Labels": labels, **kube},
        "linux": {"namespaces": [{"type": "network", "path": "/var/run/netns/77c1d2e3"}]}}))
    write(f"{store}/{API}/userdata/config.json", compact({
        "ociVersion": "1.1.0",
        "annotations": {"io.container.manager": "cri-o",
                        "io.kubernetes.cri-o.ContainerType": "container",
                        "io.kubernetes.cri-o.SandboxID": API_SANDBOX,
                        "io.kubernetes.cri-o.ImageName": "registry.example/shop/api:2.1",
                        "io.kubernetes.container.name": "api",
                        "io.kubernetes.cri-o.Labels": compact(
                            {"io.kubernetes.container.name": "api", **kube}),
                        **kube},
        "linux": {"namespaces": [{"type": "network", "path": "/var/run/netns/77c1d2e3"}]}}))
    write(f"{store}/{API}/userdata/pidfile", "3100")


def docker():
    containers = "/var/lib/docker/containers"
    write(f"{containers}/{REDIS}/config.v2.json", compact({
        "State": {"Running": True, "Pid": 4100}, "ID": REDIS,
        "Config": {"Image": "redis:7", "Labels": {}},
        "NetworkSettings": {"Networks": {"bridge": {}},
                            "SandboxKey": "/var/run/docker/netns/4f2a9b7c1d3e"},
        "Name": "/redis"}))
    write(f"{containers}/{REDIS}/hostconfig.json", compact({"NetworkMode": "bridge"}))


def podman():
    graph = "/var/lib/containers/storage/overlay-containers"
    write(f"{graph}/{DB}/userdata/config.json", compact({
        "ociVersion": "1.1.0", "annotations": {"io.container.manager": "libpod"},
        "linux": {"namespaces": [{"type": "pid"},
                                 {"type": "network", "path": "/run/netns/netns-8d7c6b5a"}]}}))
    write(f"{graph}/containers.json", compact([{
        "id": DB, "names": ["db"], "image": "4e5f", "layer": "6a7b",
        "metadata": compact({"image-name": "docker.io/library/postgres:16", "name": "db"})}]))
    write(f"/run/containers/storage/overlay-containers/{DB}/userdata/pidfile", "5100\n")


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    proc()
    containerd()
    crio()
    docker()
    podman()


if __name__ == "__main__":
    main()
