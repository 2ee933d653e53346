#include "select/selection.h"

#include "model/states.h"
#include "util/strings.h"

namespace socksnap {

std::vector<uint32_t> select_rows(const Snapshot& snap, const Selection& selection,
                                  unsigned threads) {
  std::vector<uint32_t> rows;
  rows.reserve(snap.sockets.size());
  fmt::memory_buffer scratch;
  for (size_t i = 0; i < snap.sockets.size(); ++i) {
    bool keep = !selection.owners.active() || selection.owners.matches(snap, i);
    for (const auto& f : selection.filters) {
      if (!keep) break;
      if (!filter_matches(f, snap, i, scratch)) {
        keep = false;
        break;
      }
    }
    if (keep) rows.push_back(static_cast<uint32_t>(i));
  }
  sort_rows(snap, selection.sort, rows, threads);
  return rows;
}

void push_down(const Selection& selection, CollectRequest& request, bool listeners) {
  for (const auto& f : selection.filters) {
    if (f.op != FilterOp::kEqual) continue;
    if (f.column->name == "protocol") {
      request.tcp = request.tcp && f.value == "TCP";
      request.udp = request.udp && f.value == "UDP";
      request.udplite = request.udplite && f.value == "UDPLITE";
      request.unix_sockets = request.unix_sockets && f.value == "UNIX";
    } else if (f.column->name == "status") {
      // Unix sockets are dumped in every state whatever the filter (their peers are looked for
      // among them): it applies afterwards.
      // An unknown state shows as its number, and "status:13" must still find it.
      auto number = parse_int<uint8_t>(f.value);
      uint32_t by_number = number && *number < 32 ? 1U << *number : 0;
      uint32_t named = states_named(Protocol::kTcp, f.value) | by_number;
      // Bound-only sockets show as CLOSE: asking for CLOSE asks for them.
      if ((named & (1U << kTcpClose)) != 0) {
        named |= kBoundInactiveState;
        request.tcp_states |= kBoundInactiveState;
      }
      uint32_t udp_named = states_named(Protocol::kUdp, f.value) | by_number;
      if (listeners) {
        named |= 1U << kTcpListen;
        udp_named |= 1U << kTcpClose;  // INACTIVE: bound, not connected
      }
      request.tcp_states &= named;
      request.udp_states &= udp_named;
      if (request.tcp_states == 0) request.tcp = false;
      if (request.udp_states == 0) {
        request.udp = false;
        request.udplite = false;
      }
    }
  }
}

uint32_t needs_of(const std::vector<const Column*>& columns, const Selection& selection) {
  uint32_t needs = 0;
  for (const Column* c : columns) needs |= c->needs;
  for (const auto& f : selection.filters) needs |= f.column->needs;
  for (const auto& k : selection.sort) needs |= k.column->needs;
  if (selection.owners.active()) needs |= kNeedsOwners;
  if (!selection.owners.labels.empty()) needs |= kNeedsLabels;
  return needs;
}

}  // namespace socksnap
