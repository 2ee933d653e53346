#include "render/changes.h"

#include <algorithm>

#include <fmt/format.h>

#include "render/renderer.h"
#include "render/structured_writer.h"
#include "render/text_table.h"
#include "util/terminal_text.h"

namespace socksnap {

std::vector<ChangeRow> changes_between(const Snapshot* before,
                                       const std::vector<uint32_t>& before_rows,
                                       const Snapshot& after,
                                       const std::vector<uint32_t>& after_rows) {
  std::vector<ChangeRow> out;
  if (before == nullptr) {
    out.reserve(after_rows.size());
    for (uint32_t row : after_rows) out.push_back({ChangeType::kAdded, &after, row});
    return out;
  }
  std::vector<SocketChange> changes = diff_snapshots(*before, before_rows, after, after_rows);
  out.reserve(changes.size());
  for (const SocketChange& c : changes) {
    out.push_back({c.type, c.type == ChangeType::kDeleted ? before : &after, c.row});
  }
  return out;
}

NodeKind kind_of(const Snapshot& snap) {
  if (!snap.pods.empty()) return NodeKind::kKubernetes;
  if (!snap.containers.empty()) return NodeKind::kContainers;
  return NodeKind::kHost;
}

void ChangePrinter::print(const std::vector<ChangeRow>& changes, const std::string& time,
                          OutputSink& out) {
  fmt::memory_buffer& b = out.buffer();
  if (json_) {
    for (const ChangeRow& c : changes) {
      b.append(std::string_view(R"({"type":")"));
      b.append(change_type_name(c.type));
      b.push_back('"');
      if (with_time_) {
        b.append(std::string_view(R"(,"time":)"));
        append_json_string(b, time);
      }
      b.append(std::string_view(R"(,"object":)"));
      b.append(StructuredPieces::format(*c.snap, {c.row}, OutputFormat::kJson));
      b.append(std::string_view("}\n"));
      out.maybe_flush();
    }
    return;
  }
  // Nothing, not even the header, until there is a change: its widths follow the first rows.
  if (changes.empty()) return;
  // The columns: [TIME] TYPE, then the row's, with their headers, once.
  const size_t lead = with_time_ ? 2 : 1;
  if (text_columns_.empty()) {
    if (with_time_) header_texts_.emplace_back("TIME");
    header_texts_.emplace_back("TYPE");
    for (const Column* c : columns_) header_texts_.emplace_back(c->header);
    for (size_t i = 0; i < header_texts_.size(); ++i) {
      text_columns_.push_back({header_texts_[i], i >= lead && columns_[i - lead]->right_aligned()});
    }
    // TYPE as wide as its widest value from the start: a stream's first lines are seldom all
    // types.
    widths_.assign(text_columns_.size(), 0);
    widths_[lead - 1] = change_type_name(ChangeType::kModified).size();
  }
  // The cells, escaped as the snapshot's table escapes them.
  std::vector<std::string> cells;
  cells.reserve(changes.size() * text_columns_.size());
  fmt::memory_buffer cell;
  for (const ChangeRow& c : changes) {
    if (with_time_) cells.push_back(time);
    cells.emplace_back(change_type_name(c.type));
    for (const Column* column : columns_) {
      cell.clear();
      column->text(*c.snap, c.row, cell);
      cells.push_back(
          terminal_safe(std::string_view(cell.data(), cell.size()), Backslash::kEscape));
    }
  }
  write_text_rows(text_columns_, cells, headers_ && !header_done_, widths_, out);
  header_done_ = true;
}

}  // namespace socksnap
