// Writes the example service map (example_map.h) as SVG or as the HTML page, for README's
// picture: `ninja -C build service_map_svg` rewrites docs/service-map.svg with it.
//   write_example_picture svg|html FILE
#include <cstdio>
#include <string>
#include <string_view>

#include "example_map.h"
#include "picture/graph_picture.h"

int main(int argc, char** argv) {
  if (argc != 3 || (std::string_view(argv[1]) != "svg" && std::string_view(argv[1]) != "html")) {
    std::fprintf(stderr, "usage: write_example_picture svg|html FILE\n");
    return 2;
  }
  socksnap::ServiceMap map = socksnap::test::example_service_map();
  socksnap::Result<std::string> picture =
      std::string_view(argv[1]) == "svg"
          ? socksnap::graph_svg(map)
          : socksnap::graph_html(map, {"socksnap graph", "2025-06-01 12:00:00 UTC",
                                       "the example map of tests/picture"});
  if (!picture) {
    std::fprintf(stderr, "write_example_picture: %s\n", picture.error().message().c_str());
    return 1;
  }
  std::FILE* out = std::fopen(argv[2], "w");
  if (out == nullptr) {
    std::perror(argv[2]);
    return 1;
  }
  bool written = std::fwrite(picture->data(), 1, picture->size(), out) == picture->size();
  if (std::fclose(out) != 0 || !written) {
    std::perror(argv[2]);
    return 1;
  }
  return 0;
}
