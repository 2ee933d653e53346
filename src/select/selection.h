// The select stage: which rows (filters), in which order (sort), and what the kernel must be
// asked for so that they can be computed (pushed down into the collect request).
#pragma once

#include <cstdint>
#include <vector>

#include "collect/socket_source.h"
#include "select/filter.h"
#include "select/owner_selector.h"
#include "select/sort.h"

namespace socksnap {

struct Selection {
  OwnerSelector owners;
  std::vector<Filter> filters;  // all must match
  std::vector<SortKey> sort;
};

std::vector<uint32_t> select_rows(const Snapshot& snap, const Selection& selection,
                                  unsigned threads = 1);

// Narrows `request` to what `selection` can ever show: "status:LISTEN" asks the kernel only for
// listeners, "protocol:UDP" skips the TCP dump. The filters still run afterwards. `listeners`:
// the run needs every listener of the protocols it reads whatever the status filters (a
// socket's direction needs the listeners of its namespace): they are asked for too.
void push_down(const Selection& selection, CollectRequest& request, bool listeners = false);

// What the columns shown and the selection need computed (a ColumnNeeds mask).
uint32_t needs_of(const std::vector<const Column*>& columns, const Selection& selection);
inline bool needs_tcp_info(const std::vector<const Column*>& columns, const Selection& selection) {
  return (needs_of(columns, selection) & kNeedsTcpInfo) != 0;
}

}  // namespace socksnap
