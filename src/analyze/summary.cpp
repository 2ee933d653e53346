#include "analyze/summary.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "model/states.h"
#include "select/sort.h"

namespace socksnap {
namespace {

// A row's values as one key: each cell's length, then its bytes, so that no two different rows
// of cells make the same key whatever bytes the cells hold.
void append_cell_to_key(std::string& key, const fmt::memory_buffer& cell) {
  auto length = static_cast<uint32_t>(cell.size());
  char bytes[sizeof length];
  std::memcpy(bytes, &length, sizeof length);
  key.append(bytes, sizeof bytes);
  key.append(cell.data(), cell.size());
}

bool is_listener_value(const Column* column, std::string_view value) {
  static const Column* const status = find_column("status");
  static const Column* const direction = find_column("direction");
  return (column == status && value == "LISTEN") ||
         (column == direction && value == direction_name(Direction::kListen));
}

}  // namespace

GroupWeight weight_of(const SocketRecord& socket) {
  GroupWeight weight;
  // A unix listener's queues are an accept queue and its limit too (UNIX_DIAG_RQLEN).
  bool queues = socket.protocol == Protocol::kTcp || socket.protocol == Protocol::kUnix;
  if (queues && socket.state == kTcpListen) {
    weight.listeners = 1;
    weight.accept_queue = socket.rx_queue;
    weight.backlog = socket.tx_queue;
  }
  return weight;
}

std::vector<const Column*> default_summary_by(NodeKind kind) {
  std::vector<const Column*> by;
  switch (kind) {
    case NodeKind::kHost:
      by = {find_column("netns")};
      break;
    case NodeKind::kContainers:
      // The container column of the snapshot's defaults on such a node.
      by = {find_column("runtime.containerName")};
      break;
    case NodeKind::kKubernetes:
      by = {find_column("k8s.namespace"), find_column("k8s.podName")};
      break;
  }
  by.push_back(find_column("direction"));
  by.push_back(find_column("status"));
  return by;
}

bool groups_listeners(const std::vector<const Column*>& by) {
  return std::any_of(by.begin(), by.end(), [](const Column* c) {
    return c == find_column("status") || c == find_column("direction");
  });
}

Summary summarize(const Snapshot& snap, const std::vector<uint32_t>& rows,
                  const std::vector<const Column*>& by, const std::vector<GroupWeight>* weights) {
  Summary summary;
  summary.by = by;
  summary.queue_columns = groups_listeners(by);

  std::unordered_map<std::string, uint32_t> index;
  std::string key;
  std::vector<fmt::memory_buffer> cells(by.size());
  for (uint32_t row : rows) {
    key.clear();
    for (size_t c = 0; c < by.size(); ++c) {
      cells[c].clear();
      by[c]->text(snap, row, cells[c]);
      append_cell_to_key(key, cells[c]);
    }
    auto [it, fresh] = index.try_emplace(key, static_cast<uint32_t>(summary.groups.size()));
    if (fresh) {
      SummaryGroup& group = summary.groups.emplace_back();
      group.row = row;
      group.weight = GroupWeight{0, 0, 0, 0};
      for (size_t c = 0; c < by.size(); ++c) {
        group.values.emplace_back(cells[c].data(), cells[c].size());
        group.listener_group = group.listener_group || is_listener_value(by[c], group.values[c]);
      }
    }
    GroupWeight& sum = summary.groups[it->second].weight;
    GroupWeight add = weights != nullptr ? (*weights)[row] : weight_of(snap.sockets[row]);
    sum.count += add.count;
    sum.listeners += add.listeners;
    sum.accept_queue += add.accept_queue;
    sum.backlog += add.backlog;
    summary.rows += add.count;
  }

  fmt::memory_buffer x;
  fmt::memory_buffer y;
  std::sort(summary.groups.begin(), summary.groups.end(),
            [&](const SummaryGroup& a, const SummaryGroup& b) {
              if (a.weight.count != b.weight.count) return a.weight.count > b.weight.count;
              for (const Column* column : by) {
                int order = compare_cells(*column, snap, a.row, b.row, x, y);
                if (order != 0) return order < 0;
              }
              // Keys that tie may belong to different texts (a name's key is its address's):
              // the text decides, so that the order never depends on the rows' order.
              return a.values < b.values;
            });
  return summary;
}

}  // namespace socksnap
