#include <algorithm>

#include "render/renderer.h"

namespace socksnap {
namespace {

void pad(fmt::memory_buffer& out, size_t count) {
  for (size_t i = 0; i < count; ++i) out.push_back(' ');
}

// Cell widths in characters; cells are ASCII except names that could be UTF-8, which we count
// by code points so that columns still line up.
size_t display_width(std::string_view text) {
  size_t width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

}  // namespace

void render_table(const Snapshot& snap, const std::vector<uint32_t>& rows,
                  const std::vector<const Column*>& columns, bool headers, OutputSink& out) {
  const size_t ncols = columns.size();
  // Every cell is formatted once into one arena; the widths come from that pass.
  fmt::memory_buffer arena;
  std::vector<uint32_t> ends;
  ends.reserve(rows.size() * ncols);
  std::vector<size_t> widths(ncols, 0);
  if (headers) {
    for (size_t c = 0; c < ncols; ++c) widths[c] = columns[c]->header.size();
  }
  for (uint32_t row : rows) {
    for (size_t c = 0; c < ncols; ++c) {
      size_t start = arena.size();
      columns[c]->text(snap, row, arena);
      ends.push_back(static_cast<uint32_t>(arena.size()));
      widths[c] = std::max(widths[c], display_width({arena.data() + start, arena.size() - start}));
    }
  }

  auto emit_cell = [&](size_t c, std::string_view text) {
    fmt::memory_buffer& b = out.buffer();
    size_t fill = widths[c] - display_width(text);
    bool last = c + 1 == ncols;
    if (columns[c]->right_aligned()) {
      pad(b, fill);
      b.append(text);
    } else {
      b.append(text);
      if (!last) pad(b, fill);
    }
    if (!last) b.append(std::string_view("  "));
  };

  if (headers) {
    for (size_t c = 0; c < ncols; ++c) emit_cell(c, columns[c]->header);
    out.buffer().push_back('\n');
  }
  size_t start = 0;
  size_t cell = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < ncols; ++c, ++cell) {
      emit_cell(c, {arena.data() + start, ends[cell] - start});
      start = ends[cell];
    }
    out.buffer().push_back('\n');
    out.maybe_flush();
    if (out.reader_gone()) return;
  }
}

}  // namespace socksnap
