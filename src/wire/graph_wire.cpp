#include "wire/graph_wire.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <iterator>
#include <limits>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "render/row_fields.h"
#include "render/structured_writer.h"
#include "util/json_reader.h"
#include "wire/envelope.h"
#include "wire/wire.h"

namespace socksnap {
namespace {

constexpr JsonStrings kBytes = JsonStrings::kLosslessBytes;

void append_key(fmt::memory_buffer& b, std::string_view key, bool& first) {
  if (!first) b.push_back(',');
  first = false;
  b.push_back('"');
  b.append(key);
  b.append(std::string_view("\":"));
}

void append_text(fmt::memory_buffer& b, std::string_view key, std::string_view value, bool& first) {
  if (value.empty()) return;
  append_key(b, key, first);
  append_json_string(b, value, kBytes);
}

void append_number(fmt::memory_buffer& b, std::string_view key, uint64_t value, bool& first) {
  append_key(b, key, first);
  fmt::format_to(std::back_inserter(b), "{}", value);
}

std::string endpoint_text(const GraphAddress& a, uint16_t port) {
  return a.v4 ? fmt::format("{}:{}", address_text(a), port)
              : fmt::format("[{}]:{}", address_text(a), port);
}

// Reads an answer strictly: every member known, of its type and range, required ones present.
class GraphReader : EnvelopeReader {
 public:
  explicit GraphReader(std::string_view text) : EnvelopeReader(text, "GraphEnds") {}

  Result<GraphReply> read() {
    static constexpr std::array<std::string_view, 3> kOwn = {"nodeAddresses", "owners", "ends"};
    auto done = read_envelope(
        kOwn, [&](size_t i, std::string_view key) { return own_member(i, key); },
        [&] { return check_owners(); });
    if (!done) return done.error();
    reply_.node = std::move(node_);
    reply_.warnings = std::move(warnings_);
    for (auto& owner : reply_.ends.owners) owner.node = reply_.node;
    for (auto& [node, address] : reply_.ends.node_addresses) node = reply_.node;
    return std::move(reply_);
  }

