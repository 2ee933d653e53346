// The netlink source: NETLINK_SOCK_DIAG dumps, one netlink socket per namespace, opened by the
// collecting thread from inside that namespace.
#pragma once

#include <atomic>

#include "collect/dump_file.h"
#include "collect/socket_source.h"

namespace socksnap {

class SockDiagSource final : public SocketSource {
 public:
  // `recorder`, when given, receives every reply datagram (the hidden --record-dump).
  explicit SockDiagSource(DumpRecorder* recorder = nullptr) : recorder_(recorder) {}

  std::string_view name() const override { return "netlink sock_diag"; }
  // With fewer namespaces than threads, each dump's replies are parsed on a second thread
  // while the kernel makes the next ones.
  void plan(size_t namespaces, unsigned threads) override {
    parse_in_parallel_ = namespaces < threads;
  }
  Result<NamespaceSockets> collect(const NetnsRef& ns, const CollectRequest& request,
                                   Warnings& warnings) override;

 private:
  Result<void> dump(int fd, uint64_t netns, DumpKind kind, uint32_t states,
                    const CollectRequest& request, NamespaceSockets& out, Warnings& warnings);
  Result<void> dump_tcp(int fd, uint64_t netns, const CollectRequest& request,
                        NamespaceSockets& out, Warnings& warnings);

  DumpRecorder* recorder_;
  // Probed once per run: the legacy AF_UNSPEC TCP request, UDP-Lite and unix_diag support.
  std::atomic<bool> legacy_tcp_works_{true};
  std::atomic<bool> udplite_works_{true};
  std::atomic<bool> unix_works_{true};
  std::atomic<uint32_t> next_seq_{1};
  bool parse_in_parallel_ = false;
};

// A dump resumes each reply at a position in a hash bucket: when sockets ahead of it come and go
// between replies, a socket may be sent twice. Its cookie tells: the later copies are dropped,
// with their tcp_info. (A socket may as well be skipped: nothing tells that.)
void drop_repeated_sockets(NamespaceSockets& sockets);

// Sockets of one namespace bound to interfaces (`interface_indexes`, as its rows were read) get
// those interfaces' names, from inside it.
void resolve_interface_names(const NetnsRef& ns, NamespaceSockets& sockets);

}  // namespace socksnap
