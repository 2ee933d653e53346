// The audit's report (analyze/audit.h) as `socksnap audit` and `kubectl socksnap audit` print
// it: a table of the findings (the default), JSON, SARIF 2.1.0 for code-scanning dashboards, or
// a Markdown report a reviewer can file (what listens, who talks to whom, the findings). Every
// name in it may be anyone's: escaped as each format needs (terminal escapes in the table,
// JSON's in JSON and SARIF, Markdown's backslashes after the terminal's in Markdown).
//
// JSON:
//   {"apiVersion":"socksnap.io/v1","kind":"Audit","scope":"host node-1","policy":"allow.yaml",
//    "violations":1,"findings":[{"rule":"exposed-listener","severity":"warning",
//    "reason":"...","from":{...},"to":{"node":"node-1","namespace":"","pod":"","hostNetwork":false,
//    "comm":"sshd","service":"","address":"0.0.0.0"},"protocol":"TCP","port":22,
//    "connections":0,"allowedBy":"allow.yaml:3","sockets":[ROW,...]}],
//    "skipped":[{"rule":"undeclared-port","reason":"..."}],"notes":["..."]}
// "from" is left out of a listener's finding and "allowedBy" of a violation; a row is as
// `socksnap -o json` prints it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/audit.h"
#include "analyze/service_map.h"
#include "model/snapshot.h"
#include "render/output_sink.h"

namespace socksnap {

enum class AuditFormat : uint8_t { kTable, kJson, kJsonPretty, kSarif, kMarkdown };

std::optional<AuditFormat> audit_format_named(std::string_view name);
std::string_view audit_format_names();  // "table, json, jsonpretty, sarif, markdown"

struct AuditDocument {
  const Snapshot* snap = nullptr;
  const std::vector<uint32_t>* rows = nullptr;  // the selected sockets
  const AuditReport* report = nullptr;
  const ServiceMap* map = nullptr;  // who talks to whom (Markdown), or null
  std::string scope;                // "host node-1", "cluster https://..."
  std::string policy_file;          // --policy, or empty
  std::string tool_version;         // SARIF's driver version
};

void render_audit(const AuditDocument& doc, AuditFormat format, bool headers, OutputSink& out);

}  // namespace socksnap
