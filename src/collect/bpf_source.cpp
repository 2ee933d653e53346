#include "collect/bpf_source.h"

#include <linux/capability.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "collect/dump_pipeline.h"
#include "collect/socket_counts.h"
#include "discover/netns_handle.h"
#include "util/capabilities.h"
#include "util/huge_pages.h"
#include "util/unique_fd.h"

#ifdef SOCKSNAP_HAVE_BPF
#include "collect/bpf/iter_programs.h"
#include "collect/bpf/iter_rows.h"
#endif

namespace socksnap {
namespace {

constexpr const char* kKernelBtf = "/sys/kernel/btf/vmlinux";

}  // namespace

Result<void> bpf_iterators_usable() {
  if (::access(kKernelBtf, R_OK) != 0) {
    return plain_error(std::string("the kernel has no BTF (") + kKernelBtf + ")");
  }
  if (!has_capability(CAP_SYS_ADMIN) && !(has_capability(CAP_BPF) && has_capability(CAP_PERFMON))) {
    return plain_error("missing capability CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)");
  }
  return {};
}

#ifdef SOCKSNAP_HAVE_BPF

struct BpfSource::Programs {
  socksnap_socket_iter* loaded = nullptr;
  UniqueFd tcp;
  UniqueFd udp;
  // The chunks the programs write records into (collect/bpf/iter_rows.h), mapped, and lent to
  // the threads that read iterators.
  const uint8_t* chunks = nullptr;
  std::optional<ChunkPool> pool;
  std::mutex slots_mutex;
  std::condition_variable slot_freed;

  ~Programs() {
    if (chunks != nullptr) {
      ::munmap(const_cast<uint8_t*>(chunks), size_t{SOCKSNAP_CHUNKS} * SOCKSNAP_CHUNK_BYTES);
    }
    // The links first: each holds its program.
    tcp = UniqueFd();
    udp = UniqueFd();
    socksnap_socket_iter_destroy(loaded);
  }

