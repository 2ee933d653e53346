// Kubernetes labels, wherever they come from (the API server's objects, the CRI API, a runtime's
// files, an agent's answer): one type and one rule. Sorted by key, each key once; of a key given
// twice the last value is kept, as Go's encoding/json keeps it when it decodes an object into a
// map, which is how kubelet, the API server and the runtimes read labels.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace socksnap {

class JsonReader;

using Labels = std::vector<std::pair<std::string, std::string>>;

// Puts labels given in any order into Labels' order: sorted by key, the last of a duplicate key
// kept.
void sort_labels(Labels& labels);

// The value of `key`, or nullptr.
const std::string* find_label(const Labels& labels, std::string_view key);
// The value of `key`, empty when absent.
std::string_view label_value(const Labels& labels, std::string_view key);

// What a label value that is not a string does: fails the read, as it fails Go's decoding of a
// map[string]string (the API's objects, an agent's answer); or is left out (a runtime's files,
// read for what they can tell).
enum class NonStringLabel : uint8_t { kFail, kSkip };

// Reads the JSON object at the reader into `out` (replacing what it held), in Labels' order.
// False when the reader failed: the next value is not an object, it is malformed, or a value is
// not a string and `non_string` is kFail.
bool read_labels(JsonReader& reader, Labels& out, NonStringLabel non_string);

}  // namespace socksnap
