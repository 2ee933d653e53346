// The BPF source's pure parts: records the iterators write, cut out of reads of any size and
// turned into the rows the netlink source makes; the holders its task_file pass finds, matched
// to the census as the /proc scan matches them; and the netlink source's drop of repeated
// sockets, which the BPF source does not need.
#include "collect/bpf_rows.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "collect/bpf/iter_rows.h"
#include "collect/sock_diag_source.h"
#include "enrich/process_scan.h"

namespace socksnap {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> bytes_of(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  return std::vector<uint8_t>(b, b + n);
}

// The records `reader` gives for `stream` fed to it in reads of `read` bytes.
std::vector<std::vector<uint8_t>> records_read(RecordReader& reader,
                                               const std::vector<uint8_t>& stream, size_t read) {
  std::vector<std::vector<uint8_t>> got;
  for (size_t at = 0; at < stream.size(); at += read) {
    size_t n = std::min(read, stream.size() - at);
    reader.feed(std::span<const uint8_t>(stream.data() + at, n),
                [&](std::span<const uint8_t> r) { got.emplace_back(r.begin(), r.end()); });
  }
  return got;
}

// A record as the programs write it (collect/bpf/iter_rows.h): the head, the addresses (4 or 16
// bytes each, then zeros to 32 where details follow), and the parts the head names.
std::vector<uint8_t> inet_record(const socksnap_inet_head& head, const char* src, const char* dst,
                                 const socksnap_inet_details* details = nullptr,
                                 const socksnap_tcp_info_row* info = nullptr) {
  int family = head.family == AF_INET ? AF_INET : AF_INET6;
  size_t size = family == AF_INET ? 4 : 16;
  std::array<uint8_t, 16> a{};
  std::array<uint8_t, 16> b{};
  EXPECT_EQ(inet_pton(family, src, a.data()), 1);
  EXPECT_EQ(inet_pton(family, dst, b.data()), 1);
  std::vector<uint8_t> out = bytes_of(&head, sizeof head);
  out.insert(out.end(), a.begin(), a.begin() + static_cast<ptrdiff_t>(size));
  out.insert(out.end(), b.begin(), b.begin() + static_cast<ptrdiff_t>(size));
  if (details != nullptr) {
    out.resize(sizeof head + 32, 0);
    auto more = bytes_of(details, sizeof *details);
    out.insert(out.end(), more.begin(), more.end());
  }
  if (info != nullptr) {
    auto more = bytes_of(info, sizeof *info);
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

socksnap_inet_head tcp_head(uint8_t parts) {
  socksnap_inet_head head{};
  head.src_port = 8080;
  head.dst_port = 51000;
  head.family = AF_INET;
  head.state = 1;
  head.protocol = IPPROTO_TCP;
  head.parts = parts;
  return head;
}

socksnap_inet_details tcp_details() {
  socksnap_inet_details d{};
  d.cookie = 77;
  d.inode = 0x1'0000'0005ULL;  // 64 bits kept
  d.cgroup_id = 9;
  d.uid = 1000;
  d.rx_queue = 3;
  d.tx_queue = 4;
  d.ifindex = 2;
  return d;
}

// The size a record's head says it has: what RecordReader cuts the stream by.
size_t record_size(const std::vector<uint8_t>& record) {
  return kInetHeadSize + inet_record_trailer(std::span<const uint8_t>(record).first(kInetHeadSize));
}

TEST(BpfRows, ATcpRecordWithItsTcpInfoIsTheRowNetlinkWouldMake) {
  socksnap_tcp_info_row info{};
  info.rtt_us = 120;
  info.rttvar_us = 60;
  info.snd_cwnd = 10;
  info.total_retrans = 2;
  info.bytes_acked = 100;
  info.bytes_received = 200;
  info.bytes_sent = 300;
  std::memcpy(info.congestion, "cubic", 6);
  socksnap_inet_details details = tcp_details();
  auto record = inet_record(tcp_head(SOCKSNAP_PART_DETAILS | SOCKSNAP_PART_TCP_INFO), "10.1.2.3",
                            "10.9.8.7", &details, &info);
  ASSERT_EQ(record.size(), 8U + 32 + 40 + 56);
  EXPECT_EQ(record_size(record), record.size());
  NamespaceSockets out;
  add_inet_record(record, 4026531840ULL, true, out);
  ASSERT_EQ(out.sockets.size(), 1U);
  const SocketRecord& s = out.sockets[0];
  EXPECT_EQ(s.netns, 4026531840ULL);
  EXPECT_EQ(s.inode, 0x1'0000'0005ULL);
  EXPECT_EQ(s.cookie, 77U);
  EXPECT_EQ(s.cgroup_id, 9U);
  std::array<uint8_t, 16> src{10, 1, 2, 3};
  std::array<uint8_t, 16> dst{10, 9, 8, 7};
  EXPECT_EQ(s.src_addr, src);
  EXPECT_EQ(s.dst_addr, dst);
  EXPECT_EQ(s.uid, 1000U);
  EXPECT_EQ(s.rx_queue, 3U);
  EXPECT_EQ(s.tx_queue, 4U);
  EXPECT_EQ(s.ifindex, 2U);
  EXPECT_EQ(out.interface_indexes, (std::set<uint32_t>{2}));  // to be named once the dump is read
  EXPECT_EQ(s.src_port, 8080);
  EXPECT_EQ(s.dst_port, 51000);
  EXPECT_EQ(s.ip_version, 4);
  EXPECT_EQ(s.protocol, Protocol::kTcp);
  EXPECT_EQ(s.state, 1);
  ASSERT_EQ(out.tcp_info.size(), 1U);
  const TcpInfo& t = out.tcp_info[0];
  EXPECT_TRUE(t.valid);
  EXPECT_EQ(t.rtt_us, 120U);
  EXPECT_EQ(t.rttvar_us, 60U);
  EXPECT_EQ(t.snd_cwnd, 10U);
  EXPECT_EQ(t.total_retrans, 2U);
  EXPECT_EQ(t.bytes_acked, 100U);
  EXPECT_EQ(t.bytes_received, 200U);
  EXPECT_EQ(t.bytes_sent, 300U);
  EXPECT_STREQ(t.congestion.data(), "cubic");
}

TEST(BpfRows, SocketsWithoutTcpInfoGetAnInvalidOneAndACongestionNameIsCutToFit) {
  socksnap_inet_head udp_head{};
  udp_head.family = AF_INET6;
  udp_head.protocol = IPPROTO_UDP;
  udp_head.state = 7;
  udp_head.parts = SOCKSNAP_PART_DETAILS;
  socksnap_inet_details udp_details{};
  udp_details.cookie = 5;
  auto udp = inet_record(udp_head, "::ffff:127.0.0.1", "::", &udp_details);
  // inet_diag sends no tcp_info for TIME_WAIT and request sockets, nor do the programs.
  socksnap_inet_head time_wait_head = tcp_head(SOCKSNAP_PART_DETAILS);
  time_wait_head.state = 6;
  socksnap_inet_details details = tcp_details();
  auto time_wait = inet_record(time_wait_head, "10.1.2.3", "10.9.8.7", &details);
  socksnap_tcp_info_row info{};
  std::memset(info.congestion, 'x', sizeof info.congestion);  // no NUL
  auto long_name = inet_record(tcp_head(SOCKSNAP_PART_DETAILS | SOCKSNAP_PART_TCP_INFO), "10.1.2.3",
                               "10.9.8.7", &details, &info);
  EXPECT_EQ(record_size(udp), 8U + 32 + 40);
  EXPECT_EQ(record_size(time_wait), 8U + 32 + 40);
  NamespaceSockets out;
  add_inet_record(udp, 1, true, out);
  add_inet_record(time_wait, 1, true, out);
  add_inet_record(long_name, 1, true, out);
  ASSERT_EQ(out.sockets.size(), 3U);
  ASSERT_EQ(out.tcp_info.size(), 3U);
  EXPECT_EQ(out.sockets[0].protocol, Protocol::kUdp);
  EXPECT_EQ(out.sockets[0].ip_version, 6);
  EXPECT_EQ(out.sockets[0].cookie, 5U);
  std::array<uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
  EXPECT_EQ(out.sockets[0].src_addr, mapped);
  EXPECT_FALSE(out.tcp_info[0].valid);
  EXPECT_FALSE(out.tcp_info[1].valid);
  EXPECT_EQ(out.sockets[1].state, 6);
  EXPECT_TRUE(out.tcp_info[2].valid);
  EXPECT_EQ(std::string(out.tcp_info[2].congestion.data()), std::string(15, 'x'));

  // Without tcp_info asked for, none is kept; a family the source does not know is skipped.
  NamespaceSockets plain;
  socksnap_inet_head other_head = tcp_head(SOCKSNAP_PART_DETAILS);
  auto other = inet_record(other_head, "10.1.2.3", "10.9.8.7", &details);
  other[offsetof(socksnap_inet_head, family)] = AF_UNIX;
  add_inet_record(other, 1, false, plain);
  add_inet_record(udp, 1, false, plain);
  EXPECT_EQ(plain.sockets.size(), 1U);
  EXPECT_TRUE(plain.tcp_info.empty());
  EXPECT_TRUE(plain.interface_indexes.empty());  // bound to none (and the skipped row not noted)
}

// A run that needs no cookie, uid, interface, inode, queue or tcp_info gets records of the
// endpoints and state alone: 16 bytes for IPv4, 40 for IPv6. The rest of their rows is zero.
TEST(BpfRows, ARecordWithoutDetailsIsItsEndpointsAndState) {
  auto v4 = inet_record(tcp_head(0), "10.1.2.3", "10.9.8.7");
  socksnap_inet_head v6_head = tcp_head(0);
  v6_head.family = AF_INET6;
  v6_head.protocol = IPPROTO_UDP;
  v6_head.state = 7;
  auto v6 = inet_record(v6_head, "2001:db8::1", "2001:db8::2");
  ASSERT_EQ(v4.size(), 16U);
  ASSERT_EQ(v6.size(), 40U);
  EXPECT_EQ(record_size(v4), 16U);
  EXPECT_EQ(record_size(v6), 40U);
  NamespaceSockets out;
  add_inet_record(v4, 3, true, out);
  add_inet_record(v6, 3, true, out);
  ASSERT_EQ(out.sockets.size(), 2U);
  const SocketRecord& a = out.sockets[0];
  std::array<uint8_t, 16> src{10, 1, 2, 3};
  std::array<uint8_t, 16> dst{10, 9, 8, 7};
  EXPECT_EQ(a.src_addr, src);
  EXPECT_EQ(a.dst_addr, dst);
  EXPECT_EQ(a.src_port, 8080);
  EXPECT_EQ(a.dst_port, 51000);
  EXPECT_EQ(a.ip_version, 4);
  EXPECT_EQ(a.protocol, Protocol::kTcp);
  EXPECT_EQ(a.state, 1);
  EXPECT_EQ(a.netns, 3U);
  EXPECT_EQ(a.cookie, 0U);
  EXPECT_EQ(a.inode, 0U);
  EXPECT_EQ(a.uid, 0U);
  EXPECT_EQ(a.ifindex, 0U);
  EXPECT_EQ(a.rx_queue, 0U);
  const SocketRecord& b = out.sockets[1];
  std::array<uint8_t, 16> src6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::array<uint8_t, 16> dst6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  EXPECT_EQ(b.src_addr, src6);
  EXPECT_EQ(b.dst_addr, dst6);
  EXPECT_EQ(b.ip_version, 6);
  EXPECT_EQ(b.protocol, Protocol::kUdp);
  EXPECT_EQ(b.state, 7);
  ASSERT_EQ(out.tcp_info.size(), 2U);
  EXPECT_FALSE(out.tcp_info[0].valid);

  // A stream where records change from detailed to plain part way (a run that stops reading
  // inodes), read in pieces of any size, gives each record whole.
  socksnap_inet_details details = tcp_details();
  std::vector<std::vector<uint8_t>> records = {
      inet_record(tcp_head(SOCKSNAP_PART_DETAILS), "10.1.2.3", "10.9.8.7", &details), v6, v4,
      inet_record(tcp_head(SOCKSNAP_PART_DETAILS | SOCKSNAP_PART_TCP_INFO), "10.1.2.3", "10.9.8.7",
                  &details, std::array<socksnap_tcp_info_row, 1>{}.data()),
      v4};
  std::vector<uint8_t> stream;
  for (const auto& r : records) stream.insert(stream.end(), r.begin(), r.end());
  for (size_t read : {size_t{1}, size_t{7}, size_t{16}, size_t{50}, stream.size()}) {
    RecordReader reader(kInetHeadSize, inet_record_trailer);
    auto got = records_read(reader, stream, read);
    EXPECT_EQ(got, records) << "reads of " << read;
    EXPECT_TRUE(reader.complete());
  }
  // A record shorter than its head says is not read.
  NamespaceSockets cut;
  add_inet_record(std::span<const uint8_t>(v6).first(39), 1, false, cut);
  EXPECT_TRUE(cut.sockets.empty());
}

// The interfaces sockets are bound to are noted as rows come; a dump read again drops its rows,
// and the interfaces only they were bound to.
TEST(BpfRows, InterfacesAreNotedAsRowsComeAndForgottenWithTheirRows) {
  NamespaceSockets out;
  for (uint32_t ifindex : {0U, 7U, 3U, 7U, 0U, 9U}) {
    socksnap_inet_details details = tcp_details();
    details.ifindex = ifindex;
    add_inet_record(inet_record(tcp_head(SOCKSNAP_PART_DETAILS), "10.1.2.3", "10.9.8.7", &details),
                    1, false, out);
  }
  EXPECT_EQ(out.interface_indexes, (std::set<uint32_t>{3, 7, 9}));
  out.truncate(4);
  EXPECT_EQ(out.interface_indexes, (std::set<uint32_t>{3, 7}));
  out.truncate(1);
  EXPECT_TRUE(out.interface_indexes.empty());
}

TEST(RecordReader, RecordsSplitAcrossReadsOfAnySizeComeOutWhole) {
  std::vector<uint8_t> stream;
  for (uint8_t i = 0; i < 10; ++i) stream.insert(stream.end(), 6, i);  // ten records of 6 bytes
  for (size_t read : {1, 4, 6, 7, 13, 60}) {
    RecordReader reader(6);
    auto got = records_read(reader, stream, read);
    ASSERT_EQ(got.size(), 10U) << "reads of " << read;
    for (uint8_t i = 0; i < 10; ++i) EXPECT_EQ(got[i], std::vector<uint8_t>(6, i));
    EXPECT_TRUE(reader.complete());
  }
  RecordReader cut(6);
  cut.feed(std::span<const uint8_t>(stream.data(), 9), [](std::span<const uint8_t>) {});
  EXPECT_FALSE(cut.complete());
}

// Records of a 3-byte header whose first byte says how many bytes follow it.
TEST(RecordReader, RecordsWithTrailersSplitAcrossReadsOfAnySizeComeOutWhole) {
  std::vector<std::vector<uint8_t>> records;
  std::vector<uint8_t> stream;
  for (uint8_t i = 0; i < 12; ++i) {
    uint8_t trailer = i % 4 == 0 ? 0 : static_cast<uint8_t>(i * 3);
    std::vector<uint8_t> record = {trailer, i, i};
    record.insert(record.end(), trailer, static_cast<uint8_t>(100 + i));
    stream.insert(stream.end(), record.begin(), record.end());
    records.push_back(std::move(record));
  }
  auto trailer = [](std::span<const uint8_t> header) -> size_t { return header[0]; };
  for (size_t read : {size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{17}, stream.size()}) {
    RecordReader reader(3, trailer);
    auto got = records_read(reader, stream, read);
    EXPECT_EQ(got, records) << "reads of " << read;
    EXPECT_TRUE(reader.complete());
  }
  RecordReader cut(3, trailer);  // a header whole, its trailer not
  cut.feed(std::span<const uint8_t>(stream.data() + 3, 5),
           [](std::span<const uint8_t>) { ADD_FAILURE() << "no record is whole"; });
  EXPECT_FALSE(cut.complete());
}

TEST(BpfRows, ASocketDescriptorRecord) {
  socksnap_socket_fd_row row{};
  row.inode = 123456789012ULL;
  row.start_time_ns = 5'000'000'000ULL;
  row.tgid = 4321;
  row.fd = 7;
  ASSERT_EQ(sizeof row, socket_fd_record_size());
  SocketFdRecord r = socket_fd_record(bytes_of(&row, sizeof row));
  EXPECT_EQ(r.inode, 123456789012ULL);
  EXPECT_EQ(r.start_time_ns, 5'000'000'000ULL);
  EXPECT_EQ(r.tgid, 4321U);
  EXPECT_EQ(r.fd, 7);
}

class FakeRoot : public testing::Test {
 protected:
  FakeRoot() {
    root_ = fs::temp_directory_path() / ("socksnap-bpf-root-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "proc");
  }
  ~FakeRoot() override { fs::remove_all(root_); }
  // The census's /proc says this process is `pid`.
  void self_is(int pid) {
    fs::remove(root_ / "proc" / "self");
    fs::create_directory_symlink(std::to_string(pid), root_ / "proc" / "self");
  }
  static ScannedProcess process(int32_t pid, uint64_t start_ticks) {
    ScannedProcess p;
    p.info.pid = pid;
    p.info.start_time = start_ticks;
    return p;
  }
  fs::path root_;
};

TEST_F(FakeRoot, TaskFileHoldersAreMatchedToTheCensusByPidAndStartTime) {
  self_is(::getpid());
  const uint64_t ns_per_tick = 1'000'000'000ULL / static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
  std::vector<ScannedProcess> census = {process(10, 500), process(20, 600), process(30, 700)};
  std::vector<SocketFdRecord> records = {
      {.inode = 1001, .start_time_ns = 500 * ns_per_tick + 3, .tgid = 10, .fd = 3},
      {.inode = 1002, .start_time_ns = 600 * ns_per_tick, .tgid = 20, .fd = 4},
      // pid 30 is another process now than the census saw: its start time differs
      {.inode = 1003, .start_time_ns = 701 * ns_per_tick, .tgid = 30, .fd = 5},
      // pid 40 started after the census
      {.inode = 1004, .start_time_ns = 800 * ns_per_tick, .tgid = 40, .fd = 6},
      {.inode = 1005, .start_time_ns = 500 * ns_per_tick, .tgid = 10, .fd = 9},
  };
  auto fds = census_socket_fds(HostPaths(root_.string()), census, records);
  ASSERT_TRUE(fds) << fds.error().message();
  ASSERT_EQ(fds->size(), 3U);
  EXPECT_EQ((*fds)[0].inode, 1001U);
  EXPECT_EQ((*fds)[0].process, 0U);
  EXPECT_EQ((*fds)[0].fd, 3);
  EXPECT_EQ((*fds)[1].inode, 1002U);
  EXPECT_EQ((*fds)[1].process, 1U);
  EXPECT_EQ((*fds)[1].fd, 4);
  EXPECT_EQ((*fds)[2].inode, 1005U);
  EXPECT_EQ((*fds)[2].process, 0U);
  EXPECT_EQ((*fds)[2].fd, 9);
}

TEST_F(FakeRoot, ACensusOfAnotherPidNamespaceIsRefused) {
  self_is(::getpid() + 1);
  auto fds = census_socket_fds(HostPaths(root_.string()), {process(10, 500)}, {});
  ASSERT_FALSE(fds);
  EXPECT_EQ(fds.error().message(),
            (root_ / "proc").string() + " is not the initial PID namespace's");
}

TEST(BpfRows, ATaskRecord) {
  socksnap_task_row row{};
  row.start_time_ns = 7'000'000'000ULL;
  row.netns = 4026531840ULL;
  row.cgroups_key = 0x1234567890abcdefULL;
  row.cgroups_check = 77;
  row.tgid = 10;
  // A name of the whole 16 bytes (no NUL), with control bytes: kept as it is.
  std::memcpy(row.comm, "\x1b[31mred\t\n123456", 16);
  ASSERT_EQ(sizeof row, task_record_size());
  TaskRecord t = task_record(bytes_of(&row, sizeof row));
  EXPECT_EQ(t.start_time_ns, 7'000'000'000ULL);
  EXPECT_EQ(t.netns, 4026531840ULL);
  EXPECT_EQ(t.cgroups_key, 0x1234567890abcdefULL);
  EXPECT_EQ(t.cgroups_check, 77U);
  EXPECT_EQ(t.tgid, 10U);
  EXPECT_EQ(t.comm, "\x1b[31mred\t\n123456");
  std::memcpy(row.comm, "nginx\0\0\0\0\0\0\0\0\0\0", 16);
  EXPECT_EQ(task_record(bytes_of(&row, sizeof row)).comm, "nginx");
  EXPECT_EQ(task_record(bytes_of(&row, sizeof row)).cgroup_path, "");
  EXPECT_EQ(task_record_trailer(bytes_of(&row, sizeof row)), 0U);

  // With the names of its cgroup and of those above it after the row, its own first, each
  // ended by a NUL: the path, root first, has as many bytes.
  auto with_names = [&](std::string_view names) {
    row.cgroup_path_len = static_cast<uint16_t>(names.size());
    std::vector<uint8_t> record(sizeof row + names.size());
    std::memcpy(record.data(), &row, sizeof row);
    std::memcpy(record.data() + sizeof row, names.data(), names.size());
    EXPECT_EQ(task_record_trailer(record), names.size());
    return task_record(record);
  };
  const char names[] = "\x1b[0m\0pod1\0besteffort\0kubepods"; /* and the array's NUL */
  TaskRecord with_path = with_names(std::string_view(names, sizeof names));
  EXPECT_EQ(with_path.cgroup_path, "/kubepods/besteffort/pod1/\x1b[0m");
  EXPECT_EQ(with_path.cgroup_path.size(), sizeof names);
  EXPECT_EQ(with_path.comm, "nginx");
  EXPECT_EQ(with_path.tgid, 10U);
  EXPECT_EQ(with_names(std::string_view("init.scope\0", 11)).cgroup_path, "/init.scope");
  EXPECT_EQ(with_names("/").cgroup_path, "/");  // the hierarchy's root
  // A last name without its NUL is a name all the same.
  EXPECT_EQ(with_names(std::string_view("b\0a", 3)).cgroup_path, "/a/b");
}

TEST_F(FakeRoot, TheCensusFromTasksReadsEachSetOfCgroupsOnce) {
  self_is(::getpid());
  const uint64_t ns_per_tick = 1'000'000'000ULL / static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
  auto proc = [&](int pid, uint64_t start, const std::string& cgroup) {
    fs::path dir = root_ / "proc" / std::to_string(pid);
    fs::create_directories(dir);
    std::ofstream(dir / "stat") << pid << " (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " << start
                                << " 0 0\n";
    std::ofstream(dir / "cgroup") << cgroup;
  };
  auto task = [&](uint32_t pid, const char* comm, uint64_t start, uint64_t key,
                  uint64_t check = 1) {
    TaskRecord t;
    t.tgid = pid;
    t.comm = comm;
    t.start_time_ns = start * ns_per_tick;
    t.netns = 4026531840ULL + pid;
    t.cgroups_key = key;
    t.cgroups_check = check;
    return t;
  };
  proc(10, 500, "0::/a\n");
  proc(11, 510, "0::/not-read\n");         // same set as 10: read from 10
  proc(12, 999, "0::/another-process\n");  // its PID now names a process started later
  proc(13, 530, "0::/b\n");                // the set's next process, read instead
  proc(14, 540, "0::/own\n");              // in no set the pass could tell: its own is read
  proc(16, 560, "0::/c\n");                // same key as 10, another unified cgroup: its own
  std::vector<TaskRecord> tasks = {
      task(14, "nokey", 540, 0),      task(10, "web", 500, 0xa), task(11, "side", 510, 0xa),
      task(12, "gone", 520, 0xb),     task(13, "b", 530, 0xb),   task(15, "exited", 550, 0xc),
      task(16, "other", 560, 0xa, 2),
  };
  // Paths the pass gave: one that names a container stands for the file; one that names none
  // does not (the file is read).
  const std::string container =
      "/kubepods/besteffort/pod0b1e7c3a-1d2f-4a5b-8c6d-7e8f9a0b1c2d/" + std::string(64, 'a');
  proc(17, 570, "0::/read-instead\n");
  tasks.push_back(task(17, "host", 570, 0xd, 4));
  tasks.back().cgroup_path = "/system.slice/host.service";
  tasks.push_back(task(18, "app", 580, 0xe, 5));  // no /proc/18: not read
  tasks.back().cgroup_path = container;
  tasks.push_back(task(19, "app2", 590, 0xe, 5));  // the same set, no path given again
  auto census = census_from_tasks(HostPaths(root_.string()), std::move(tasks));
  ASSERT_TRUE(census) << census.error().message();
  struct Got {
    int32_t pid;
    std::string comm;
    uint64_t start;
    uint64_t netns;
    std::string cgroup;
    bool operator==(const Got&) const = default;
  };
  std::vector<Got> got;
  for (const auto& p : *census) {
    got.push_back({p.info.pid, p.info.comm, p.info.start_time, p.netns, p.cgroup});
  }
  EXPECT_EQ(got, (std::vector<Got>{{10, "web", 500, 4026531850ULL, "0::/a\n"},
                                   {11, "side", 510, 4026531851ULL, "0::/a\n"},
                                   {13, "b", 530, 4026531853ULL, "0::/b\n"},
                                   {14, "nokey", 540, 4026531854ULL, "0::/own\n"},
                                   {16, "other", 560, 4026531856ULL, "0::/c\n"},
                                   {17, "host", 570, 4026531857ULL, "0::/read-instead\n"},
                                   {18, "app", 580, 4026531858ULL, "0::" + container + "\n"},
                                   {19, "app2", 590, 4026531859ULL, "0::" + container + "\n"}}));

  self_is(::getpid() + 1);
  auto refused = census_from_tasks(HostPaths(root_.string()), {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(),
            (root_ / "proc").string() + " is not the initial PID namespace's");
}

TEST(DropRepeatedSockets, LaterCopiesOfACookieGoWithTheirTcpInfo) {
  NamespaceSockets out;
  for (uint64_t cookie : {5, 9, 5, 0, 0, 12, 9, 5}) {
    SocketRecord s;
    s.cookie = cookie;
    s.src_port = static_cast<uint16_t>(out.sockets.size());  // which copy it was
    out.sockets.push_back(s);
    TcpInfo t;
    t.rtt_us = static_cast<uint32_t>(out.tcp_info.size());
    out.tcp_info.push_back(t);
  }
  drop_repeated_sockets(out);
  // Cookie 0 (none known) is never taken for a repeat.
  std::vector<uint16_t> kept;
  for (const auto& s : out.sockets) kept.push_back(s.src_port);
  EXPECT_EQ(kept, (std::vector<uint16_t>{0, 1, 3, 4, 5}));
  ASSERT_EQ(out.tcp_info.size(), 5U);
  for (size_t i = 0; i < kept.size(); ++i) EXPECT_EQ(out.tcp_info[i].rtt_us, kept[i]);

  // Many distinct cookies (a table that must grow and wrap) lose nothing.
  NamespaceSockets many;
  for (uint64_t c = 1; c <= 5000; ++c) {
    SocketRecord s;
    s.cookie = c * 4096;
    many.sockets.push_back(s);
  }
  many.sockets.push_back(many.sockets[1234]);
  drop_repeated_sockets(many);
  EXPECT_EQ(many.sockets.size(), 5000U);
}

// Each kind of socket's cookies rising, interleaved with other kinds' (as dumps of a namespace
// come one after the other), no row is dropped; a cookie again among its kind's is, however the
// others fall around it.
TEST(DropRepeatedSockets, RisingCookiesOfEachKindKeepEveryRow) {
  struct Row {
    Protocol protocol;
    uint8_t ip_version;
    uint64_t cookie;
  };
  auto of = [](std::initializer_list<Row> rows) {
    NamespaceSockets out;
    for (const Row& r : rows) {
      SocketRecord s;
      s.protocol = r.protocol;
      s.ip_version = r.ip_version;
      s.cookie = r.cookie;
      s.src_port = static_cast<uint16_t>(out.sockets.size());
      out.sockets.push_back(s);
      if (r.protocol == Protocol::kUnix) {
        UnixSocketInfo u;
        u.row = static_cast<uint32_t>(out.sockets.size() - 1);
        u.path = "@" + std::to_string(r.cookie);
        out.unix_sockets.push_back(u);
      }
    }
    return out;
  };
  auto kept = [](const NamespaceSockets& out) {
    std::vector<uint16_t> rows;
    for (const auto& s : out.sockets) rows.push_back(s.src_port);
    return rows;
  };
  const Protocol tcp = Protocol::kTcp, udp = Protocol::kUdp, unx = Protocol::kUnix;
  NamespaceSockets rising = of({{tcp, 4, 40},
                                {tcp, 4, 41},
                                {tcp, 6, 7},
                                {tcp, 6, 90},
                                {udp, 4, 3},
                                {udp, 6, 2},
                                {unx, 0, 1},
                                {unx, 0, 0},
                                {unx, 0, 5}});
  drop_repeated_sockets(rising);
  EXPECT_EQ(kept(rising), (std::vector<uint16_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(rising.unix_sockets.size(), 3U);

  // 41 again after its kind's 7 and 90 of another: dropped, with nothing else.
  NamespaceSockets again = of({{tcp, 4, 40},
                               {tcp, 4, 41},
                               {tcp, 6, 7},
                               {tcp, 6, 90},
                               {tcp, 4, 41},
                               {unx, 0, 1},
                               {unx, 0, 5},
                               {unx, 0, 1}});
  drop_repeated_sockets(again);
  EXPECT_EQ(kept(again), (std::vector<uint16_t>{0, 1, 2, 3, 5, 6}));
  ASSERT_EQ(again.unix_sockets.size(), 2U);
  EXPECT_EQ(again.unix_sockets[0].row, 4U);
  EXPECT_EQ(again.unix_sockets[0].path, "@1");
  EXPECT_EQ(again.unix_sockets[1].row, 5U);
  EXPECT_EQ(again.unix_sockets[1].path, "@5");
}

}  // namespace
}  // namespace socksnap
