// How a run of a program ends when it does not succeed, the one convention of every front-end
// (socksnap, socksnap-agent, kubectl socksnap): bad usage exits 2, a failure 1, and a partial
// result (some nodes or namespaces could not be read) 1 with what failed named. The core returns
// these as values; each front-end prints the message once, as "PROGRAM: message", and exits.
#pragma once

#include <string>

namespace socksnap {

enum class ExitStatus : int { kSuccess = 0, kFailure = 1, kUsage = 2 };

struct RunError {
  ExitStatus status = ExitStatus::kFailure;
  std::string message;
};

inline RunError usage_error(std::string message) {
  return {ExitStatus::kUsage, std::move(message)};
}
inline RunError run_failure(std::string message) {
  return {ExitStatus::kFailure, std::move(message)};
}

// A partial result: what could be read was printed and what failed was named where it failed
// (node by node, namespace by namespace); nothing more is said, and the exit status is 1.
inline RunError partial_failure() {
  return {ExitStatus::kFailure, {}};
}

inline int exit_code(ExitStatus status) {
  return static_cast<int>(status);
}

}  // namespace socksnap
