// A --replay-dump file of arbitrary bytes, taken all the way: parsed, replayed for every
// namespace it names, selected and rendered in every format.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "collect/collector.h"
#include "collect/replay_source.h"
#include "render/renderer.h"
#include "select/selection.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto frames = socksnap::parse_dump_file(std::span<const uint8_t>(data, size));
  if (!frames) return 0;
  socksnap::ReplaySource source(std::move(frames.value()));
  auto namespaces = source.namespaces();
  if (namespaces.size() > 16) namespaces.resize(16);

  socksnap::CollectRequest request;
  request.udplite = true;
  request.tcp_info = true;
  socksnap::Warnings warnings;
  auto outcome = socksnap::collect_snapshot(namespaces, source, request, 1, warnings);
  const socksnap::Snapshot& snap = outcome.snapshot;
  if (snap.tcp_info.size() != snap.sockets.size()) std::abort();

  socksnap::Selection selection;
  selection.sort = socksnap::default_sort(socksnap::NodeKind::kHost);
  auto rows = socksnap::select_rows(snap, selection);
  std::vector<const socksnap::Column*> columns;
  for (const auto& c : socksnap::all_columns()) columns.push_back(&c);
  for (auto format : {socksnap::OutputFormat::kColumns, socksnap::OutputFormat::kJson,
                      socksnap::OutputFormat::kJsonPretty, socksnap::OutputFormat::kYaml}) {
    std::string text;
    socksnap::OutputSink sink(&text);
    socksnap::RenderOptions options;
    options.format = format;
    options.columns = columns;
    socksnap::render(snap, rows, options, sink);
    (void)sink.finish();
  }
  return 0;
}
