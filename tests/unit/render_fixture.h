// What the tests of rendered snapshots share: every row, columns by name, and the text of a
// table, of the rows as JSON and of a summary's groups as the agent's wire sends them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <numeric>
#include <string>
#include <vector>

#include "analyze/summary.h"
#include "model/snapshot.h"
#include "render/output_sink.h"
#include "render/renderer.h"
#include "select/columns.h"

namespace socksnap::test {

// Every row of `snap`, in order.
inline std::vector<uint32_t> all_rows(const Snapshot& snap) {
  std::vector<uint32_t> rows(snap.sockets.size());
  std::iota(rows.begin(), rows.end(), 0);
  return rows;
}

// The columns of these names (nullptr for a name that is none).
inline std::vector<const Column*> columns(std::initializer_list<const char*> names) {
  std::vector<const Column*> out;
  for (const char* n : names) out.push_back(find_column(n));
  return out;
}

inline std::string table(const Snapshot& snap, const std::vector<uint32_t>& rows,
                         const std::vector<const Column*>& cols, bool headers = true) {
  std::string captured;
  OutputSink sink(&captured);
  render_table(snap, rows, cols, headers, sink);
  EXPECT_TRUE(sink.finish());
  return captured;
}

// The columns' names, in order.
inline std::vector<std::string> names_of(const std::vector<const Column*>& cols) {
  std::vector<std::string> out;
  for (const Column* c : cols) out.emplace_back(c->name);
  return out;
}

// Every row as -o json writes it.
inline std::string json_of(const Snapshot& snap) {
  std::string text;
  OutputSink sink(&text);
  render_structured(snap, all_rows(snap), OutputFormat::kJson, sink);
  EXPECT_TRUE(sink.finish());
  return text;
}

// A summary's groups as JSON, with their bytes kept as the agent's wire keeps them.
inline std::string groups_json(const Snapshot& snap, const Summary& summary) {
  std::string out;
  OutputSink sink(&out);
  render_summary(snap, summary, OutputFormat::kJson, true, sink, JsonStrings::kLosslessBytes);
  EXPECT_TRUE(sink.finish());
  return out;
}

}  // namespace socksnap::test
