#include "wire/envelope.h"

#include "render/structured_writer.h"

namespace socksnap {

void write_envelope_head(fmt::memory_buffer& b, std::string_view kind, std::string_view node,
                         const std::vector<std::string>& warnings) {
  b.append(std::string_view(R"({"apiVersion":)"));
  append_json_string(b, kWireApiVersion);
  b.append(std::string_view(R"(,"kind":)"));
  append_json_string(b, kind);
  b.append(std::string_view(R"(,"node":)"));
  append_json_string(b, node, JsonStrings::kLosslessBytes);
  b.append(std::string_view(R"(,"warnings":[)"));
  for (size_t i = 0; i < warnings.size(); ++i) {
    if (i != 0) b.push_back(',');
    append_json_string(b, warnings[i], JsonStrings::kLosslessBytes);
  }
  b.push_back(']');
}

bool EnvelopeReader::shared(size_t member) {
  switch (member) {
    case 0: {
      std::string version;
      if (!read_string(version, "apiVersion")) return false;
      api_version_seen_ = true;
      if (version != kWireApiVersion) return fail(wire_version_mismatch(version));
      return true;
    }
    case 1: {
      std::string kind;
      if (!read_string(kind, "kind")) return false;
      if (kind != kind_) {
        return fail(RowReader::field_error(
            "kind", fmt::format("{} is not {}", RowReader::quoted(kind), kind_)));
      }
      return true;
    }
    case 2:
      return read_string(node_, "node");
    default:
      if (r_.peek() != JsonReader::Type::kArray) {
        return wrong_type(JsonReader::Type::kArray, "warnings");
      }
      for (auto items = r_.array(); items.next();) {
        std::string path = fmt::format("warnings[{}]", warnings_.size());
        if (!read_string(warnings_.emplace_back(), path)) return false;
      }
      return !r_.failed();
  }
}

}  // namespace socksnap
