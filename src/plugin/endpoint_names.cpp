#include "plugin/endpoint_names.h"

#include <arpa/inet.h>

#include <cstring>
#include <string_view>

namespace socksnap {
namespace {

// Pods whose phase says they still run keep their address; a finished pod's address may
// already be another pod's.
int pod_rank(const PodSummary& pod) {
  if (pod.phase == "Succeeded" || pod.phase == "Failed") return 1;
  if (pod.terminating) return 2;
  return 3;
}

constexpr int kServiceRank = 4;

}  // namespace

size_t EndpointDirectory::KeyHash::operator()(const Key& key) const {
  // FNV-1a over the 17 bytes.
  uint64_t h = 1469598103934665603ULL;
  for (uint8_t b : key) h = (h ^ b) * 1099511628211ULL;
  return static_cast<size_t>(h);
}

EndpointDirectory::EndpointDirectory(const std::vector<PodSummary>& pods,
                                     const std::vector<ServiceSummary>& services) {
  for (const auto& service : services) {
    for (const auto& ip : service.cluster_ips) {
      add(ip, EndpointName{EndpointKind::kService, service.service_namespace, service.name, {}},
          kServiceRank);
    }
  }
  for (const auto& pod : pods) {
    if (pod.host_network) continue;
    for (const auto& ip : pod.pod_ips) {
      add(ip, EndpointName{EndpointKind::kPod, pod.pod_namespace, pod.name, pod.labels},
          pod_rank(pod));
    }
  }
}

void EndpointDirectory::add(const std::string& ip, EndpointName name, int rank) {
  Key key{};
  if (::inet_pton(AF_INET, ip.c_str(), key.data() + 1) == 1) {
    key[0] = 4;
  } else if (::inet_pton(AF_INET6, ip.c_str(), key.data() + 1) == 1) {
    key[0] = 6;
  } else {
    return;  // not an address: nothing to name
  }
  auto [it, fresh] = by_address_.try_emplace(key, Entry{static_cast<int32_t>(names_.size()), rank});
  if (fresh) {
    names_.push_back(std::move(name));
  } else if (rank > it->second.rank) {
    names_[it->second.name] = std::move(name);
    it->second.rank = rank;
  }
}

int32_t EndpointDirectory::find(uint8_t version, const std::array<uint8_t, 16>& addr) const {
  Key key{};
  static constexpr uint8_t kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (version == 6 && std::memcmp(addr.data(), kV4Mapped, sizeof kV4Mapped) == 0) {
    // An IPv6 socket talking to an IPv4 address (::ffff:10.0.0.1).
    key[0] = 4;
    std::memcpy(key.data() + 1, addr.data() + 12, 4);
  } else {
    key[0] = version;
    std::memcpy(key.data() + 1, addr.data(), version == 4 ? 4 : 16);
  }
  auto it = by_address_.find(key);
  return it == by_address_.end() ? kNone : it->second.name;
}

const EndpointName* EndpointDirectory::name_of(const GraphAddress& address) const {
  int32_t at = find(address.v4 ? 4 : 6, address.bytes);
  return at == kNone ? nullptr : &names_[at];
}

void EndpointDirectory::name_endpoints(Snapshot& snap) const {
  snap.endpoints = names_;
  snap.socket_endpoints.assign(snap.sockets.size(), SocketEndpoints{});
  if (names_.empty()) return;
  for (size_t i = 0; i < snap.sockets.size(); ++i) {
    const SocketRecord& s = snap.sockets[i];
    if (s.protocol == Protocol::kUnix) continue;  // a name, not an address
    snap.socket_endpoints[i] = {find(s.ip_version, s.src_addr), find(s.ip_version, s.dst_addr)};
  }
}

}  // namespace socksnap
