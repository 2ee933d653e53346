#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "render/renderer.h"
#include "util/huge_pages.h"
#include "util/terminal_text.h"

namespace socksnap {
namespace {

// Cell widths in characters: cells are ASCII except names that may be UTF-8, which count by
// code points so that columns still line up (a byte whose top bits are 10 continues a
// character). Most cells are all ASCII, which eight bytes at a time tell.
size_t display_width(std::string_view text) {
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  auto word = [&](size_t at) {
    uint64_t bytes;
    std::memcpy(&bytes, text.data() + at, sizeof bytes);
    return bytes;
  };
  uint64_t high = 0;
  if (text.size() >= 8) {
    for (size_t i = 0; i + 8 <= text.size(); i += 8) high |= word(i);
    high |= word(text.size() - 8);  // the last bytes, overlapping
  } else {
    for (char c : text) high |= static_cast<unsigned char>(c);
  }
  if ((high & kHighBits) == 0) return text.size();
  size_t width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

// Appends `count` spaces, sixteen at a time into room made beforehand.
void pad(fmt::memory_buffer& out, size_t count) {
  static constexpr char kSpaces[16] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
                                       ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
  size_t at = out.size();
  out.resize(at + count + sizeof kSpaces);
  for (size_t done = 0; done < count; done += sizeof kSpaces) {
    std::memcpy(out.data() + at + done, kSpaces, sizeof kSpaces);
  }
  out.resize(at + count);
}

// Copies in 16-byte chunks, which compile to single moves: the last chunk may read and write up
// to 15 bytes past the end, which the caller has room for.
constexpr size_t kChunk = 16;

char* copy_chunks(char* to, const char* from, size_t n) {
  for (size_t done = 0; done < n; done += kChunk) std::memcpy(to + done, from + done, kChunk);
  return to + n;
}

char* spaces(char* to, size_t n) {
  static constexpr char kSpaces[kChunk] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
                                           ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
  for (size_t done = 0; done < n; done += kChunk) std::memcpy(to + done, kSpaces, kChunk);
  return to + n;
}

// Rows in sorted order are scattered over the records; reading a record is then a cache miss.
// Asking for the records of rows a little ahead overlaps those misses.
constexpr size_t kPrefetchDistance = 12;

void prefetch_row(const Snapshot& snap, uint32_t row) {
  const auto* record = reinterpret_cast<const char*>(&snap.sockets[row]);
  __builtin_prefetch(record);
  __builtin_prefetch(record + sizeof(SocketRecord) - 1);
  if (row < snap.owners.size()) __builtin_prefetch(&snap.owners[row]);
}

// Each cell's length in bytes, a byte each: a cell of 255 bytes or more (rare: long labels,
// escaped names) is found apart by its index. Four bytes a cell were as many as the cells' text
// (a unix row's five cells are ~20 bytes), and a tenth of a 100,000-row table's peak memory.
class CellLengths {
 public:
  void reserve(size_t cells) { reserve_huge(small_, cells); }
  size_t size() const { return small_.size(); }
  void push_back(size_t length) {
    if (length < kLong) {
      small_.push_back(static_cast<uint8_t>(length));
      return;
    }
    long_.emplace_back(small_.size(), length);
    small_.push_back(kLong);
  }
  size_t operator[](size_t cell) const {
    uint8_t length = small_[cell];
    if (length != kLong) return length;
    auto found = std::lower_bound(long_.begin(), long_.end(), cell,
                                  [](const auto& entry, size_t at) { return entry.first < at; });
    return found->second;
  }

 private:
  static constexpr uint8_t kLong = 255;
  std::vector<uint8_t> small_;
  std::vector<std::pair<size_t, size_t>> long_;  // (cell, length), by cell
};

// A slice of the rows, formatted: every cell's text back to back, where each cell ends, and
// each column's widest cell. Cells are formatted once; the widths are known only when every
// slice is done, and then the cells are copied out with their padding.
class alignas(64) FormattedSlice {
 public:
  FormattedSlice(const Snapshot& snap, const std::vector<const Column*>& columns)
      : snap_(snap), columns_(columns), widths_(columns.size(), 0), ascii_(columns.size(), 1) {}

  void format(std::span<const uint32_t> rows) {
    constexpr size_t kSampleRows = 1024;
    // Widths are kept in memory this thread allocates while formatting: the slices' own vectors,
    // made one after the other, would share cache lines that every cell writes to.
    std::vector<size_t> widths(columns_.size(), 0);
    lengths_.reserve(rows.size() * columns_.size());
    for (size_t i = 0; i < std::min(kPrefetchDistance, rows.size()); ++i) {
      prefetch_row(snap_, rows[i]);
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i + kPrefetchDistance < rows.size()) prefetch_row(snap_, rows[i + kPrefetchDistance]);
      // Room for the whole slice at the size of its first rows, plus a tenth: a buffer that
      // grows by copying would hold twice the text at the moment it grows.
      if (i == kSampleRows) {
        text_.reserve(text_.size() / i * rows.size() * 11 / 10);
        advise_huge_pages(text_.data() + text_.size(), text_.capacity() - text_.size());
      }
      // Widths are lengths here; reading each cell back right after writing it would stall on
      // loads that straddle the stores just made.
      for (size_t c = 0; c < columns_.size(); ++c) {
        size_t start = text_.size();
        columns_[c]->text(snap_, rows[i], text_);
        size_t length = text_.size() - start;
        lengths_.push_back(length);
        widths[c] = std::max(widths[c], length);
      }
    }
    widths_ = widths;
    finish();
  }

  // Cells formatted already, row by row (a summary's groups).
  void adopt(const std::vector<std::string>& cells) {
    lengths_.reserve(cells.size());
    for (size_t i = 0; i < cells.size(); ++i) {
      text_.append(cells[i]);
      lengths_.push_back(cells[i].size());
      size_t& width = widths_[i % columns_.size()];
      width = std::max(width, cells[i].size());
    }
    finish();
  }

  // Anything but printable ASCII anywhere: control bytes, invalid UTF-8 and the like are
  // escaped cell by cell (a name is whatever its owner made it), and the widths of every cell
  // are then counted in characters.
  void finish() {
    if (!is_printable_ascii({text_.data(), text_.size()}, Backslash::kEscape)) {
      escape_cells();
      if (display_width({text_.data(), text_.size()}) != text_.size()) measure_characters();
    }
    // Zeros after the last cell: copies read whole chunks.
    size_t end = text_.size();
    text_.resize(end + kChunk);
    std::memset(text_.data() + end, 0, kChunk);
  }
  const std::vector<size_t>& widths() const { return widths_; }

  // Rewrites the cells that would put a control byte, an invalid UTF-8 sequence or a layout
  // character on the terminal, escaped (see util/terminal_text.h); copies nothing when no cell
  // needs it. Cells are checked one by one: two cells' bytes that are invalid apart could be
  // valid together, but are never shown together.
  void escape_cells() {
    const char* text = text_.data();
    size_t cell = 0;
    for (; cell < lengths_.size(); text += lengths_[cell++]) {
      if (!is_terminal_safe({text, lengths_[cell]}, Backslash::kEscape)) break;
    }
    if (cell == lengths_.size()) return;
    fmt::memory_buffer escaped;
    escaped.reserve(text_.size() + text_.size() / 4);
    escaped.append(text_.data(), text);
    CellLengths lengths;  // the cells before this one as they were, then the escaped ones
    lengths.reserve(lengths_.size());
    for (size_t before = 0; before < cell; ++before) lengths.push_back(lengths_[before]);
    for (; cell < lengths_.size(); ++cell) {
      size_t start = escaped.size();
      append_terminal_safe(escaped, {text, lengths_[cell]}, Backslash::kEscape);
      text += lengths_[cell];
      lengths.push_back(escaped.size() - start);
    }
    text_ = std::move(escaped);
    lengths_ = std::move(lengths);
    // Lengths changed: the widths are counted again.
    std::fill(widths_.begin(), widths_.end(), 0);
    for (size_t i = 0; i < lengths_.size(); ++i) {
      size_t& width = widths_[i % columns_.size()];
      width = std::max(width, lengths_[i]);
    }
  }

  void measure_characters() {
    size_t columns = columns_.size();
    std::fill(widths_.begin(), widths_.end(), 0);
    const char* text = text_.data();
    for (size_t cell = 0; cell < lengths_.size(); ++cell) {
      size_t c = cell % columns;
      size_t width = display_width({text, lengths_[cell]});
      widths_[c] = std::max(widths_[c], width);
      if (width != lengths_[cell]) ascii_[c] = 0;
      text += lengths_[cell];
    }
  }

  // Frees the cells once they are written.
  void release() {
    text_ = fmt::memory_buffer();
    lengths_ = CellLengths();
  }

  // Writes the rows with cells padded to `widths`; `flush` after each row returns false to stop.
  template <typename Flush>
  bool write(const std::vector<size_t>& widths, fmt::memory_buffer& out, Flush flush) const {
    size_t columns = columns_.size();
    std::vector<uint8_t> right(columns);
    // A row takes its text, at most each column's width in spaces, two spaces between columns,
    // the newline, and room for a chunk written past its end.
    size_t padding = kChunk + 1;
    for (size_t c = 0; c < columns; ++c) {
      right[c] = columns_[c]->right_aligned() ? 1 : 0;
      padding += widths[c] + 2;
    }
    const char* text = text_.data();
    for (size_t cell = 0; cell < lengths_.size();) {
      size_t row_text = 0;
      for (size_t c = 0; c < columns; ++c) row_text += lengths_[cell + c];
      size_t at = out.size();
      out.resize(at + row_text + padding);
      char* p = out.data() + at;
      for (size_t c = 0; c < columns; ++c, ++cell) {
        size_t length = lengths_[cell];
        size_t shown = ascii_[c] ? length : display_width({text, length});
        size_t fill = widths[c] - shown;
        bool last = c + 1 == columns;
        if (right[c]) {
          p = copy_chunks(spaces(p, fill), text, length);
          if (!last) p = spaces(p, 2);
        } else {
          p = copy_chunks(p, text, length);
          if (!last) p = spaces(p, fill + 2);
        }
        text += length;
      }
      *p++ = '\n';
      out.resize(static_cast<size_t>(p - out.data()));
      if (!flush()) return false;
    }
    return true;
  }

  static void write_header(const std::vector<const Column*>& columns,
                           const std::vector<size_t>& widths, fmt::memory_buffer& out) {
    for (size_t c = 0; c < columns.size(); ++c) {
      write_cell(out, columns[c]->header, widths[c], columns[c]->right_aligned(),
                 c + 1 == columns.size());
    }
    out.push_back('\n');
  }

 private:
  // A cell padded to `width`: spaces after text, before numbers, and two spaces to the next
  // column; the last column gets no trailing spaces.
  static void write_cell(fmt::memory_buffer& out, std::string_view text, size_t width,
                         bool right_aligned, bool last) {
    size_t fill = width - display_width(text);
    if (right_aligned) pad(out, fill);
    size_t at = out.size();
    out.resize(at + text.size());
    if (!text.empty()) std::memcpy(out.data() + at, text.data(), text.size());
    if (!last) pad(out, right_aligned ? 2 : fill + 2);
  }

  const Snapshot& snap_;
  const std::vector<const Column*>& columns_;
  std::vector<size_t> widths_;
  fmt::memory_buffer text_;
  CellLengths lengths_;         // of each cell in text_, row by row
  std::vector<uint8_t> ascii_;  // per column: no UTF-8 in it, widths are lengths
};

}  // namespace

void render_cell_table(const std::vector<const Column*>& columns,
                       const std::vector<std::string>& cells, bool headers, OutputSink& out) {
  static const Snapshot kNoRows;  // the cells are formatted: no row is read
  FormattedSlice slice(kNoRows, columns);
  slice.adopt(cells);
  std::vector<size_t> widths(columns.size(), 0);
  for (size_t c = 0; c < columns.size(); ++c) {
    widths[c] = std::max(headers ? columns[c]->header.size() : 0, slice.widths()[c]);
  }
  if (headers) FormattedSlice::write_header(columns, widths, out.buffer());
  slice.write(widths, out.buffer(), [&] {
    out.maybe_flush();
    return !out.reader_gone();
  });
}

void render_table(const Snapshot& snap, const std::vector<uint32_t>& rows,
                  const std::vector<const Column*>& columns, bool headers, OutputSink& out,
                  unsigned threads) {
  // Large tables are formatted in slices on several threads: from 20,000 rows on two (bench
  // case D's table of 21,000 rows took 7.7 ms on one, 5.6 ms on two; 21 runs each, medians).
  constexpr size_t kRowsPerSlice = 10000;
  size_t count = std::clamp<size_t>(rows.size() / kRowsPerSlice, 1, std::max(1U, threads));
  std::vector<FormattedSlice> slices;
  slices.reserve(count);
  for (size_t s = 0; s < count; ++s) slices.emplace_back(snap, columns);
  {
    std::vector<std::thread> pool;
    auto work = [&](size_t s) {
      size_t begin = rows.size() * s / count;
      size_t end = rows.size() * (s + 1) / count;
      slices[s].format(std::span(rows.data() + begin, end - begin));
    };
    for (size_t s = 1; s < count; ++s) pool.emplace_back(work, s);
    work(0);
    for (auto& t : pool) t.join();
  }
  std::vector<size_t> widths(columns.size(), 0);
  if (headers) {
    for (size_t c = 0; c < columns.size(); ++c) widths[c] = columns[c]->header.size();
  }
  for (const auto& slice : slices) {
    for (size_t c = 0; c < columns.size(); ++c) widths[c] = std::max(widths[c], slice.widths()[c]);
  }

  if (headers) FormattedSlice::write_header(columns, widths, out.buffer());
  // Copied out padded slice by slice, straight to the output as it flushes: a slice copied into
  // a buffer of its own on another thread saved a few ms at 100,000 rows, and held the whole
  // slice's padded text (a tenth of the run's peak memory) meanwhile.
  for (auto& slice : slices) {
    if (out.reader_gone()) break;
    slice.write(widths, out.buffer(), [&] {
      out.maybe_flush();
      return !out.reader_gone();
    });
    slice.release();
  }
}

}  // namespace socksnap
