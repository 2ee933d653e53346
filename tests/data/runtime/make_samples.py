#!/usr/bin/env python3
"""Writes the real-shaped runtime state files the unit tests read.

Shaped after what the runtimes write (field order, Go's encoding/json escaping of <, > and &,
containerd's compact output, CRI-O's tab-indented runtime-tools output), with a Kubernetes
namespace's worth of service environment variables and a default seccomp profile, so that the
containerd config.json is as large as a real one (~30 KB). Run from this directory.
"""
import json

POD_UID = "5d3b4a8e-7c1f-4e2a-9b6d-0f1e2d3c4b5a"
SANDBOX_ID = "7f3a9c2e5b8d1f4a6c0e9b2d5f8a1c4e7b0d3f6a9c2e5b8d1f4a7c0e3b6d9f2a"
CONTAINER_ID = "c0ffee4a1b2c3d4e5f60718293a4b5c6d7e8f9011223344556677889900aabbc"
CRIO_SANDBOX_ID = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"
CRIO_CONTAINER_ID = "9e8d7c6b5a49382716f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f"

SYSCALLS = """accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2
dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait
epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64
fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl
fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64
fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_time64 futex_waitv
futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid
getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid
getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list
getrusage getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32
getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl
io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup
io_submit io_uring_enter io_uring_register io_uring_setup ipc kill landlock_add_rule
landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen
listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise
membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2
mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive
mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget
msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat
_newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc
pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64
process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink
readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr
rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending
rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam
sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval
sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam
sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32
setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority
setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32
setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32
setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask
sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat
sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete
timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create
timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate
truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat utimensat_time64 utimes
vfork vmsplice wait4 waitid waitpid write writev""".split()

CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]

MASKED = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
          "/sys/firmware"]
READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

SERVICES = ["kubernetes", "nginx-app", "redis-master", "redis-replica", "postgres", "api-gateway",
            "auth-service", "billing", "catalog", "checkout", "frontend", "image-resizer",
            "inventory", "mailer", "metrics-exporter", "notification", "orders", "payments",
            "recommendation", "search", "session-store", "shipping", "user-profile", "websocket",
            "kafka", "zookeeper", "elasticsearch", "kibana", "grafana", "prometheus",
            "alertmanager", "jaeger-query", "jaeger-collector", "otel-collector", "vault",
            "consul", "memcached", "rabbitmq", "minio", "keycloak", "argocd-server",
            "argocd-repo-server", "cert-manager", "cert-manager-webhook", "coredns-metrics",
            "external-dns", "fluent-bit", "loki", "loki-gateway", "tempo", "thanos-query",
            "thanos-store", "nats", "nats-streaming", "clickhouse", "cassandra", "mongodb",
            "mysql-primary", "mysql-secondary", "etcd-client", "ingress-nginx-controller",
            "ingress-nginx-admission", "istiod", "istio-ingressgateway", "linkerd-dst",
            "webhook-receiver", "feature-flags", "pdf-renderer", "geo-ip", "rate-limiter"]


def go_json(value, indent=None):
    """Go's encoding/json: compact (or MarshalIndent with tabs), HTML characters escaped."""
    if indent is None:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    else:
        text = json.dumps(value, indent="\t", ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028"))


def service_env():
    env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOSTNAME=nginx-app", "NGINX_VERSION=1.25.3", "NJS_VERSION=0.8.2", "PKG_RELEASE=1~bookworm",
           "GREETING=caf\u00e9 <b>&</b> \"quoted\" \\ back\tslash"]
    for i, name in enumerate(SERVICES):
        var = name.upper().replace("-", "_")
        ip = f"10.96.{i // 200}.{i % 200 + 10}"
        port = 443 if name == "kubernetes" else 6379 if "redis" in name else 8080
        env += [f"{var}_SERVICE_HOST={ip}", f"{var}_SERVICE_PORT={port}",
                f"{var}_PORT=tcp://{ip}:{port}", f"{var}_PORT_{port}_TCP=tcp://{ip}:{port}",
                f"{var}_PORT_{port}_TCP_PROTO=tcp", f"{var}_PORT_{port}_TCP_PORT={port}",
                f"{var}_PORT_{port}_TCP_ADDR={ip}"]
    return env


