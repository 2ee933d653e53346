// A table of text cells for reports that are not rows (the service map's edges, the audit's
// findings): columns two spaces apart, widths fitted to the widest cell (in characters), numbers
// right-aligned. Cells must be escaped for the terminal already (util/terminal_text.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "render/output_sink.h"

namespace socksnap {

// How many characters `text` shows as: its UTF-8 code points (it is escaped: no control
// character, no invalid byte).
size_t text_width(std::string_view text);

struct TextColumn {
  std::string_view header;
  bool right = false;
};

// `cells` row by row, columns.size() a row; the header line first when `headers`.
void write_text_table(const std::vector<TextColumn>& columns, const std::vector<std::string>& cells,
                      bool headers, OutputSink& out);

// The same for a table written in batches (a stream): `widths` is the caller's, kept from one
// batch to the next and widened by each batch's cells (and by the header when `header`, which
// writes its line first).
void write_text_rows(const std::vector<TextColumn>& columns, const std::vector<std::string>& cells,
                     bool header, std::vector<size_t>& widths, OutputSink& out);

}  // namespace socksnap
