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

SEC("iter/task_file")
int dump_socket_fds(struct socksnap_iter_task_file_ctx* ctx) {
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
  bpf_seq_write(ctx->meta->seq, &row, sizeof row);
  return 0;
}

/* The census: every process (a thread group's leader) with what /proc/PID/stat and ns/net
 * give, and which set of cgroups it is in: its css_set, a set the kernel keeps one of for each
 * combination of cgroups it has processes in (the reader reads /proc/PID/cgroup once for each
 * set, from one of its processes). Kernel threads are left out: they hold no descriptors and
 * are in no container. */

/* Set by the reader before it reads: what the css_set's address is mixed with, so that the key
 * says which processes share one and not where it is. */
__u64 cgroups_key_mask = 0;

SEC("iter/task")
int dump_tasks(struct socksnap_iter_task_ctx* ctx) {
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
  if (cgroups) {
    row.cgroups_key = (__u64)cgroups ^ cgroups_key_mask;
    /* With the unified hierarchy's cgroup: a set freed and another made at its address while
     * the pass runs would still be told apart by it, in all but the unlikeliest case. */
    row.cgroups_check = BPF_CORE_READ(cgroups, dfl_cgrp, kn, id);
  }
  bpf_probe_read_kernel_str(row.comm, sizeof row.comm, task->comm);
  bpf_seq_write(ctx->meta->seq, &row, sizeof row);
  return 0;
}
