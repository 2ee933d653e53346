// Acting as another user, as kubectl does for a kubeconfig user's `as`, `as-uid`, `as-groups`
// and `as-user-extra` and its flags --as, --as-uid and --as-group: the Impersonate-* headers
// client-go's ImpersonatingRoundTripper adds to every request. The API server checks that the
// authenticated user may `impersonate` each of them, then runs the request as that user.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace socksnap {

struct Impersonation {
  std::string user;                                       // Impersonate-User
  std::string uid;                                        // Impersonate-Uid
  std::vector<std::string> groups;                        // one Impersonate-Group each, in order
  std::map<std::string, std::vector<std::string>> extra;  // Impersonate-Extra-KEY: one per value

  bool empty() const { return user.empty() && uid.empty() && groups.empty() && extra.empty(); }
  // What client-go refuses to send: a uid, groups or extras without a user to act as.
  bool lacks_user() const { return user.empty() && !empty(); }
};

// kubectl's flags over a kubeconfig user's fields, as clientcmd merges its overrides: a flag
// given replaces its field (--as-group replaces all of as-groups); extras have no flag.
Impersonation override_impersonation(Impersonation base, const Impersonation& flags);

// Pure. The headers, in client-go's order: Impersonate-User, Impersonate-Uid (when set), one
// Impersonate-Group per group, one Impersonate-Extra-KEY per value (keys in sorted order: Go's
// map order is random). None when nothing is impersonated.
std::vector<std::pair<std::string, std::string>> impersonation_headers(const Impersonation& who);

// client-go's headerKeyEscape: an extra key in a header name, every byte that may not be in an
// HTTP token, and '%', as %XX (upper-case hex). The API server lower-cases the name and
// percent-decodes it.
std::string header_key_escape(std::string_view key);

}  // namespace socksnap
