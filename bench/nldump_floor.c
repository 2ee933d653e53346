// nldump_floor: the floor for socksnap's collect stage. For every namespace given it sends
// the same sock_diag requests socksnap sends (src/collect/diag_dump.cpp):
//   1. TCPDIAG_GETSOCK, struct inet_diag_req, AF_UNSPEC, all states but TCP_BOUND_INACTIVE
//      (TCP, IPv4 + IPv6; socksnap, like ss, asks for bound-only sockets only on request)
//   2. SOCK_DIAG_BY_FAMILY, struct inet_diag_req_v2, AF_INET,  UDP, all states
//   3. SOCK_DIAG_BY_FAMILY, struct inet_diag_req_v2, AF_INET6, UDP, all states
// and reads every reply datagram into a 64 KiB buffer, looking at nothing but the netlink
// headers (to find NLMSG_DONE). Like socksnap, worker threads enter each namespace with
// setns, open the netlink socket there and go back; -j N threads (default: online CPUs).
//
// usage: nldump_floor [-j N] [-c] NSPATH...
//   -c  print "messages BYTES" totals on stderr (socket count = messages)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSIZE (64 * 1024)

static char** paths;
static int npaths;
static atomic_int next_ns;
static atomic_long total_msgs, total_bytes;
static atomic_int failures;

static int send_req(int fd, const void* req, size_t len) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  for (;;) {
    ssize_t n = sendto(fd, req, len, 0, (struct sockaddr*)&kernel, sizeof kernel);
    if (n >= 0) return 0;
    if (errno != EINTR) return -1;
  }
}

// Reads datagrams until NLMSG_DONE. Returns 0, or -1 on an error.
static int drain(int fd, char* buf, long* msgs, long* bytes) {
  for (;;) {
    ssize_t n = recv(fd, buf, BUFSIZE, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) return -1;
    *bytes += n;
    for (struct nlmsghdr* h = (struct nlmsghdr*)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) return -1;
      ++*msgs;
    }
  }
}

static int dump_ns(int nl, char* buf, uint32_t* seq, long* msgs, long* bytes) {
  struct {
    struct nlmsghdr h;
    struct inet_diag_req r;
  } tcp;
  memset(&tcp, 0, sizeof tcp);
  tcp.h.nlmsg_len = sizeof tcp;
  tcp.h.nlmsg_type = TCPDIAG_GETSOCK;
  tcp.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  tcp.h.nlmsg_seq = ++*seq;
  tcp.r.idiag_family = AF_UNSPEC;
  tcp.r.idiag_states = 0xffffffffU & ~(1U << 13);  // no TCP_BOUND_INACTIVE, as socksnap
  if (send_req(nl, &tcp, sizeof tcp) < 0 || drain(nl, buf, msgs, bytes) < 0) return -1;

  for (int i = 0; i < 2; ++i) {
    struct {
      struct nlmsghdr h;
      struct inet_diag_req_v2 r;
    } udp;
    memset(&udp, 0, sizeof udp);
    udp.h.nlmsg_len = sizeof udp;
    udp.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    udp.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    udp.h.nlmsg_seq = ++*seq;
    udp.r.sdiag_family = i == 0 ? AF_INET : AF_INET6;
    udp.r.sdiag_protocol = IPPROTO_UDP;
    udp.r.idiag_states = 0xffffffffU;
    if (send_req(nl, &udp, sizeof udp) < 0 || drain(nl, buf, msgs, bytes) < 0) return -1;
  }
  return 0;
}

static void* worker(void* arg) {
  (void)arg;
  char* buf = malloc(BUFSIZE);
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (buf == NULL || home < 0) {
    perror("nldump_floor: setup");
    exit(1);
  }
  uint32_t seq = 0;
  long msgs = 0, bytes = 0;
  for (int i = atomic_fetch_add(&next_ns, 1); i < npaths; i = atomic_fetch_add(&next_ns, 1)) {
    int nsfd = open(paths[i], O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
      fprintf(stderr, "nldump_floor: enter %s: %s\n", paths[i], strerror(errno));
      if (nsfd >= 0) close(nsfd);
      atomic_fetch_add(&failures, 1);
      continue;
    }
    close(nsfd);
    int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (setns(home, CLONE_NEWNET) < 0) {
      perror("nldump_floor: return home");
      abort();
    }
    if (nl < 0 || dump_ns(nl, buf, &seq, &msgs, &bytes) < 0) {
      fprintf(stderr, "nldump_floor: dump %s: %s\n", paths[i], strerror(errno));
      atomic_fetch_add(&failures, 1);
    }
    if (nl >= 0) close(nl);
  }
  atomic_fetch_add(&total_msgs, msgs);
  atomic_fetch_add(&total_bytes, bytes);
  close(home);
  free(buf);
  return NULL;
}

int main(int argc, char** argv) {
  long jobs = sysconf(_SC_NPROCESSORS_ONLN);
  int count = 0, opt;
  while ((opt = getopt(argc, argv, "j:c")) != -1) {
    switch (opt) {
      case 'j':
        jobs = strtol(optarg, NULL, 10);
        break;
      case 'c':
        count = 1;
        break;
      default:
        fprintf(stderr, "usage: nldump_floor [-j N] [-c] NSPATH...\n");
        return 2;
    }
  }
  paths = argv + optind;
  npaths = argc - optind;
  if (jobs < 1) jobs = 1;
  if (jobs > npaths) jobs = npaths;
  pthread_t threads[256];
  if (jobs > 256) jobs = 256;
  for (long t = 1; t < jobs; ++t) pthread_create(&threads[t], NULL, worker, NULL);
  if (npaths > 0) worker(NULL);
  for (long t = 1; t < jobs; ++t) pthread_join(threads[t], NULL);
  if (count) fprintf(stderr, "%ld %ld\n", atomic_load(&total_msgs), atomic_load(&total_bytes));
  return atomic_load(&failures) ? 1 : 0;
}
