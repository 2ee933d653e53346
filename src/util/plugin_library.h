// The libraries socksnap loads only when a run needs them, so that the programs themselves never
// link what most runs do not use: socksnap-cri.so (gRPC, for pod labels) and socksnap-picture.so
// (Graphviz, for `graph -o svg` and `-o html`). Each is looked for next to the executable (the
// build tree, a flat install such as the agent's image), then where `cmake --install` puts it
// relative to the executable (SOCKSNAP_PLUGIN_RELDIR: lib/socksnap beside bin/), so that an
// installed tree works wherever its prefix is; an environment variable naming a file overrides
// both.
#pragma once

#include <mutex>
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
// load once per process: LazyPlugin below.
Result<LoadedPlugin> load_plugin(const PluginSpec& spec);

// A plugin's entry point, of type Fn, loaded on first use and kept for the process; a failure
// to load is kept too, and told to every caller. Thread-safe.
template <typename Fn>
class LazyPlugin {
 public:
  explicit LazyPlugin(PluginSpec spec) : spec_(spec) {}

  Result<Fn> get() {
    std::call_once(once_, [this] {
      auto loaded = load_plugin(spec_);
      if (!loaded) {
        why_ = loaded.error().message();
        return;
      }
      fn_ = reinterpret_cast<Fn>(loaded->entry);
      path_ = loaded->path;
    });
    if (fn_ == nullptr) return plain_error(why_);
    return fn_;
  }
  // Where it was loaded from; "" before get() or when it could not be loaded.
  const std::string& path() const { return path_; }

 private:
  PluginSpec spec_;
  std::once_flag once_;
  Fn fn_ = nullptr;
  std::string why_;
  std::string path_;
};

}  // namespace socksnap
