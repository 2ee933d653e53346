// Kubeconfigs parsed from text, for the kubeconfig and impersonation tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

#include "kubeconfig/kubeconfig.h"

namespace socksnap::test {

// `text`, which must parse, as read from a file in `dir` (its relative paths resolved there).
// A failure fails the test and gives an empty configuration.
inline Kubeconfig parse_kubeconfig_ok(std::string_view text, std::string_view dir = "") {
  auto config = parse_kubeconfig(text, dir);
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().message());
  return config.ok() ? std::move(config).value() : Kubeconfig{};
}

// Why `text` does not parse. A success fails the test and gives "".
inline std::string parse_kubeconfig_error(std::string_view text) {
  auto config = parse_kubeconfig(text, "/etc/kube");
  EXPECT_FALSE(config.ok()) << text;
  return config.ok() ? std::string() : config.error().message();
}

}  // namespace socksnap::test
