#include "wire/wire.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "model/labels.h"
#include "model/states.h"
#include "render/renderer.h"
#include "render/structured_writer.h"
#include "util/json_reader.h"

namespace socksnap {

void write_agent_reply(const Snapshot& snap, const std::vector<uint32_t>& rows,
                       const std::vector<std::string>& warnings, OutputSink& out) {
  fmt::memory_buffer& b = out.buffer();
  b.append(std::string_view(R"({"apiVersion":)"));
  append_json_string(b, kWireApiVersion);
  b.append(std::string_view(R"(,"kind":"Snapshot","node":)"));
  append_json_string(b, snap.node, JsonStrings::kLosslessBytes);
  b.append(std::string_view(R"(,"warnings":[)"));
  for (size_t i = 0; i < warnings.size(); ++i) {
    if (i != 0) b.push_back(',');
    append_json_string(b, warnings[i], JsonStrings::kLosslessBytes);
  }
  b.append(std::string_view(R"(],"sockets":)"));
  render_structured(snap, rows, OutputFormat::kJson, out, 1, JsonStrings::kLosslessBytes);
  out.append("}\n");
}

namespace {

// Reads one reply into a Snapshot, giving equal processes, containers and pods one entry each.
class ReplyReader {
 public:
  explicit ReplyReader(std::string_view text)
      : text_(text), r_(text, JsonReader::LoneSurrogates::kBytes) {}

  Result<AgentReply> read() {
    bool sockets_seen = false;
    for (auto top = r_.object(); top.next();) {
      std::string_view key = top.key();
      if (key == "apiVersion") {
        std::string version;
        if (!r_.read_string(version)) break;
        if (version != kWireApiVersion) {
          return plain_error(fmt::format("unknown apiVersion \"{}\" (this client reads {})",
                                         version, kWireApiVersion));
        }
      } else if (key == "node") {
        r_.read_string(reply_.node);
      } else if (key == "warnings") {
        for (auto items = r_.array(); items.next();) {
          if (!r_.read_string(reply_.warnings.emplace_back())) break;
        }
      } else if (key == "sockets") {
        sockets_seen = true;
        for (auto items = r_.array(); items.next();) {
          if (!read_row()) break;
        }
      } else {
        r_.skip();
      }
      if (!error_.empty()) break;
    }
    if (!error_.empty()) return plain_error(error_);
    if (!r_.finish()) return plain_error(fmt::format("malformed JSON at byte {}", r_.offset()));
    if (!sockets_seen) return plain_error("no \"sockets\" in the reply");
    reply_.snapshot.node = reply_.node;
    return std::move(reply_);
  }

 private:
  struct Endpoint {
    std::string addr;
    uint64_t version = 0;
    uint64_t port = 0;
  };

  bool bad(std::string message) {
    error_ = fmt::format("socket {}: {}", snap().sockets.size() + 1, std::move(message));
    return false;
  }
  Snapshot& snap() { return reply_.snapshot; }

  bool read_uint_field(uint64_t& out) { return r_.read_uint(out); }
  template <typename T>
  bool read_narrow(T& out) {
    uint64_t v = 0;
    if (!r_.read_uint(v)) return false;
    if (v > std::numeric_limits<T>::max()) return bad(fmt::format("{} is out of range", v));
    out = static_cast<T>(v);
    return true;
  }

  bool read_endpoint(Endpoint& e) {
    for (auto m = r_.object(); m.next();) {
      std::string_view key = m.key();
      bool ok = key == "addr"      ? r_.read_string(e.addr)
                : key == "version" ? r_.read_uint(e.version)
                : key == "port"    ? r_.read_uint(e.port)
                                   : r_.skip();
      if (!ok) return false;
    }
    return !r_.failed();
  }

  bool read_runtime(ContainerInfo& c) {
    for (auto m = r_.object(); m.next();) {
      std::string_view key = m.key();
      bool ok = true;
      if (key == "runtimeName") {
        ok = r_.read_string(c.runtime);
      } else if (key == "containerId") {
        ok = r_.read_string(c.id);
      } else if (key == "containerName") {
        ok = r_.read_string(c.name);
      } else if (key == "containerPid") {
        ok = read_narrow(c.pid);
      } else if (key == "containerImageName") {
        ok = r_.read_string(c.image);
      } else {
        ok = r_.skip();
      }
      if (!ok) return false;
    }
    return !r_.failed();
  }

