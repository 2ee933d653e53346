// The libraries socksnap loads only when a run needs them, so that the programs themselves never
// link what most runs do not use: socksnap-cri.so (gRPC, for pod labels) and socksnap-picture.so
// (Graphviz, for `graph -o svg` and `-o html`). Each is looked for next to the executable (the
// build tree, a flat install such as the agent's image), then where `cmake --install` puts it
// relative to the executable (SOCKSNAP_PLUGIN_RELDIR: lib/socksnap beside bin/), so that an
// installed tree works wherever its prefix is; an environment variable naming a file overrides
// both.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace socksnap {

struct PluginSpec {
  std::string_view file;  // "socksnap-cri.so"
  const char* env;        // "SOCKSNAP_CRI_PLUGIN": when set and not empty, the only path tried
  std::string_view what;  // "the CRI plugin", for messages
  const char* symbol;     // the entry point looked up
};

struct LoadedPlugin {
  void* entry = nullptr;  // the symbol's address
  std::string path;       // the file it was loaded from
};

// Loads the library (RTLD_NOW | RTLD_LOCAL, never unloaded) and looks up its entry point. Fails
// with one line naming every path tried, dlopen's own message, or the missing symbol. Callers
// load once per process.
Result<LoadedPlugin> load_plugin(const PluginSpec& spec);

}  // namespace socksnap
