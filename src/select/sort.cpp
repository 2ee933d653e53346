#include "select/sort.h"

#include <algorithm>
#include <string>

#include "util/strings.h"

namespace socksnap {
namespace {

int compare_cells(const Column& column, const Snapshot& snap, size_t a, size_t b,
                  fmt::memory_buffer& x, fmt::memory_buffer& y) {
  if (column.compare != nullptr) return column.compare(snap, a, b);
  if (column.number != nullptr) {
    auto va = column.number(snap, a);
    auto vb = column.number(snap, b);
    if (!va || !vb) return va ? 1 : (vb ? -1 : 0);  // empty cells first
    return *va < *vb ? -1 : (*vb < *va ? 1 : 0);
  }
  x.clear();
  y.clear();
  column.text(snap, a, x);
  column.text(snap, b, y);
  return std::string_view(x.data(), x.size()).compare(std::string_view(y.data(), y.size()));
}

}  // namespace

Result<std::vector<SortKey>> parse_sort(std::string_view spec) {
  std::vector<SortKey> keys;
  for (std::string_view item : split(spec, ',')) {
    item = trim(item);
    SortKey key;
    if (!item.empty() && (item.front() == '-' || item.front() == '+')) {
      key.descending = item.front() == '-';
      item.remove_prefix(1);
    }
    if (item.empty()) return plain_error(fmt::format("--sort '{}': empty column name", spec));
    auto column = column_named(item);
    if (!column) return Error{0, fmt::format("--sort '{}': {}", spec, column.error().context)};
    key.column = *column;
    keys.push_back(key);
  }
  return keys;
}

std::vector<SortKey> default_host_sort() {
  return {{find_column("netns"), false},
          {find_column("protocol"), false},
          {find_column("src"), false},
          {find_column("dst"), false}};
}

void sort_rows(const Snapshot& snap, const std::vector<SortKey>& keys,
               std::vector<uint32_t>& rows) {
  if (keys.empty()) return;
  fmt::memory_buffer x;
  fmt::memory_buffer y;
  std::stable_sort(rows.begin(), rows.end(), [&](uint32_t a, uint32_t b) {
    for (const auto& key : keys) {
      int c = compare_cells(*key.column, snap, a, b, x, y);
      if (c != 0) return key.descending ? c > 0 : c < 0;
    }
    return false;
  });
}

}  // namespace socksnap
