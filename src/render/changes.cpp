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
  // The cells: [TIME] TYPE, then the row's columns, escaped as the snapshot's table escapes.
  const size_t lead = with_time_ ? 2 : 1;
  const size_t n = lead + columns_.size();
  std::vector<std::string> headers;
  if (with_time_) headers.emplace_back("TIME");
  headers.emplace_back("TYPE");
  for (const Column* c : columns_) headers.emplace_back(c->header);
  if (widths_.empty()) {
    widths_.assign(n, 0);
    if (headers_) {
      for (size_t i = 0; i < n; ++i) widths_[i] = text_width(headers[i]);
    }
    // TYPE as wide as its widest value from the start: a stream's first lines are seldom all
    // types.
    widths_[lead - 1] = std::max(widths_[lead - 1], change_type_name(ChangeType::kModified).size());
  }
  std::vector<std::string> cells;
  cells.reserve(changes.size() * n);
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
  for (size_t i = 0; i < cells.size(); ++i) {
    widths_[i % n] = std::max(widths_[i % n], text_width(cells[i]));
  }
  std::string line;
  auto write_line = [&](auto cell_at) {
    line.clear();
    for (size_t i = 0; i < n; ++i) {
      std::string_view text = cell_at(i);
      bool right = i >= lead && columns_[i - lead]->right_aligned();
      size_t fill = widths_[i] - std::min(widths_[i], text_width(text));
      if (right) line.append(fill, ' ');
      line += text;
      if (i + 1 < n) line.append(right ? 2 : fill + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    line += '\n';
    b.append(line);
    out.maybe_flush();
  };
  if (headers_ && !header_done_) {
    write_line([&](size_t i) { return std::string_view(headers[i]); });
  }
  header_done_ = true;
  for (size_t row = 0; row + n <= cells.size(); row += n) {
    write_line([&](size_t i) { return std::string_view(cells[row + i]); });
  }
}

}  // namespace socksnap
