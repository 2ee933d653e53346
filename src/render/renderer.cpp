#include "render/renderer.h"

namespace socksnap {

void render(const Snapshot& snap, const std::vector<uint32_t>& rows, const RenderOptions& options,
            OutputSink& out) {
  if (options.format == OutputFormat::kColumns) {
    render_table(snap, rows, options.columns, options.headers, out, options.threads);
  } else {
    render_structured(snap, rows, options.format, out, options.threads);
  }
}

}  // namespace socksnap