  bool read_k8s(PodInfo& pod, bool& container_in_pod) {
    for (auto m = r_.object(); m.next();) {
      std::string_view key = m.key();
      bool ok = true;
      std::string ignored;
      if (key == "namespace") {
        ok = r_.read_string(pod.pod_namespace);
      } else if (key == "podName") {
        ok = r_.read_string(pod.name);
      } else if (key == "containerName") {
        container_in_pod = true;
        ok = r_.read_string(ignored);
      } else if (key == "hostNetwork") {
        ok = r_.read_bool(pod.host_network);
      } else if (key == "podLabels") {
        ok = read_labels(r_, pod.labels, NonStringLabel::kFail);
      } else {
        ok = r_.skip();  // "node": the reply's own
      }
      if (!ok) return false;
    }
    return !r_.failed();
  }

  bool read_processes(std::vector<std::pair<ProcessInfo, int32_t>>& holders) {
    for (auto items = r_.array(); items.next();) {
      auto& [process, fd] = holders.emplace_back();
      for (auto m = r_.object(); m.next();) {
        std::string_view key = m.key();
        bool ok = key == "pid"    ? read_narrow(process.pid)
                  : key == "comm" ? r_.read_string(process.comm)
                  : key == "fd"   ? read_narrow(fd)
                                  : r_.skip();
        if (!ok) return false;
      }
    }
    return !r_.failed();
  }

  bool read_tcp_info(TcpInfo& t) {
    t.valid = true;
    for (auto m = r_.object(); m.next();) {
      std::string_view key = m.key();
      bool ok = true;
      double ms = 0;
      if (key == "rtt" || key == "rttvar") {
        ok = r_.read_double(ms);
        if (ok && (ms < 0 || ms > 4294967.295))
          return bad(fmt::format("{} {} out of range", key, ms));
        (key == "rtt" ? t.rtt_us : t.rttvar_us) = static_cast<uint32_t>(std::llround(ms * 1000));
      } else if (key == "cwnd") {
        ok = read_narrow(t.snd_cwnd);
      } else if (key == "retrans") {
        ok = read_narrow(t.total_retrans);
      } else if (key == "bytesAcked") {
        ok = r_.read_uint(t.bytes_acked);
      } else if (key == "bytesReceived") {
        ok = r_.read_uint(t.bytes_received);
      } else if (key == "bytesSent") {
        ok = r_.read_uint(t.bytes_sent);
      } else if (key == "congestion") {
        std::string name;
        ok = r_.read_string(name);
        std::strncpy(t.congestion.data(), name.c_str(), t.congestion.size() - 1);
      } else {
        ok = r_.skip();
      }
      if (!ok) return false;
    }
    return !r_.failed();
  }

  bool parse_address(const Endpoint& e, uint8_t version, std::array<uint8_t, 16>& out,
                     uint16_t& port, std::string_view which) {
    if (e.port > 65535) return bad(fmt::format("{} port {} out of range", which, e.port));
    port = static_cast<uint16_t>(e.port);
    if (::inet_pton(version == 6 ? AF_INET6 : AF_INET, e.addr.c_str(), out.data()) != 1) {
      return bad(fmt::format("{} address \"{}\" is not an IPv{} address", which, e.addr, version));
    }
    return true;
  }

  static std::optional<uint8_t> state_named(Protocol protocol, std::string_view name) {
    // The kernel's own numbers for UDP's two names; the first TCP state of that name else.
    if (protocol != Protocol::kTcp) {
      if (name == "ACTIVE") return kTcpEstablished;
      if (name == "INACTIVE") return kTcpClose;
    }
    for (unsigned s = 0; s < 256; ++s) {
      if (status_name(protocol, static_cast<uint8_t>(s)) == name) return static_cast<uint8_t>(s);
    }
    unsigned number = 0;
    auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
    if (ec == std::errc() && ptr == name.data() + name.size() && number < 256) {
      return static_cast<uint8_t>(number);
    }
    return std::nullopt;
  }

  // A row's "k8s" or "runtime" object: every row of a pod, or of a container, repeats it word for
  // word, so each distinct text is read once and then found by its text (a node's answer is
  // mostly such repeats). Returns the cached entry; `fresh` when the caller must fill it, with
  // the reader put back at the object to read it.
  template <typename Entry>
  Entry* seen(std::unordered_map<std::string_view, Entry>& cache, bool& fresh) {
    JsonReader before = r_;
    size_t from = r_.offset();
    if (!r_.skip()) return nullptr;
    auto [it, inserted] = cache.try_emplace(text_.substr(from, r_.offset() - from));
    fresh = inserted;
    if (fresh) r_ = std::move(before);
    return &it->second;
  }

