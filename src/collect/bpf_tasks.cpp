#include "collect/bpf_tasks.h"

#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <string>

#include "collect/bpf_source.h"
#include "util/unique_fd.h"

#ifdef SOCKSNAP_HAVE_BPF
#include "collect/bpf/iter_programs.h"
#endif

namespace socksnap {

#ifdef SOCKSNAP_HAVE_BPF

struct BpfTaskSource::Programs {
  socksnap_task_iter* loaded = nullptr;
  UniqueFd links[2];  // by socksnap_task_program

  ~Programs() {
    for (auto& link : links) link = UniqueFd();  // each holds its program
    socksnap_task_iter_destroy(loaded);
  }
};

Result<std::unique_ptr<BpfTaskSource>> BpfTaskSource::open() {
  if (auto usable = bpf_iterators_usable(); !usable) return usable.error();
  auto programs = std::make_unique<Programs>();
  programs->loaded = socksnap_task_iter_load();
  if (programs->loaded == nullptr) {
    return system_error("the kernel refused to load socksnap's BPF iterators of processes", errno);
  }
  return std::unique_ptr<BpfTaskSource>(new BpfTaskSource(std::move(programs)));
}

Result<void> BpfTaskSource::read(int program, const char* what, RecordReader records,
                                 const std::function<void(std::span<const uint8_t>)>& add) {
  UniqueFd& link = programs_->links[program];
  if (!link.valid()) {
    link.reset(
        socksnap_task_iter_attach(programs_->loaded, static_cast<socksnap_task_program>(program)));
    if (!link.valid()) {
      return system_error(std::string("the kernel refused the ") + what + " iterator", errno);
    }
  }
  UniqueFd iterator(socksnap_iter_open(link.get()));
  if (!iterator.valid()) return system_error(std::string("open the ") + what + " iterator");
  std::vector<uint8_t> buffer(kIteratorReadSize);
  while (true) {
    ssize_t n = ::read(iterator.get(), buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error(std::string("read the ") + what + " iterator");
    }
    records.feed(std::span<const uint8_t>(buffer.data(), static_cast<size_t>(n)), add);
  }
  if (!records.complete()) {
    return system_error(
        std::string("the ") + what + " iterator's records ended part way through one", EBADMSG);
  }
  // The program notes the PID its reader has in the initial PID namespace; another than
  // getpid() means this process is in a PID namespace of its own, where the iterator walks only
  // that namespace's tasks.
  uint32_t seen = socksnap_task_iter_take_reader_tgid(programs_->loaded);
  if (seen != static_cast<uint32_t>(::getpid())) {
    return plain_error(std::string("socksnap runs in a PID namespace of its own, where ") + what +
                       " sees only that namespace's processes");
  }
  return {};
}

Result<std::vector<TaskRecord>> BpfTaskSource::tasks() {
  // The sets of cgroups are told apart by their address, mixed with this run's own bytes.
  uint64_t mask = 0;
  if (::getrandom(&mask, sizeof mask, 0) != static_cast<ssize_t>(sizeof mask)) {
    return system_error("getrandom");
  }
  socksnap_task_iter_set_cgroups_key_mask(programs_->loaded, mask | 1);  // odd: no key is 0
  std::vector<TaskRecord> tasks;
  auto done =
      read(SOCKSNAP_ITER_TASKS, "iter/task", RecordReader(task_record_size(), task_record_trailer),
           [&](std::span<const uint8_t> record) { tasks.push_back(task_record(record)); });
  if (!done) return done.error();
  return tasks;
}

Result<std::vector<SocketFdRecord>> BpfTaskSource::socket_fds() {
  std::vector<SocketFdRecord> fds;
  auto done =
      read(SOCKSNAP_ITER_SOCKET_FDS, "iter/task_file", RecordReader(socket_fd_record_size()),
           [&](std::span<const uint8_t> record) { fds.push_back(socket_fd_record(record)); });
  if (!done) return done.error();
  return fds;
}

#else  // a build without the BPF programs

struct BpfTaskSource::Programs {};

Result<std::unique_ptr<BpfTaskSource>> BpfTaskSource::open() {
  return plain_error(
      "this socksnap was built without its BPF programs (clang, bpftool, libbpf "
      "or kernel BTF were missing at build time)");
}

Result<std::vector<TaskRecord>> BpfTaskSource::tasks() {
  return plain_error("no BPF programs in this build");
}

Result<std::vector<SocketFdRecord>> BpfTaskSource::socket_fds() {
  return plain_error("no BPF programs in this build");
}

#endif

BpfTaskSource::BpfTaskSource(std::unique_ptr<Programs> programs) : programs_(std::move(programs)) {}
BpfTaskSource::~BpfTaskSource() = default;

}  // namespace socksnap
