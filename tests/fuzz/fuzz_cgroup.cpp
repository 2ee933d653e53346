// parse_proc_cgroup on arbitrary text: whatever it finds must be a well-formed identity that
// the text itself holds.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "enrich/cgroup_identity.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto who = socksnap::parse_proc_cgroup(text);
  if (!who) return 0;
  const std::string& id = who->container_id;
  if (id.size() != 64 || text.find(id) == std::string_view::npos) std::abort();
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) std::abort();
  }
  const std::string& uid = who->pod_uid;
  if (!uid.empty() && uid.size() != 32 && uid.size() != 36) std::abort();
  if (uid.find('_') != std::string::npos) std::abort();
  (void)socksnap::runtime_name(who->runtime);
  return 0;
}
