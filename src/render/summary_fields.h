// One description of a summary group's JSON object (render/summary_fields.cpp): the values of
// its --by columns under the keys and nesting a row has them (render/row_fields.h:
// "k8s.namespace" in "k8s", "src.port" in "src", "rtt" in "tcpInfo"), then "count", and
// "acceptQueue" and "backlog" on a listener group that has TCP or unix listeners
// (analyze/summary.h):
//
//   {"k8s":{"namespace":"shop","podName":"web-0"},"direction":"inbound","status":"ESTABLISHED",
//    "count":3}
//
// Top-level fields come in --by's order, an object's members in a row's order. A column's fields
// are left out when its cell is empty (a socket of no pod has no "k8s.podName"), as a row leaves
// them out; "k8s.hostNetwork" is written false too (a row leaves false out), so that a pod off
// the host's network is told from no pod. Columns that share a field write it once ("src" and
// "src.port"); `src` and `dst` write the endpoint object a row has, `ipversion` "src.version".
//
// `socksnap summary -o json|jsonpretty|yaml` writes groups with it, and so does the agent (GET
// /v1/summary, wire/wire.h). The plugin reads them back as strictly as rows: a field that no
// column asked for, a value of another type or out of range, a required field left out (the
// fields of a column whose cell is never empty), values that contradict each other, are errors
// naming the field.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "analyze/summary.h"
#include "model/snapshot.h"
#include "render/structured_writer.h"
#include "select/columns.h"
#include "util/json_reader.h"

namespace socksnap {

// Writes `group` (of a summary of `snap` by `by`) as an item of a structured document.
// `scratch`: the caller's, for formatting.
void write_group(const Snapshot& snap, const SummaryGroup& group,
                 const std::vector<const Column*>& by, StructuredWriter& w,
                 fmt::memory_buffer& scratch);

// The fields `column` writes, as paths ("k8s.podName", "src.addr", "src.podlabels"), in the
// order a row has them. Every column has some.
std::vector<std::string> group_field_paths(const Column& column);

// Reads group objects written by write_group for the same columns, one after the other.
class GroupReader {
 public:
  // `text`: the whole document `r` reads (messages quote values from it).
  GroupReader(JsonReader& r, std::string_view text, const std::vector<const Column*>& by);
  ~GroupReader();
  GroupReader(const GroupReader&) = delete;
  GroupReader& operator=(const GroupReader&) = delete;

  // Reads the group at the reader: its values as a new row of `into` (with the namespace,
  // owners, endpoint names, TCP internals and direction they name), its count and sums into
  // `weight`. False when it is not one: error() then names the field and what is wrong, or is
  // empty when the JSON text itself is malformed (the JsonReader has failed).
  bool read(Snapshot& into, GroupWeight& weight);
  const std::string& error() const { return error_; }
  // The last group's "k8s.node", when it had one: the caller checks it is the reply's node
  // (which may come after the groups).
  const std::optional<std::string>& node() const { return node_; }

 private:
  struct Plan;
  struct Draft;
  bool read_object(Draft& draft);
  bool read_members(std::string_view object, Draft& draft);
  bool read_leaf(size_t leaf, Draft& draft);
  bool fail(std::string message);
  bool wrong_type(JsonReader::Type wanted, std::string_view path);
  bool check_and_add(Draft& draft, Snapshot& into, GroupWeight& weight);

  JsonReader& r_;
  std::string_view text_;
  std::unique_ptr<Plan> plan_;
  std::string error_;
  std::optional<std::string> node_;
};

}  // namespace socksnap
