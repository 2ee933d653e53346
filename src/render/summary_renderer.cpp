#include <string>
#include <vector>

#include "render/renderer.h"
#include "render/summary_fields.h"

namespace socksnap {
namespace {

// The summary's own columns: numbers, right-aligned.
const Column kCount{"count", "COUNT", ValueKind::kInteger, kNeedsNothing, nullptr, nullptr,
                    nullptr, 0};
const Column kQueue{"acceptQueue", "QUEUE", ValueKind::kInteger, kNeedsNothing, nullptr, nullptr,
                    nullptr,       0};
const Column kBacklog{"backlog", "BACKLOG", ValueKind::kInteger, kNeedsNothing, nullptr, nullptr,
                      nullptr,   0};

void render_summary_table(const Summary& summary, bool headers, OutputSink& out) {
  std::vector<const Column*> columns = summary.by;
  columns.push_back(&kCount);
  if (summary.queue_columns) {
    columns.push_back(&kQueue);
    columns.push_back(&kBacklog);
  }
  std::vector<std::string> cells;
  cells.reserve(summary.groups.size() * columns.size());
  for (const SummaryGroup& group : summary.groups) {
    cells.insert(cells.end(), group.values.begin(), group.values.end());
    cells.push_back(std::to_string(group.weight.count));
    if (summary.queue_columns) {
      bool shown = group.shows_queues();
      cells.push_back(shown ? std::to_string(group.weight.accept_queue) : std::string());
      cells.push_back(shown ? std::to_string(group.weight.backlog) : std::string());
    }
  }
  render_cell_table(columns, cells, headers, out);
}

}  // namespace

void render_summary(const Snapshot& snap, const Summary& summary, OutputFormat format, bool headers,
                    OutputSink& out, JsonStrings strings) {
  if (format == OutputFormat::kColumns) {
    render_summary_table(summary, headers, out);
    return;
  }
  auto writer = format == OutputFormat::kYaml
                    ? make_yaml_writer(out)
                    : make_json_writer(out, format == OutputFormat::kJsonPretty, strings);
  writer->begin_document();
  fmt::memory_buffer scratch;
  for (const SummaryGroup& group : summary.groups) {
    write_group(snap, group, summary.by, *writer, scratch);
    if (out.reader_gone()) return;
  }
  writer->end_document();
}

}  // namespace socksnap
