#include "picture/graph_output.h"

#include <chrono>
#include <ctime>

#include "util/plugin_library.h"

namespace socksnap {
namespace {

using DrawFn = bool (*)(const ServiceMap&, bool, const HtmlPageInfo&, std::string&, Error&);

LazyPlugin<DrawFn>& plugin() {
  static LazyPlugin<DrawFn> loaded({"socksnap-picture.so", "SOCKSNAP_PICTURE_PLUGIN",
                                    "the picture plugin", "socksnap_picture_draw"});
  return loaded;
}

bool is_picture(GraphFormat format) {
  return format == GraphFormat::kSvg || format == GraphFormat::kHtml;
}

Result<DrawFn> load_for(GraphFormat format) {
  auto draw = plugin().get();
  if (!draw) {
    return plain_error(fmt::format("-o {}: {}", format == GraphFormat::kSvg ? "svg" : "html",
                                   draw.error().message()));
  }
  return draw;
}

}  // namespace

Result<void> prepare_graph_output(GraphFormat format) {
  if (!is_picture(format)) return {};
  auto draw = load_for(format);
  if (!draw) return draw.error();
  return {};
}

Result<void> write_graph(const ServiceMap& map, GraphFormat format, bool headers,
                         const HtmlPageInfo& page, OutputSink& out) {
  if (!is_picture(format)) {
    render_graph(map, format, headers, out);
    return {};
  }
  auto draw = load_for(format);
  if (!draw) return draw.error();
  std::string drawn;
  Error error;
  if (!(*draw)(map, format == GraphFormat::kHtml, page, drawn, error)) return error;
  out.write_through(drawn);
  return {};
}

HtmlPageInfo graph_page(std::string title, std::string source) {
  time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  tm utc{};
  gmtime_r(&now, &utc);
  return {std::move(title),
          fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", utc.tm_year + 1900, utc.tm_mon + 1,
                      utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec),
          std::move(source)};
}

std::string picture_plugin_loaded() {
  return plugin().path();
}

}  // namespace socksnap
