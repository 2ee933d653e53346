// netprobe: the sockets busybox cannot make, for the node simulator's pods. Linked statically
// and put in the test image as /bin/netprobe.
//
//   netprobe pause                      a pod sandbox's init: waits for a signal, reaps children
//   netprobe udp-server PORT            bound UDP socket (INACTIVE) that echoes what it gets
//   netprobe udp-client HOST PORT       connected UDP socket (ACTIVE), one datagram a second
//   netprobe tcp-listen PORT            listener that accepts and holds its connections
//   netprobe tcp-connect HOST PORT      client that stays connected, reconnecting when closed
//   netprobe tcp-pair PORT              listener plus one connection to itself over loopback
//
// Every socket is IPv4. Errors go to stderr (the container's log) and exit non-zero, except a
// refused or closed connection, which the clients retry.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested = 0;

static void on_stop(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void on_child(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

// As PID 1 of its namespace a process ignores signals it has no handler for: install them.
static void install_handlers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sa.sa_handler = on_child;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}

static void die(const char* what) {
  fprintf(stderr, "netprobe: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int parse_port(const char* text) {
  char* end = NULL;
  long port = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || port <= 0 || port > 65535) {
    fprintf(stderr, "netprobe: bad port %s\n", text);
    exit(2);
  }
  return (int)port;
}

static struct sockaddr_in make_address(const char* host, int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    fprintf(stderr, "netprobe: bad IPv4 address %s\n", host);
    exit(2);
  }
  return a;
}

static int bound_socket(int type, int port) {
  int fd = socket(AF_INET, type, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = make_address("0.0.0.0", port);
  if (bind(fd, (struct sockaddr*)&a, sizeof a) != 0) die("bind");
  return fd;
}

static int tcp_listener(int port) {
  int fd = bound_socket(SOCK_STREAM, port);
  if (listen(fd, 64) != 0) die("listen");
  return fd;
}

static void pause_forever(void) {
  while (!stop_requested) pause();
}

// Accepts connections on `listener` and holds them until the peer closes; reads and drops data.
static void serve_tcp(int listener) {
  enum { kMax = 256 };
  struct pollfd fds[kMax];
  int n = 1;
  fds[0].fd = listener;
  fds[0].events = POLLIN;
  while (!stop_requested) {
    if (poll(fds, (nfds_t)n, 1000) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    for (int i = n - 1; i >= 1; i--) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got <= 0) {
        close(fds[i].fd);
        fds[i] = fds[--n];
      }
    }
    if (fds[0].revents & POLLIN) {
      int c = accept(listener, NULL, NULL);
      if (c >= 0 && n < kMax) {
        fds[n].fd = c;
        fds[n].events = POLLIN;
        n++;
      } else if (c >= 0) {
        close(c);
      }
    }
  }
}

static int cmd_udp_server(int port) {
  int fd = bound_socket(SOCK_DGRAM, port);
  while (!stop_requested) {
    char buf[2048];
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t got = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr*)&from, &len);
    if (got < 0) {
      if (errno == EINTR) continue;
      die("recvfrom");
    }
    sendto(fd, buf, (size_t)got, 0, (struct sockaddr*)&from, len);
  }
  return 0;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmd_udp_client(const char* host, int port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in a = make_address(host, port);
  if (connect(fd, (struct sockaddr*)&a, sizeof a) != 0) die("connect");
  while (!stop_requested) {
    // ECONNREFUSED from an earlier datagram's ICMP answer is expected while the server starts.
    send(fd, "ping", 4, MSG_DONTWAIT);
    // Then a second of reading answers (and errors), so that one datagram goes each second.
    long long until = now_ms() + 1000;
    for (long long left = 1000; left > 0 && !stop_requested; left = until - now_ms()) {
      struct pollfd p = {fd, POLLIN, 0};
      if (poll(&p, 1, (int)left) > 0) {
        char buf[2048];
        recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      }
    }
  }
  return 0;
}

static int cmd_tcp_listen(int port) {
  serve_tcp(tcp_listener(port));
  return 0;
}

static int cmd_tcp_connect(const char* host, int port) {
  struct sockaddr_in a = make_address(host, port);
  while (!stop_requested) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr*)&a, sizeof a) == 0) {
      // Hold the connection until the server closes it (busybox httpd does after a minute).
      char buf[4096];
      while (!stop_requested) {
        ssize_t got = read(fd, buf, sizeof buf);
        if (got == 0 || (got < 0 && errno != EINTR)) break;
      }
    }
    close(fd);
    if (!stop_requested) usleep(200 * 1000);
  }
  return 0;
}

static int cmd_tcp_pair(int port) {
  int listener = tcp_listener(port);
  int client = socket(AF_INET, SOCK_STREAM, 0);
  if (client < 0) die("socket");
  struct sockaddr_in a = make_address("127.0.0.1", port);
  if (connect(client, (struct sockaddr*)&a, sizeof a) != 0) die("connect");
  serve_tcp(listener);
  close(client);
  return 0;
}

static int usage(void) {
  fprintf(stderr,
          "usage: netprobe pause | udp-server PORT | udp-client HOST PORT | tcp-listen PORT |\n"
          "                tcp-connect HOST PORT | tcp-pair PORT\n");
  return 2;
}

int main(int argc, char** argv) {
  install_handlers();
  setvbuf(stderr, NULL, _IONBF, 0);
  if (argc == 2 && strcmp(argv[1], "pause") == 0) {
    pause_forever();
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "udp-server") == 0) return cmd_udp_server(parse_port(argv[2]));
  if (argc == 4 && strcmp(argv[1], "udp-client") == 0) {
    return cmd_udp_client(argv[2], parse_port(argv[3]));
  }
  if (argc == 3 && strcmp(argv[1], "tcp-listen") == 0) return cmd_tcp_listen(parse_port(argv[2]));
  if (argc == 4 && strcmp(argv[1], "tcp-connect") == 0) {
    return cmd_tcp_connect(argv[2], parse_port(argv[3]));
  }
  if (argc == 3 && strcmp(argv[1], "tcp-pair") == 0) return cmd_tcp_pair(parse_port(argv[2]));
  return usage();
}
