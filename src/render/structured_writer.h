// Writers for nested data (an array of objects), streamed: nothing of the whole document is
// held in memory, which matters at a few hundred thousand sockets.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "render/output_sink.h"

namespace socksnap {

class StructuredWriter {
 public:
  virtual ~StructuredWriter() = default;
  virtual void begin_document() = 0;  // the top-level array
  virtual void end_document() = 0;
  // For a document written in pieces (on several threads): go on with one that already holds
  // `items` items, written by other writers; nothing is written for the opening.
  virtual void resume_document(size_t items) = 0;
  virtual void begin_item() = 0;  // an object in the array
  virtual void end_item() = 0;
  virtual void begin_object(std::string_view key) = 0;
  virtual void end_object() = 0;
  virtual void begin_list(std::string_view key) = 0;  // a list of objects inside an object
  virtual void end_list() = 0;
  virtual void begin_list_item() = 0;
  virtual void end_list_item() = 0;
  virtual void field(std::string_view key, std::string_view value) = 0;
  virtual void field(std::string_view key, uint64_t value) = 0;
  virtual void field(std::string_view key, double value) = 0;
  virtual void field(std::string_view key, bool value) = 0;
  // Disambiguate string literals from bool.
  void field(std::string_view key, const char* value) { field(key, std::string_view(value)); }
};

// How JSON strings carry bytes that are not UTF-8 (names are whatever their owners made them).
enum class JsonStrings : uint8_t {
  // Each invalid byte becomes U+FFFD, as Go's encoding/json does: the document is valid UTF-8.
  kUnicode,
  // Each invalid byte 0xNN becomes the lone surrogate \udcNN (Python's "surrogateescape"),
  // which JsonReader in byte mode turns back into the byte: the agent's wire, so that the plugin
  // shows exactly what a local run shows. Still valid JSON text (RFC 8259 allows any \uXXXX).
  kLosslessBytes,
};

std::unique_ptr<StructuredWriter> make_json_writer(OutputSink& out, bool pretty,
                                                   JsonStrings strings = JsonStrings::kUnicode);
// `s` as a quoted JSON string: control characters (C0, DEL, C1) and U+2028/U+2029 escaped,
// invalid UTF-8 as `strings` says.
void append_json_string(fmt::memory_buffer& out, std::string_view s,
                        JsonStrings strings = JsonStrings::kUnicode);
std::unique_ptr<StructuredWriter> make_yaml_writer(OutputSink& out);

}  // namespace socksnap
