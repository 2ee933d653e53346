/* socksnap's BPF iterators, loaded through bpftool's light skeletons (C: a skeleton is C only).
 * A light skeleton has the kernel apply the programs' CO-RE relocations and find their attach
 * points: loading took ~7 ms on the development machine, where libbpf's regular skeleton, which
 * parses the kernel's whole BTF (5 MB) in user space first, took ~100 ms. It needs only libbpf's
 * headers (skel_internal.h): nothing of libbpf is linked. Two skeletons: the socket iterators
 * (socket_iter.bpf.c), and the process iterators (task_iter.bpf.c), which a run loads only when
 * it needs a census or the sockets' holders, on another thread than the socket iterators. */
#ifndef SOCKSNAP_COLLECT_BPF_ITER_PROGRAMS_H
#define SOCKSNAP_COLLECT_BPF_ITER_PROGRAMS_H

#include <linux/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct socksnap_socket_iter;
struct socksnap_task_iter;
struct socksnap_reader;

enum socksnap_socket_program {
  SOCKSNAP_ITER_TCP = 0,
  SOCKSNAP_ITER_UDP = 1,
};

enum socksnap_task_program {
  SOCKSNAP_ITER_SOCKET_FDS = 0,
  SOCKSNAP_ITER_TASKS = 1,
};

/* Load the programs; NULL with errno set when the kernel refuses. The socket programs are made
 * for runs that need what the flags say (each 0 or 1): tcp_info with TCP rows, the queues and
 * the creator's cgroup, the inodes, and the cookies, uids and interfaces; what a run does not
 * need is left out of them (left zero in the rows; records with none of it have no details:
 * iter_rows.h). */
struct socksnap_socket_iter* socksnap_socket_iter_load(int with_tcp_info,
                                                       int with_queues_and_cgroup, int with_inodes,
                                                       int with_identities);
struct socksnap_task_iter* socksnap_task_iter_load(void);
void socksnap_socket_iter_destroy(struct socksnap_socket_iter* iter);
void socksnap_task_iter_destroy(struct socksnap_task_iter* iter);
/* A link for one program, to open iterators from; -1 with errno set. */
int socksnap_socket_iter_attach(struct socksnap_socket_iter* iter,
                                enum socksnap_socket_program program);
int socksnap_task_iter_attach(struct socksnap_task_iter* iter, enum socksnap_task_program program);
/* An iterator of a link's program, to read() to its end: of the calling thread's network
 * namespace for the socket programs, whose namespace it keeps. -1 with errno set. */
int socksnap_iter_open(int link);
/* The chunks the socket programs write their records into (iter_rows.h), mapped read-only:
 * SOCKSNAP_CHUNKS of SOCKSNAP_CHUNK_BYTES each, to munmap() with that size. NULL with errno set. */
const __u8* socksnap_socket_iter_map_chunks(struct socksnap_socket_iter* iter);
/* The socket programs' slot for thread `tid` (iter_rows.h): in memory they read, set by the
 * thread between its reads. */
struct socksnap_reader* socksnap_socket_iter_reader(struct socksnap_socket_iter* iter, __u32 tid);
/* Which states the socket programs write (bit N = state N). */
void socksnap_socket_iter_configure(struct socksnap_socket_iter* iter, __u32 tcp_states,
                                    __u32 udp_states);
/* From the socket programs' next socket on, leave the inodes zero; from any thread, iterators
 * being read too. */
void socksnap_socket_iter_stop_reading_inodes(struct socksnap_socket_iter* iter);
/* What iter/task mixes the address of each process's set of cgroups with. */
void socksnap_task_iter_set_cgroups_key_mask(struct socksnap_task_iter* iter, __u64 mask);
/* The PID, in the initial PID namespace, of the last reader of a process iterator; 0 after. */
__u32 socksnap_task_iter_take_reader_tgid(struct socksnap_task_iter* iter);

#ifdef __cplusplus
}
#endif

#endif
