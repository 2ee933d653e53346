// --sort col,-col: rows ordered by each key in turn, "-" for descending.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "select/columns.h"

namespace socksnap {

struct SortKey {
  const Column* column = nullptr;
  bool descending = false;
};

Result<std::vector<SortKey>> parse_sort(std::string_view spec);

std::vector<SortKey> default_sort(NodeKind kind);

// Sorts row indexes into `snap.sockets`; ties keep collection order. Large sorts use up to
// `threads` threads.
void sort_rows(const Snapshot& snap, const std::vector<SortKey>& keys, std::vector<uint32_t>& rows,
               unsigned threads = 1);

// How rows `a` and `b` order by `column`, ascending as --sort orders them (negative, 0 or
// positive): by its sort key, else its number (empty cells first), else its text. `x` and `y`
// are scratch for the texts.
int compare_cells(const Column& column, const Snapshot& snap, size_t a, size_t b,
                  fmt::memory_buffer& x, fmt::memory_buffer& y);

}  // namespace socksnap
