// An agent's answer for the service map (GET /v1/graph, with the selection of GET /v1/snapshot):
// its node's selected sockets as grouped ends (analyze/graph_ends.h), each group once with its
// count, so that a node's answer stays small whatever its number of connections:
//
//   {"apiVersion":"socksnap.io/v1","kind":"GraphEnds","node":"node-1","warnings":[],
//    "nodeAddresses":["10.0.0.5"],
//    "owners":[{"podNamespace":"shop","podName":"web-0","podUid":"...","container":"nginx",
//               "comm":"nginx","netns":4026532100}],
//    "ends":[{"owner":0,"protocol":"TCP","role":"listen","local":"0.0.0.0","port":80,"count":1},
//            {"owner":0,"protocol":"TCP","role":"server","local":"10.1.0.1","port":80,
//             "remotes":[["10.1.0.2",12],["10.1.0.3",1]]},
//            {"owner":0,"protocol":"TCP","role":"client","local":"10.1.0.1","port":80,
//             "remotes":[["10.96.0.10",3,"10.1.0.7:8080"]]}]}
//
// A listener is an end with its count. The ends of connections that differ only in their far
// end are one object: its "remotes" list each far end as [ADDRESS, COUNT] or, when the node
// translated the destination (a service's backend), [ADDRESS, COUNT, "ADDR:PORT"] ("[ADDR]:PORT"
// for IPv6). So a node whose servers each answer another client, or whose clients each go
// somewhere else, sends an address and a count per end, not a whole end (bench: fanout_bench
// --graph --pattern scattered). An owner's members are left out when empty (hostNetwork when
// false, netnsName when it has no name); an end's `sameNetns` when false, `clientPort` when 0
// (always, as agents group). Strings keep every byte as the snapshot's wire does (a byte that is
// not UTF-8 as the lone surrogate \udcNN).
//
// Reading is strict, as the snapshot's is (wire/wire.h): a member the answer does not have, a
// value of another type or out of range, a required one left out, an owner index past the
// owners, is an error that names the owner or end and the field (`end 3: field "port": 70000 is
// out of range`, `end 2: remotes[0]: "count": 0 is out of range (1 and up)`); another apiVersion
// is named as such.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analyze/graph_ends.h"
#include "render/output_sink.h"
#include "util/result.h"

namespace socksnap {

void write_graph_reply(const std::string& node, const GraphEnds& ends,
                       const std::vector<std::string>& warnings, OutputSink& out);

struct GraphReply {
  std::string node;
  std::vector<std::string> warnings;
  GraphEnds ends;  // every owner's node is `node`
};

// Pure. Errors name what was wrong, and where.
Result<GraphReply> parse_graph_reply(std::string_view text);

}  // namespace socksnap
