// parse_diag_chunk and read_dump on arbitrary bytes, as if the kernel (or a recording) sent them,
// read as inet_diag's replies and as unix_diag's. The first byte chooses the datagram size for
// read_dump; the rest is the reply.
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
  // One entry per unix socket, in row order, each a unix row's.
  size_t unix_rows = 0;
  for (const auto& s : out.sockets) unix_rows += s.protocol == socksnap::Protocol::kUnix ? 1 : 0;
  if (out.unix_sockets.size() != unix_rows) std::abort();
  for (size_t i = 0; i < out.unix_sockets.size(); ++i) {
    uint32_t row = out.unix_sockets[i].row;
    if (row >= out.sockets.size() || out.sockets[row].protocol != socksnap::Protocol::kUnix) {
      std::abort();
    }
    if (i > 0 && row <= out.unix_sockets[i - 1].row) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t datagram = (static_cast<size_t>(data[0]) + 1) * 16;
  std::span<const uint8_t> reply(data + 1, size - 1);

  for (int pass = 0; pass < 3; ++pass) {
    bool want_tcp_info = pass == 1;
    auto protocol = pass == 2 ? socksnap::Protocol::kUnix : socksnap::Protocol::kTcp;
    socksnap::ParseContext ctx{4026531840ULL, protocol, want_tcp_info};
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
