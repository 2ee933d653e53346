#include "util/warnings.h"

#include <fmt/format.h>

namespace socksnap {

void Warnings::add(const std::string& key, std::string message) {
  std::lock_guard lock(mutex_);
  for (auto& e : entries_) {
    if (e.key == key) {
      ++e.count;
      return;
    }
  }
  entries_.push_back(Entry{key, std::move(message), 1});
}

void Warnings::add(std::string message) {
  std::string key = message;
  add(key, std::move(message));
}

void Warnings::absorb(const Warnings& other) {
  std::vector<Entry> theirs;
  {
    std::lock_guard lock(other.mutex_);
    theirs = other.entries_;
  }
  for (const auto& e : theirs) {
    for (size_t i = 0; i < e.count; ++i) add(e.key, e.message);
  }
}

std::vector<std::string> Warnings::lines() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) {
    out.push_back(e.count > 1 ? fmt::format("{} ({} times)", e.message, e.count) : e.message);
  }
  return out;
}

bool Warnings::empty() const {
  std::lock_guard lock(mutex_);
  return entries_.empty();
}

}  // namespace socksnap
