#include "render/text_table.h"

#include <algorithm>

namespace socksnap {

size_t text_width(std::string_view text) {
  size_t width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

void write_text_table(const std::vector<TextColumn>& columns, const std::vector<std::string>& cells,
                      bool headers, OutputSink& out) {
  std::vector<size_t> widths;
  write_text_rows(columns, cells, headers, widths, out);
}

void write_text_rows(const std::vector<TextColumn>& columns, const std::vector<std::string>& cells,
                     bool header, std::vector<size_t>& widths, OutputSink& out) {
  const size_t n = columns.size();
  if (widths.size() != n) widths.assign(n, 0);
  for (size_t c = 0; c < n; ++c) {
    if (header) widths[c] = std::max(widths[c], text_width(columns[c].header));
  }
  for (size_t i = 0; i < cells.size(); ++i) {
    widths[i % n] = std::max(widths[i % n], text_width(cells[i]));
  }
  std::string line;
  auto write_line = [&](auto cell_at) {
    line.clear();
    for (size_t c = 0; c < n; ++c) {
      std::string_view cell = cell_at(c);
      size_t fill = widths[c] - text_width(cell);
      // The header's numeric titles line up with the numbers' right edge.
      if (columns[c].right) line.append(fill, ' ');
      line += cell;
      if (c + 1 < n) line.append(columns[c].right ? 2 : fill + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    line += '\n';
    out.buffer().append(line);
    out.maybe_flush();
  };
  if (header) write_line([&](size_t c) { return columns[c].header; });
  for (size_t row = 0; row + n <= cells.size(); row += n) {
    write_line([&](size_t c) { return std::string_view(cells[row + c]); });
  }
}

}  // namespace socksnap
