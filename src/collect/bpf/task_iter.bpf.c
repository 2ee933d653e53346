// SPDX-License-Identifier: GPL-2.0
/* socksnap's BPF iterators of processes: every socket descriptor of every process
 * (iter/task_file), and every process with what the census needs of it (iter/task). Each writes
 * records of collect/bpf/iter_rows.h. Built CO-RE against the kernel's BTF, apart from the
 * socket iterators (socket_iter.bpf.c): a run loads these only when it needs a census or the
 * sockets' holders, beside the socket iterators' load (collect/bpf_tasks.cpp).
 * GPL: bpf_seq_write is a GPL-only helper. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "collect/bpf/iter_context.h"
#include "collect/bpf/iter_rows.h"

#define PF_KTHREAD 0x00200000

char LICENSE[] SEC("license") = "GPL";

/* The PID the iterators' caller has in the initial PID namespace, written by the programs: the
 * reader compares it with getpid() to know that the PIDs it got are its own. */
__u32 reader_tgid = 0;

/* Each program loads ctx->meta->seq once, before it branches: the verifier searches vmlinux's
 * BTF by name at each path that reaches a load of a pointer from a trusted one (see
 * socket_iter.bpf.c). dump_tasks's paths are many: this skeleton's load went from 9.0 to
 * 7.0 ms. */
SEC("iter/task_file")
int dump_socket_fds(struct socksnap_iter_task_file_ctx* ctx) {
  struct seq_file* seq = ctx->meta->seq;
  struct task_struct* task = ctx->task;
  struct file* file = ctx->file;
  if (!reader_tgid) reader_tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
  if (!task || !file) return 0;
  /* A socket's file is the one with the sockets' file operations; its inode is the socket's
   * (struct socket_alloc). Not file->f_inode->i_mode: struct file and struct inode share slots
   * of the kernel's cache of CO-RE candidates with struct cgroup and struct net, which the census
   * reads (collect/bpf/iter_context.h), and each load would search vmlinux's BTF for all four. */
  struct socket_alloc* owner = (struct socket_alloc*)bpf_sock_from_file(file);
  if (!owner) return 0;
  struct socksnap_socket_fd_row row = {
      .inode = BPF_CORE_READ(owner, vfs_inode.i_ino),
      .start_time_ns = BPF_CORE_READ(task, group_leader, start_boottime),
      .tgid = (__u32)task->tgid,
      .fd = (__s32)ctx->fd,
  };
  bpf_seq_write(seq, &row, sizeof row);
  return 0;
}

/* The census: every process (a thread group's leader) with what /proc/PID/stat and ns/net
 * give, and which set of cgroups it is in: its css_set, a set the kernel keeps one of for each
 * combination of cgroups it has processes in, with the path of the set's cgroup in the unified
 * hierarchy, once a set (the reader reads /proc/PID/cgroup of one of the set's processes where
 * that path does not tell the container). Kernel threads are left out: they hold no
 * descriptors and are in no container. */

/* Set by the reader before it reads: what the css_set's address is mixed with, so that the key
 * says which processes share one and not where it is. */
__u64 cgroups_key_mask = 0;

/* The sets whose path a pass has written: the css_set's address -> the pass's session. Full (a
 * node of more than 1024 sets), a path is written with each process of a set not in it. Larger,
 * its buckets cost the load: 16384 entries, 0.5 ms. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 1024);
  __type(key, __u64);
  __type(value, __u64);
} cgroup_sets_written SEC(".maps");

#define NAME_READ_MAX 256
#define PATH_MASK (SOCKSNAP_CGROUP_PATH_MAX - 1)
/* Where a path is put together: a name is read at any offset below SOCKSNAP_CGROUP_PATH_MAX. */
char cgroup_path[SOCKSNAP_CGROUP_PATH_MAX + NAME_READ_MAX];

/* An offset into cgroup_path that the verifier knows is below SOCKSNAP_CGROUP_PATH_MAX: the mask
 * after a barrier, which clang would otherwise drop where it knows the mask to change nothing. */
static __always_inline __u32 path_offset(__u32 len) {
  barrier_var(len);
  return len & PATH_MASK;
}