  bool read_row() {
    SocketRecord s;
    Endpoint src;
    Endpoint dst;
    std::string protocol;
    std::string status;
    std::string interface;
    ContainerInfo container;  // read when its text is new
    RuntimeEntry* container_entry = nullptr;
    bool container_fresh = false;
    K8sEntry k8s;
    std::vector<std::pair<ProcessInfo, int32_t>> holders;
    TcpInfo tcp;
    for (auto m = r_.object(); m.next();) {
      std::string_view key = m.key();
      bool ok = true;
      if (key == "runtime") {
        container_entry = seen(runtime_seen_, container_fresh);
        ok = container_entry != nullptr && (!container_fresh || read_runtime(container));
      } else if (key == "k8s") {
        bool fresh = false;
        K8sEntry* entry = seen(k8s_seen_, fresh);
        if (entry != nullptr && fresh) {
          PodInfo pod;
          ok = read_k8s(pod, entry->container_in_pod);
          if (ok && !pod.name.empty()) entry->pod = pod_index(std::move(pod));
        }
        ok = ok && entry != nullptr;
        if (ok) k8s = *entry;
      } else if (key == "netnsid") {
        ok = r_.read_uint(s.netns);
      } else if (key == "protocol") {
        ok = r_.read_string(protocol);
      } else if (key == "src") {
        ok = read_endpoint(src);
      } else if (key == "dst") {
        ok = read_endpoint(dst);
      } else if (key == "status") {
        ok = r_.read_string(status);
      } else if (key == "inodeNumber") {
        ok = r_.read_uint(s.inode);
      } else if (key == "processes") {
        ok = read_processes(holders);
      } else if (key == "uid") {
        ok = read_narrow(s.uid);
      } else if (key == "rxQueue") {
        ok = read_narrow(s.rx_queue);
      } else if (key == "txQueue") {
        ok = read_narrow(s.tx_queue);
      } else if (key == "cookie") {
        ok = r_.read_uint(s.cookie);
      } else if (key == "interface") {
        ok = r_.read_string(interface);
      } else if (key == "tcpInfo") {
        ok = read_tcp_info(tcp);
      } else {
        ok = r_.skip();  // "pid" and "comm" repeat the first of "processes"
      }
      if (!ok) return false;
    }
    if (r_.failed()) return false;

    if (protocol == "TCP") {
      s.protocol = Protocol::kTcp;
    } else if (protocol == "UDP") {
      s.protocol = Protocol::kUdp;
    } else if (protocol == "UDPLITE") {
      s.protocol = Protocol::kUdpLite;
    } else {
      return bad(fmt::format("unknown protocol \"{}\"", protocol));
    }
    if (src.version != 4 && src.version != 6) {
      return bad(fmt::format("IP version {} is neither 4 nor 6", src.version));
    }
    s.ip_version = static_cast<uint8_t>(src.version);
    if (!parse_address(src, s.ip_version, s.src_addr, s.src_port, "src") ||
        !parse_address(dst, s.ip_version, s.dst_addr, s.dst_port, "dst")) {
      return false;
    }
    auto state = state_named(s.protocol, status);
    if (!state) return bad(fmt::format("unknown status \"{}\"", status));
    s.state = *state;

    NetnsInfo& ns = netns(s.netns);
    if (!interface.empty()) s.ifindex = interface_index(ns, interface);

    SocketOwner owner;
    owner.pod = k8s.pod;
    if (container_fresh) {
      // A container's rows all name its pod: the first one's is the container's.
      if (!container.id.empty()) {
        if (k8s.container_in_pod) container.pod = owner.pod;
        container_entry->container = container_index(std::move(container));
      }
    }
    if (container_entry != nullptr) owner.container = container_entry->container;
    owner.first_holder = static_cast<uint32_t>(snap().holders.size());
    owner.holder_count = static_cast<uint32_t>(holders.size());
    for (auto& [process, fd] : holders) {
      uint32_t index = process_index(std::move(process));
      if (snap().processes[index].container == kNone) {
        snap().processes[index].container = owner.container;
      }
      snap().holders.push_back(SocketHolder{index, fd});
    }
    snap().sockets.push_back(s);
    snap().owners.push_back(owner);
    if (tcp.valid || !snap().tcp_info.empty()) {
      snap().tcp_info.resize(snap().sockets.size());
      snap().tcp_info.back() = tcp;
    }
    return true;
  }

