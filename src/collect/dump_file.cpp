#include "collect/dump_file.h"

#include <cerrno>
#include <cstring>

#include "util/unaligned.h"

namespace socksnap {
namespace {

constexpr size_t kFrameHeaderSize = 4 + 8 + 1 + 1 + 2 + 4;

}  // namespace

Result<std::vector<DumpFrame>> parse_dump_file(std::span<const uint8_t> bytes) {
  if (bytes.size() < kDumpFileMagic.size() ||
      std::memcmp(bytes.data(), kDumpFileMagic.data(), kDumpFileMagic.size()) != 0) {
    return system_error("not a socksnap dump file", EBADMSG);
  }
  std::vector<DumpFrame> frames;
  size_t offset = kDumpFileMagic.size();
  while (offset < bytes.size()) {
    if (bytes.size() - offset < kFrameHeaderSize) {
      return system_error("dump file ends inside a frame header", EBADMSG);
    }
    const uint8_t* p = bytes.data() + offset;
    DumpFrame frame;
    auto type = load_unaligned<uint32_t>(p);
    if (type != 1 && type != 2) return system_error("dump file has an unknown frame", EBADMSG);
    frame.type = static_cast<FrameType>(type);
    frame.netns = load_unaligned<uint64_t>(p + 4);
    uint8_t kind = p[12];
    if (kind < 1 || kind > kLastDumpKind)
      return system_error("dump file has an unknown dump kind", EBADMSG);
    frame.kind = static_cast<DumpKind>(kind);
    frame.attempt = p[13];
    auto length = load_unaligned<uint32_t>(p + 16);
    offset += kFrameHeaderSize;
    if (bytes.size() - offset < length) {
      return system_error("dump file ends inside a frame", EBADMSG);
    }
    frame.bytes.assign(bytes.begin() + static_cast<ptrdiff_t>(offset),
                       bytes.begin() + static_cast<ptrdiff_t>(offset + length));
    offset += length;
    frames.push_back(std::move(frame));
  }
  return frames;
}

Result<std::unique_ptr<DumpRecorder>> DumpRecorder::create(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "wbe");
  if (file == nullptr) return system_error("open " + path);
  std::unique_ptr<DumpRecorder> recorder(new DumpRecorder(file, path));
  if (std::fwrite(kDumpFileMagic.data(), 1, kDumpFileMagic.size(), file) != kDumpFileMagic.size()) {
    recorder->failed_ = true;
  }
  return recorder;
}

DumpRecorder::~DumpRecorder() {
  if (file_ != nullptr) std::fclose(file_);
}

void DumpRecorder::write_frame(FrameType type, uint64_t netns, DumpKind kind, uint8_t attempt,
                               std::span<const uint8_t> bytes) {
  uint8_t header[kFrameHeaderSize] = {};
  auto type_value = static_cast<uint32_t>(type);
  auto length = static_cast<uint32_t>(bytes.size());
  std::memcpy(header, &type_value, 4);
  std::memcpy(header + 4, &netns, 8);
  header[12] = static_cast<uint8_t>(kind);
  header[13] = attempt;
  std::memcpy(header + 16, &length, 4);
  std::lock_guard lock(mutex_);
  if (file_ == nullptr) return;
  if (std::fwrite(header, 1, sizeof header, file_) != sizeof header ||
      (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())) {
    failed_ = true;
  }
}

void DumpRecorder::add_namespace(uint64_t netns, std::string_view source) {
  write_frame(FrameType::kNamespace, netns, DumpKind::kTcpAny, 0,
              std::span(reinterpret_cast<const uint8_t*>(source.data()), source.size()));
}

void DumpRecorder::add_chunk(uint64_t netns, DumpKind kind, uint8_t attempt,
                             std::span<const uint8_t> bytes) {
  write_frame(FrameType::kChunk, netns, kind, attempt, bytes);
}

Result<void> DumpRecorder::finish() {
  std::lock_guard lock(mutex_);
  if (file_ == nullptr) return {};
  int close_result = std::fclose(file_);
  file_ = nullptr;
  if (failed_ || close_result != 0) return system_error("write " + path_, failed_ ? EIO : errno);
  return {};
}

}  // namespace socksnap
