/* The contexts socksnap's iterators are called with, declared here as the kernel lays them out
 * (DEFINE_BPF_ITER_FUNC: pointers and 8-byte aligned scalars; the layout is what a program may
 * read, unchanged since the iterators came in 5.8-5.9), not taken from vmlinux.h. Included after
 * vmlinux.h, outside its preserve_access_index region: reads of these need no CO-RE relocation.
 *
 * Why: the kernel applies a light skeleton's relocations itself, and finds each relocated type's
 * candidates in vmlinux's BTF by a scan of every type (0.2-0.3 ms here) unless its cache has
 * them. That cache has 31 slots, chosen by the name's length and first two characters only:
 * bpf_iter__tcp, bpf_iter__udp and bpf_iter_meta fall in task_struct's slot, bpf_iter__task in
 * tcp_sock's, bpf_iter__task_file in net's. Relocated, they evicted one another and those types
 * at every load, and each run scanned vmlinux's BTF again for them. */
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
