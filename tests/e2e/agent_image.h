// The agent's image, made from this build the way deploy/Containerfile makes it from a build of
// its own, for a node with no registry: the programs its build stage installs, in the folder its
// final stage copies them to, with its Entrypoint, Cmd and User; and every shared library they
// load, where the dynamic loader finds them (ldd), the loader itself included (the Containerfile
// gets them from Debian's packages). Debug information is left out, as the Containerfile's
// Release build has none.
#pragma once

#include <string>
#include <vector>

namespace socksnap::test {

// What deploy/Containerfile puts in the image. Parsed from its text; anything it cannot read
// (no install into the folder the final stage copies, no ENTRYPOINT) throws std::runtime_error.
struct ContainerfileLayout {
  std::vector<std::string> programs;  // file names the build stage installs ("socksnap", ...)
  std::string bin_dir;                // where the final stage copies them ("/usr/local/bin/")
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string user;
};
ContainerfileLayout read_containerfile(const std::string& text);

// The shared libraries `program` loads, as absolute paths (ldd's "=>" targets and the loader).
// Throws when one is not found.
std::vector<std::string> loaded_libraries(const std::string& program);

// An OCI image archive (tests/e2e/nodesim/oci_image.h) named `image_name`: the programs taken
// from `build_dir` (where this build made them), their libraries, /etc/passwd and /etc/group
// for root, /tmp, and /var/run a link to /run as in Debian's base image. `scratch_dir` holds the
// programs without their debug information while the archive is made.
std::string agent_image_archive(const ContainerfileLayout& layout, const std::string& image_name,
                                const std::string& build_dir, const std::string& scratch_dir);

}  // namespace socksnap::test
