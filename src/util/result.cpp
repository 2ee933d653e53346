#include "util/result.h"

#include <cstring>

namespace socksnap {

std::string Error::message() const {
  if (code == 0) return context;
  return context + ": " + std::strerror(code);
}

Error system_error(std::string context, int code) {
  return Error{code, std::move(context)};
}

Error plain_error(std::string message) {
  return Error{0, std::move(message)};
}

}  // namespace socksnap
