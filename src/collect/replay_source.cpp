#include "collect/replay_source.h"

#include <fstream>
#include <iterator>

namespace socksnap {
namespace {

bool wanted(DumpKind kind, const CollectRequest& request) {
  switch (dump_protocol(kind)) {
    case Protocol::kTcp:
      return request.tcp;
    case Protocol::kUdp:
      return request.udp;
    case Protocol::kUdpLite:
      return request.udplite;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<ReplaySource>> ReplaySource::open(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return system_error("open " + path);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  auto frames = parse_dump_file(bytes);
  if (!frames) return Error{frames.error().code, path + ": " + frames.error().context};
  return std::make_unique<ReplaySource>(std::move(frames.value()));
}

std::vector<NetnsRef> ReplaySource::namespaces() const {
  std::vector<NetnsRef> refs;
  for (const auto& f : frames_) {
    if (f.type != FrameType::kNamespace) continue;
    refs.push_back(NetnsRef{f.netns, std::string(f.bytes.begin(), f.bytes.end()), {}});
  }
  return refs;
}

Result<NamespaceSockets> ReplaySource::collect(const NetnsRef& ns, const CollectRequest& request,
                                               Warnings& /*warnings*/) {
  NamespaceSockets out;
  // Frames of one dump attempt are contiguous; replay each attempt as the live source read it,
  // keeping only the last attempt of each dump.
  size_t i = 0;
  while (i < frames_.size()) {
    const DumpFrame& first = frames_[i];
    if (first.type != FrameType::kChunk || first.netns != ns.inode ||
        !wanted(first.kind, request)) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < frames_.size() && frames_[end].type == FrameType::kChunk &&
           frames_[end].netns == first.netns && frames_[end].kind == first.kind &&
           frames_[end].attempt == first.attempt) {
      ++end;
    }
    bool superseded = end < frames_.size() && frames_[end].type == FrameType::kChunk &&
                      frames_[end].netns == first.netns && frames_[end].kind == first.kind;
    if (!superseded) {
      ParseContext ctx{ns.inode, dump_protocol(first.kind), request.tcp_info};
      size_t next = i;
      ChunkSupplier supply = [&]() -> Result<std::span<const uint8_t>> {
        if (next == end) return std::span<const uint8_t>();
        return std::span<const uint8_t>(frames_[next++].bytes);
      };
      auto done = read_dump(supply, ctx, out);
      if (!done) return done.error();
    }
    i = end;
  }
  return out;
}

}  // namespace socksnap
