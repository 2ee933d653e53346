// SPDX-License-Identifier: GPL-2.0
/* The floor of socksnap's BPF source (bench/iter_floor.c): iter/tcp and iter/udp programs that
 * look at each socket and write nothing. What is left is the kernel's walk of the tables. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("iter/tcp")
int walk_tcp(struct bpf_iter__tcp* ctx) {
  return ctx->sk_common ? 0 : 0;
}

SEC("iter/udp")
int walk_udp(struct bpf_iter__udp* ctx) {
  return ctx->udp_sk ? 0 : 0;
}
