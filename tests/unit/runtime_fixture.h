// The files container runtimes leave on a node, recorded under tests/data/runtime, and the ids
// they hold: for the tests of the runtimes' readers.
#pragma once

#include <string>
#include <string_view>

#include "test_support.h"

namespace socksnap::test {

// tests/data/runtime/NAME, as text.
inline std::string runtime_sample(std::string_view name) {
  auto bytes = read_bytes(data_path("runtime/" + std::string(name)));
  return {bytes.begin(), bytes.end()};
}

// The pod of the samples, its sandbox (containerd's pause container) and a CRI-O sandbox.
inline const std::string kPodUid = "5d3b4a8e-7c1f-4e2a-9b6d-0f1e2d3c4b5a";
inline const std::string kSandboxId =
    "7f3a9c2e5b8d1f4a6c0e9b2d5f8a1c4e7b0d3f6a9c2e5b8d1f4a7c0e3b6d9f2a";
inline const std::string kCrioSandboxId =
    "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809";

}  // namespace socksnap::test
