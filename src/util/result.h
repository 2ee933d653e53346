// A checked result for the syscall paths: a value, or an errno with the context it came from.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace socksnap {

struct Error {
  int code = 0;         // errno, or 0 when the error is not a system error
  std::string context;  // what was being done, e.g. "open /proc/12/ns/net"

  std::string message() const;
};

Error system_error(std::string context, int code = errno);
Error plain_error(std::string message);

// A value, or an error: Error (errno and context) on the syscall paths; another type where the
// caller needs more than a message (snapshot/run_error.h: how the program should exit).
template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T v) : state_(std::move(v)) {}  // NOLINT(google-explicit-constructor)
  Result(E e) : state_(std::move(e)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, E> state_;
};

template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { return error_; }

 private:
  E error_;
  bool ok_ = true;
};

}  // namespace socksnap
