// client-go's credential plugins (client.authentication.k8s.io): running one, and reading the
// ExecCredential it prints.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace socksnap {

struct ExecRequest {
  std::string command;  // a path, or a name looked up in $PATH
  std::vector<std::string> args;
  // Added to this process's environment; a name given twice takes its last value, as Go's
  // os/exec does.
  std::vector<std::pair<std::string, std::string>> env;
  std::string install_hint;  // shown when the command is not found
};

// Runs the plugin with standard input on /dev/null (socksnap never prompts) and returns what it
// printed on standard output. Its standard error goes to ours when it succeeds, and into the
// error when it fails: "executable aws failed with exit code 255: Unable to locate credentials".
Result<std::string> run_exec_plugin(const ExecRequest& request);

struct ExecCredential {
  std::string token;
  std::string client_certificate_data;  // PEM
  std::string client_key_data;          // PEM
  std::string expiration_timestamp;     // RFC 3339, or empty
};

// The plugin's output (JSON, or YAML, which client-go's decoder takes too) for a plugin
// configured with `api_version`. Errors as client-go's: a missing status, neither a token nor a
// certificate and key, only one of certificate and key, another apiVersion.
Result<ExecCredential> parse_exec_credential(std::string_view output, std::string_view api_version);

}  // namespace socksnap
