// A deleter for std::unique_ptr that calls a C library's free function:
// std::unique_ptr<X509, FreeWith<X509_free>>.
#pragma once

namespace socksnap {

template <auto free_fn>
struct FreeWith {
  template <typename T>
  void operator()(T* object) const {
    free_fn(object);
  }
};

}  // namespace socksnap
