#include "kubeconfig/impersonation.h"

#include <cstring>

#include <fmt/format.h>

namespace socksnap {
namespace {

// RFC 7230's tchar, which Go's net/http takes for a header name.
bool is_token_byte(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

}  // namespace

Impersonation override_impersonation(Impersonation base, const Impersonation& flags) {
  if (!flags.user.empty()) base.user = flags.user;
  if (!flags.uid.empty()) base.uid = flags.uid;
  if (!flags.groups.empty()) base.groups = flags.groups;
  for (const auto& [key, values] : flags.extra) base.extra[key] = values;
  return base;
}

std::string header_key_escape(std::string_view key) {
  std::string out;
  for (char ch : key) {
    auto c = static_cast<unsigned char>(ch);
    if (is_token_byte(c) && c != '%') {
      out += ch;
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> impersonation_headers(const Impersonation& who) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (who.empty()) return headers;
  headers.emplace_back("Impersonate-User", who.user);
  if (!who.uid.empty()) headers.emplace_back("Impersonate-Uid", who.uid);
  for (const auto& group : who.groups) headers.emplace_back("Impersonate-Group", group);
  for (const auto& [key, values] : who.extra) {
    std::string name = "Impersonate-Extra-" + header_key_escape(key);
    for (const auto& value : values) headers.emplace_back(name, value);
  }
  return headers;
}

}  // namespace socksnap
