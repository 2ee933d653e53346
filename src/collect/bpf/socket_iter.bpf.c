// SPDX-License-Identifier: GPL-2.0
/* socksnap's BPF iterators of sockets: every TCP and UDP socket of the network namespace an
 * iterator was opened in (iter/tcp, iter/udp). The processes' are in task_iter.bpf.c.
 * Each writes a record a socket (collect/bpf/iter_rows.h) with the fields inet_diag would send,
 * or those of them the run needs, so that the BPF source and the netlink source give the same
 * rows: into the chunk of the reading thread (iter_rows.h says how), not the seq_file. Built CO-RE
 * against the kernel's BTF; loaded once per run (collect/bpf_source.cpp), read once per namespace.
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
 * (iter_rows.h): 16 bytes for IPv4 instead of 80, and the fewer bytes, the fewer chunks filled
 * and read. Read-only: the verifier follows only the branches a run takes, and leaves
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

/* Where the records go (iter_rows.h): the chunks, which the reader maps, and each reading
 * thread's slot. */
struct socksnap_chunk {
  __u8 bytes[SOCKSNAP_CHUNK_BYTES];
};
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __type(key, __u32);
  __type(value, struct socksnap_chunk);
  __uint(max_entries, SOCKSNAP_CHUNKS);
} chunks SEC(".maps");
struct socksnap_reader readers[SOCKSNAP_READER_SLOTS];
/* The reader's PID namespace (see reader_index), set before the load. */
const volatile __u64 pid_ns_dev = 0;
const volatile __u64 pid_ns_ino = 0;
/* Which slot each iterator's thread has: (session << SOCKSNAP_READER_BITS) | slot, by session. */
#define SOCKSNAP_SESSION_SLOTS 64
#define SOCKSNAP_READER_BITS 10 /* log2 SOCKSNAP_READER_SLOTS */
#define SOCKSNAP_SESSION_MASK ((1ULL << (64 - SOCKSNAP_READER_BITS)) - 1)
_Static_assert(SOCKSNAP_READER_SLOTS == 1 << SOCKSNAP_READER_BITS, "slots and their bits");
__u64 sessions[SOCKSNAP_SESSION_SLOTS];

/* A record as written: its head, its addresses, and the parts its head names (iter_rows.h). */
struct inet_record {
  struct socksnap_inet_head head;
  __u8 addresses[SOCKSNAP_INET_ADDRESSES_MAX];
  struct socksnap_inet_details details;
  struct socksnap_tcp_info_row info;
};

/* The reading thread's slot (its index in readers), found once per iterator (a session: its
 * seq_file, which one thread reads) and kept in sessions[] for its other sockets: -1 when the
 * thread has none. The thread is known by its id in the reader's PID namespace (pid_ns_dev and
 * pid_ns_ino, the reader's /proc/self/ns/pid, set before the load; its id in the initial one
 * where they are 0), as the reader knows it (gettid). */
static __always_inline int reader_index(__u64 session_id) {
  __u64 session = session_id & SOCKSNAP_SESSION_MASK;
  __u64* bound = &sessions[session & (SOCKSNAP_SESSION_SLOTS - 1)];
  __u64 word = *bound; /* one load: another CPU may write it for another session */
  if (word >> SOCKSNAP_READER_BITS == session) return (int)(word & (SOCKSNAP_READER_SLOTS - 1));
  __u32 tid;
  if (pid_ns_ino) {
    struct bpf_pidns_info ids = {};
    if (bpf_get_ns_current_pid_tgid(pid_ns_dev, pid_ns_ino, &ids, sizeof ids)) return -1;
    tid = ids.pid;
  } else {
    tid = (__u32)bpf_get_current_pid_tgid();
  }
  __u32 index = tid & (SOCKSNAP_READER_SLOTS - 1);
  if (readers[index].tid != tid || tid == 0) return -1;
  *bound = (session << SOCKSNAP_READER_BITS) | index;
  return (int)index;
}

/* Where this socket's record goes: into the reading thread's chunk, at what it has used of it,
 * with room for the largest record (*rec; *reader, the thread's slot). 0 when placed; 1 when the
 * chunk has no room: the program then returns 1, and the kernel gives this socket again at the
 * next read(); -1 when the thread has no slot (or it names no chunk). A chunk is used again once
 * read: every byte of a record is written. */
static __always_inline int place_record(__u64 session, struct inet_record** rec,
                                        struct socksnap_reader** reader) {
  int index = reader_index(session);
  if (index < 0) return -1;
  struct socksnap_reader* slot = &readers[index & (SOCKSNAP_READER_SLOTS - 1)];
  __u32 used = slot->used;
  if (used > SOCKSNAP_CHUNK_BYTES - sizeof(struct inet_record)) return 1;
  __u32 key = slot->chunk;
  struct socksnap_chunk* chunk = bpf_map_lookup_elem(&chunks, &key);
  if (!chunk) return -1;
  *rec = (struct inet_record*)(chunk->bytes + used);
  *reader = slot;
  return 0;
}

