// The BPF iterators of processes (collect/bpf/task_iter.bpf.c): iter/task gives the census of
// every process in one pass over the tasks, where /proc has three files a process to read, and
// iter/task_file the holders of every socket, where /proc has a link a descriptor. Loaded apart
// from the socket iterators (collect/bpf_source.h), only by runs that need them, and on the
// thread that reads them, so that their load runs beside the socket iterators'.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "collect/bpf_rows.h"
#include "util/result.h"

namespace socksnap {

class BpfTaskSource {
 public:
  // Loads the programs. The error says what is missing, as BpfSource::open's does.
  static Result<std::unique_ptr<BpfTaskSource>> open();
  ~BpfTaskSource();
  BpfTaskSource(const BpfTaskSource&) = delete;
  BpfTaskSource& operator=(const BpfTaskSource&) = delete;

  // Every process, kernel threads left out, with PIDs of the initial PID namespace. An error
  // when this process is not in that namespace (the iterator would see only the tasks of its
  // own): then read /proc.
  Result<std::vector<TaskRecord>> tasks();
  // Every socket descriptor of every process; the same PIDs, and the same error.
  Result<std::vector<SocketFdRecord>> socket_fds();

 private:
  struct Programs;
  explicit BpfTaskSource(std::unique_ptr<Programs> programs);
  // Opens an iterator of `program`'s link (made at its first read) and reads it to its end,
  // giving `add` each whole record `records` cuts.
  Result<void> read(int program, const char* what, RecordReader records,
                    const std::function<void(std::span<const uint8_t>)>& add);

  std::unique_ptr<Programs> programs_;
};

}  // namespace socksnap
