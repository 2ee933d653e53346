// SPDX-License-Identifier: GPL-2.0
/* socksnap's BPF iterators of sockets: every TCP and UDP socket of the network namespace an
 * iterator was opened in (iter/tcp, iter/udp). The processes' are in task_iter.bpf.c.
 * Each writes a record a socket (collect/bpf/iter_rows.h) with the fields inet_diag would send,
 * or those of them the run needs, so that the BPF source and the netlink source give the same
 * rows. Built CO-RE against the kernel's BTF; loaded once per run (collect/bpf_source.cpp), read
 * once per namespace.
 * GPL: bpf_seq_write is a GPL-only helper. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "collect/bpf/iter_context.h"
#include "collect/bpf/iter_rows.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define TCP_SYN_RECV 3
#define TCP_TIME_WAIT 6
#define TCP_LISTEN 10
#define TCP_NEW_SYN_RECV 12

char LICENSE[] SEC("license") = "GPL";

/* What a run needs, set by the reader before the load: whether TCP rows carry their tcp_info,
 * whether rows carry their queues and their creator's cgroup (they lie on cache lines of their
 * own: a miss or more a socket, a fifth of the walk's time on a table of 200,000), whether they
 * may carry their inodes (sk_ino, on a line of its own too: 3 ms of that walk), and whether
 * their cookies, uids and interfaces. A record that carries none of these has no details
 * (iter_rows.h): 16 bytes for IPv4 instead of 80, and the fewer bytes, the fewer reads of the
 * seq_file's 8 pages. Read-only: the verifier follows only the branches a run takes, and leaves
 * the others out of the program. */
const volatile __u32 with_tcp_info = 0;
const volatile __u32 with_queues_and_cgroup = 1;
const volatile __u32 with_inodes = 1;
const volatile __u32 with_identities = 1;
/* Set by the reader before it opens a run's first iterator: which states to write (bit N =
 * state N). want_inodes is cleared once the run knows it needs no inode (from the next socket
 * on). */
__u32 tcp_states = 0xffffffff;
__u32 udp_states = 0xffffffff;
__u32 want_inodes = 1;

/* A record as written: its head, its addresses, and the parts its head names (iter_rows.h). */
struct inet_record {
  struct socksnap_inet_head head;
  __u8 addresses[SOCKSNAP_INET_ADDRESSES_MAX];
  struct socksnap_inet_details details;
  struct socksnap_tcp_info_row info;
};

/* The head's endpoints and the addresses. */
static __always_inline void fill_common(struct inet_record* rec, struct sock_common* skc) {
  rec->head.family = skc->skc_family;
  rec->head.src_port = skc->skc_num;
  rec->head.dst_port = bpf_ntohs(skc->skc_dport);
  if (rec->head.family == AF_INET) {
    __builtin_memcpy(rec->addresses, &skc->skc_rcv_saddr, 4);
    __builtin_memcpy(rec->addresses + 4, &skc->skc_daddr, 4);
  } else {
    __builtin_memcpy(rec->addresses, &skc->skc_v6_rcv_saddr, 16);
    __builtin_memcpy(rec->addresses + 16, &skc->skc_v6_daddr, 16);
  }
}

/* How much of a record is written, from what its head says. Worked out once it is whole: the
 * verifier follows each size as a path of its own from where it is known (with a size set in
 * each branch above, iter/udp took 0.53 ms to verify here, 0.38 ms so). */
static __always_inline __u32 record_size(const struct inet_record* rec) {
  if (rec->head.parts & SOCKSNAP_PART_TCP_INFO) return sizeof *rec;
  if (rec->head.parts & SOCKSNAP_PART_DETAILS) {
    return sizeof rec->head + SOCKSNAP_INET_ADDRESSES_MAX + sizeof rec->details;
  }
  return sizeof rec->head + (rec->head.family == AF_INET ? 8 : SOCKSNAP_INET_ADDRESSES_MAX);
}