  NetnsInfo& netns(uint64_t inode) {
    auto [it, fresh] = netns_.try_emplace(inode, snap().namespaces.size());
    if (fresh) snap().namespaces.push_back(NetnsInfo{inode, "agent", {}, 0});
    return snap().namespaces[it->second];
  }
  // Interfaces arrive by name: number them per namespace.
  static uint32_t interface_index(NetnsInfo& ns, const std::string& name) {
    for (const auto& [index, known] : ns.interfaces) {
      if (known == name) return index;
    }
    auto index = static_cast<uint32_t>(ns.interfaces.size() + 1);
    ns.interfaces.emplace(index, name);
    return index;
  }
  struct K8sEntry {
    int32_t pod = kNone;
    bool container_in_pod = false;
  };
  struct RuntimeEntry {
    int32_t container = kNone;
  };

  int32_t pod_index(PodInfo&& pod) {
    std::string key = pod.pod_namespace + '/' + pod.name;
    auto [it, fresh] = pods_.try_emplace(std::move(key), static_cast<int32_t>(snap().pods.size()));
    if (fresh) snap().pods.push_back(std::move(pod));
    return it->second;
  }
  int32_t container_index(ContainerInfo&& container) {
    auto [it, fresh] =
        containers_.try_emplace(container.id, static_cast<int32_t>(snap().containers.size()));
    if (fresh) snap().containers.push_back(std::move(container));
    return it->second;
  }
  uint32_t process_index(ProcessInfo&& process) {
    auto [it, fresh] =
        processes_.try_emplace(process.pid, static_cast<uint32_t>(snap().processes.size()));
    if (fresh) snap().processes.push_back(std::move(process));
    return it->second;
  }

  std::string_view text_;
  JsonReader r_;
  std::unordered_map<std::string_view, K8sEntry> k8s_seen_;
  std::unordered_map<std::string_view, RuntimeEntry> runtime_seen_;
  AgentReply reply_;
  std::string error_;
  std::unordered_map<uint64_t, size_t> netns_;
  std::unordered_map<std::string, int32_t> pods_;
  std::unordered_map<std::string, int32_t> containers_;
  std::unordered_map<int32_t, uint32_t> processes_;
};

}  // namespace

Result<AgentReply> parse_agent_reply(std::string_view text) {
  return ReplyReader(text).read();
}

void merge_node_snapshot(Snapshot& merged, Snapshot&& part, const std::string& node) {
  auto found = std::find(merged.nodes.begin(), merged.nodes.end(), node);
  auto node_index = static_cast<uint16_t>(found - merged.nodes.begin());
  if (found == merged.nodes.end()) merged.nodes.push_back(node);

  auto socket_base = merged.sockets.size();
  auto process_base = static_cast<uint32_t>(merged.processes.size());
  auto holder_base = static_cast<uint32_t>(merged.holders.size());
  auto container_base = static_cast<int32_t>(merged.containers.size());
  auto pod_base = static_cast<int32_t>(merged.pods.size());
  auto shift = [](int32_t index, int32_t base) { return index == kNone ? kNone : index + base; };

  for (auto& ns : part.namespaces) {
    ns.node = node_index;
    merged.namespaces.push_back(std::move(ns));
  }
  merged.sockets.insert(merged.sockets.end(), part.sockets.begin(), part.sockets.end());
  merged.socket_nodes.resize(merged.sockets.size(), node_index);
  if (!part.tcp_info.empty() || !merged.tcp_info.empty()) {
    merged.tcp_info.resize(socket_base);
    merged.tcp_info.insert(merged.tcp_info.end(), part.tcp_info.begin(), part.tcp_info.end());
    merged.tcp_info.resize(merged.sockets.size());
  }
  for (auto& p : part.processes) {
    p.container = shift(p.container, container_base);
    merged.processes.push_back(std::move(p));
  }
  for (const auto& h : part.holders) {
    merged.holders.push_back(SocketHolder{h.process + process_base, h.fd});
  }
  for (auto& c : part.containers) {
    c.pod = shift(c.pod, pod_base);
    merged.containers.push_back(std::move(c));
  }
  for (auto& p : part.pods) merged.pods.push_back(std::move(p));
  merged.owners.resize(socket_base);  // rows merged before without owners own nothing
  for (size_t i = 0; i < part.sockets.size(); ++i) {
    SocketOwner o = i < part.owners.size() ? part.owners[i] : SocketOwner{};
    o.first_holder += holder_base;
    o.container = shift(o.container, container_base);
    o.pod = shift(o.pod, pod_base);
    merged.owners.push_back(o);
  }
}

}  // namespace socksnap
