/* What socksnap's BPF iterators (collect/bpf/socket_iter.bpf.c) write, one record per item (the
 * socket programs into shared chunks, below; the process programs to their seq_file), read back by
 * collect/bpf_rows.cpp. Shared by the BPF program (C, built by clang -target bpf) and the C++
 * reader, so plain C with the kernel's fixed-width types. A record's layout is the same on both
 * sides: no pointers, explicit padding, little endian (the iterators run on the same machine as
 * their reader). */
#ifndef SOCKSNAP_COLLECT_BPF_ITER_ROWS_H
#define SOCKSNAP_COLLECT_BPF_ITER_ROWS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* One inet socket, as inet_diag would fill its inet_diag_msg, INET_DIAG_CGROUP_ID and, asked,
 * its tcp_info. A record is this head, the addresses, and the parts `parts` names:
 * - the addresses, network order: the source's then the destination's, 4 bytes each for AF_INET
 *   and 16 for AF_INET6; 32 bytes whatever the family in a record with details;
 * - SOCKSNAP_PART_DETAILS: a socksnap_inet_details (what a run may not need: a run that shows
 *   only endpoints and states gets records of 16 bytes for IPv4, 40 for IPv6);
 * - SOCKSNAP_PART_TCP_INFO (with details only): a socksnap_tcp_info_row. */
struct socksnap_inet_head {
  __u16 src_port; /* host order */
  __u16 dst_port;
  __u8 family;   /* AF_INET or AF_INET6 */
  __u8 state;    /* as inet_diag reports it: SYN_RECV for request sockets, the TIME_WAIT
                    socket's substate */
  __u8 protocol; /* IPPROTO_TCP or IPPROTO_UDP */
  __u8 parts;    /* SOCKSNAP_PART_* */
};
#define SOCKSNAP_PART_DETAILS 1
#define SOCKSNAP_PART_TCP_INFO 2
#define SOCKSNAP_INET_ADDRESSES_MAX 32

/* Where the socket programs put their records: not into their seq_file, but into chunks of a
 * map (`chunks`, BPF_F_MMAPABLE) that the reader maps, each thread that reads an iterator
 * writing through a slot of its own (`readers`, the programs' .bss) into the chunk its slot
 * names. bpf_seq_write is a helper call a record: on a table of 200,000 sockets, a walk writing
 * records built as these programs built them, through the helper, took 1.09 x a walk that
 * writes nothing, and one storing them into a chunk 1.02 x (a scratch program beside
 * bench/iter_floor.c, 41 runs each, medians).
 * - A reader takes the slot of its thread id (gettid() % SOCKSNAP_READER_SLOTS; tid, then chunk
 *   and used) before it reads an iterator, and sets chunk and used before each read(); the
 *   programs, called inside that read() on its thread, add records to the chunk and `used`.
 * - When a chunk has no room for the largest record, a program returns 1: the read() returns
 *   (EAGAIN where the seq_file holds nothing) and the kernel gives the same socket again at the
 *   next read(), for which the reader sets another chunk (or the same, once it has read it).
 * - A program called for a thread with no slot writes one byte to its seq_file and nothing
 *   else: the reader takes any byte that read() gives for an error. */
#define SOCKSNAP_CHUNK_BYTES 32768 /* 32 KiB */
#define SOCKSNAP_CHUNKS 64
#define SOCKSNAP_READER_SLOTS 1024 /* a power of two */
struct socksnap_reader {
  __u32 tid;   /* the thread whose reads the programs write for; 0: none */
  __u32 chunk; /* which chunk they write into, below SOCKSNAP_CHUNKS */
  __u32 used;  /* how many bytes of it they have written */
  __u32 pad;
};

struct socksnap_inet_details {
  __u64 cookie;
  __u64 inode;
  __u64 cgroup_id;
  __u32 uid;
  __u32 rx_queue;
  __u32 tx_queue;
  __u32 ifindex;
};

/* tcp_get_info()'s fields that socksnap shows and INET_DIAG_CONG's name: given where the reader
 * asked for them (with_tcp_info) and inet_diag would have sent them (full sockets only: not
 * TIME_WAIT or request sockets). */
struct socksnap_tcp_info_row {
  __u32 rtt_us;
  __u32 rttvar_us;
  __u32 snd_cwnd;
  __u32 total_retrans;
  __u64 bytes_acked;
  __u64 bytes_received;
  __u64 bytes_sent;
  char congestion[16];
};

/* One open descriptor of a process that is a socket: iter/task_file's answer, one per
 * (process, descriptor), threads sharing their leader's table left out. */
struct socksnap_socket_fd_row {
  __u64 inode;
  __u64 start_time_ns; /* the process's start, ns since boot (task->start_boottime) */
  __u32 tgid;          /* in the initial PID namespace */
  __s32 fd;
};

/* One process (a thread group's leader; kernel threads left out): iter/task's answer, followed
 * by cgroup_path_len bytes: where its cgroup is in the unified hierarchy (cgroup v2), as the
 * names of the cgroup and of each cgroup above it but the root, the cgroup's own first, each
 * ended by a NUL ("kubepods" under "/" is "kubepods\0"; a path is as long), and "/" for the root
 * itself. Given with the first process of each set of cgroups the pass meets; 0 for the others,
 * and where the path is longer than SOCKSNAP_CGROUP_PATH_MAX - 1 bytes or deeper than
 * SOCKSNAP_CGROUP_DEPTH_MAX levels. */
#define SOCKSNAP_CGROUP_PATH_MAX 512
#define SOCKSNAP_CGROUP_DEPTH_MAX 16
struct socksnap_task_row {
  __u64 start_time_ns; /* ns since boot (task->start_boottime) */
  __u64 netns;         /* inode of its network namespace, 0 for none (an exited leader) */
  /* Which set of cgroups it is in (its css_set, masked; 0 for none), and the unified
   * hierarchy's cgroup of that set: processes with both equal are in the same cgroups. */
  __u64 cgroups_key;
  __u64 cgroups_check;
  __u32 tgid; /* in the initial PID namespace */
  char comm[16];
  __u16 cgroup_path_len;
  __u16 pad;
};

#endif
