#include "collect/bpf_rows.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string_view>

#include "collect/bpf/iter_rows.h"
#include "util/unaligned.h"

namespace socksnap {

size_t inet_record_size(bool tcp, bool with_tcp_info) {
  return sizeof(socksnap_inet_row) + (tcp && with_tcp_info ? sizeof(socksnap_tcp_info_row) : 0);
}

void add_inet_record(std::span<const uint8_t> record, uint64_t netns, bool with_tcp_info,
                     NamespaceSockets& out) {
  auto row = load_unaligned<socksnap_inet_row>(record.data());
  if (row.family != AF_INET && row.family != AF_INET6) return;
  SocketRecord socket{
      .netns = netns,
      .inode = row.inode,
      .cookie = row.cookie,
      .cgroup_id = row.cgroup_id,
      .src_addr = {},
      .dst_addr = {},
      .uid = row.uid,
      .rx_queue = row.rx_queue,
      .tx_queue = row.tx_queue,
      .ifindex = row.ifindex,
      .src_port = row.src_port,
      .dst_port = row.dst_port,
      .ip_version = static_cast<uint8_t>(row.family == AF_INET ? 4 : 6),
      .protocol = row.protocol == IPPROTO_TCP ? Protocol::kTcp : Protocol::kUdp,
      .state = row.state,
  };
  // Only an IPv4 address's first 4 bytes are meant: the rest is zero, as netlink's rows have it.
  size_t address_bytes = row.family == AF_INET ? 4 : 16;
  std::memcpy(socket.src_addr.data(), row.src, address_bytes);
  std::memcpy(socket.dst_addr.data(), row.dst, address_bytes);
  out.sockets.push_back(socket);
  out.note_interface(socket.ifindex);
  if (!with_tcp_info) return;
  TcpInfo tcp;
  if (socket.protocol == Protocol::kTcp && row.has_tcp_info != 0 &&
      record.size() >= sizeof(socksnap_inet_row) + sizeof(socksnap_tcp_info_row)) {
    auto info = load_unaligned<socksnap_tcp_info_row>(record.data() + sizeof(socksnap_inet_row));
    tcp.valid = true;
    tcp.rtt_us = info.rtt_us;
    tcp.rttvar_us = info.rttvar_us;
    tcp.snd_cwnd = info.snd_cwnd;
    tcp.total_retrans = info.total_retrans;
    tcp.bytes_acked = info.bytes_acked;
    tcp.bytes_received = info.bytes_received;
    tcp.bytes_sent = info.bytes_sent;
    size_t n = 0;
    while (n + 1 < tcp.congestion.size() && n < sizeof info.congestion &&
           info.congestion[n] != '\0') {
      tcp.congestion[n] = info.congestion[n];
      ++n;
    }
    tcp.congestion[n] = '\0';
  }
  out.tcp_info.push_back(tcp);
}

size_t socket_fd_record_size() {
  return sizeof(socksnap_socket_fd_row);
}

SocketFdRecord socket_fd_record(std::span<const uint8_t> record) {
  auto row = load_unaligned<socksnap_socket_fd_row>(record.data());
  return SocketFdRecord{
      .inode = row.inode, .start_time_ns = row.start_time_ns, .tgid = row.tgid, .fd = row.fd};
}

size_t task_record_size() {
  return sizeof(socksnap_task_row);
}

size_t task_record_trailer(std::span<const uint8_t> header) {
  return load_unaligned<socksnap_task_row>(header.data()).cgroup_path_len;
}

namespace {

// The path of a cgroup from what iter/task gives: the names of the cgroup and of those above it,
// the cgroup's own first, each ended by a NUL, or "/" for the hierarchy's root. The path has as
// many bytes: each name's NUL becomes the '/' before it.
std::string cgroup_path_of_names(std::span<const uint8_t> names) {
  std::string_view text(reinterpret_cast<const char*>(names.data()), names.size());
  if (text.empty() || text == "/") return std::string(text);
  if (text.back() == '\0') text.remove_suffix(1);
  std::string path;
  path.reserve(text.size() + 1);
  while (true) {
    size_t cut = text.rfind('\0');
    path += '/';
    path += text.substr(cut == std::string_view::npos ? 0 : cut + 1);
    if (cut == std::string_view::npos) break;
    text = text.substr(0, cut);
  }
  return path;
}

}  // namespace

TaskRecord task_record(std::span<const uint8_t> record) {
  auto row = load_unaligned<socksnap_task_row>(record.data());
  auto names = record.subspan(sizeof row, row.cgroup_path_len);
  return TaskRecord{.start_time_ns = row.start_time_ns,
                    .netns = row.netns,
                    .cgroups_key = row.cgroups_key,
                    .cgroups_check = row.cgroups_check,
                    .tgid = row.tgid,
                    .comm = std::string(row.comm, strnlen(row.comm, sizeof row.comm)),
                    .cgroup_path = cgroup_path_of_names(names)};
}

}  // namespace socksnap
