#include "select/sort.h"

#include <algorithm>
#include <array>
#include <functional>
#include <span>
#include <string>
#include <thread>

#include "select/key_packer.h"
#include "util/huge_pages.h"
#include "util/strings.h"

namespace socksnap {
namespace {

int compare_words(const uint64_t* a, const uint64_t* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

}  // namespace

int compare_cells(const Column& column, const Snapshot& snap, size_t a, size_t b,
                  fmt::memory_buffer& x, fmt::memory_buffer& y) {
  if (column.sort_key != nullptr) {
    uint64_t ka[kMaxKeyWords] = {};
    uint64_t kb[kMaxKeyWords] = {};
    column.sort_key(snap, a, ka);
    column.sort_key(snap, b, kb);
    int c = compare_words(ka, kb, column.key_words);
    // Two unix rows' names may share the first bytes their keys hold: their text decides.
    if (c != 0 || !is_unix(snap, a) || !is_unix(snap, b)) return c;
  }
  if (column.number != nullptr && column.sort_key == nullptr) {
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

std::vector<SortKey> default_sort(NodeKind kind) {
  std::vector<SortKey> keys;
  switch (kind) {
    case NodeKind::kHost:
      keys = {{find_column("netns"), false}};
      break;
    case NodeKind::kContainers:
      keys = {{find_column("runtime.containerName"), false}};
      break;
    case NodeKind::kKubernetes:
      keys = {{find_column("k8s.namespace"), false}, {find_column("k8s.podName"), false}};
      break;
  }
  for (const char* name : {"protocol", "src", "dst"}) keys.push_back({find_column(name), false});
  return keys;
}

namespace {

// Orders rows by `keys` (all of them, in turn).
class RowOrder {
 public:
  RowOrder(const Snapshot& snap, std::span<const SortKey> keys) : snap_(snap), keys_(keys) {}
  RowOrder(const RowOrder& other) : snap_(other.snap_), keys_(other.keys_) {}  // own scratch
  RowOrder& operator=(const RowOrder&) = delete;

  int compare(uint32_t a, uint32_t b) {
    for (const auto& key : keys_) {
      int c = compare_cells(*key.column, snap_, a, b, x_, y_);
      if (c != 0) return key.descending ? -c : c;
    }
    return 0;
  }
  bool operator()(uint32_t a, uint32_t b) { return compare(a, b) < 0; }

 private:
  const Snapshot& snap_;
  std::span<const SortKey> keys_;
  fmt::memory_buffer x_;
  fmt::memory_buffer y_;
};

// A row with its sort key: sorting these touches no record, only this compact array.
template <size_t W>
struct KeyedRow {
  std::array<uint64_t, W> words;
  uint32_t row;
  bool operator<(const KeyedRow& other) const {
    for (size_t i = 0; i < W; ++i) {
      if (words[i] != other.words[i]) return words[i] < other.words[i];
    }
    return row < other.row;  // ties keep collection order
  }
};

// Sorts `parts` slices of `items` in threads of their own, then merges them.
template <typename T, typename Less>
void parallel_sort(std::vector<T>& items, size_t parts, Less less) {
  std::vector<size_t> bounds;
  for (size_t p = 0; p <= parts; ++p) bounds.push_back(items.size() * p / parts);
  std::vector<std::thread> pool;
  for (size_t p = 1; p < parts; ++p) {
    pool.emplace_back(
        [&, p] { std::sort(items.begin() + bounds[p], items.begin() + bounds[p + 1], less); });
  }
  std::sort(items.begin(), items.begin() + bounds[1], less);
  for (auto& t : pool) t.join();
  for (size_t p = 2; p <= parts; ++p) {
    std::inplace_merge(items.begin(), items.begin() + bounds[p - 1], items.begin() + bounds[p],
                       less);
  }
}

constexpr size_t kParallelThreshold = 20000;

size_t parts_for(size_t n, unsigned threads) {
  if (threads < 2 || n < kParallelThreshold) return 1;
  return std::min<size_t>(threads, n / (kParallelThreshold / 2));
}

// Runs work(part) for part in [0, parts) on as many threads.
template <typename Work>
void in_parallel(size_t parts, Work work) {
  std::vector<std::thread> pool;
  for (size_t p = 1; p < parts; ++p) pool.emplace_back(work, p);
  work(0);
  for (auto& t : pool) t.join();
}

// The rows of `run` in `parts` slices.
std::pair<size_t, size_t> slice_of(size_t n, size_t parts, size_t part) {
  return {n * part / parts, n * (part + 1) / parts};
}

// A row's full key: every column's words in turn, inverted for descending columns. Computed twice
// per row (to observe, then to pack): cheaper than holding a matrix of them, whose fresh memory
// costs more than the computing.
class FullKeys {
 public:
  FullKeys(const Snapshot& snap, std::span<const SortKey> keys) : snap_(snap), keys_(keys) {
    for (const auto& k : keys) width_ += k.column->key_words;
  }
  size_t width() const { return width_; }
  // Each column writes its words in place: copying them (one to three words) compiled to a
  // string move, whose start-up cost was most of the sort's.
  void of(uint32_t row, uint64_t* key) const {
    for (const auto& k : keys_) {
      k.column->sort_key(snap_, row, key);
      size_t n = k.column->key_words;
      if (k.descending) {
        for (size_t w = 0; w < n; ++w) key[w] = ~key[w];
      }
      key += n;
    }
  }

 private:
  const Snapshot& snap_;
  std::span<const SortKey> keys_;
  size_t width_ = 0;
};

// At most 8 keys of at most kMaxKeyWords words each.
using KeyWords = std::array<uint64_t, 8 * kMaxKeyWords>;

template <size_t W>
void sort_packed(const KeyPacker& packer, const FullKeys& full, std::span<uint32_t> run,
                 size_t parts) {
  std::vector<KeyedRow<W>> items(run.size());
  in_parallel(parts, [&](size_t part) {
    auto [begin, end] = slice_of(run.size(), parts, part);
    KeyWords key{};
    for (size_t i = begin; i < end; ++i) {
      full.of(run[i], key.data());
      packer.pack(key.data(), items[i].words.data());
      items[i].row = run[i];
    }
  });
  parallel_sort(items, parts, std::less<>());
  for (size_t i = 0; i < run.size(); ++i) run[i] = items[i].row;
}

template <size_t W>
bool try_sort_packed(const KeyPacker& packer, const FullKeys& full, std::span<uint32_t> run,
                     size_t parts) {
  if constexpr (W == 1) {
    return false;  // one word goes to the radix sort
  } else {
    if (packer.packed_words() == W) {
      sort_packed<W>(packer, full, run, parts);
      return true;
    }
    return try_sort_packed<W - 1>(packer, full, run, parts);
  }
}

// Sorts one run by columns that all have sort keys: every row's full key, packed to the bits
// that tell these rows apart, then a radix sort when that fits one word. Returns false, having
// changed nothing but putting the rows in ascending order, when the packed keys are still too
// wide (or there are more than 8 keys).
bool sort_run_keyed(const Snapshot& snap, std::span<const SortKey> keys, std::span<uint32_t> run,
                    unsigned threads) {
  constexpr size_t kMaxPackedWords = 6;
  if (keys.size() > 8) return false;
  // Ties go by row number: in the order the rows come in, once that is ascending (it is, from
  // select_rows), which is what a stable radix sort keeps.
  if (!std::is_sorted(run.begin(), run.end())) std::sort(run.begin(), run.end());
  FullKeys full(snap, keys);
  size_t parts = parts_for(run.size(), threads);
  std::vector<KeyPacker> packers(parts, KeyPacker(0));
  in_parallel(parts, [&](size_t part) {
    // Made by the thread that fills it, in that thread's memory: packers side by side would
    // share the cache lines that every row writes to.
    KeyPacker mine(full.width());
    auto [begin, end] = slice_of(run.size(), parts, part);
    KeyWords key{};
    for (size_t i = begin; i < end; ++i) {
      full.of(run[i], key.data());
      mine.observe(key.data());
    }
    packers[part] = std::move(mine);
  });
  KeyPacker& packer = packers[0];
  for (size_t p = 1; p < parts; ++p) packer.absorb(packers[p]);
  packer.finish();

  if (packer.packed_words() == 0) return true;  // all keys equal: row order it is
  if (packer.packed_words() == 1) {
    // One word: its low bits hold the key, for a radix sort over no more bytes than it has.
    std::vector<PackedRow> items;
    reserve_huge(items, run.size());
    items.resize(run.size());
    in_parallel(parts, [&](size_t part) {
      auto [begin, end] = slice_of(run.size(), parts, part);
      KeyWords key{};
      for (size_t i = begin; i < end; ++i) {
        full.of(run[i], key.data());
        items[i] = {packer.pack_low(key.data()), run[i]};
      }
    });
    radix_sort(items, static_cast<unsigned>(packer.packed_bits()), threads);
    for (size_t i = 0; i < run.size(); ++i) run[i] = items[i].row;
    return true;
  }
  return try_sort_packed<kMaxPackedWords>(packer, full, run, parts);
}

// Stable sort of one run: by packed keys when every column has a key, else by comparing cells.
void sort_run(const Snapshot& snap, std::span<const SortKey> keys, std::span<uint32_t> run,
              unsigned threads) {
  bool keyed = std::all_of(keys.begin(), keys.end(),
                           [](const SortKey& k) { return k.column->sort_key != nullptr; });
  if (keyed && sort_run_keyed(snap, keys, run, threads)) return;
  RowOrder order(snap, keys);
  size_t parts = parts_for(run.size(), threads);
  if (parts == 1) {
    std::stable_sort(run.begin(), run.end(), order);
    return;
  }
  std::vector<uint32_t> rows(run.begin(), run.end());
  // Row numbers break ties, which keeps the order stable however the slices fall.
  parallel_sort(rows, parts, [order](uint32_t a, uint32_t b) mutable {
    int c = order.compare(a, b);
    return c != 0 ? c < 0 : a < b;
  });
  std::copy(rows.begin(), rows.end(), run.begin());
}

}  // namespace

namespace {

// Finds how many leading keys the rows already satisfy (collection order gives namespace and
// protocol for free) and where the runs of rows that tie on those keys start. One pass, each
// row's keys computed once; keyed columns only.
size_t presorted_keys(const Snapshot& snap, const std::vector<SortKey>& keys,
                      const std::vector<uint32_t>& rows, std::vector<uint8_t>& first_difference) {
  size_t satisfied = keys.size();
  first_difference.assign(rows.size(), 0);
  uint64_t previous[kMaxKeyWords * 8] = {};
  uint64_t current[kMaxKeyWords * 8] = {};
  for (size_t i = 0; i < rows.size() && satisfied > 0; ++i) {
    size_t at = 0;
    size_t differs = keys.size();  // the first key on which this row differs from the last
    for (size_t k = 0; k < satisfied; ++k) {
      const Column& c = *keys[k].column;
      c.sort_key(snap, rows[i], current + at);
      if (i > 0 && differs == keys.size()) {
        int cmp = compare_words(previous + at, current + at, c.key_words);
        if (keys[k].descending) cmp = -cmp;
        if (cmp > 0) satisfied = k;  // out of order on key k: only the keys before it hold
        if (cmp != 0) differs = k;
      }
      at += c.key_words;
    }
    first_difference[i] = static_cast<uint8_t>(std::min(differs, keys.size()));
    std::copy(current, current + at, previous);
  }
  return satisfied;
}

}  // namespace

namespace {

// By keys alone, all of them having one (at most 8 keys).
void sort_rows_keyed(const Snapshot& snap, const std::vector<SortKey>& keys,
                     std::vector<uint32_t>& rows, unsigned threads) {
  // Keys that the collection order already satisfies (namespace, protocol) are the same in
  // long runs of rows and pack to few bits, if any: one sort of everything costs little more.
  if (sort_run_keyed(snap, keys, std::span(rows), threads)) return;
  std::vector<uint8_t> first_difference;
  size_t done = presorted_keys(snap, keys, rows, first_difference);
  if (done == keys.size()) return;
  std::span<const SortKey> rest = std::span(keys).subspan(done);
  // Each run of rows that tie on the satisfied keys is sorted by the remaining ones.
  size_t start = 0;
  for (size_t i = 1; i <= rows.size(); ++i) {
    if (i < rows.size() && first_difference[i] >= done) continue;
    if (i - start > 1) sort_run(snap, rest, std::span(rows).subspan(start, i - start), threads);
    start = i;
  }
}

// Puts in order a run of unix rows whose keys are equal. Most such runs are of unnamed sockets
// (a host's socket pairs and clients: 100,000 rows in one run), whose cells are all the same:
// one pass that finds them so costs a cell's text per row, where sorting compared ~34 per row.
void sort_tied_run(const Snapshot& snap, const std::vector<SortKey>& keys, RowOrder& order,
                   std::span<uint32_t> run) {
  std::vector<std::string> first;
  fmt::memory_buffer text;
  for (const auto& key : keys) {
    text.clear();
    key.column->text(snap, run[0], text);
    first.emplace_back(text.data(), text.size());
  }
  bool all_same = std::all_of(run.begin() + 1, run.end(), [&](uint32_t row) {
    for (size_t k = 0; k < keys.size(); ++k) {
      text.clear();
      keys[k].column->text(snap, row, text);
      if (std::string_view(text.data(), text.size()) != first[k]) return false;
    }
    return true;
  });
  if (!all_same) std::stable_sort(run.begin(), run.end(), std::ref(order));
}

// After a sort by keys: a unix socket's name is in its key by its first 15 bytes only (an
// endpoint's), so adjacent unix rows whose keys are equal are put in order by comparing their
// cells, which tells them apart by their text. Such runs are short (names that share 15 bytes)
// or of sockets whose cells are all the same (unnamed ones), which sort_tied_run leaves as is.
void order_unix_ties(const Snapshot& snap, const std::vector<SortKey>& keys,
                     std::vector<uint32_t>& rows) {
  // Rows tie on their keys, names whole in them, only where their names are equal: with no name
  // past a key's bytes (many hosts, and 100,000 socket pairs), nothing is left to order.
  auto whole = [](const auto& entry) { return unix_name_in_key(entry.path); };
  if (std::all_of(snap.unix_sockets.begin(), snap.unix_sockets.end(), whole) &&
      std::all_of(snap.unix_peers.begin(), snap.unix_peers.end(), whole)) {
    return;
  }
  FullKeys full(snap, keys);
  auto width = static_cast<ptrdiff_t>(full.width());
  KeyWords previous{};
  KeyWords current{};
  RowOrder order(snap, keys);
  size_t start = 0;
  for (size_t i = 0; i <= rows.size(); ++i) {
    bool tie = false;
    if (i < rows.size()) {
      full.of(rows[i], current.data());
      tie = i > 0 && is_unix(snap, rows[i]) && is_unix(snap, rows[i - 1]) &&
            std::equal(current.begin(), current.begin() + width, previous.begin());
      previous = current;
    }
    if (tie) continue;
    if (i - start > 1) sort_tied_run(snap, keys, order, std::span(rows).subspan(start, i - start));
    start = i;
  }
}

}  // namespace

void sort_rows(const Snapshot& snap, const std::vector<SortKey>& keys, std::vector<uint32_t>& rows,
               unsigned threads) {
  if (keys.empty() || rows.size() < 2) return;
  bool keyed = std::all_of(keys.begin(), keys.end(),
                           [](const SortKey& k) { return k.column->sort_key != nullptr; });
  if (!keyed || keys.size() > 8) {
    sort_run(snap, keys, std::span(rows), threads);
    return;
  }
  sort_rows_keyed(snap, keys, rows, threads);
  order_unix_ties(snap, keys, rows);
}

}  // namespace socksnap
