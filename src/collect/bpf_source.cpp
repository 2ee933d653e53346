#include "collect/bpf_source.h"

#include <linux/capability.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "collect/dump_pipeline.h"
#include "collect/socket_counts.h"
#include "discover/netns_handle.h"
#include "util/capabilities.h"
#include "util/unique_fd.h"

#ifdef SOCKSNAP_HAVE_BPF
#include "collect/bpf/iter_programs.h"
#endif

namespace socksnap {
namespace {

constexpr const char* kKernelBtf = "/sys/kernel/btf/vmlinux";
// One read takes what the kernel's seq_file buffer holds (8 pages) at most; twice that is ample.
constexpr size_t kReadBufferSize = size_t{64} * 1024;

}  // namespace

#ifdef SOCKSNAP_HAVE_BPF

struct BpfSource::Programs {
  socksnap_iter* loaded = nullptr;
  UniqueFd tcp;
  UniqueFd udp;
  UniqueFd socket_fds;

  ~Programs() {
    // The links first: each holds its program.
    tcp = UniqueFd();
    udp = UniqueFd();
    socket_fds = UniqueFd();
    socksnap_iter_destroy(loaded);
  }
};

namespace {

Result<UniqueFd> attach(socksnap_iter* loaded, socksnap_iter_program program, const char* what) {
  UniqueFd link(socksnap_iter_attach(loaded, program));
  if (!link.valid()) {
    return system_error(std::string("the kernel refused the ") + what + " iterator", errno);
  }
  return link;
}

}  // namespace

Result<std::unique_ptr<BpfSource>> BpfSource::open() {
  if (::access(kKernelBtf, R_OK) != 0) {
    return plain_error(std::string("the kernel has no BTF (") + kKernelBtf + ")");
  }
  if (!has_capability(CAP_SYS_ADMIN) && !(has_capability(CAP_BPF) && has_capability(CAP_PERFMON))) {
    return plain_error("missing capability CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)");
  }
  auto programs = std::make_unique<Programs>();
  programs->loaded = socksnap_iter_load();
  if (programs->loaded == nullptr) {
    return system_error("the kernel refused to load socksnap's BPF iterators", errno);
  }
  auto tcp = attach(programs->loaded, SOCKSNAP_ITER_TCP, "iter/tcp");
  if (!tcp) return tcp.error();
  programs->tcp = std::move(tcp.value());
  auto udp = attach(programs->loaded, SOCKSNAP_ITER_UDP, "iter/udp");
  if (!udp) return udp.error();
  programs->udp = std::move(udp.value());
  return std::unique_ptr<BpfSource>(new BpfSource(std::move(programs)));
}

Result<void> BpfSource::configure(const CollectRequest& request) {
  std::lock_guard lock(configure_mutex_);
  if (configured_) return {};
  socksnap_iter_configure(programs_->loaded, request.tcp_states, request.udp_states,
                          request.tcp_info ? 1 : 0);
  configured_ = true;
  return {};
}

Result<void> BpfSource::read_iterator(int iterator, uint64_t netns, bool tcp, bool with_tcp_info,
                                      NamespaceSockets& out) {
  RecordReader records(inet_record_size(tcp, with_tcp_info));
  auto consume = [&](std::span<const uint8_t> chunk) {
    records.feed(chunk, [&](std::span<const uint8_t> record) {
      add_inet_record(record, netns, with_tcp_info, out);
    });
  };
  ChunkReceiver receive = [&](std::span<uint8_t> into) -> Result<size_t> {
    while (true) {
      ssize_t n = ::read(iterator, into.data(), into.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) {
        return system_error(tcp ? "read the iter/tcp iterator" : "read the iter/udp iterator");
      }
    }
  };
  if (parse_in_parallel_) {
    if (auto done = read_stream_pipelined(receive, kReadBufferSize, consume); !done) return done;
  } else {
    thread_local std::vector<uint8_t> buffer(kReadBufferSize);
    while (true) {
      auto n = receive(std::span(buffer));
      if (!n) return n.error();
      if (*n == 0) break;
      consume(std::span<const uint8_t>(buffer.data(), *n));
    }
  }
  if (!records.complete()) {
    return system_error("an iterator's records ended part way through one", EBADMSG);
  }
  return {};
}

Result<NamespaceSockets> BpfSource::collect(const NetnsRef& ns, const CollectRequest& request,
                                            Warnings& warnings) {
  if (auto done = configure(request); !done) return done.error();
  auto handle = NetnsHandle::open(ns);
  if (!handle) return handle.error();
  // The iterators read the namespace of the thread that opens them: open them inside it, read
  // them after (each holds its namespace).
  UniqueFd tcp;
  UniqueFd udp;
  std::optional<SocketCounts> counts;
  {
    auto entry = NetnsEntry::enter(*handle);
    if (!entry) return entry.error();
    counts = read_socket_counts();
    auto has = [&](uint64_t count) { return !counts || count > 0; };
    if (request.tcp && has(counts ? counts->tcp + counts->tcp6 + counts->time_wait : 0)) {
      tcp.reset(socksnap_iter_open(programs_->tcp.get()));
      if (!tcp.valid()) return system_error("open the iter/tcp iterator");
    }
    if (request.udp && has(counts ? counts->udp + counts->udp6 : 0)) {
      udp.reset(socksnap_iter_open(programs_->udp.get()));
      if (!udp.valid()) return system_error("open the iter/udp iterator");
    }
  }
  NamespaceSockets out;
  if (counts) out.sockets.reserve(counts->total());
  if (counts && request.tcp_info) out.tcp_info.reserve(counts->total());
  if (tcp.valid()) {
    if (auto done = read_iterator(tcp.get(), ns.inode, true, request.tcp_info, out); !done) {
      return done.error();
    }
  }
  // TCP sockets only bound (neither listening nor connected) are in no table the iterator
  // walks, and UDP-Lite sockets in a table of their own: sock_diag reads those.
  CollectRequest rest = request;
  rest.tcp = request.tcp && (request.tcp_states & kBoundInactiveState) != 0;
  rest.tcp_states = kBoundInactiveState;
  rest.udp = false;
  if (rest.tcp || rest.udplite) {
    auto more = netlink_.collect(ns, rest, warnings);
    if (!more) return more.error();
    out.sockets.insert(out.sockets.end(), more->sockets.begin(), more->sockets.end());
    out.tcp_info.insert(out.tcp_info.end(), more->tcp_info.begin(), more->tcp_info.end());
  }
  if (udp.valid()) {
    if (auto done = read_iterator(udp.get(), ns.inode, false, request.tcp_info, out); !done) {
      return done.error();
    }
  }
  resolve_interface_names(ns, out);
  return out;
}

Result<std::vector<SocketFdRecord>> BpfSource::socket_fds() {
  if (!programs_->socket_fds.valid()) {
    auto link = attach(programs_->loaded, SOCKSNAP_ITER_SOCKET_FDS, "iter/task_file");
    if (!link) return link.error();
    programs_->socket_fds = std::move(link.value());
  }
  UniqueFd iterator(socksnap_iter_open(programs_->socket_fds.get()));
  if (!iterator.valid()) return system_error("open the iter/task_file iterator");
  std::vector<SocketFdRecord> fds;
  RecordReader records(socket_fd_record_size());
  std::vector<uint8_t> buffer(kReadBufferSize);
  while (true) {
    ssize_t n = ::read(iterator.get(), buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("read the iter/task_file iterator");
    }
    records.feed(std::span<const uint8_t>(buffer.data(), static_cast<size_t>(n)),
                 [&](std::span<const uint8_t> record) { fds.push_back(socket_fd_record(record)); });
  }
  // The program notes the PID its reader has in the initial PID namespace; another than
  // getpid() means this process is in a PID namespace of its own, where the iterator walks only
  // that namespace's tasks.
  uint32_t seen = socksnap_iter_take_reader_tgid(programs_->loaded);
  if (seen != static_cast<uint32_t>(::getpid())) {
    return plain_error(
        "socksnap runs in a PID namespace of its own, where iter/task_file sees "
        "only that namespace's processes");
  }
  return fds;
}

#else  // a build without the BPF programs

struct BpfSource::Programs {};

Result<std::unique_ptr<BpfSource>> BpfSource::open() {
  return plain_error(
      "this socksnap was built without its BPF programs (clang, bpftool, libbpf "
      "or kernel BTF were missing at build time)");
}

Result<NamespaceSockets> BpfSource::collect(const NetnsRef& /*ns*/,
                                            const CollectRequest& /*request*/,
                                            Warnings& /*warnings*/) {
  return plain_error("no BPF programs in this build");
}

Result<std::vector<SocketFdRecord>> BpfSource::socket_fds() {
  return plain_error("no BPF programs in this build");
}

Result<void> BpfSource::configure(const CollectRequest& /*request*/) {
  return {};
}

#endif

BpfSource::BpfSource(std::unique_ptr<Programs> programs) : programs_(std::move(programs)) {}
BpfSource::~BpfSource() = default;

}  // namespace socksnap
