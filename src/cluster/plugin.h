// `kubectl socksnap` (the executable kubectl-socksnap): the snapshot of a whole cluster. Finds
// the agents (pods labelled app.kubernetes.io/name=socksnap-agent in namespace socksnap), gets a
// token for them (TokenRequest for the socksnap-client service account, audience socksnap),
// asks them all through the API server's pods/proxy subresource, names pod and service
// addresses, and selects and prints the rows as `socksnap` does.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace socksnap {

int run_plugin(int argc, const char* const* argv);

// "30s", "1500ms", "2m", "1h", "45" (seconds); nullopt when not a duration.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace socksnap
