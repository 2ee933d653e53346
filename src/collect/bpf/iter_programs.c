#include "collect/bpf/iter_programs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "socket_iter.lskel.h"

struct socksnap_iter* socksnap_iter_load(void) {
  struct socksnap_iter* iter = socksnap_iter__open();
  if (!iter) return NULL;
  int err = socksnap_iter__load(iter);
  if (err) {
    socksnap_iter__destroy(iter);
    errno = -err;
    return NULL;
  }
  return iter;
}

void socksnap_iter_destroy(struct socksnap_iter* iter) {
  if (iter) socksnap_iter__destroy(iter);
}

int socksnap_iter_attach(struct socksnap_iter* iter, enum socksnap_iter_program program) {
  int prog = -1;
  switch (program) {
    case SOCKSNAP_ITER_TCP:
      prog = iter->progs.dump_tcp.prog_fd;
      break;
    case SOCKSNAP_ITER_UDP:
      prog = iter->progs.dump_udp.prog_fd;
      break;
    case SOCKSNAP_ITER_SOCKET_FDS:
      prog = iter->progs.dump_socket_fds.prog_fd;
      break;
  }
  return skel_link_create(prog, 0, BPF_TRACE_ITER); /* -1 and errno on failure */
}

void socksnap_iter_configure(struct socksnap_iter* iter, __u32 tcp_states, __u32 udp_states,
                             int want_tcp_info) {
  iter->data->tcp_states = tcp_states;
  iter->data->udp_states = udp_states;
  iter->bss->want_tcp_info = want_tcp_info ? 1 : 0;
}

int socksnap_iter_open(int link) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.iter_create.link_fd = (__u32)link;
  return skel_sys_bpf(BPF_ITER_CREATE, &attr, sizeof attr); /* -1 and errno on failure */
}

__u32 socksnap_iter_take_reader_tgid(struct socksnap_iter* iter) {
  __u32 tgid = iter->bss->reader_tgid;
  iter->bss->reader_tgid = 0;
  return tgid;
}
