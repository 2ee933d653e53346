// One description of a socket row's fields (render/row_fields.cpp): for each field its key, the
// object or list it nests in, its kind, whether every row has it, how it is written from a
// snapshot's row and how it is read back into a row being built. The JSON and YAML renderers
// write rows with it (`-o json`, `jsonpretty`, `yaml`, and the agent's wire, which is `-o json` in
// an envelope: wire/wire.h), and the wire's reader reads them back with it, so that a field is
// added, renamed or removed in one place and every side follows.
//
// Reading is strict: a key the description does not know, a value of another type, a number out
// of its field's range, a required field left out, or a value that contradicts another (a pid
// that is not the first process's, an IPv6 address in an IPv4 row) is an error naming the field's
// path (`"tcpInfo.cwnd": expected a number, found "ten"`, `unknown field "k8s.podNmae"`).
//
// Versions. The fields are those of the wire's apiVersion (socksnap.io/v1) at revision
// kRowFieldsRevision. A client that reads a later revision says so when it asks an agent
// (GET /v1/snapshot?revision=N; left out, it means 1), and an agent writes the fields of the
// revision asked for, or of its own when that is older, so that a field added later reaches
// only the clients that read it, and an older client is never sent a field it would refuse. A
// field added later is therefore optional (agents of older revisions do not write it), and
// carries the revision it came in. A field that changes meaning or is removed needs a new
// apiVersion.
//
// Revision 2 added "direction" (listen, inbound, outbound, local), written when the run worked
// it out (Snapshot::directions). Revision 3 added "translatedDst" ({"addr","version","port"}:
// where the node sent a connection whose destination it translated, such as a service's cluster
// IP to a backend pod), written for the sockets a run that read the conntrack tables found
// translated (Snapshot::translations). Revision 4 added the snapshot envelope's "nodeNetns" (the
// inode of the node's own network namespace, wire/wire.h), written when the agent knows it: what
// tells the plugin which sockets of no pod are the node's own (the audit's exposed listeners).
// Revision 5 added unix sockets: rows of protocol "UNIX", whose endpoints are {"path"} (the
// socket's name in "src", its peer's in "dst") where an IP socket's have "addr", "version",
// "kind" and "port", and which have "type" and "peerInode", and "peerPid" and "peerComm" when the
// peer's process is known. An agent writes unix rows only for a client of revision 5 or later
// (and reads unix sockets only for one: wire/snapshot_query.h), so that an older client, whose
// reader refuses the protocol "UNIX", is never sent one.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "model/labels.h"
#include "model/snapshot.h"
#include "render/structured_writer.h"
#include "util/json_reader.h"

