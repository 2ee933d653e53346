// The agent's answer on the wire (GET /v1/snapshot): the node's name, its warnings, and its
// sockets as the rows `socksnap -o json` prints:
//
//   {"apiVersion":"socksnap.io/v1","kind":"Snapshot","node":"node-1",
//    "warnings":["..."],"sockets":[{...},{...}]}
//
// The plugin reads the rows back into a Snapshot (processes, containers and pods included), so
// that the select and render stages work on a cluster as they do on one host.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/snapshot.h"
#include "render/output_sink.h"
#include "util/result.h"

namespace socksnap {

inline constexpr std::string_view kWireApiVersion = "socksnap.io/v1";
// The header that carries the agents' token (the agent reads it; the plugin sends it).
inline constexpr std::string_view kAgentTokenHeader = "x-socksnap-token";

void write_agent_reply(const Snapshot& snap, const std::vector<uint32_t>& rows,
                       const std::vector<std::string>& warnings, OutputSink& out);

struct AgentReply {
  std::string node;
  std::vector<std::string> warnings;
  Snapshot snapshot;  // snapshot.node is `node`; every row owned (owners has one per socket)
};

// Pure. Errors say where the text stopped making sense ("at byte 1234: ...").
Result<AgentReply> parse_agent_reply(std::string_view text);

// Appends `part`, one node's snapshot, to `merged`: its sockets, namespaces, processes,
// containers and pods, each row marked with `node` (merged.nodes gets it if new).
void merge_node_snapshot(Snapshot& merged, Snapshot&& part, const std::string& node);

}  // namespace socksnap
