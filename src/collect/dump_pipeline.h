// Reading one dump (or a BPF iterator) with its parsing on a second thread: the kernel does its
// share inside recv() or read(), so while the reading thread waits for the next chunk another
// core can parse the last one (and take the page faults of the growing result). Worth it only
// when a core would otherwise be idle, e.g. one large namespace.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "collect/diag_dump.h"

namespace socksnap {

// Receives the next reply datagram into `buffer` and returns its length.
using ChunkReceiver = std::function<Result<size_t>(std::span<uint8_t> buffer)>;

// Whether a datagram holds the last message of a dump (NLMSG_DONE or NLMSG_ERROR), or cannot be
// walked at all (the parser then says why).
bool ends_dump(std::span<const uint8_t> chunk);

// Like read_dump, with the parsing on a second thread. Returns whether the dump was interrupted.
Result<bool> read_dump_pipelined(const ChunkReceiver& receive, size_t buffer_size,
                                 const ParseContext& ctx, NamespaceSockets& out);

// A stream read to its end (`receive` returns 0: a BPF iterator), each chunk given to `consume`
// on a second thread while the kernel makes the next.
Result<void> read_stream_pipelined(const ChunkReceiver& receive, size_t buffer_size,
                                   const std::function<void(std::span<const uint8_t>)>& consume);

}  // namespace socksnap
