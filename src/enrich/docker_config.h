// Docker's per-container files under <docker-root>/containers/<id>/. parse_docker_config
// (container_metadata.h) reads config.v2.json; Docker keeps the host config apart, in
// hostconfig.json, which is where "NetworkMode": "host" is.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace socksnap {

// hostconfig.json's NetworkMode: "host", "container:<id>" (another container's namespace, as
// every container of a dockershim pod has its sandbox's), "bridge", "default", a network's
// name, or empty.
Result<std::string> parse_docker_network_mode(std::string_view hostconfig_json);

}  // namespace socksnap