def seccomp():
    syscalls = [{"names": SYSCALLS, "action": "SCMP_ACT_ALLOW"},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 131072, "op": "SCMP_CMP_EQ"}]},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}]},
                {"names": ["arch_prctl", "modify_ldt"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}]},
                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]}]
    return {"defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": syscalls}


def mounts(extra):
    base = [
        {"destination": "/proc", "type": "proc", "source": "proc",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    ]
    return base + extra


def containerd_container():
    sandbox_state = f"/run/containerd/io.containerd.grpc.v1.cri/sandboxes/{SANDBOX_ID}"
    pod_dir = f"/var/lib/kubelet/pods/{POD_UID}"
    extra = [
        {"destination": "/etc/hosts", "type": "bind", "source": f"{pod_dir}/etc-hosts",
         "options": ["rbind", "rprivate", "rw"]},
        {"destination": "/dev/termination-log", "type": "bind",
         "source": f"{pod_dir}/containers/nginx/1b2c3d4e", "options": ["rbind", "rprivate", "rw"]},
        {"destination": "/etc/hostname", "type": "bind", "source": f"{sandbox_state}/hostname",
         "options": ["rbind", "rprivate", "rw"]},
        {"destination": "/etc/resolv.conf", "type": "bind",
         "source": f"{sandbox_state}/resolv.conf", "options": ["rbind", "rprivate", "rw"]},
        {"destination": "/dev/shm", "type": "bind", "source": f"{sandbox_state}/shm",
         "options": ["rbind", "rprivate", "rw"]},
        {"destination": "/var/run/secrets/kubernetes.io/serviceaccount", "type": "bind",
         "source": f"{pod_dir}/volumes/kubernetes.io~projected/kube-api-access-x7k2p",
         "options": ["rbind", "rprivate", "ro"]},
    ]
    return {
        "ociVersion": "1.0.2-dev",
        "process": {
            "user": {"uid": 0, "gid": 0, "additionalGids": [0, 1, 2, 3, 4, 6, 10, 11, 20, 26, 27]},
            "args": ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"],
            "env": service_env(),
            "cwd": "/",
            "capabilities": {"bounding": CAPS, "effective": CAPS, "permitted": CAPS},
            "noNewPrivileges": False,
            "apparmorProfile": "cri-containerd.apparmor.d",
            "oomScoreAdj": 1000,
        },
        "root": {"path": "rootfs"},
        "mounts": mounts(extra),
        "annotations": {
            "io.kubernetes.cri.container-name": "nginx",
            "io.kubernetes.cri.container-type": "container",
            "io.kubernetes.cri.image-name": "docker.io/library/nginx:1.25",
            "io.kubernetes.cri.sandbox-id": SANDBOX_ID,
            "io.kubernetes.cri.sandbox-name": "nginx-app",
            "io.kubernetes.cri.sandbox-namespace": "test-socketcollector",
            "io.kubernetes.cri.sandbox-uid": POD_UID,
        },
        "linux": {
            "resources": {
                "devices": [{"allow": False, "access": "rwm"}],
                "memory": {"limit": 268435456, "swap": 268435456},
                "cpu": {"shares": 102, "quota": 50000, "period": 100000},
            },
            "cgroupsPath": f"/kubepods/burstable/pod{POD_UID}/{CONTAINER_ID}",
            "namespaces": [
                {"type": "pid"},
                {"type": "ipc", "path": "/proc/4242/ns/ipc"},
                {"type": "uts", "path": "/proc/4242/ns/uts"},
                {"type": "mount"},
                {"type": "network", "path": "/proc/4242/ns/net"},
            ],
            "seccomp": seccomp(),
            "maskedPaths": MASKED,
            "readonlyPaths": READONLY,
        },
    }


def crio_container():
    labels = {"io.kubernetes.container.name": "nginx", "io.kubernetes.pod.name": "nginx-app",
              "io.kubernetes.pod.namespace": "test-socketcollector",
              "io.kubernetes.pod.uid": POD_UID}
    kube_annotations = {"io.kubernetes.container.hash": "8e2a1f3c",
                        "io.kubernetes.container.restartCount": "0",
                        "io.kubernetes.container.terminationMessagePath": "/dev/termination-log",
                        "io.kubernetes.pod.terminationGracePeriod": "30"}
    annotations = dict(kube_annotations)
    annotations.update(labels)
    userdata = f"/run/containers/storage/overlay-containers/{CRIO_CONTAINER_ID}/userdata"
    annotations.update({
        "io.container.manager": "cri-o",
        "io.kubernetes.cri-o.Annotations": go_json(kube_annotations),
        "io.kubernetes.cri-o.ContainerID": CRIO_CONTAINER_ID,
        "io.kubernetes.cri-o.ContainerName": f"k8s_nginx_nginx-app_test-socketcollector_{POD_UID}_0",
        "io.kubernetes.cri-o.ContainerType": "container",
        "io.kubernetes.cri-o.Created": "2024-05-02T09:14:07.123456789Z",
        "io.kubernetes.cri-o.IP.0": "10.85.0.12",
        "io.kubernetes.cri-o.Image": "docker.io/library/nginx:1.25",
        "io.kubernetes.cri-o.ImageName": "docker.io/library/nginx:1.25",
        "io.kubernetes.cri-o.ImageRef": "sha256:a8758716bb6aa4d90071160d27028fe4eaee7ce8166221a97d30440c8eac2be6",
        "io.kubernetes.cri-o.Labels": go_json(labels),
        "io.kubernetes.cri-o.LogPath": f"/var/log/pods/test-socketcollector_nginx-app_{POD_UID}/nginx/0.log",
        "io.kubernetes.cri-o.Metadata": go_json({"name": "nginx"}),
        "io.kubernetes.cri-o.MountPoint": f"/var/lib/containers/storage/overlay/3f2e1d0c/merged",
        "io.kubernetes.cri-o.Name": f"k8s_nginx_nginx-app_test-socketcollector_{POD_UID}_0",
        "io.kubernetes.cri-o.ResolvPath": f"/run/containers/storage/overlay-containers/{CRIO_SANDBOX_ID}/userdata/resolv.conf",
        "io.kubernetes.cri-o.SandboxID": CRIO_SANDBOX_ID,
        "io.kubernetes.cri-o.SandboxName": f"k8s_nginx-app_test-socketcollector_{POD_UID}_0",
        "io.kubernetes.cri-o.SeccompProfilePath": "RuntimeDefault",
        "io.kubernetes.cri-o.Stdin": "false",
        "io.kubernetes.cri-o.StdinOnce": "false",
        "io.kubernetes.cri-o.TTY": "false",
        "io.kubernetes.cri-o.Volumes": go_json([{"container_path": "/etc/hosts",
                                                "host_path": f"/var/lib/kubelet/pods/{POD_UID}/etc-hosts",
                                                "readonly": False}]),
    })
    return {
        "ociVersion": "1.0.2-dev",
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["nginx", "-g", "daemon off;"],
                    "env": service_env()[:40], "cwd": "/",
                    "capabilities": {"bounding": CAPS, "effective": CAPS, "permitted": CAPS},
                    "oomScoreAdj": 1000},
        "root": {"path": "/var/lib/containers/storage/overlay/3f2e1d0c/merged"},
        "hostname": "nginx-app",
        "mounts": mounts([{"destination": "/etc/resolv.conf", "type": "bind",
                           "source": f"{userdata}/resolv.conf", "options": ["bind", "nodev"]}]),
        "annotations": annotations,
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}],
                          "cpu": {"shares": 2, "quota": 0, "period": 100000}, "pids": {"limit": 1024}},
            "cgroupsPath": f"kubepods-besteffort-pod{POD_UID.replace('-', '_')}.slice:crio:{CRIO_CONTAINER_ID}",
            "namespaces": [{"type": "pid"},
                           {"type": "network", "path": "/var/run/netns/2b8f4c1a-6d3e-4f5a-8b9c-0d1e2f3a4b5c"},
                           {"type": "ipc", "path": "/var/run/ipcns/2b8f4c1a-6d3e-4f5a-8b9c-0d1e2f3a4b5c"},
                           {"type": "uts", "path": "/var/run/utsns/2b8f4c1a-6d3e-4f5a-8b9c-0d1e2f3a4b5c"},
                           {"type": "mount"}],
            "seccomp": seccomp(),
            "maskedPaths": MASKED, "readonlyPaths": READONLY,
        },
    }


def main():
    with open("containerd-container.config.json", "w") as f:
        f.write(go_json(containerd_container()))
    with open("crio-container.config.json", "w") as f:
        f.write(go_json(crio_container(), indent="\t"))


if __name__ == "__main__":
    main()
