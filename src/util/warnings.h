// Warnings collected during a snapshot: what was skipped and why. Thread-safe; one line per
// cause, with a count when the same cause struck many times.
#pragma once

#include <mutex>
#include <string>
#include <vector>

namespace socksnap {

class Warnings {
 public:
  // `key` groups repeats of one cause; `message` is what the user reads (first one wins).
  void add(const std::string& key, std::string message);
  void add(std::string message);
  // Adds every warning of `other`, as often as it was given there.
  void absorb(const Warnings& other);

  // Messages in the order their causes first appeared, with " (N times)" for repeats.
  std::vector<std::string> lines() const;
  bool empty() const;

 private:
  struct Entry {
    std::string key;
    std::string message;
    size_t count = 0;
  };
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
};

}  // namespace socksnap
