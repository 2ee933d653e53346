#include "collect/bpf_rows.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string_view>

#include "collect/bpf/iter_rows.h"
#include "util/unaligned.h"

namespace socksnap {

static_assert(sizeof(socksnap_inet_head) == kInetHeadSize);

namespace {

// Where a record's parts begin, after its head: its addresses' size, and whether details and
// tcp_info follow them.
struct InetLayout {
  size_t addresses;
  bool details;
  bool tcp_info;
};

InetLayout layout_of(const socksnap_inet_head& head) {
  bool details = (head.parts & SOCKSNAP_PART_DETAILS) != 0;
  size_t addresses = details || head.family != AF_INET ? SOCKSNAP_INET_ADDRESSES_MAX : 8;
  return {addresses, details, details && (head.parts & SOCKSNAP_PART_TCP_INFO) != 0};
}

// How many bytes follow the head.
size_t trailer_of(const InetLayout& layout) {
  return layout.addresses + (layout.details ? sizeof(socksnap_inet_details) : 0) +
         (layout.tcp_info ? sizeof(socksnap_tcp_info_row) : 0);
}

}  // namespace

size_t inet_record_trailer(std::span<const uint8_t> head_bytes) {
  return trailer_of(layout_of(load_unaligned<socksnap_inet_head>(head_bytes.data())));
}

void add_inet_record(std::span<const uint8_t> record, uint64_t netns, bool with_tcp_info,
                     NamespaceSockets& out) {
  if (record.size() < kInetHeadSize) return;
  auto head = load_unaligned<socksnap_inet_head>(record.data());
  InetLayout layout = layout_of(head);
  if (record.size() < kInetHeadSize + trailer_of(layout)) return;  // not a whole record
  if (head.family != AF_INET && head.family != AF_INET6) return;
  const uint8_t* addresses = record.data() + sizeof head;
  socksnap_inet_details details{};
  if (layout.details) {
    details = load_unaligned<socksnap_inet_details>(addresses + layout.addresses);
  }
  SocketRecord socket{
      .netns = netns,
      .inode = details.inode,
      .cookie = details.cookie,
      .cgroup_id = details.cgroup_id,
      .src_addr = {},
      .dst_addr = {},
      .uid = details.uid,
      .rx_queue = details.rx_queue,
      .tx_queue = details.tx_queue,
      .ifindex = details.ifindex,
      .src_port = head.src_port,
      .dst_port = head.dst_port,
      .ip_version = static_cast<uint8_t>(head.family == AF_INET ? 4 : 6),
      .protocol = head.protocol == IPPROTO_TCP ? Protocol::kTcp : Protocol::kUdp,
      .state = head.state,
  };
  // An IPv4 address fills the first 4 bytes: the rest is zero, as netlink's rows have it.
  size_t address_bytes = head.family == AF_INET ? 4 : 16;
  std::memcpy(socket.src_addr.data(), addresses, address_bytes);
  std::memcpy(socket.dst_addr.data(), addresses + address_bytes, address_bytes);
  out.sockets.push_back(socket);
  out.note_interface(socket.ifindex);
  if (!with_tcp_info) return;
  TcpInfo tcp;
  if (socket.protocol == Protocol::kTcp && layout.tcp_info) {
    auto info = load_unaligned<socksnap_tcp_info_row>(addresses + layout.addresses +
                                                      sizeof(socksnap_inet_details));
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
