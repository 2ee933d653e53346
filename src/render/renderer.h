// The render stage: renderers only read the snapshot and the selected rows.
#pragma once

#include <cstdint>
#include <vector>

#include "model/snapshot.h"
#include "render/output_sink.h"
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

// One array of objects with the gadget's field names (json, jsonpretty) or the same as YAML.
// Large outputs are formatted on up to `threads` threads.
void render_structured(const Snapshot& snap, const std::vector<uint32_t>& rows, OutputFormat format,
                       OutputSink& out, unsigned threads = 1);

void render(const Snapshot& snap, const std::vector<uint32_t>& rows, const RenderOptions& options,
            OutputSink& out);

}  // namespace socksnap
