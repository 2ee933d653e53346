// The agent's answer on the wire (GET /v1/snapshot): the node's name, its warnings, and its
// sockets as the rows `socksnap -o json` prints:
//
//   {"apiVersion":"socksnap.io/v1","kind":"Snapshot","node":"node-1",
//    "warnings":["..."],"nodeNetns":4026531840,"sockets":[{...},{...}]}
//
// "nodeNetns" (revision 4, optional): the inode of the node's own network namespace, when the
// agent knows it; the plugin then names that namespace the node's, as a local run does.
//
// The plugin reads the rows back into a Snapshot (processes, containers and pods included), so
// that the select and render stages work on a cluster as they do on one host. The rows' fields
// are those of render/row_fields.h, which both sides use.
//
// Reading is strict: a member or a field the wire does not have, a value of another type or out
// of range, a required one left out, is an error that names it and the socket it is in
// (`socket 3: unknown field "k8s.podNmae"`), and the plugin reports the node as failed with it.
// Nothing is dropped in silence: a field renamed on one side would otherwise be lost. Versions:
//
// - apiVersion (socksnap.io/v1) changes only when a field changes meaning or goes away. A reply
//   in another one is refused saying so, and what to do: deploy the agent of the plugin's
//   version, or use the plugin of the agents'.
// - Within it, fields are added in revisions (kRowFieldsRevision). A client that reads a later
//   revision than 1 asks for it (`?revision=N`, kWireRevisionParameter), and an agent writes the
//   fields of the revision asked for or of its own, whichever is older: a newer agent sends an
//   older plugin only fields it knows, and a newer plugin reads an older agent's answer without
//   the later (optional) fields. A field a plugin does not know is then never a version's, and
//   is an error like any other.
//
// GET /v1/summary answers a summary of the node's rows (analyze/summary.h) instead of the rows:
//
//   {"apiVersion":"socksnap.io/v1","kind":"Summary","node":"node-1","warnings":["..."],
//    "by":["k8s.namespace","k8s.podName","direction","status"],
//    "groups":[{"k8s":{"namespace":"shop","podName":"web-0"},"direction":"inbound",...,"count":3}]}
//
// the groups as `socksnap summary -o json` writes them (render/summary_fields.h, bytes that are
// not UTF-8 kept as in rows), "by" the columns grouped by, as the client asked. Its fields are
// those of the columns asked for: a column an agent does not know is its 400, and the
// revision changes none of them. An agent of a build before it answers 404 with its own
// {"error":...} (the plugin then asks it for its rows). Read as strictly as a snapshot: a member
// or group field the wire does not have, of another type or out of range, a required one left
// out, or groups by other columns than those asked, is an error naming the group (`group 3:
// unknown field "k8s.podNmae"`).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyze/summary.h"
#include "model/snapshot.h"
#include "render/output_sink.h"
#include "render/row_fields.h"
#include "util/result.h"

namespace socksnap {

inline constexpr std::string_view kWireApiVersion = "socksnap.io/v1";
// The header that carries the agents' token (the agent reads it; the plugin sends it).
inline constexpr std::string_view kAgentTokenHeader = "x-socksnap-token";

// GET /v1/snapshot's parameter for the latest revision of the rows' fields a client reads.
inline constexpr std::string_view kWireRevisionParameter = "revision";

// The revision an agent answers `query` with: the one asked for (1 when none is), or its own
// when that is older. Not a whole number from 1 up: an error naming the parameter.
Result<unsigned> wire_revision(const std::vector<std::pair<std::string, std::string>>& query);

// The message for an answer in another apiVersion than this client's, saying what to do.
std::string wire_version_mismatch(std::string_view version);
// An answer's apiVersion, looked for on its own (an answer that does not read may still say it).
std::optional<std::string> wire_api_version_of(std::string_view text);

// `revision`: the client's (wire_revision): fields of later revisions are left out.
void write_agent_reply(const Snapshot& snap, const std::vector<uint32_t>& rows,
                       const std::vector<std::string>& warnings, OutputSink& out,
                       unsigned revision = kRowFieldsRevision);

struct AgentReply {
  std::string node;
  std::vector<std::string> warnings;
  Snapshot snapshot;  // snapshot.node is `node`; every row owned (owners has one per socket)
};

// Pure. Errors say where the text stopped making sense ("at byte 1234: ...").
Result<AgentReply> parse_agent_reply(std::string_view text);

// A saved snapshot: the rows `socksnap -o json` or `kubectl socksnap -o json` print (one JSON
// array; -o jsonpretty's too), read as strictly as an agent's, each row of the node its
// "k8s.node" names (Snapshot::nodes and socket_nodes filled, namespaces per node). Pure.
Result<Snapshot> parse_snapshot_rows(std::string_view text);

// The summary of `snap`'s rows, in the envelope above.
void write_summary_reply(const Snapshot& snap, const Summary& summary,
                         const std::vector<std::string>& warnings, OutputSink& out);

struct SummaryReply {
  std::string node;
  std::vector<std::string> warnings;
  // One row per group, holding its values (snapshot.node is `node`), and its count and sums.
  Snapshot snapshot;
  std::vector<GroupWeight> weights;
};

// Pure. `by`: the columns the client asked for.
Result<SummaryReply> parse_summary_reply(std::string_view text,
                                         const std::vector<const Column*>& by);

// Appends `part`, one node's snapshot, to `merged`: its sockets, namespaces, processes,
// containers and pods, each row marked with `node` (merged.nodes gets it if new).
void merge_node_snapshot(Snapshot& merged, Snapshot&& part, const std::string& node);

}  // namespace socksnap
