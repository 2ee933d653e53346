// Kubernetes pod labels as runtimes write them down: a JSON object of strings, mixed with the
// bookkeeping labels kubelet and the runtime add to every sandbox.
#pragma once

#include <string_view>

#include "enrich/container_metadata.h"
#include "util/json_reader.h"

namespace socksnap {

// io.kubernetes.* keys: kubelet's own (pod name, namespace, uid, container name) and the
// runtime's (io.kubernetes.docker.type, io.kubernetes.sandbox.id, ...), not the pod's labels.
bool is_runtime_label(std::string_view key);

// Reads an object of strings into `out`, sorted by key, leaving out the keys `drop` names.
// Non-string values are skipped. False when the reader failed.
bool read_labels(JsonReader& reader, Labels& out, bool (*drop)(std::string_view key));

// The value of `key` in sorted labels, empty when absent.
std::string_view label_value(const Labels& labels, std::string_view key);

}  // namespace socksnap
