// How long reading one runtime config.json takes: socksnap's parse_oci_config against building a
// DOM with nlohmann::json (the obvious alternative), on the real-shaped 29 KB containerd
// config.json in tests/data/runtime. socksnap may read ~300 of these per run.
//
//   c++ -O2 -std=c++20 -I src bench/parse_oci_config.cpp \
//     build/src/libsocksnap_enrich.a build/src/libsocksnap_discover.a \
//     build/src/libsocksnap_model.a build/src/libsocksnap_util.a -lfmt -o /tmp/parse_oci_config
//   /tmp/parse_oci_config tests/data/runtime/containerd-container.config.json
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "enrich/container_metadata.h"

namespace {

template <typename F>
double microseconds_per_call(F&& f, int rounds) {
  for (int i = 0; i < rounds / 10; ++i) f();  // warm up
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) f();
  std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
  return took.count() / rounds;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CONFIG_JSON\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  constexpr int kRounds = 20000;
  size_t sink = 0;
  double ours = microseconds_per_call(
      [&] {
        auto meta = socksnap::parse_oci_config(text, socksnap::RuntimeKind::kContainerd);
        sink += meta ? meta->name.size() : 0;
      },
      kRounds);
  double dom = microseconds_per_call(
      [&] {
        auto doc = nlohmann::json::parse(text);
        sink += doc["annotations"].size();
      },
      kRounds / 10);
  double sax =
      microseconds_per_call([&] { sink += nlohmann::json::accept(text) ? 1 : 0; }, kRounds / 10);
  std::printf(
      "%zu bytes: parse_oci_config %.1f us, nlohmann::json::parse %.1f us, "
      "nlohmann::json::accept (no DOM) %.1f us  [%zu]\n",
      text.size(), ours, dom, sax, sink);
  return 0;
}