 private:
  // `where`: "" for the envelope, "owner 2: ", "end 3: ".
  bool field_fail(std::string_view where, std::string_view key, std::string_view message) {
    if (key.empty()) return fail(fmt::format("{}{}", where, message));
    return fail(fmt::format("{}{}", where, RowReader::field_error(key, message)));
  }
  bool expect(JsonReader::Type type, std::string_view where, std::string_view key) {
    JsonReader::Type at = r_.peek();
    if (at == type) return true;
    if (at == JsonReader::Type::kInvalid) return r_.skip();  // not JSON: the reader fails
    return field_fail(where, key, RowReader::wrong_type(type, r_, text_));
  }
  bool string(std::string& out, std::string_view where, std::string_view key) {
    return expect(JsonReader::Type::kString, where, key) && r_.read_string(out);
  }
  bool boolean(bool& out, std::string_view where, std::string_view key) {
    return expect(JsonReader::Type::kBool, where, key) && r_.read_bool(out);
  }
  bool number(uint64_t& out, uint64_t max, std::string_view where, std::string_view key) {
    if (!expect(JsonReader::Type::kNumber, where, key)) return false;
    std::string_view raw;
    if (!r_.read_number_text(raw)) return false;
    auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), out);
    if (ec != std::errc() || ptr != raw.data() + raw.size() || out > max) {
      return field_fail(where, key, fmt::format("{} is out of range (0 to {})", raw, max));
    }
    return true;
  }
  bool address(GraphAddress& out, std::string_view where, std::string_view key) {
    std::string text;
    if (!string(text, where, key)) return false;
    auto parsed = parse_graph_address(text);
    if (!parsed) {
      return field_fail(where, key, RowReader::quoted(text) + " is not an IP address");
    }
    out = *parsed;
    return true;
  }
  bool endpoint(GraphAddress& addr, uint16_t& port, std::string_view where, std::string_view key) {
    std::string text;
    if (!string(text, where, key)) return false;
    size_t colon = text.rfind(':');
    std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    auto parsed = parse_graph_address(host);
    uint64_t number = 0;
    std::string_view digits =
        colon == std::string::npos ? std::string_view() : std::string_view(text).substr(colon + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
    if (!parsed || digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() ||
        number > 65535) {
      return field_fail(where, key, RowReader::quoted(text) + " is not ADDRESS:PORT");
    }
    addr = *parsed;
    port = static_cast<uint16_t>(number);
    return true;
  }

  bool require(std::string_view where, std::string_view key, bool seen) {
    return seen || fail(fmt::format("{}missing field {}", where, RowReader::quoted(key)));
  }

  bool own_member(size_t i, std::string_view key) {
    switch (i) {
      case 0:
        return list(key, [&](size_t n) {
          GraphAddress a;
          if (!address(a, "", fmt::format("nodeAddresses[{}]", n))) return false;
          reply_.ends.node_addresses.emplace_back(std::string(), a);
          return true;
        });
      case 1:
        return list(key, [&](size_t) { return owner(); });
      default:
        return list(key, [&](size_t) { return end(); });
    }
  }

  // Every end's owner is one of the owners (which may come after the ends).
  bool check_owners() {
    for (size_t i = 0; i < reply_.ends.ends.size(); ++i) {
      if (reply_.ends.ends[i].owner >= reply_.ends.owners.size()) {
        return fail(fmt::format(
            "end {}: {}", object_of_end_[i],
            RowReader::field_error(
                "owner", fmt::format("{} is past the {} owners", reply_.ends.ends[i].owner,
                                     reply_.ends.owners.size()))));
      }
    }
    return true;
  }

  template <typename Item>
  bool list(std::string_view key, Item item) {
    if (!expect(JsonReader::Type::kArray, "", key)) return false;
    size_t n = 0;
    for (auto items = r_.array(); items.next();) {
      if (!item(n++)) return false;
    }
    return !r_.failed();
  }

  bool owner() {
    std::string where = fmt::format("owner {}: ", reply_.ends.owners.size() + 1);
    if (!expect(JsonReader::Type::kObject, where, "")) return false;
    GraphOwner& o = reply_.ends.owners.emplace_back();
    static constexpr std::array<std::string_view, 8> kKeys = {"podNamespace", "podName",   "podUid",
                                                              "hostNetwork",  "container", "comm",
                                                              "netns",        "netnsName"};
    std::array<bool, 8> seen{};
    bool ok = members(kKeys, seen, where, [&](size_t i, std::string_view key) {
      switch (i) {
        case 0:
          return string(o.pod_namespace, where, key);
        case 1:
          return string(o.pod_name, where, key);
        case 2:
          return string(o.pod_uid, where, key);
        case 3:
          return boolean(o.host_network, where, key);
        case 4:
          return string(o.container, where, key);
        case 5:
          return string(o.comm, where, key);
        case 6:
          return number(o.netns, std::numeric_limits<uint64_t>::max(), where, key);
        default:
          return string(o.netns_name, where, key);
      }
    });
    return ok && require(where, "netns", seen[6]);
  }

  // One end object: a listener, or the ends of one group of connections (its "remotes").
  bool end() {
    std::string where = fmt::format("end {}: ", ++end_objects_);
    if (!expect(JsonReader::Type::kObject, where, "")) return false;
    GraphEnd e;
    e.count = 0;
    std::vector<GraphEnd> remotes;
    static constexpr std::array<std::string_view, 9> kKeys = {"owner",      "protocol", "role",
                                                              "local",      "port",     "sameNetns",
                                                              "clientPort", "count",    "remotes"};
    std::array<bool, 9> seen{};
    bool ok = members(kKeys, seen, where, [&](size_t i, std::string_view key) {
      uint64_t n = 0;
      switch (i) {
        case 0:
          if (!number(n, std::numeric_limits<uint32_t>::max(), where, key)) return false;
          e.owner = static_cast<uint32_t>(n);
          return true;
        case 1: {
          std::string name;
          if (!string(name, where, key)) return false;
          auto protocol = protocol_named(name);
          if (!protocol) {
            return field_fail(where, key,
                              RowReader::quoted(name) + " is not TCP, UDP, UDPLITE or UNIX");
          }
          e.protocol = *protocol;
          return true;
        }
        case 2: {
          std::string name;
          if (!string(name, where, key)) return false;
          auto role = end_role_named(name);
          if (!role) {
            return field_fail(where, key,
                              RowReader::quoted(name) + " is not listen, client or server");
          }
          e.role = *role;
          return true;
        }
        case 3:
          return address(e.local, where, key);
        case 4:
          if (!number(n, 65535, where, key)) return false;
          e.port = static_cast<uint16_t>(n);
          return true;
        case 5:
          return boolean(e.same_netns, where, key);
        case 6:
          if (!number(n, 65535, where, key)) return false;
          e.client_port = static_cast<uint16_t>(n);
          return true;
        case 7:
          return count(e.count, where, key);
        default:
          if (!expect(JsonReader::Type::kArray, where, key)) return false;
          for (auto items = r_.array(); items.next();) {
            size_t at = remotes.size();
            if (!remote(remotes.emplace_back(), where, at)) return false;
          }
          if (r_.failed()) return false;
          return !remotes.empty() || field_fail(where, key, "is empty");
      }
    });
    if (!ok) return false;
    for (size_t i : {0U, 1U, 2U, 3U, 4U}) {
      if (!require(where, kKeys[i], seen[i])) return false;
    }
    if (e.role == EndRole::kListen) {
      if (seen[8]) return fail(fmt::format("{}a listener has no remotes", where));
      if (!require(where, "count", seen[7])) return false;
      reply_.ends.ends.push_back(e);
      object_of_end_.push_back(end_objects_);
      return true;
    }
    if (!require(where, "remotes", seen[8])) return false;
    if (seen[7]) return fail(fmt::format("{}a connection's counts are in its remotes", where));
    for (GraphEnd& r : remotes) {
      GraphEnd whole = e;
      whole.remote = r.remote;
      whole.count = r.count;
      whole.translated = r.translated;
      whole.translated_addr = r.translated_addr;
      whole.translated_port = r.translated_port;
      reply_.ends.ends.push_back(whole);
      object_of_end_.push_back(end_objects_);
    }
    return true;
  }

  bool count(uint64_t& out, std::string_view where, std::string_view key) {
    if (!number(out, std::numeric_limits<uint64_t>::max(), where, key)) return false;
    return out != 0 || field_fail(where, key, "0 is out of range (1 and up)");
  }

  // [REMOTE, COUNT] or [REMOTE, COUNT, "TRANSLATED:PORT"]: far end `n` (from 0) of a group.
  bool remote(GraphEnd& out, const std::string& end_where, size_t n) {
    // Where it is, said only when something is wrong (a node sends one per connection's end).
    auto located = [&](bool ok) {
      if (!ok) prefix_error(fmt::format("{}remotes[{}]: ", end_where, n));
      return ok;
    };
    if (!located(expect(JsonReader::Type::kArray, "", ""))) return false;
    size_t at = 0;
    for (auto items = r_.array(); items.next(); ++at) {
      bool ok = true;
      switch (at) {
        case 0:
          ok = address(out.remote, "", "remote");
          break;
        case 1:
          ok = count(out.count, "", "count");
          break;
        case 2:
          out.translated = true;
          ok = endpoint(out.translated_addr, out.translated_port, "", "translated");
          break;
        default:
          return located(fail("more than 3 items"));
      }
      if (!located(ok)) return false;
    }
    if (r_.failed()) return false;
    return at >= 2 || located(fail("fewer than 2 items (remote, count)"));
  }

  GraphReply reply_;
  size_t end_objects_ = 0;             // end objects read so far
  std::vector<size_t> object_of_end_;  // each end's object, from 1
};

}  // namespace

