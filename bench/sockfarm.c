// sockfarm: holds open loopback TCP connections (both ends, accepted) and UDP sockets in
// network namespaces, for the benchmark. It enters each namespace in turn (single-threaded),
// brings lo up, widens the ephemeral port range, makes the sockets, prints one line
//   ready SOCKETS
// on stdout (SOCKETS = listeners + 2 x connections + UDP sockets it holds) and sleeps until it
// is killed. It dies with its parent (PR_SET_PDEATHSIG).
//
// usage: sockfarm [-c CONNS] [-u UDP] [-6 PERMILLE] [-p PORT] NSPATH...
//   -c  TCP connections per namespace (both ends kept: 2 sockets each)
//   -u  unconnected UDP sockets per namespace
//   -6  how many connections in 1000 use IPv6 (::1); the rest use 127.0.0.1
//   -p  listener port: IPv4 listens on PORT, IPv6 on PORT+1 (give each holder of one
//       namespace its own pair). 0: let the kernel pick each listener's port. Use 0 when
//       many holders share a namespace: a fixed port at or above 1024 lies in the ephemeral
//       range set below, and bind() fails (EADDRINUSE) when another holder's connection
//       already took it as its local port; the kernel picks a port no socket uses, and
//       connect() never takes a port a listener is bound to.
// Needs root (setns, and ports below 1024 if chosen).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 512  // connections in flight before they are accepted; below somaxconn (4096)

static void die(const char* what, const char* ns) {
  fprintf(stderr, "sockfarm: %s%s%s: %s\n", what, ns ? " in " : "", ns ? ns : "", strerror(errno));
  exit(1);
}

static void lo_up(const char* ns) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket for SIOCSIFFLAGS", ns);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) die("SIOCGIFFLAGS lo", ns);
  if (!(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) die("SIOCSIFFLAGS lo up", ns);
  }
  close(fd);
}

static void write_sysctl(const char* path, const char* value, const char* ns) {
  // /proc/sys/net shows the namespace of the thread that opens it.
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(path, ns);
  if (write(fd, value, strlen(value)) < 0) die(path, ns);
  close(fd);
}

// Listens on *port (0: a port the kernel picks, stored back into *port).
static int make_listener(int family, int* port, const char* ns) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket (listener)", ns);
  int one = 1;
  if (*port != 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (family == AF_INET) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(*port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = bind(fd, (struct sockaddr*)&a, sizeof a);
  } else {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(*port)};
    a.sin6_addr = in6addr_loopback;
    rc = bind(fd, (struct sockaddr*)&a, sizeof a);
  }
  if (rc < 0) die(family == AF_INET ? "bind 127.0.0.1" : "bind [::1]", ns);
  if (*port == 0) {
    struct sockaddr_storage got;
    socklen_t len = sizeof got;
    if (getsockname(fd, (struct sockaddr*)&got, &len) < 0) die("getsockname", ns);
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in*)&got)->sin_port
                                    : ((struct sockaddr_in6*)&got)->sin6_port);
  }
  if (listen(fd, 4096) < 0) die("listen", ns);
  return fd;
}

// Opens `count` connections to the listener `lfd` (bound to `port`), accepts them all.
static void connect_batch(int family, int lfd, int port, int count, const char* ns) {
  struct sockaddr_storage to;
  socklen_t tolen;
  memset(&to, 0, sizeof to);
  if (family == AF_INET) {
    struct sockaddr_in* a = (struct sockaddr_in*)&to;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    tolen = sizeof *a;
  } else {
    struct sockaddr_in6* a = (struct sockaddr_in6*)&to;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    a->sin6_addr = in6addr_loopback;
    tolen = sizeof *a;
  }
  for (int i = 0; i < count; ++i) {
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket (client)", ns);
    if (connect(fd, (struct sockaddr*)&to, tolen) < 0 && errno != EINPROGRESS) {
      die("connect", ns);
    }
  }
  // A blocking accept returns only fully established connections, so once all are accepted
  // both ends are ESTABLISHED.
  for (int i = 0; i < count; ++i) {
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) {
        --i;
        continue;
      }
      die("accept", ns);
    }
  }
}

static void connect_many(int family, int lfd, int port, int count, const char* ns) {
  while (count > 0) {
    int n = count < BATCH ? count : BATCH;
    connect_batch(family, lfd, port, n, ns);
    count -= n;
  }
}

int main(int argc, char** argv) {
  long conns = 0, udp = 0, v6_permille = 0, port = 20000;
  int opt;
  while ((opt = getopt(argc, argv, "c:u:6:p:")) != -1) {
    switch (opt) {
      case 'c':
        conns = strtol(optarg, NULL, 10);
        break;
      case 'u':
        udp = strtol(optarg, NULL, 10);
        break;
      case '6':
        v6_permille = strtol(optarg, NULL, 10);
        break;
      case 'p':
        port = strtol(optarg, NULL, 10);
        break;
      default:
        fprintf(stderr, "usage: sockfarm [-c CONNS] [-u UDP] [-6 PERMILLE] [-p PORT] NSPATH...\n");
        return 2;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "sockfarm: no namespace given\n");
    return 2;
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 1;  // the parent is already gone

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  long need = (long)(argc - optind) * (2 * conns + udp + 2) + 16;
  if ((long)rl.rlim_cur < need) {
    fprintf(stderr, "sockfarm: needs %ld descriptors, the limit is %ld\n", need, (long)rl.rlim_cur);
    return 1;
  }

  long total = 0;
  for (int a = optind; a < argc; ++a) {
    const char* ns = argv[a];
    int nsfd = open(ns, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) die("open", ns);
    if (setns(nsfd, CLONE_NEWNET) < 0) die("setns", ns);
    close(nsfd);
    lo_up(ns);
    write_sysctl("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535", ns);

    long v6 = conns * v6_permille / 1000;
    long v4 = conns - v6;
    if (v4 > 0) {
      int p = (int)port;
      int lfd = make_listener(AF_INET, &p, ns);
      connect_many(AF_INET, lfd, p, (int)v4, ns);
      total += 1 + 2 * v4;
    }
    if (v6 > 0) {
      int p = port == 0 ? 0 : (int)port + 1;
      int lfd = make_listener(AF_INET6, &p, ns);
      connect_many(AF_INET6, lfd, p, (int)v6, ns);
      total += 1 + 2 * v6;
    }
    for (long i = 0; i < udp; ++i) {
      int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0) die("socket (udp)", ns);
      struct sockaddr_in u = {.sin_family = AF_INET};
      u.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (bind(fd, (struct sockaddr*)&u, sizeof u) < 0) die("bind udp", ns);
      total += 1;
    }
  }
  printf("ready %ld\n", total);
  fflush(stdout);
  for (;;) pause();
}
