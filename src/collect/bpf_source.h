// The BPF source: socksnap's iterators (collect/bpf/socket_iter.bpf.c), loaded once per run.
// iter/tcp and iter/udp give a namespace's sockets with the fields inet_diag gives, each socket
// exactly once: on kernels whose iterators resume by socket cookie, a socket that lives through
// the read is neither missed nor repeated, however the table around it changes (a sock_diag dump
// resumes by position in a hash bucket, and may do both). Each iterator is opened by the worker
// thread inside the namespace it reads, from one link per program. The process iterators are
// apart, in collect/bpf_tasks.h.
// What the iterators do not walk (TCP sockets only bound, UDP-Lite) and unix sockets, which
// the kernel's iter/unix cannot give exactly once (see collect()), still come from sock_diag.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "collect/bpf_rows.h"
#include "collect/sock_diag_source.h"
#include "collect/socket_source.h"
#include "util/result.h"

namespace socksnap {

// Whether this kernel and this process can load socksnap's iterators: kernel BTF, and
// CAP_BPF with CAP_PERFMON (or CAP_SYS_ADMIN). The error is a phrase that follows "cannot use
// the BPF source: ".
Result<void> bpf_iterators_usable();

class BpfSource final : public SocketSource {
 public:
  // Loads and attaches the iterators, made for runs of `request`'s kind: fields it does not ask
  // for (tcp_info, queues and cgroups, inodes, cookies with uids and interfaces) are left out of
  // the programs themselves, and a collect() asking for one of them fails. The error says what
  // is missing, in a phrase that follows "cannot use the BPF source: ": a build without them,
  // kernel BTF, a capability, the kernel's refusal.
  static Result<std::unique_ptr<BpfSource>> open(const CollectRequest& request);
  ~BpfSource() override;
  BpfSource(const BpfSource&) = delete;
  BpfSource& operator=(const BpfSource&) = delete;

  std::string_view name() const override { return "BPF iterators"; }
  // With fewer namespaces than threads, each iterator's records are read into rows on a second
  // thread while the kernel makes the next ones.
  void plan(size_t namespaces, unsigned threads) override {
    netlink_.plan(namespaces, threads);
    parse_in_parallel_ = namespaces < threads;
  }
  // The programs skip each socket's inode from their next socket on.
  void stop_reading_inodes() override;
  Result<NamespaceSockets> collect(const NetnsRef& ns, const CollectRequest& request,
                                   Warnings& warnings) override;

 private:
  struct Programs;
  BpfSource(std::unique_ptr<Programs> programs, const CollectRequest& made_for);
  // The states the programs write, the run's request's: set once, before the first iterator.
  void configure(const CollectRequest& request);
  // Reads an inet iterator to its end, giving `add` each whole record.
  Result<void> read_records(int iterator, const char* what,
                            const std::function<void(std::span<const uint8_t>)>& add);

  std::unique_ptr<Programs> programs_;
  CollectRequest made_for_;  // what the programs can give
  SockDiagSource netlink_;   // for what the iterators do not walk
  std::once_flag configured_;
  bool parse_in_parallel_ = false;
};

}  // namespace socksnap
