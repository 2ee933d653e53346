#include "collect/replay_source.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <span>

#include "util/files.h"

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
    case Protocol::kUnix:
      return request.unix_sockets;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<ReplaySource>> ReplaySource::open(const std::string& path) {
  // A dump holds every reply of a run: as large as the host's socket tables.
  auto text = read_file(path, SIZE_MAX);
  if (!text) return text.error();
  auto frames =
      parse_dump_file(std::span(reinterpret_cast<const uint8_t*>(text->data()), text->size()));
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
  // This namespace's datagrams, grouped by dump and attempt. Other namespaces' datagrams may
  // sit in between: the live source records from several threads at once.
  std::map<std::pair<DumpKind, uint8_t>, std::vector<const DumpFrame*>> attempts;
  std::vector<DumpKind> order;  // dumps in the order the live source made them
  for (const auto& f : frames_) {
    if (f.type != FrameType::kChunk || f.netns != ns.inode || !wanted(f.kind, request)) continue;
    if (std::find(order.begin(), order.end(), f.kind) == order.end()) order.push_back(f.kind);
    attempts[{f.kind, f.attempt}].push_back(&f);
  }
  NamespaceSockets out;
  for (DumpKind kind : order) {
    // Only the last attempt of a dump counts: earlier ones were interrupted and retried.
    auto last = std::prev(attempts.upper_bound({kind, UINT8_MAX}));
    const std::vector<const DumpFrame*>& frames = last->second;
    ParseContext ctx{ns.inode, dump_protocol(kind), request.tcp_info};
    size_t next = 0;
    ChunkSupplier supply = [&]() -> Result<std::span<const uint8_t>> {
      if (next == frames.size()) return std::span<const uint8_t>();
      return std::span<const uint8_t>(frames[next++]->bytes);
    };
    size_t mark = out.sockets.size();
    auto done = read_dump(supply, ctx, out);
    if (done) continue;
    // The live source went on without what the kernel refused (the legacy TCP request, or
    // UDP-Lite): so does the replay.
    if (is_unsupported_request(done.error())) {
      out.truncate(mark);
      continue;
    }
    return done.error();
  }
  return out;
}

}  // namespace socksnap
