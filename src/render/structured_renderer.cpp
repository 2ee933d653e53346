#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "render/renderer.h"
#include "render/row_fields.h"
#include "render/structured_writer.h"

namespace socksnap {
namespace {

std::unique_ptr<StructuredWriter> make_writer(OutputFormat format, OutputSink& out,
                                              JsonStrings strings = JsonStrings::kUnicode) {
  return format == OutputFormat::kYaml
             ? make_yaml_writer(out)
             : make_json_writer(out, format == OutputFormat::kJsonPretty, strings);
}

// Rows each thread formats at a time: large enough to pay for a thread, small enough that the
// pieces waiting to be written hold little memory.
constexpr size_t kPieceRows = 8192;

}  // namespace

void render_structured(const Snapshot& snap, const std::vector<uint32_t>& rows, OutputFormat format,
                       OutputSink& out, unsigned threads, JsonStrings strings, unsigned revision) {
  fmt::memory_buffer scratch;
  auto writer = make_writer(format, out, strings);
  writer->begin_document();
  if (threads <= 1 || rows.size() < 2 * kPieceRows) {
    for (uint32_t row : rows) {
      write_row(snap, row, *writer, scratch, revision);
      if (out.reader_gone()) return;
    }
    writer->end_document();
    return;
  }
  // Rounds of one piece per thread, written out in order as soon as the round is done.
  std::vector<std::string> pieces(threads);
  for (size_t start = 0; start < rows.size(); start += threads * kPieceRows) {
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) {
      size_t begin = start + t * kPieceRows;
      size_t end = std::min(rows.size(), begin + kPieceRows);
      pieces[t].clear();
      if (begin >= end) continue;
      workers.emplace_back(
          [&snap, &rows, &piece = pieces[t], begin, end, format, strings, revision] {
            OutputSink sink(&piece);
            auto w = make_writer(format, sink, strings);
            w->resume_document(begin);
            fmt::memory_buffer local;
            for (size_t i = begin; i < end; ++i) write_row(snap, rows[i], *w, local, revision);
            (void)sink.finish();  // into a string: cannot fail
          });
    }
    for (auto& worker : workers) worker.join();
    for (const auto& piece : pieces) out.write_through(piece);
    if (out.reader_gone()) return;
  }
  auto closing = make_writer(format, out, strings);
  closing->resume_document(rows.size());
  closing->end_document();
}

std::string StructuredPieces::format(const Snapshot& snap, const std::vector<uint32_t>& rows,
                                     OutputFormat format) {
  std::string piece;
  OutputSink sink(&piece);
  auto writer = make_writer(format, sink);
  writer->resume_document(0);  // as the first items: add() puts a separator before the others
  fmt::memory_buffer scratch;
  for (uint32_t row : rows) write_row(snap, row, *writer, scratch);
  (void)sink.finish();  // into a string: cannot fail
  return piece;
}

void StructuredPieces::begin() {
  make_writer(format_, out_)->begin_document();
}

void StructuredPieces::add(std::string_view piece, size_t items) {
  if (items == 0) return;
  // Only JSON separates items, with a comma before every item but the first.
  if (items_ > 0 && format_ != OutputFormat::kYaml) out_.append(",");
  out_.write_through(piece);
  items_ += items;
}

void StructuredPieces::end() {
  auto closing = make_writer(format_, out_);
  closing->resume_document(items_);
  closing->end_document();
}

}  // namespace socksnap
