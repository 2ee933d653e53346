#include "enrich/containers_storage.h"

#include "util/json_reader.h"
#include "util/strings.h"

namespace socksnap {
namespace {

// The "metadata" member is a JSON document in a string: podman's RuntimeContainerMetadata
// ({"image-name": ..., "image-id": ..., "name": ..., "created-at": ...}), CRI-O's
// RuntimeContainerMetadata ({"pod-name": ..., "image-name": ..., "name": ..., ...}).
void read_metadata(std::string_view json, StorageContainer& out) {
  JsonReader r(json);
  if (r.peek() != JsonReader::Type::kObject) return;
  std::string name;
  for (auto m = r.object(); m.next();) {
    if (m.key() == "image-name") {
      r.read_string_or_skip(out.image);
    } else if (m.key() == "name") {
      r.read_string_or_skip(name);
    } else {
      r.skip();
    }
  }
  if (out.name.empty()) out.name = std::move(name);
}

void read_container(JsonReader& r, StorageContainer& out) {
  std::string metadata;
  for (auto m = r.object(); m.next();) {
    if (m.key() == "id") {
      r.read_string_or_skip(out.id);
    } else if (m.key() == "names" && r.peek() == JsonReader::Type::kArray) {
      std::string name;
      for (auto e = r.array(); e.next();) {
        r.read_string_or_skip(name);
        if (out.name.empty()) out.name = name;
      }
    } else if (m.key() == "metadata") {
      r.read_string_or_skip(metadata);
    } else {
      r.skip();
    }
  }
  read_metadata(metadata, out);
}

}  // namespace

Result<std::vector<StorageContainer>> parse_storage_containers(std::string_view json) {
  JsonReader r(json);
  if (r.peek() != JsonReader::Type::kArray) {
    return plain_error("containers.json: not a JSON array");
  }
  std::vector<StorageContainer> out;
  for (auto e = r.array(); e.next();) {
    if (r.peek() != JsonReader::Type::kObject) {
      r.skip();
      continue;
    }
    StorageContainer c;
    read_container(r, c);
    if (!c.id.empty()) out.push_back(std::move(c));
  }
  if (!r.finish()) {
    return plain_error("containers.json: malformed JSON at byte " + std::to_string(r.offset()));
  }
  return out;
}

std::optional<int32_t> parse_pidfile(std::string_view text) {
  auto pid = parse_int<int32_t>(trim(text));
  if (!pid || *pid <= 0) return std::nullopt;
  return pid;
}

}  // namespace socksnap
