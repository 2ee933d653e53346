// Recording of raw sock_diag replies to a file and reading them back, like ss -D and
// TCPDIAG_FILE: captured kernel answers make parsing, filtering and rendering testable without
// root. The format is socksnap's own (native byte order, so a file replays on the machine kind
// it was recorded on):
//   "SOCKSNAP-DUMP 1\n", then frames: u32 type, u64 netns, u8 kind, u8 attempt, u16 zero,
//   u32 length, `length` bytes. Type 1 names a namespace (payload: its source text), type 2 is
//   one reply datagram of dump `kind`, attempt `attempt`.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collect/diag_dump.h"
#include "util/result.h"

namespace socksnap {

enum class FrameType : uint32_t { kNamespace = 1, kChunk = 2 };

struct DumpFrame {
  FrameType type = FrameType::kChunk;
  uint64_t netns = 0;
  DumpKind kind = DumpKind::kTcpAny;
  uint8_t attempt = 0;
  std::vector<uint8_t> bytes;
};

inline constexpr std::string_view kDumpFileMagic = "SOCKSNAP-DUMP 1\n";

// Pure: the frames of a recording, or EBADMSG naming what is wrong with it.
Result<std::vector<DumpFrame>> parse_dump_file(std::span<const uint8_t> bytes);

// Appends frames to a file; safe to call from several collector threads.
class DumpRecorder {
 public:
  static Result<std::unique_ptr<DumpRecorder>> create(const std::string& path);
  ~DumpRecorder();
  DumpRecorder(const DumpRecorder&) = delete;
  DumpRecorder& operator=(const DumpRecorder&) = delete;

  void add_namespace(uint64_t netns, std::string_view source);
  void add_chunk(uint64_t netns, DumpKind kind, uint8_t attempt, std::span<const uint8_t> bytes);
  Result<void> finish();  // flushes and closes; reports a failed write

 private:
  explicit DumpRecorder(FILE* file, std::string path) : file_(file), path_(std::move(path)) {}
  void write_frame(FrameType type, uint64_t netns, DumpKind kind, uint8_t attempt,
                   std::span<const uint8_t> bytes);
  std::mutex mutex_;
  FILE* file_;
  std::string path_;
  bool failed_ = false;
};

}  // namespace socksnap
