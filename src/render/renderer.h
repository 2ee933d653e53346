// The render stage: renderers only read the snapshot and the selected rows.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/summary.h"
#include "model/snapshot.h"
#include "render/output_sink.h"
#include "render/row_fields.h"
#include "render/structured_writer.h"
#include "select/columns.h"

namespace socksnap {

enum class OutputFormat : uint8_t { kColumns, kJson, kJsonPretty, kYaml };

struct RenderOptions {
  OutputFormat format = OutputFormat::kColumns;
  std::vector<const Column*> columns;  // for kColumns
  bool headers = true;
  unsigned threads = 1;  // for large outputs
};

// Aligned columns, two spaces apart, widths fitted to the widest cell. Large tables are
// formatted on up to `threads` threads.
void render_table(const Snapshot& snap, const std::vector<uint32_t>& rows,
                  const std::vector<const Column*>& columns, bool headers, OutputSink& out,
                  unsigned threads = 1);

// A table of cells formatted already, `cells` row by row (columns.size() a row), escaped and
// aligned as render_table does; `columns` give the headers and the alignment.
void render_cell_table(const std::vector<const Column*>& columns,
                       const std::vector<std::string>& cells, bool headers, OutputSink& out);

// A summary (`socksnap summary`): a table of the --by columns, COUNT, and QUEUE and BACKLOG when
// --by groups listeners (empty but for listener groups with TCP or unix listeners); or the groups
// as objects (render/summary_fields.h) in one array (json, jsonpretty) or a YAML list, as rows
// are.
void render_summary(const Snapshot& snap, const Summary& summary, OutputFormat format, bool headers,
                    OutputSink& out, JsonStrings strings = JsonStrings::kUnicode);

// One array of objects with the gadget's field names (json, jsonpretty) or the same as YAML.
// Large outputs are formatted on up to `threads` threads. `strings`: how JSON carries bytes that
// are not UTF-8 (the agent's wire keeps them; see render/structured_writer.h). `revision`: the
// latest revision of the rows' fields written (render/row_fields.h; the wire's is the client's).
void render_structured(const Snapshot& snap, const std::vector<uint32_t>& rows, OutputFormat format,
                       OutputSink& out, unsigned threads = 1,
                       JsonStrings strings = JsonStrings::kUnicode,
                       unsigned revision = kRowFieldsRevision);

void render(const Snapshot& snap, const std::vector<uint32_t>& rows, const RenderOptions& options,
            OutputSink& out);

// A structured document (json, jsonpretty, yaml) written as pieces formatted apart, e.g. one
// per node of a cluster as each node answers: begin(), each piece in document order, end().
// The output is byte for byte what render_structured writes for all the pieces' rows.
class StructuredPieces {
 public:
  StructuredPieces(OutputFormat format, OutputSink& out) : format_(format), out_(out) {}
  // `rows` of `snap` formatted as a piece of such a document. Pure: any thread.
  static std::string format(const Snapshot& snap, const std::vector<uint32_t>& rows,
                            OutputFormat format);
  void begin();
  void add(std::string_view piece, size_t items);  // `items`: rows in the piece
  void end();

 private:
  OutputFormat format_;
  OutputSink& out_;
  size_t items_ = 0;
};

}  // namespace socksnap