void write_graph_reply(const std::string& node, const GraphEnds& ends,
                       const std::vector<std::string>& warnings, OutputSink& out) {
  fmt::memory_buffer& b = out.buffer();
  write_envelope_head(b, "GraphEnds", node, warnings);
  b.append(std::string_view(R"(,"nodeAddresses":[)"));
  for (size_t i = 0; i < ends.node_addresses.size(); ++i) {
    if (i != 0) b.push_back(',');
    append_json_string(b, address_text(ends.node_addresses[i].second));
  }
  b.append(std::string_view(R"(],"owners":[)"));
  for (size_t i = 0; i < ends.owners.size(); ++i) {
    const GraphOwner& o = ends.owners[i];
    b.append(std::string_view(i == 0 ? "{" : ",{"));
    bool first = true;
    append_text(b, "podNamespace", o.pod_namespace, first);
    append_text(b, "podName", o.pod_name, first);
    append_text(b, "podUid", o.pod_uid, first);
    if (o.host_network) {
      append_key(b, "hostNetwork", first);
      b.append(std::string_view("true"));
    }
    append_text(b, "container", o.container, first);
    append_text(b, "comm", o.comm, first);
    append_number(b, "netns", o.netns, first);
    append_text(b, "netnsName", o.netns_name, first);
    b.push_back('}');
  }
  b.append(std::string_view(R"(],"ends":[)"));
  // Listeners one by one; a connection's ends grouped by all but their far end, which goes in
  // the group's "remotes" (a node whose clients each go somewhere else, or whose servers each
  // answer another client, sends an address and a count per end, not a whole end).
  std::vector<const GraphEnd*> connections;
  bool first_end = true;
  auto open_end = [&](const GraphEnd& e) {
    b.append(std::string_view(first_end ? "{" : ",{"));
    first_end = false;
    bool first = true;
    append_number(b, "owner", e.owner, first);
    append_text(b, "protocol", protocol_name(e.protocol), first);
    append_text(b, "role", end_role_name(e.role), first);
    append_text(b, "local", address_text(e.local), first);
    append_number(b, "port", e.port, first);
    if (e.same_netns) {
      append_key(b, "sameNetns", first);
      b.append(std::string_view("true"));
    }
    if (e.client_port != 0) append_number(b, "clientPort", e.client_port, first);
  };
  for (const GraphEnd& e : ends.ends) {
    if (!e.counts) continue;  // a host's own naming: never an agent's
    if (e.role != EndRole::kListen) {
      connections.push_back(&e);
      continue;
    }
    open_end(e);
    b.append(std::string_view(R"(,"count":)"));
    fmt::format_to(std::back_inserter(b), "{}", e.count);
    b.push_back('}');
    out.maybe_flush();
  }
  auto group = [](const GraphEnd* e) {
    return std::make_tuple(e->owner, e->protocol, e->role, e->local.v4, e->local.bytes, e->port,
                           e->same_netns, e->client_port);
  };
  std::stable_sort(connections.begin(), connections.end(),
                   [&](const GraphEnd* x, const GraphEnd* y) { return group(x) < group(y); });
  for (size_t i = 0; i < connections.size(); ++i) {
    const GraphEnd& e = *connections[i];
    bool opens = i == 0 || group(connections[i - 1]) != group(&e);
    bool closes = i + 1 == connections.size() || group(connections[i + 1]) != group(&e);
    if (opens) {
      open_end(e);
      b.append(std::string_view(R"(,"remotes":[)"));
    } else {
      b.push_back(',');
    }
    b.push_back('[');
    append_json_string(b, address_text(e.remote));
    fmt::format_to(std::back_inserter(b), ",{}", e.count);
    if (e.translated) {
      b.push_back(',');
      append_json_string(b, endpoint_text(e.translated_addr, e.translated_port));
    }
    b.push_back(']');
    if (closes) b.append(std::string_view("]}"));
    out.maybe_flush();
  }
  b.append(std::string_view("]}\n"));
}

Result<GraphReply> parse_graph_reply(std::string_view text) {
  return GraphReader(text).read();
}

}  // namespace socksnap
