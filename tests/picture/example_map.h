// A small service map written by hand: a shop's frontend, its cart and its cache behind their
// services, cluster DNS, and the world calling in. The picture in README (docs/service-map.svg,
// written by write_example_picture) and the page the Chromium test loads are drawn from it.
// Its names are plain ASCII words, so that the test can read them back from a screenshot.
#pragma once

#include "analyze/service_map.h"

namespace socksnap::test {

ServiceMap example_service_map();

}  // namespace socksnap::test
