// The columns a user can show, filter and sort by. Names are case-insensitive and follow the
// gadget's (netns, protocol, src, dst, status, inode, src.addr, ...) plus socksnap's own.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "model/snapshot.h"
#include "util/result.h"

namespace socksnap {

enum class ValueKind : uint8_t { kText, kInteger, kDecimal };

enum ColumnNeeds : uint32_t {
  kNeedsNothing = 0,
  kNeedsTcpInfo = 1U << 0,
  kNeedsOwners = 1U << 1,     // processes, containers, pods (a /proc scan)
  kNeedsLabels = 1U << 2,     // pod labels (the CRI API)
  kNeedsDirection = 1U << 3,  // every socket's direction (analyze/direction.h)
  kNeedsQueues = 1U << 4,     // receive and send queues (CollectRequest::queues_and_cgroup)
  kNeedsInode = 1U << 5,      // each socket's inode (CollectRequest::inodes)
  kNeedsIdentity = 1U << 6,   // its cookie, uid or interface (CollectRequest::identities)
};

struct Column {
  std::string_view name;    // canonical spelling, e.g. "src.port"
  std::string_view header;  // "SRC.PORT"
  ValueKind kind;
  uint32_t needs;
  // Appends the cell's text; nothing for an empty cell.
  void (*text)(const Snapshot& snap, size_t row, fmt::memory_buffer& out);
  // Numeric columns: the value, or nullopt for an empty cell. long double holds every uint64_t
  // exactly (inodes and cookies) as well as fractional milliseconds.
  std::optional<long double> (*number)(const Snapshot& snap, size_t row);
  // The column's order for --sort as `key_words` 64-bit words compared in turn, unsigned
  // (addresses by bytes, not by text; empty cells first). Sorting by such keys needs no access
  // to the records, which is what makes large sorts fast. nullptr: numbers, else text.
  void (*sort_key)(const Snapshot& snap, size_t row, uint64_t* words);
  uint8_t key_words;

  bool right_aligned() const { return kind != ValueKind::kText; }
};

inline constexpr size_t kMaxKeyWords = 3;

// A unix socket's row: its IP columns (ports, the IP version) are empty cells, and its
// endpoints are names, not addresses.
inline bool is_unix(const Snapshot& snap, size_t row) {
  return snap.sockets[row].protocol == Protocol::kUnix;
}

// Whether a unix socket's name is whole in an endpoint column's sort key (src, dst): at most 15
// bytes, no NUL byte after an abstract name's first. Two unix rows whose keys are equal and
// whose names are whole have the same names; the sort compares others by their text.
bool unix_name_in_key(std::string_view path);

const std::vector<Column>& all_columns();
const Column* find_column(std::string_view name);  // case-insensitive; nullptr when unknown
Result<const Column*> column_named(std::string_view name);  // error names the unknown column

// What a node runs decides the columns shown when the user names none.
enum class NodeKind : uint8_t { kHost, kContainers, kKubernetes };

std::vector<const Column*> default_columns(NodeKind kind);

// Applies an -o columns specification to `defaults`: "a,b" replaces them, "+a" and "-a" add
// and remove (items may mix only "+"/"-" forms).
Result<std::vector<const Column*>> apply_column_spec(std::vector<const Column*> columns,
                                                     std::string_view spec);

}  // namespace socksnap