/* Whether this socket's record has details (the inodes' flag may change while a walk is under
 * way: read at each socket). */
static __always_inline int details_wanted(void) {
  return with_identities | (with_inodes && want_inodes) | with_queues_and_cgroup | with_tcp_info;
}

/* The details every socket has (sock_common's). */
static __always_inline void fill_details(struct inet_record* rec, struct sock_common* skc) {
  rec->head.parts = SOCKSNAP_PART_DETAILS;
  rec->details.ifindex = (__u32)skc->skc_bound_dev_if;
  /* The cookie the kernel gave the socket when first asked (a load: the helper is a call a
   * socket); the helper gives it one where it has none yet. */
  __u64 cookie = (__u64)skc->skc_cookie.counter;
  rec->details.cookie = cookie ? cookie : bpf_get_socket_cookie(skc);
}

/* What the programs cost to load (collect/bpf/iter_context.h says more).
 * - The kernel finds each CO-RE relocation's candidates by the relocation's root type, in a
 *   cache of 31 slots; struct sock falls in the slot of struct kernfs_node, which the cgroup
 *   below and the census (task_iter.bpf.c) need. So every field of a full socket is read through
 *   the program's own type (tcp_sock, udp_sock), never rooted at struct sock: FULL_SOCK below is
 *   the struct sock inside it, e.g. tp, inet_conn.icsk_inet.sk.
 * - A pointer loaded from one the verifier trusts (the context's meta, sk_common, udp_sk) makes
 *   it look up to four types by name in vmlinux's BTF (btf_nested_type_is_trusted: a scan of
 *   its 125,850 types for each that is missing), on every path that reaches the load. So each
 *   program loads ctx->meta->seq once, before it branches; iter/tcp reads the cgroup through
 *   bpf_skc_to_tcp_sock's pointer, which is not trusted, and iter/udp through BPF_CORE_READ.
 * The two: this skeleton's load from 4.4 to 1.9 ms. */

/* What sock_i_ino() gives: the inode of the file that holds the socket, 0 for none. A load of
 * sk_ino where the kernel has it, else through the socket's file. The struct sock is
 * (HOLDER)->FULL_SOCK, e.g. tp, inet_conn.icsk_inet.sk. */
static __always_inline __u64 inode_of_socket(struct socket_alloc* owner) {
  return owner ? BPF_CORE_READ(owner, vfs_inode.i_ino) : 0;
}
#define SOCKSNAP_INODE(HOLDER, FULL_SOCK)                     \
  (bpf_core_field_exists((HOLDER)->FULL_SOCK.sk_ino)          \
       ? (__u64)(HOLDER)->FULL_SOCK.sk_ino /* not a helper */ \
       : inode_of_socket((struct socket_alloc*)BPF_CORE_READ(HOLDER, FULL_SOCK.sk_socket)))

/* What INET_DIAG_CGROUP_ID gives for a full socket: its creator's cgroup, when asked. Loads
 * through typed pointers, for iter/tcp: a fault (no cgroup) reads as zero. */
#define SOCKSNAP_CGROUP_ID(full_sock) ((full_sock).sk_cgrp_data.cgroup->kn->id)

static __always_inline void fill_tcp_info(struct socksnap_tcp_info_row* info, struct tcp_sock* tp,
                                          __u8 state) {
  info->snd_cwnd = tp->snd_cwnd;
  if (state != TCP_LISTEN) { /* tcp_get_info() leaves the rest zero for listeners */
    info->rtt_us = tp->srtt_us >> 3;
    info->rttvar_us = tp->mdev_us >> 2;
    info->total_retrans = tp->total_retrans;
    info->bytes_acked = tp->bytes_acked;
    info->bytes_received = tp->bytes_received;
    info->bytes_sent = tp->bytes_sent;
  }
  const struct tcp_congestion_ops* ops = tp->inet_conn.icsk_ca_ops;
  if (ops) bpf_probe_read_kernel_str(info->congestion, sizeof info->congestion, ops->name);
}