  // The calling thread's slot (iter_rows.h), held while it reads one iterator: a thread whose
  // id falls on the same slot waits until it is given back.
  socksnap_reader* claim_slot() {
    auto tid = static_cast<uint32_t>(::gettid());
    socksnap_reader* slot = socksnap_socket_iter_reader(loaded, tid);
    std::unique_lock lock(slots_mutex);
    slot_freed.wait(lock, [&] { return std::atomic_ref(slot->tid).load() == 0; });
    std::atomic_ref(slot->tid).store(tid);
    return slot;
  }
  void give_back(socksnap_reader* slot) {
    std::lock_guard lock(slots_mutex);
    std::atomic_ref(slot->tid).store(0);
    slot_freed.notify_all();
  }
};

namespace {

Result<UniqueFd> attach(socksnap_socket_iter* loaded, socksnap_socket_program program,
                        const char* what) {
  UniqueFd link(socksnap_socket_iter_attach(loaded, program));
  if (!link.valid()) {
    return system_error(std::string("the kernel refused the ") + what + " iterator", errno);
  }
  return link;
}

}  // namespace

Result<std::unique_ptr<BpfSource>> BpfSource::open(const CollectRequest& request) {
  if (auto usable = bpf_iterators_usable(); !usable) return usable.error();
  auto programs = std::make_unique<Programs>();
  programs->loaded = socksnap_socket_iter_load(request.tcp_info, request.queues_and_cgroup,
                                               request.inodes, request.identities);
  if (programs->loaded == nullptr) {
    return system_error("the kernel refused to load socksnap's BPF iterators", errno);
  }
  auto tcp = attach(programs->loaded, SOCKSNAP_ITER_TCP, "iter/tcp");
  if (!tcp) return tcp.error();
  programs->tcp = std::move(tcp.value());
  auto udp = attach(programs->loaded, SOCKSNAP_ITER_UDP, "iter/udp");
  if (!udp) return udp.error();
  programs->udp = std::move(udp.value());
  programs->chunks = socksnap_socket_iter_map_chunks(programs->loaded);
  if (programs->chunks == nullptr) {
    return system_error("the kernel refused to map the BPF iterators' chunks", errno);
  }
  programs->pool.emplace(programs->chunks, SOCKSNAP_CHUNK_BYTES, SOCKSNAP_CHUNKS);
  return std::unique_ptr<BpfSource>(new BpfSource(std::move(programs), request));
}

void BpfSource::configure(const CollectRequest& request) {
  std::call_once(configured_, [&] {
    socksnap_socket_iter_configure(programs_->loaded, request.tcp_states, request.udp_states);
  });
}

void BpfSource::stop_reading_inodes() {
  socksnap_socket_iter_stop_reading_inodes(programs_->loaded);
}

Result<void> BpfSource::read_records(int iterator, const char* what,
                                     const std::function<void(std::span<const uint8_t>)>& add) {
  RecordReader records(kInetHeadSize, inet_record_trailer);
  socksnap_reader* slot = programs_->claim_slot();
  bool ended = false;
  // Each read() fills the chunk the slot names until it has no room (EAGAIN: the kernel gives
  // the socket it stopped at again at the next read) or the walk ends (0). A read that walked
  // 1,000,000 sockets and wrote none of them gives EAGAIN too (the kernel's bound).
  ChunkFiller fill = [&](uint32_t index) -> Result<size_t> {
    std::atomic_ref(slot->chunk).store(index, std::memory_order_relaxed);
    std::atomic_ref(slot->used).store(0, std::memory_order_relaxed);
    while (!ended) {
      std::array<uint8_t, 64> bytes{};
      ssize_t n = ::read(iterator, bytes.data(), bytes.size());
      if (n == 0) {
        ended = true;
      } else if (n > 0) {
        return system_error(
            std::string("the ") + what + " iterator found no slot for its reader's thread",
            EBADMSG);
      } else if (errno == EAGAIN) {
        if (std::atomic_ref(slot->used).load(std::memory_order_relaxed) > 0) break;
      } else if (errno != EINTR) {
        return system_error(std::string("read the ") + what + " iterator");
      }
    }
    uint32_t used = std::atomic_ref(slot->used).load(std::memory_order_relaxed);
    if (used > SOCKSNAP_CHUNK_BYTES) {
      return system_error(std::string("the ") + what + " iterator wrote past its chunk", EBADMSG);
    }
    return size_t{used};
  };
  auto done = read_chunks(*programs_->pool, fill, parse_in_parallel_,
                          [&](std::span<const uint8_t> chunk) { records.feed(chunk, add); });
  programs_->give_back(slot);
  if (!done) return done;
  if (!records.complete()) {
    return system_error(
        std::string("the ") + what + " iterator's records ended part way through one", EBADMSG);
  }
  return {};
}

namespace {

// Appends `more` (sockets read through sock_diag) to `out`, its unix entries following their rows.
void append_sockets(NamespaceSockets& out, NamespaceSockets&& more) {
  if (out.sockets.empty()) {  // unix sockets alone: no copy
    out.sockets = std::move(more.sockets);
    out.tcp_info = std::move(more.tcp_info);
    out.unix_sockets = std::move(more.unix_sockets);
    out.interface_indexes = std::move(more.interface_indexes);
    return;
  }
  out.interface_indexes.merge(more.interface_indexes);
  auto offset = static_cast<uint32_t>(out.sockets.size());
  out.unix_sockets.reserve(out.unix_sockets.size() + more.unix_sockets.size());
  out.sockets.insert(out.sockets.end(), more.sockets.begin(), more.sockets.end());
  out.tcp_info.insert(out.tcp_info.end(), more.tcp_info.begin(), more.tcp_info.end());
  for (auto& entry : more.unix_sockets) {
    entry.row += offset;
    out.unix_sockets.push_back(std::move(entry));
  }
}

}  // namespace

Result<NamespaceSockets> BpfSource::collect(const NetnsRef& ns, const CollectRequest& request,
                                            Warnings& warnings) {
  if ((request.tcp_info && !made_for_.tcp_info) ||
      (request.queues_and_cgroup && !made_for_.queues_and_cgroup) ||
      (request.inodes && !made_for_.inodes) || (request.identities && !made_for_.identities)) {
    return plain_error("the BPF iterators were loaded for runs that read fewer fields");
  }
  configure(request);
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
    auto open = [&](const UniqueFd& link, UniqueFd& iterator, const char* what) -> Result<void> {
      iterator.reset(socksnap_iter_open(link.get()));
      if (!iterator.valid()) return system_error(std::string("open the ") + what + " iterator");
      return {};
    };
    if (request.tcp && has(counts ? counts->tcp + counts->tcp6 + counts->time_wait : 0)) {
      if (auto done = open(programs_->tcp, tcp, "iter/tcp"); !done) return done.error();
    }
    if (request.udp && has(counts ? counts->udp + counts->udp6 : 0)) {
      if (auto done = open(programs_->udp, udp, "iter/udp"); !done) return done.error();
    }
  }
  NamespaceSockets out;
  // Room for the unix sockets too, which sockstat does not count apart: as many as the namespace
  // has sockets ("used"), as sock_diag's source makes (pages never written are never touched).
  // Backed by huge pages (util/huge_pages.h): on case A's 200,000 sockets (17.6 MB of rows),
  // 9,500 page faults a run became 5,900, on the thread that reads the records into rows beside
  // the walk.
  if (counts)
    reserve_huge(out.sockets, counts->total() + (request.unix_sockets ? counts->used : 0));
  if (counts && request.tcp_info) reserve_huge(out.tcp_info, counts->total());
  auto read_inet = [&](const UniqueFd& iterator, bool is_tcp) -> Result<void> {
    if (!iterator.valid()) return {};
    return read_records(iterator.get(), is_tcp ? "iter/tcp" : "iter/udp",
                        [&](std::span<const uint8_t> record) {
                          add_inet_record(record, ns.inode, request.tcp_info, out);
                        });
  };
  if (auto done = read_inet(tcp, true); !done) return done.error();
  // TCP sockets only bound (neither listening nor connected) are in no table the iterator
  // walks, and UDP-Lite sockets in a table of their own: sock_diag reads those.
  CollectRequest rest = request;
  rest.tcp = request.tcp && (request.tcp_states & kBoundInactiveState) != 0;
  rest.tcp_states = kBoundInactiveState;
  rest.udp = false;
  rest.unix_sockets = false;
  // None where sockstat counted none: no namespace entered again for nothing.
  if (counts && counts->udplite + counts->udplite6 == 0) rest.udplite = false;
  if (rest.tcp || rest.udplite) {
    auto more = netlink_.collect(ns, rest, warnings);
    if (!more) return more.error();
    append_sockets(out, std::move(more.value()));
  }
  if (auto done = read_inet(udp, false); !done) return done.error();
  // Unix sockets last, as sock_diag's source reads them, and through sock_diag: the kernel's
  // iter/unix cannot resume inside a hash bucket. It holds a bucket's sockets as one batch, and
  // when a read ends part way through one (its seq_file buffer, 8 pages, is full), its stop()
  // releases the rest and the next read starts at the next bucket (net/unix/af_unix.c,
  // bpf_iter_unix_seq_stop and st_bucket_done; iter/tcp resumes by cookie instead). A program
  // written for it lost 8,480 of 36,000 unix sockets here, those past ~215 records of each bucket.
  if (request.unix_sockets) {
    CollectRequest only_unix;
    only_unix.tcp = false;
    only_unix.udp = false;
    only_unix.unix_sockets = true;
    auto more = netlink_.collect(ns, only_unix, warnings);
    if (!more) return more.error();
    append_sockets(out, std::move(more.value()));
  }
  // Sockets the kernel gives no tcp_info for (unix ones, which have none) have an invalid one.
  if (request.tcp_info) out.tcp_info.resize(out.sockets.size());
  resolve_interface_names(ns, out);
  return out;
}

#else  // a build without the BPF programs

struct BpfSource::Programs {};

Result<std::unique_ptr<BpfSource>> BpfSource::open(const CollectRequest& /*request*/) {
  return plain_error(
      "this socksnap was built without its BPF programs (clang, bpftool, libbpf "
      "or kernel BTF were missing at build time)");
}

Result<NamespaceSockets> BpfSource::collect(const NetnsRef& /*ns*/,
                                            const CollectRequest& /*request*/,
                                            Warnings& /*warnings*/) {
  return plain_error("no BPF programs in this build");
}

void BpfSource::configure(const CollectRequest& /*request*/) {}

void BpfSource::stop_reading_inodes() {}

#endif

BpfSource::BpfSource(std::unique_ptr<Programs> programs, const CollectRequest& made_for)
    : programs_(std::move(programs)), made_for_(made_for) {}
BpfSource::~BpfSource() = default;

}  // namespace socksnap
