// containers/storage, the store CRI-O and podman share: <root>/overlay-containers/ holds
// containers.json (and volatile-containers.json), the list of containers with their names and
// the metadata their owner keeps, and a directory per container whose userdata/ holds the OCI
// bundle; conmon writes the container's pid to userdata/pidfile in the run root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace socksnap {

struct StorageContainer {
  std::string id;
  std::string name;   // the first of "names"
  std::string image;  // podman's metadata "image-name" (CRI-O's too), empty when absent
};

// containers.json: a JSON array of containers. Entries that are not objects are skipped.
Result<std::vector<StorageContainer>> parse_storage_containers(std::string_view json);

// conmon's pidfile: a decimal pid, perhaps with a newline.
std::optional<int32_t> parse_pidfile(std::string_view text);

}  // namespace socksnap
