// Every runtime state parser on arbitrary bytes (OCI config.json, runc state.json, Docker's
// config.v2.json and hostconfig.json, containers/storage's containers.json), and the JSON reader
// under them checked against nlohmann's validator wherever the two agree on what JSON is.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "enrich/container_metadata.h"
#include "enrich/containers_storage.h"
#include "enrich/docker_config.h"
#include "util/json_reader.h"

namespace {

using socksnap::ContainerMetadata;

void check(const ContainerMetadata& meta) {
  if (meta.host_network && !meta.netns_path.empty()) std::abort();
  // Pod labels: sorted, unique, none of the runtime's own.
  for (size_t i = 1; i < meta.pod_labels.size(); ++i) {
    if (!(meta.pod_labels[i - 1].first < meta.pod_labels[i].first)) std::abort();
  }
  for (const auto& label : meta.pod_labels) {
    if (label.first.rfind("io.kubernetes.", 0) == 0) std::abort();
  }
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      auto t = static_cast<unsigned char>(s[i + k]);
      if ((t & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (t & 0x3Fu);
    }
    // Overlong forms, surrogates and code points beyond U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp < 0xE000) || cp > 0x10FFFF) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// Where socksnap's reader and nlohmann differ on purpose: nlohmann checks UTF-8 and surrogate
// escapes (socksnap passes bytes through and replaces a lone surrogate), skips a leading BOM,
// ends the input at a NUL byte, and has no depth limit.
bool comparable(std::string_view text) {
  if (!valid_utf8(text) || text.substr(0, 3) == "\xEF\xBB\xBF") return false;
  if (text.find('\0') != std::string_view::npos) return false;
  if (std::count(text.begin(), text.end(), '[') + std::count(text.begin(), text.end(), '{') > 250) {
    return false;
  }
  for (size_t at = text.find("\\u"); at != std::string_view::npos; at = text.find("\\u", at + 1)) {
    if (at + 3 < text.size() && (text[at + 2] == 'd' || text[at + 2] == 'D')) {
      char c = text[at + 3];
      if ((c >= '8' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
        return false;
      }
    }
  }
  return true;
}

// nlohmann's verdict, and whether it refused only because a number overflows a double, which
// is its limit, not JSON's.
struct NlohmannVerdict : nlohmann::json_sax<nlohmann::json> {
  bool overflow = false;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception& e) override {
    overflow = std::string_view(e.what()).find("number overflow") != std::string_view::npos;
    return false;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using socksnap::RuntimeKind;
  for (auto kind : {RuntimeKind::kUnknown, RuntimeKind::kCrio}) {
    if (auto meta = socksnap::parse_oci_config(text, kind)) check(*meta);
  }
  if (auto meta = socksnap::parse_docker_config(text)) check(*meta);
  if (auto pid = socksnap::parse_runc_state_pid(text); pid && *pid < 0) std::abort();
  (void)socksnap::parse_docker_network_mode(text);
  if (auto list = socksnap::parse_storage_containers(text)) {
    for (const auto& c : *list) {
      if (c.id.empty()) std::abort();
    }
  }
  if (auto pid = socksnap::parse_pidfile(text); pid && *pid <= 0) std::abort();

  socksnap::JsonReader reader(text);
  reader.skip();
  bool ours = reader.finish();
  if (comparable(text)) {
    NlohmannVerdict verdict;
    bool theirs = nlohmann::json::sax_parse(text, &verdict);
    if (ours != theirs && !verdict.overflow) std::abort();
  }
  return 0;
}
