#include <algorithm>
#include <span>
#include <thread>

#include "render/renderer.h"

namespace socksnap {
namespace {

// Cell widths in characters: cells are ASCII except names that may be UTF-8, which count by
// code points so that columns still line up.
size_t display_width(std::string_view text) {
  size_t width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

void pad(fmt::memory_buffer& out, size_t count) {
  static constexpr std::string_view kSpaces = "                                                ";
  while (count > 0) {
    size_t n = std::min(count, kSpaces.size());
    out.append(kSpaces.substr(0, n));
    count -= n;
  }
}

class TableWriter {
 public:
  TableWriter(const Snapshot& snap, const std::vector<const Column*>& columns)
      : snap_(snap), columns_(columns), widths_(columns.size(), 0) {}

  void fit_header() {
    for (size_t c = 0; c < columns_.size(); ++c) {
      widths_[c] = std::max(widths_[c], columns_[c]->header.size());
    }
  }
  void fit_rows(std::span<const uint32_t> rows) {
    for (uint32_t row : rows) {
      for (size_t c = 0; c < columns_.size(); ++c) {
        scratch_.clear();
        columns_[c]->text(snap_, row, scratch_);
        widths_[c] = std::max(widths_[c], display_width({scratch_.data(), scratch_.size()}));
      }
    }
  }
  void fit(const TableWriter& other) {
    for (size_t c = 0; c < columns_.size(); ++c) {
      widths_[c] = std::max(widths_[c], other.widths_[c]);
    }
  }

  void write_header(fmt::memory_buffer& out) const {
    for (size_t c = 0; c < columns_.size(); ++c) write_cell(out, c, columns_[c]->header);
    out.push_back('\n');
  }
  // Writes rows to `out`, handing it to `flush` after each row; flush returns false to stop.
  template <typename Flush>
  void write_rows(std::span<const uint32_t> rows, fmt::memory_buffer& out, Flush flush) {
    const size_t last = columns_.size() - 1;
    for (uint32_t row : rows) {
      for (size_t c = 0; c <= last; ++c) {
        const Column& column = *columns_[c];
        if (column.right_aligned()) {
          scratch_.clear();
          column.text(snap_, row, scratch_);
          write_cell(out, c, {scratch_.data(), scratch_.size()});
          continue;
        }
        // Left-aligned: straight into the output, padded after.
        size_t start = out.size();
        column.text(snap_, row, out);
        if (c != last) {
          pad(out, widths_[c] - display_width({out.data() + start, out.size() - start}));
          out.append(std::string_view("  "));
        }
      }
      out.push_back('\n');
      if (!flush()) return;
    }
  }

 private:
  void write_cell(fmt::memory_buffer& out, size_t c, std::string_view text) const {
    size_t fill = widths_[c] - display_width(text);
    bool last = c + 1 == columns_.size();
    if (columns_[c]->right_aligned()) {
      pad(out, fill);
      out.append(text);
    } else {
      out.append(text);
      if (!last) pad(out, fill);
    }
    if (!last) out.append(std::string_view("  "));
  }

  const Snapshot& snap_;
  const std::vector<const Column*>& columns_;
  std::vector<size_t> widths_;
  fmt::memory_buffer scratch_;
};

}  // namespace

void render_table(const Snapshot& snap, const std::vector<uint32_t>& rows,
                  const std::vector<const Column*>& columns, bool headers, OutputSink& out,
                  unsigned threads) {
  // Large tables are formatted twice (once to fit the widths, once to write) in slices on
  // several threads: cheaper than holding every cell, whose fresh memory costs more than the
  // formatting.
  constexpr size_t kRowsPerSlice = 25000;
  size_t slices = std::clamp<size_t>(rows.size() / kRowsPerSlice, 1, std::max(1U, threads));
  std::vector<std::span<const uint32_t>> slice;
  for (size_t s = 0; s < slices; ++s) {
    size_t begin = rows.size() * s / slices;
    size_t end = rows.size() * (s + 1) / slices;
    slice.emplace_back(rows.data() + begin, end - begin);
  }
  std::vector<TableWriter> writers;
  writers.reserve(slices);
  for (size_t s = 0; s < slices; ++s) writers.emplace_back(snap, columns);
  auto in_parallel = [&](auto work) {
    std::vector<std::thread> pool;
    for (size_t s = 1; s < slices; ++s) pool.emplace_back(work, s);
    work(0);
    for (auto& t : pool) t.join();
  };

  in_parallel([&](size_t s) { writers[s].fit_rows(slice[s]); });
  if (headers) writers[0].fit_header();
  for (size_t s = 1; s < slices; ++s) writers[0].fit(writers[s]);
  for (size_t s = 1; s < slices; ++s) writers[s].fit(writers[0]);

  if (headers) writers[0].write_header(out.buffer());
  // The first slice streams to the output; the others fill buffers written after it.
  std::vector<fmt::memory_buffer> later(slices);
  in_parallel([&](size_t s) {
    if (s == 0) {
      writers[0].write_rows(slice[0], out.buffer(), [&] {
        out.maybe_flush();
        return !out.reader_gone();
      });
    } else {
      writers[s].write_rows(slice[s], later[s], [] { return true; });
    }
  });
  for (size_t s = 1; s < slices && !out.reader_gone(); ++s) {
    out.append({later[s].data(), later[s].size()});
    out.maybe_flush();
  }
}

}  // namespace socksnap