/* A record for a thread without a slot: one byte on the seq_file, which the reader takes for an
 * error. */
static __always_inline int no_reader(struct seq_file* seq) {
  __u8 byte = 0;
  bpf_seq_write(seq, &byte, 1);
  return 0;
}

/* The head's endpoints and the addresses (32 bytes of them in a record with details, the
 * unused ones zero). */
static __always_inline void fill_common(struct inet_record* rec, struct sock_common* skc,
                                        int details) {
  rec->head.family = skc->skc_family;
  rec->head.src_port = skc->skc_num;
  rec->head.dst_port = bpf_ntohs(skc->skc_dport);
  rec->head.parts = 0;
  if (rec->head.family == AF_INET) {
    __builtin_memcpy(rec->addresses, &skc->skc_rcv_saddr, 4);
    __builtin_memcpy(rec->addresses + 4, &skc->skc_daddr, 4);
    if (details) __builtin_memset(rec->addresses + 8, 0, SOCKSNAP_INET_ADDRESSES_MAX - 8);
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

/* The details every socket has (sock_common's); the others zero. */
static __always_inline void fill_details(struct inet_record* rec, struct sock_common* skc) {
  rec->head.parts = SOCKSNAP_PART_DETAILS;
  __builtin_memset(&rec->details, 0, sizeof rec->details);
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
 *   program loads ctx->meta, its seq and its session once, before it branches; iter/tcp reads
 *   the cgroup through bpf_skc_to_tcp_sock's pointer, which is not trusted, and iter/udp
 *   through BPF_CORE_READ.
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
  __builtin_memset(info, 0, sizeof *info);
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
  struct socksnap_iter_meta* meta = ctx->meta;
  struct seq_file* seq = meta->seq;
  __u64 session = meta->session_id;
  struct sock_common* skc = ctx->sk_common;
  if (!skc) return 0;
  __u8 state = skc->skc_state;
  __u8 shown_state = state;
  __u32 filter_state = state;
  if (state == TCP_TIME_WAIT) {
    struct tcp_timewait_sock* tw = bpf_skc_to_tcp_timewait_sock(skc);
    if (!tw) return 0;
    shown_state = tw->tw_sk.tw_substate;
  } else if (state == TCP_NEW_SYN_RECV) {
    filter_state = TCP_SYN_RECV;
    shown_state = TCP_SYN_RECV;
  }
  if (!(tcp_states & (1U << filter_state))) return 0;
  struct tcp_sock* tp = NULL;
  int details = details_wanted();
  if (details && state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV) {
    tp = bpf_skc_to_tcp_sock(skc);
    if (!tp) return 0;
  }
  struct socksnap_reader* reader;
  struct inet_record* rec;
  int placed = place_record(session, &rec, &reader);
  if (placed < 0) return no_reader(seq);
  if (placed > 0) return 1;
  rec->head.state = shown_state;
  rec->head.protocol = IPPROTO_TCP;
  fill_common(rec, skc, details);
  if (details) {
    fill_details(rec, skc);
    if (tp) {
      struct socksnap_inet_details* d = &rec->details;
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
        rec->head.parts |= SOCKSNAP_PART_TCP_INFO;
        fill_tcp_info(&rec->info, tp, state);
      }
    }
  }
  reader->used += record_size(rec);
  return 0;
}

SEC("iter/udp")
int dump_udp(struct socksnap_iter_udp_ctx* ctx) {
  struct socksnap_iter_meta* meta = ctx->meta;
  struct seq_file* seq = meta->seq;
  __u64 session = meta->session_id;
  struct udp_sock* up = ctx->udp_sk;
  if (!up) return 0;
  __u8 state = up->inet.sk.__sk_common.skc_state;
  if (!(udp_states & (1U << state))) return 0;
  struct socksnap_reader* reader;
  struct inet_record* rec;
  int placed = place_record(session, &rec, &reader);
  if (placed < 0) return no_reader(seq);
  if (placed > 0) return 1;
  int details = details_wanted();
  rec->head.state = state;
  rec->head.protocol = IPPROTO_UDP;
  fill_common(rec, &up->inet.sk.__sk_common, details);
  if (details) {
    fill_details(rec, &up->inet.sk.__sk_common);
    struct socksnap_inet_details* d = &rec->details;
    d->uid = ctx->uid;
    if (with_inodes && want_inodes) d->inode = SOCKSNAP_INODE(up, inet.sk);
    if (with_queues_and_cgroup) {
      d->rx_queue = (__u32)(up->inet.sk.sk_backlog.rmem_alloc.counter - up->forward_deficit);
      d->tx_queue = (__u32)(up->inet.sk.sk_wmem_alloc.refs.counter - 1);
      d->cgroup_id = BPF_CORE_READ(up, inet.sk.sk_cgrp_data.cgroup, kn, id);
    }
  }
  reader->used += record_size(rec);
  return 0;
}
