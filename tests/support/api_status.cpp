#include "support/api_status.h"

#include <iterator>
#include <string_view>

#include <fmt/format.h>

#include "render/structured_writer.h"

namespace socksnap::test {

std::string status_body(const ApiStatus& status) {
  fmt::memory_buffer b;
  b.append(std::string_view(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":)"));
  append_json_string(b, status.status.empty() ? "Failure" : status.status);
  b.append(std::string_view(R"(,"message":)"));
  append_json_string(b, status.message);
  b.append(std::string_view(R"(,"reason":)"));
  append_json_string(b, status.reason);
  fmt::format_to(std::back_inserter(b), R"(,"code":{}}})", status.code);
  return fmt::to_string(b);
}

}  // namespace socksnap::test
