/* The contexts socksnap's iterators are called with, declared here as the kernel lays them out
 * (DEFINE_BPF_ITER_FUNC: pointers and 8-byte aligned scalars; the layout is what a program may
 * read, unchanged since the iterators came in 5.8-5.9), not taken from vmlinux.h. Included after
 * vmlinux.h, outside its preserve_access_index region: reads of these need no CO-RE relocation.
 *
 * Why: the kernel applies a light skeleton's relocations itself, and finds each relocated type's
 * candidates by a scan of vmlinux's BTF (125,850 types on the development machine, ~0.25 ms)
 * unless its cache holds them. That cache has 31 slots, one type each, chosen by a hash of the
 * type's name (kernel/bpf/btf.c, check_cand_cache): bpf_iter__udp shares udp_sock's slot, and
 * relocated it evicted udp_sock, and udp_sock it, at every switch between them in each load.
 * The programs' other types are arranged for the same reason: see the note on what loading
 * costs in socket_iter.bpf.c, and dump_socket_fds in task_iter.bpf.c. With all of it, a run's
 * loads find every relocated type in the cache (perf of 20 runs of `-o +pid`, which load both
 * skeletons: bpf_core_add_cands and strncmp 295 samples at first, 61 when struct sock and
 * struct kernfs_node still evicted each other, none now). */
#ifndef SOCKSNAP_COLLECT_BPF_ITER_CONTEXT_H
#define SOCKSNAP_COLLECT_BPF_ITER_CONTEXT_H

#define SOCKSNAP_CTX_SCALAR __attribute__((aligned(8)))

struct socksnap_iter_meta {
  struct seq_file* seq;
  __u64 session_id;
  __u64 seq_num;
};

struct socksnap_iter_tcp_ctx { /* struct bpf_iter__tcp */
  struct socksnap_iter_meta* meta;
  struct sock_common* sk_common;
  __u32 uid SOCKSNAP_CTX_SCALAR;
};

struct socksnap_iter_udp_ctx { /* struct bpf_iter__udp */
  struct socksnap_iter_meta* meta;
  struct udp_sock* udp_sk;
  __u32 uid SOCKSNAP_CTX_SCALAR;
  int bucket SOCKSNAP_CTX_SCALAR;
};

struct socksnap_iter_task_ctx { /* struct bpf_iter__task */
  struct socksnap_iter_meta* meta;
  struct task_struct* task;
};

struct socksnap_iter_task_file_ctx { /* struct bpf_iter__task_file */
  struct socksnap_iter_meta* meta;
  struct task_struct* task;
  __u32 fd SOCKSNAP_CTX_SCALAR;
  struct file* file;
};

#endif
