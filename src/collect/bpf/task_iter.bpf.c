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

#include "collect/bpf/iter_rows.h"

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define PF_KTHREAD 0x00200000

char LICENSE[] SEC("license") = "GPL";

/* The PID the iterators' caller has in the initial PID namespace, written by the programs: the
 * reader compares it with getpid() to know that the PIDs it got are its own. */
__u32 reader_tgid = 0;

SEC("iter/task_file")
int dump_socket_fds(struct bpf_iter__task_file* ctx) {
  struct task_struct* task = ctx->task;
  struct file* file = ctx->file;
  if (!reader_tgid) reader_tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
  if (!task || !file) return 0;
  struct inode* inode = file->f_inode;
  if (!inode || (inode->i_mode & S_IFMT) != S_IFSOCK) return 0;
  struct socksnap_socket_fd_row row = {
      .inode = inode->i_ino,
      .start_time_ns = BPF_CORE_READ(task, group_leader, start_boottime),
      .tgid = (__u32)task->tgid,
      .fd = (__s32)ctx->fd,
  };
  bpf_seq_write(ctx->meta->seq, &row, sizeof row);
  return 0;
}

/* The census: every process (a thread group's leader) with what /proc/PID/stat and ns/net
 * give, and which cgroup it is in in each hierarchy (by node id; the reader reads the paths once
 * for each set of cgroups, from /proc/PID/cgroup of one of its processes). Kernel threads are
 * left out: they hold no descriptors and are in no container. */

/* One process's record, made here before it is written: one reader at a time per load (the census
 * runs once a run). */
struct {
  struct socksnap_task_row row;
  struct socksnap_task_cgroup cgroups[SOCKSNAP_TASK_HIERARCHIES];
} task_out;

struct links_walk {
  struct list_head* head;
  struct list_head* at;
};

/* One hierarchy: through bpf_loop, whose step the verifier checks once, where it would check an
 * unrolled loop once for every count. */
static long cgroup_step(__u64 index, void* data) {
  struct links_walk* walk = data;
  struct list_head* at = walk->at;
  if (!at || at == walk->head || index >= SOCKSNAP_TASK_HIERARCHIES) return 1;
  struct cgroup* cgrp = BPF_CORE_READ(container_of(at, struct cgrp_cset_link, cgrp_link), cgrp);
  struct socksnap_task_cgroup* out = &task_out.cgroups[index & (SOCKSNAP_TASK_HIERARCHIES - 1)];
  out->hierarchy = (__u32)BPF_CORE_READ(cgrp, root, hierarchy_id);
  out->id = BPF_CORE_READ(cgrp, kn, id);
  task_out.row.cgroups = (__u16)(index + 1);
  walk->at = BPF_CORE_READ(at, next);
  return 0;
}

SEC("iter/task")
int dump_tasks(struct bpf_iter__task* ctx) {
  struct task_struct* task = ctx->task;
  if (!reader_tgid) reader_tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
  if (!task) return 0;
  /* Fields through BPF_CORE_READ: a direct load makes the verifier walk task_struct's members
   * to the field, which cost ~1.3 ms of the load for task->nsproxy. */
  __u32 tgid = (__u32)BPF_CORE_READ(task, tgid);
  if ((__u32)BPF_CORE_READ(task, pid) != tgid || (BPF_CORE_READ(task, flags) & PF_KTHREAD)) {
    return 0;
  }
  struct socksnap_task_row* row = &task_out.row;
  row->start_time_ns = BPF_CORE_READ(task, start_boottime);
  row->netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum); /* 0 when it has none */
  row->tgid = tgid;
  bpf_probe_read_kernel_str(row->comm, sizeof row->comm, task->comm);
  /* Its cgroups, one per hierarchy, as /proc/PID/cgroup finds them: its css_set's links. */
  row->cgroups = 0;
  struct css_set* cset = BPF_CORE_READ(task, cgroups);
  struct list_head* head = cset ? &cset->cgrp_links : 0;
  struct links_walk walk = {.head = head, .at = head ? BPF_CORE_READ(head, next) : 0};
  if (walk.at) bpf_loop(SOCKSNAP_TASK_HIERARCHIES, cgroup_step, &walk, 0);
  row->cgroups_whole = !walk.at || walk.at == walk.head;
  __u32 count = row->cgroups & (SOCKSNAP_TASK_HIERARCHIES * 2 - 1);
  if (count > SOCKSNAP_TASK_HIERARCHIES) count = SOCKSNAP_TASK_HIERARCHIES;
  bpf_seq_write(ctx->meta->seq, &task_out,
                sizeof task_out.row + count * sizeof(struct socksnap_task_cgroup));
  return 0;
}
