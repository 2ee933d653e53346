// parse_diag_chunk and read_dump on arbitrary bytes, as if the kernel (or a recording) sent them.
// The first byte chooses the datagram size for read_dump; the rest is the reply.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "collect/diag_dump.h"

namespace {

void check(const socksnap::NamespaceSockets& out, bool want_tcp_info) {
  // tcp_info must stay parallel to the sockets when asked for, and empty otherwise.
  size_t expected = want_tcp_info ? out.sockets.size() : 0;
  if (out.tcp_info.size() != expected) std::abort();
  for (const auto& t : out.tcp_info) {
    bool terminated = false;
    for (char c : t.congestion) terminated = terminated || c == '\0';
    if (!terminated) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t datagram = (static_cast<size_t>(data[0]) + 1) * 16;
  std::span<const uint8_t> reply(data + 1, size - 1);

  for (bool want_tcp_info : {false, true}) {
    socksnap::ParseContext ctx{4026531840ULL, socksnap::Protocol::kTcp, want_tcp_info};
    socksnap::NamespaceSockets out;
    (void)socksnap::parse_diag_chunk(reply, ctx, out);
    check(out, want_tcp_info);

    // The same bytes cut into datagrams and read as one dump.
    socksnap::NamespaceSockets dumped;
    size_t offset = 0;
    socksnap::ChunkSupplier next = [&]() -> socksnap::Result<std::span<const uint8_t>> {
      size_t n = std::min(datagram, reply.size() - offset);
      auto chunk = reply.subspan(offset, n);
      offset += n;
      return chunk;
    };
    (void)socksnap::read_dump(next, ctx, dumped);
    check(dumped, want_tcp_info);
  }
  return 0;
}
