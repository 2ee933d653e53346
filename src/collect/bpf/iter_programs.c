#include "collect/bpf/iter_programs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "collect/bpf/iter_rows.h" /* the types of the programs' globals */
#include "socket_iter.lskel.h"
#include "task_iter.lskel.h"

struct socksnap_socket_iter* socksnap_socket_iter_load(int with_tcp_info,
                                                       int with_queues_and_cgroup, int with_inodes,
                                                       int with_identities) {
  struct socksnap_socket_iter* iter = socksnap_socket_iter__open();
  if (!iter) return NULL;
  iter->rodata->with_tcp_info = with_tcp_info ? 1 : 0;
  iter->rodata->with_queues_and_cgroup = with_queues_and_cgroup ? 1 : 0;
  iter->rodata->with_inodes = with_inodes ? 1 : 0;
  iter->rodata->with_identities = with_identities ? 1 : 0;
  /* The programs know a reading thread by its id in this process's PID namespace, as gettid()
   * gives it (socket_iter.bpf.c, reader_index); by its id in the initial one where this is
   * unknown. */
  struct stat pid_ns;
  if (stat("/proc/self/ns/pid", &pid_ns) == 0) {
    iter->rodata->pid_ns_dev = (__u64)pid_ns.st_dev;
    iter->rodata->pid_ns_ino = (__u64)pid_ns.st_ino;
  }
  int err = socksnap_socket_iter__load(iter);
  if (err) {
    socksnap_socket_iter__destroy(iter);
    errno = -err;
    return NULL;
  }
  return iter;
}

struct socksnap_task_iter* socksnap_task_iter_load(void) {
  struct socksnap_task_iter* iter = socksnap_task_iter__open();
  if (!iter) return NULL;
  int err = socksnap_task_iter__load(iter);
  if (err) {
    socksnap_task_iter__destroy(iter);
    errno = -err;
    return NULL;
  }
  return iter;
}

void socksnap_socket_iter_destroy(struct socksnap_socket_iter* iter) {
  if (iter) socksnap_socket_iter__destroy(iter);
}

void socksnap_task_iter_destroy(struct socksnap_task_iter* iter) {
  if (iter) socksnap_task_iter__destroy(iter);
}

int socksnap_socket_iter_attach(struct socksnap_socket_iter* iter,
                                enum socksnap_socket_program program) {
  int prog =
      program == SOCKSNAP_ITER_TCP ? iter->progs.dump_tcp.prog_fd : iter->progs.dump_udp.prog_fd;
  return skel_link_create(prog, 0, BPF_TRACE_ITER); /* -1 and errno on failure */
}

int socksnap_task_iter_attach(struct socksnap_task_iter* iter, enum socksnap_task_program program) {
  int prog = program == SOCKSNAP_ITER_SOCKET_FDS ? iter->progs.dump_socket_fds.prog_fd
                                                 : iter->progs.dump_tasks.prog_fd;
  return skel_link_create(prog, 0, BPF_TRACE_ITER); /* -1 and errno on failure */
}

const __u8* socksnap_socket_iter_map_chunks(struct socksnap_socket_iter* iter) {
  void* chunks = mmap(NULL, (size_t)SOCKSNAP_CHUNKS * SOCKSNAP_CHUNK_BYTES, PROT_READ, MAP_SHARED,
                      iter->maps.chunks.map_fd, 0);
  return chunks == MAP_FAILED ? NULL : (const __u8*)chunks;
}

struct socksnap_reader* socksnap_socket_iter_reader(struct socksnap_socket_iter* iter, __u32 tid) {
  return &iter->bss->readers[tid & (SOCKSNAP_READER_SLOTS - 1)];
}

void socksnap_socket_iter_configure(struct socksnap_socket_iter* iter, __u32 tcp_states,
                                    __u32 udp_states) {
  iter->data->tcp_states = tcp_states;
  iter->data->udp_states = udp_states;
}

void socksnap_socket_iter_stop_reading_inodes(struct socksnap_socket_iter* iter) {
  /* The programs read it at each socket from the map's memory, which this is a view of. */
  __atomic_store_n(&iter->data->want_inodes, 0, __ATOMIC_RELAXED);
}

int socksnap_iter_open(int link) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.iter_create.link_fd = (__u32)link;
  return skel_sys_bpf(BPF_ITER_CREATE, &attr, sizeof attr); /* -1 and errno on failure */
}

void socksnap_task_iter_set_cgroups_key_mask(struct socksnap_task_iter* iter, __u64 mask) {
  iter->bss->cgroups_key_mask = mask;
}

__u32 socksnap_task_iter_take_reader_tgid(struct socksnap_task_iter* iter) {
  __u32 tgid = iter->bss->reader_tgid;
  iter->bss->reader_tgid = 0;
  return tgid;
}
