// Changes to sockets printed as `socksnap diff` and `socksnap watch` print them (analyze/
// snapshot_diff.h): a table with a TYPE column (ADDED, MODIFIED, DELETED; watch's TIME before
// it) before the row's columns, or one JSON object per line, as Kubernetes watch events are:
//
//   {"type":"ADDED","object":{ROW}}                    (diff)
//   {"type":"ADDED","time":"2026-12-06T10:00:00.123Z","object":{ROW}}   (watch)
//
// the row as `socksnap -o json` prints it. A printer keeps the table's column widths from one
// batch to the next, so that a stream stays aligned (a wider cell later widens its column); the
// header comes with the first change.
#pragma once

#include <string>
#include <vector>

#include "analyze/snapshot_diff.h"
#include "model/snapshot.h"
#include "render/output_sink.h"
#include "render/text_table.h"
#include "select/columns.h"

namespace socksnap {

// What a change shows: its row of its snapshot.
struct ChangeRow {
  ChangeType type = ChangeType::kAdded;
  const Snapshot* snap = nullptr;
  uint32_t row = 0;
};

// The changes from `before`'s rows to `after`'s (analyze/snapshot_diff.h) as the rows printed:
// every row of `after` added when there is no `before` (a watch's first snapshot).
std::vector<ChangeRow> changes_between(const Snapshot* before,
                                       const std::vector<uint32_t>& before_rows,
                                       const Snapshot& after,
                                       const std::vector<uint32_t>& after_rows);

class ChangePrinter {
 public:
  // `json`: one event per line; else a table of `columns`. `with_time`: each event says when it
  // was seen (watch).
  ChangePrinter(bool json, std::vector<const Column*> columns, bool headers, bool with_time)
      : json_(json), columns_(std::move(columns)), headers_(headers), with_time_(with_time) {}

  // Prints a batch of changes seen at `time` (RFC 3339, UTC; ignored without with_time).
  void print(const std::vector<ChangeRow>& changes, const std::string& time, OutputSink& out);

 private:
  bool json_;
  std::vector<const Column*> columns_;
  bool headers_;
  bool with_time_;
  bool header_done_ = false;
  std::vector<std::string> header_texts_;  // what text_columns_ name
  std::vector<TextColumn> text_columns_;
  std::vector<size_t> widths_;
};

// Which columns a document's rows call for by default: where it has pods, the pods' columns;
// containers, the containers'; else the host's.
NodeKind kind_of(const Snapshot& snap);

}  // namespace socksnap