SEC("iter/tcp")
int dump_tcp(struct socksnap_iter_tcp_ctx* ctx) {
  struct seq_file* seq = ctx->meta->seq;
  struct sock_common* skc = ctx->sk_common;
  if (!skc) return 0;
  struct inet_record rec = {};
  __u8 state = skc->skc_state;
  __u32 filter_state = state;
  if (state == TCP_TIME_WAIT) {
    struct tcp_timewait_sock* tw = bpf_skc_to_tcp_timewait_sock(skc);
    if (!tw) return 0;
    rec.head.state = tw->tw_sk.tw_substate;
  } else if (state == TCP_NEW_SYN_RECV) {
    filter_state = TCP_SYN_RECV;
    rec.head.state = TCP_SYN_RECV;
  } else {
    rec.head.state = state;
  }
  if (!(tcp_states & (1U << filter_state))) return 0;
  fill_common(&rec, skc);
  rec.head.protocol = IPPROTO_TCP;
  if (details_wanted()) {
    fill_details(&rec, skc);
    if (state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV) {
      struct tcp_sock* tp = bpf_skc_to_tcp_sock(skc);
      if (!tp) return 0;
      struct socksnap_inet_details* d = &rec.details;
      d->uid = ctx->uid;
      if (with_queues_and_cgroup) d->cgroup_id = SOCKSNAP_CGROUP_ID(tp->inet_conn.icsk_inet.sk);
      if (with_inodes && want_inodes) d->inode = SOCKSNAP_INODE(tp, inet_conn.icsk_inet.sk);
      if (!with_queues_and_cgroup) {
        /* left zero */
      } else if (state == TCP_LISTEN) {
        d->rx_queue = tp->inet_conn.icsk_inet.sk.sk_ack_backlog;
        d->tx_queue = tp->inet_conn.icsk_inet.sk.sk_max_ack_backlog;
      } else {
        int unread = (int)(tp->rcv_nxt - tp->copied_seq);
        d->rx_queue = unread > 0 ? (__u32)unread : 0;
        d->tx_queue = tp->write_seq - tp->snd_una;
      }
      if (with_tcp_info) {
        rec.head.parts |= SOCKSNAP_PART_TCP_INFO;
        fill_tcp_info(&rec.info, tp, state);
      }
    }
  }
  bpf_seq_write(seq, &rec, record_size(&rec));
  return 0;
}

SEC("iter/udp")
int dump_udp(struct socksnap_iter_udp_ctx* ctx) {
  struct seq_file* seq = ctx->meta->seq;
  struct udp_sock* up = ctx->udp_sk;
  if (!up) return 0;
  struct inet_record rec = {};
  rec.head.state = up->inet.sk.__sk_common.skc_state;
  if (!(udp_states & (1U << rec.head.state))) return 0;
  fill_common(&rec, &up->inet.sk.__sk_common);
  rec.head.protocol = IPPROTO_UDP;
  if (details_wanted()) {
    fill_details(&rec, &up->inet.sk.__sk_common);
    struct socksnap_inet_details* d = &rec.details;
    d->uid = ctx->uid;
    if (with_inodes && want_inodes) d->inode = SOCKSNAP_INODE(up, inet.sk);
    if (with_queues_and_cgroup) {
      d->rx_queue = (__u32)(up->inet.sk.sk_backlog.rmem_alloc.counter - up->forward_deficit);
      d->tx_queue = (__u32)(up->inet.sk.sk_wmem_alloc.refs.counter - 1);
      d->cgroup_id = BPF_CORE_READ(up, inet.sk.sk_cgrp_data.cgroup, kn, id);
    }
  }
  bpf_seq_write(seq, &rec, record_size(&rec));
  return 0;
}
