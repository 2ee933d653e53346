// Which way each socket faces, as Netdata's network viewer classifies them: a listener
// (`listen`), the local end of a connection a listener of its own namespace accepted (`inbound`),
// a connection whose two ends are both in its namespace (`local`), or the rest (`outbound`).
#pragma once

#include "model/snapshot.h"

namespace socksnap {

// Fills snap.directions, one per socket, from the sockets alone: one pass gathers each
// namespace's listening (protocol, address, port) and the addresses its sockets are bound to,
// a second classifies. Every socket of a namespace must be in `snap` (it runs before any
// filter), else an accepted connection whose listener was left out reads as outbound.
void classify_directions(Snapshot& snap);

}  // namespace socksnap
