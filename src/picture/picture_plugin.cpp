// socksnap-picture.so: the service map drawn by Graphviz (graph_picture.h), loaded by socksnap and
// kubectl-socksnap only for `graph -o svg` and `-o html` (graph_output.h), so that neither
// program links Graphviz and its fonts and image libraries for the runs that never draw.

#include "picture/graph_picture.h"

// The plugin's one entry point, looked up by name. Both sides are built together, so C++ types
// cross it safely.
extern "C" __attribute__((visibility("default"))) bool socksnap_picture_draw(
    const socksnap::ServiceMap& map, bool html, const socksnap::HtmlPageInfo& page,
    std::string& drawn, socksnap::Error& error) {
  auto result = html ? socksnap::graph_html(map, page) : socksnap::graph_svg(map);
  if (!result) {
    error = result.error();
    return false;
  }
  drawn = std::move(result.value());
  return true;
}