namespace socksnap {

inline constexpr unsigned kRowFieldsRevision = 5;

// Writes row `row` of `snap` as an item of a structured document, with the fields of revisions
// up to `revision`. `scratch`: the caller's, so that formatting addresses allocates nothing per
// row.
void write_row(const Snapshot& snap, size_t row, StructuredWriter& w, fmt::memory_buffer& scratch,
               unsigned revision = kRowFieldsRevision);

// One field of the description, for tests and documentation: its path ("tcpInfo.cwnd",
// "processes[].pid", "k8s.podLabels" for a map of strings), its JSON type, and whether every
// row that has its object has it.
struct RowFieldInfo {
  std::string path;
  std::string_view type;  // "string", "integer", "number", "boolean", "object", "array", "labels"
  bool required = false;
  uint64_t max = 0;       // for integers: the largest value read
  unsigned revision = 1;  // the revision the field came in
  // Required in an IP socket's row only: a unix socket's has it not (an endpoint's "addr").
  bool inet_only = false;
};
std::vector<RowFieldInfo> row_field_list();

// A row as the wire carries it, before the reader (wire/wire.cpp) shares its owners with the
// rows read before it.
struct EndpointDraft {
  enum class Kind : uint8_t { kRaw, kPod, kService };
  std::optional<std::string> addr;
  std::array<uint8_t, 16> bytes{};  // `addr`, parsed
  uint8_t version = 0;              // 0: not given
  uint16_t port = 0;
  bool has_port = false;
  Kind kind = Kind::kRaw;
  bool has_kind = false;
  std::optional<std::string> path;  // a unix socket's endpoint, as the kernel has it
  std::optional<std::string> name_namespace;
  std::optional<std::string> podname;
  std::optional<std::string> name;
  Labels labels;
};

struct ContainerDraft {
  bool present = false;  // "runtime" was not empty
  ContainerInfo container;
};

struct K8sDraft {
  std::string node;
  bool has_pod = false;  // one of the pod's fields was there
  PodInfo pod;
  std::optional<std::string> container_name;  // the container's name when it is the pod's
};

struct TranslationDraft {
  std::string addr;
  uint8_t version = 0;
  uint16_t port = 0;
  TranslatedDestination destination;  // valid once the object is read and checked
};

struct HolderDraft {
  ProcessInfo process;
  int32_t fd = 0;
};

// The objects every row of a container ("runtime") or of a pod's container ("k8s") repeats word
// for word: the reader reads each distinct text once and knows it by its text after that.
enum class Repeated : uint8_t { kRuntime, kK8s };
inline constexpr size_t kRepeatedKinds = 2;

struct RepeatedObject {
  uint32_t slot = 0;   // the same for the same text, counted from 0 in order of appearance
  bool fresh = false;  // first seen in this row: its draft is filled
};

// Which of a unix socket's own fields a row had.
struct UnixFieldsSeen {
  bool type = false;
  bool peer_inode = false;
  bool peer_pid = false;
  bool peer_comm = false;
};

struct RowDraft {
  SocketRecord socket;         // with the endpoints' addresses and ports, protocol and state
  UnixSocketInfo unix_socket;  // a unix socket's (its row and its peer are the reader's to set)
  UnixPeer unix_peer;          // its peer, as the row describes it
  UnixFieldsSeen unix_fields;
  ContainerDraft runtime;
  K8sDraft k8s;
  std::array<RepeatedObject, kRepeatedKinds> repeated;
  EndpointDraft src;
  EndpointDraft dst;
  std::string status;
  Direction direction = Direction::kUnknown;
  std::optional<int32_t> pid;  // they repeat the first of `holders`
  std::optional<std::string> comm;
  std::vector<HolderDraft> holders;
  std::string interface;
  TcpInfo tcp;                  // valid when the row had "tcpInfo"
  TranslationDraft translated;  // its destination valid when the row had "translatedDst"
};

// Reads rows from a JSON array of them, each into a RowDraft.
class RowReader {
 public:
  // `text`: the whole document `r` reads, which repeated objects are known by.
  RowReader(JsonReader& r, std::string_view text) : r_(r), text_(text) {}

  // Reads the row at the reader into `draft` (a fresh one). False when it is not one: error()
  // then names the field and what is wrong with it, or is empty when the JSON text itself is
  // malformed (the JsonReader has failed).
  bool read(RowDraft& draft);
  const std::string& error() const { return error_; }

  // For the checks of the reader's caller, worded as read() words its own:
  // "PATH": MESSAGE, and "expected an array, found 5" for a value of another type than `wanted`.
  static std::string field_error(std::string_view path, std::string_view message);
  static std::string wrong_type(JsonReader::Type wanted, const JsonReader& at,
                                std::string_view text);
  // A string as messages show it: as JSON writes it (quoted, every byte visible), cut short
  // when long.
  static std::string quoted(std::string_view value);

 private:
  struct Path;
  template <const auto& Members, typename Draft>
  bool read_members(Draft& draft, const Path* path, bool empty_is_none, bool& empty);
  template <const auto& Members, typename Draft, size_t... I>
  bool dispatch(size_t i, Draft& draft, const Path& path, std::index_sequence<I...> all);
  template <typename Field, typename Draft>
  bool read_field(const Field& field, Draft& draft, const Path& path);
  // `raw`: the number's text.
  template <typename Int>
  bool read_integer(Int& out, const Path& path, std::string_view& raw);
  bool read_number(double& out, const Path& path, std::string_view& raw);
  bool read_labels(std::vector<std::pair<std::string, std::string>>& labels, const Path& path);
  bool repeated(Repeated kind, RowDraft& draft);
  // The value at the reader is `type`; else false, with a message when it is another value.
  bool expect(JsonReader::Type type, const Path& path) {
    JsonReader::Type at = r_.peek();
    return at == type || mismatch(type, at, path);
  }
  bool mismatch(JsonReader::Type wanted, JsonReader::Type at, const Path& path);
  bool fail(const Path& path, std::string_view message);
  // `what` field "PATH": "unknown", "duplicate", "missing".
  bool fail(const Path* parent, std::string_view key, std::string_view what);

  JsonReader& r_;
  std::string_view text_;
  std::string error_;
  std::string buffer_;  // a string value being converted
  std::array<std::unordered_map<std::string_view, uint32_t>, kRepeatedKinds> seen_;
};

}  // namespace socksnap
