// What `socksnap graph` and `kubectl socksnap graph` print, in every -o: the text formats
// (render/graph_text.h) or a picture (svg, html) drawn by the picture plugin socksnap-picture.so,
// loaded on first use (util/plugin_library.h; SOCKSNAP_PICTURE_PLUGIN overrides where), so that
// the programs never link Graphviz for the runs that do not draw.
#pragma once

#include <string>

#include "picture/graph_picture.h"
#include "render/graph_text.h"
#include "render/output_sink.h"

namespace socksnap {

// For a picture, loads the picture plugin now, so that a run that cannot draw fails before it
// takes the snapshot or asks the nodes; nothing to do for the text formats.
Result<void> prepare_graph_output(GraphFormat format);

// Writes the map to `out` (still to be finished by the caller). A picture is drawn whole before
// anything is written: when it cannot be (the plugin is missing, Graphviz fails), nothing is
// written and the error says why in one line. `page` titles the html page.
Result<void> write_graph(const ServiceMap& map, GraphFormat format, bool headers,
                         const HtmlPageInfo& page, OutputSink& out);

// The html page's title and source, taken now: "2026-12-05 22:41:03 UTC".
HtmlPageInfo graph_page(std::string title, std::string source);

// The path of the picture plugin this process loaded ("" if none), for verbose output.
std::string picture_plugin_loaded();

}  // namespace socksnap
