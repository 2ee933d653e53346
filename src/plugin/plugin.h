// `kubectl socksnap` (the executable kubectl-socksnap): the snapshot of a whole cluster. Finds
// the agents (pods labelled app.kubernetes.io/name=socksnap-agent in namespace socksnap), gets a
// token for them (TokenRequest for the socksnap-client service account, audience socksnap),
// asks them all through the API server's pods/proxy subresource, names pod and service
// addresses, and selects and prints the rows as `socksnap` does. `kubectl socksnap summary`
// asks them for their rows counted in groups instead (GET /v1/summary), and adds them up.
#pragma once

namespace socksnap {

int run_plugin(int argc, const char* const* argv);

}  // namespace socksnap
