// parse_conntrack_chunk (and libnetfilter-conntrack's parsing under it) on arbitrary bytes, as if
// the kernel sent them, then the matching of the entries it read to sockets with their ends.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "collect/conntrack.h"
#include "enrich/translations.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<socksnap::ConntrackEntry> entries;
  (void)socksnap::parse_conntrack_chunk(std::span<const uint8_t>(data, size), entries);
  socksnap::Snapshot snap;
  for (const auto& e : entries) {
    if (e.ip_version != 4 && e.ip_version != 6) std::abort();
    socksnap::SocketRecord s;
    s.netns = 1;
    s.protocol = e.protocol;
    s.ip_version = e.ip_version;
    s.src_addr = e.original.src;
    s.src_port = e.original.src_port;
    s.dst_addr = e.original.dst;
    s.dst_port = e.original.dst_port;
    snap.sockets.push_back(s);
  }
  std::vector<socksnap::ConntrackTable> tables = {socksnap::ConntrackTable{2, true, entries}};
  size_t translated = socksnap::translate_destinations(snap, tables);
  // A socket is translated only by a translated entry of its own ends.
  size_t counted = 0;
  for (size_t i = 0; i < snap.sockets.size(); ++i) {
    const socksnap::TranslatedDestination* t = snap.translation_of(i);
    if (t == nullptr) continue;
    ++counted;
    bool found = false;
    for (const auto& e : entries) {
      found = found ||
              (e.destination_translated() && e.protocol == snap.sockets[i].protocol &&
               e.ip_version == snap.sockets[i].ip_version && e.original == entries[i].original &&
               e.reply.src == t->addr && e.reply.src_port == t->port);
    }
    if (!found) std::abort();
  }
  if (counted != translated) std::abort();
  return 0;
}