/* kernfs_node's parent before Linux 6.15 named it __parent. */
struct kernfs_node___parent_before_6_15 {
  struct kernfs_node* parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node* kernfs_parent(struct kernfs_node* kn) {
  if (bpf_core_field_exists(kn->__parent)) return BPF_CORE_READ(kn, __parent);
  return BPF_CORE_READ((struct kernfs_node___parent_before_6_15*)kn, parent);
}

/* Puts the names of the cgroups from the one whose directory is `kn` up to the hierarchy's root
 * (not included) in cgroup_path, the cgroup's own first, each ended by a NUL; "/" alone for the
 * root itself. The reader puts them in order (collect/bpf_rows.cpp). Returns their length,
 * which is the path's, or 0 when it is too deep or too long, or a name cannot be read. One walk
 * up, writing as it goes: a walk that kept the names and then wrote them root first gave the
 * verifier a path for each depth at each name (6,008 instructions processed where there are
 * now 1,639; this skeleton loaded in 7.0 ms, now in 3.3). */
static __always_inline __u32 put_cgroup_names(struct kernfs_node* kn) {
  if (!kn) return 0;
  __u32 len = 0;
#pragma unroll
  for (int i = 0; i < SOCKSNAP_CGROUP_DEPTH_MAX; ++i) {
    struct kernfs_node* parent = kernfs_parent(kn);
    if (!parent) break;
    if (len >= SOCKSNAP_CGROUP_PATH_MAX) return 0;
    long read = bpf_probe_read_kernel_str(&cgroup_path[path_offset(len)], NAME_READ_MAX,
                                          BPF_CORE_READ(kn, name));
    if (read <= 1) return 0; /* a fault, or an empty name */
    len += (__u32)read;      /* with its NUL */
    kn = parent;
  }
  if (kernfs_parent(kn)) return 0; /* deeper than SOCKSNAP_CGROUP_DEPTH_MAX */
  if (len == 0) {
    cgroup_path[0] = '/';
    return 1;
  }
  return len < SOCKSNAP_CGROUP_PATH_MAX ? len : 0;
}

SEC("iter/task")
int dump_tasks(struct socksnap_iter_task_ctx* ctx) {
  struct seq_file* seq = ctx->meta->seq;
  struct task_struct* task = ctx->task;
  if (!reader_tgid) reader_tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
  if (!task || task->pid != task->tgid || (task->flags & PF_KTHREAD)) return 0;
  /* Fields far into task_struct through BPF_CORE_READ: a direct load makes the verifier walk
   * the struct's members to the field, which cost ~1.3 ms of the load for task->nsproxy. */
  struct socksnap_task_row row = {
      .start_time_ns = BPF_CORE_READ(task, start_boottime),
      .netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum), /* 0 when it has none */
      .tgid = (__u32)task->tgid,
  };
  struct css_set* cgroups = BPF_CORE_READ(task, cgroups);
  __u32 path_len = 0;
  if (cgroups) {
    row.cgroups_key = (__u64)cgroups ^ cgroups_key_mask;
    struct kernfs_node* kn = BPF_CORE_READ(cgroups, dfl_cgrp, kn);
    /* With the unified hierarchy's cgroup: a set freed and another made at its address while
     * the pass runs would still be told apart by it, in all but the unlikeliest case. */
    row.cgroups_check = BPF_CORE_READ(kn, id);
    __u64 set = (__u64)cgroups;
    __u64 session = ctx->meta->session_id;
    __u64* written = bpf_map_lookup_elem(&cgroup_sets_written, &set);
    if (!written || *written != session) {
      bpf_map_update_elem(&cgroup_sets_written, &set, &session, BPF_ANY);
      path_len = put_cgroup_names(kn);
    }
  }
  row.cgroup_path_len = (__u16)path_len;
  bpf_probe_read_kernel_str(row.comm, sizeof row.comm, task->comm);
  bpf_seq_write(seq, &row, sizeof row);
  if (path_len) bpf_seq_write(seq, cgroup_path, path_offset(path_len));
  return 0;
}
