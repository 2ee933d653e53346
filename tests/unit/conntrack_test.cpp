// Conntrack tables: the ctnetlink request as bytes, replies parsed from bytes the kernel really
// sent (tests/data/conntrack.dump, made by tests/data/capture_conntrack.sh) and from entries
// libnetfilter-conntrack builds as the kernel lays them out, and the matching of sockets to
// translated entries (enrich/translations.h).
#include "collect/conntrack.h"

#include <gtest/gtest.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <fstream>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "enrich/translations.h"
#include "model/states.h"
#include "snapshot/take_snapshot.h"
#include "test_support.h"
#include "util/sys.h"
#include "util/unaligned.h"

namespace socksnap {
namespace {

using test::ip;
using test::make_socket;
using test::Reply;

constexpr uint16_t kCtNew = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;

ConntrackTuple tuple(std::string_view src, uint16_t sport, std::string_view dst, uint16_t dport) {
  return ConntrackTuple{ip(src), ip(dst), sport, dport};
}

// An entry: the original tuple src:sport -> dst:dport, the reply from rsrc:rsport to rdst:rdport.
ConntrackEntry entry(Protocol protocol, std::string_view src, uint16_t sport, std::string_view dst,
                     uint16_t dport, std::string_view rsrc, uint16_t rsport, std::string_view rdst,
                     uint16_t rdport, uint32_t status = IPS_CONFIRMED) {
  ConntrackEntry e;
  e.protocol = protocol;
  e.ip_version = test::ip_version_of(src);
  e.original = tuple(src, sport, dst, dport);
  e.reply = tuple(rsrc, rsport, rdst, rdport);
  e.status = status;
  return e;
}

// A kube-proxy DNAT: client -> service, answered by the backend.
ConntrackEntry dnat(Protocol protocol, std::string_view client, uint16_t cport,
                    std::string_view service, uint16_t sport, std::string_view backend,
                    uint16_t bport) {
  return entry(protocol, client, cport, service, sport, backend, bport, client, cport,
               IPS_CONFIRMED | IPS_DST_NAT);
}

struct FreeConntrack {
  void operator()(nf_conntrack* ct) const { nfct_destroy(ct); }
};

// The IPCTNL_MSG_CT_NEW message of `e` as a dump carries it, built by libnetfilter-conntrack;
// `with_reply`: false leaves the reply tuple out (no kernel does).
std::vector<uint8_t> entry_message(const ConntrackEntry& e, bool with_reply = true,
                                   uint8_t l4proto = 0) {
  std::unique_ptr<nf_conntrack, FreeConntrack> ct(nfct_new());
  uint8_t family = e.ip_version == 4 ? AF_INET : AF_INET6;
  int proto = e.protocol == Protocol::kTcp   ? IPPROTO_TCP
              : e.protocol == Protocol::kUdp ? IPPROTO_UDP
                                             : IPPROTO_UDPLITE;
  if (l4proto != 0) proto = l4proto;
  auto set_tuple = [&](const ConntrackTuple& t, bool reply) {
    nfct_set_attr_u8(ct.get(), reply ? ATTR_REPL_L3PROTO : ATTR_ORIG_L3PROTO, family);
    nfct_set_attr_u8(ct.get(), reply ? ATTR_REPL_L4PROTO : ATTR_ORIG_L4PROTO,
                     static_cast<uint8_t>(proto));
    if (family == AF_INET) {
      uint32_t src = 0;
      uint32_t dst = 0;
      std::memcpy(&src, t.src.data(), 4);
      std::memcpy(&dst, t.dst.data(), 4);
      nfct_set_attr_u32(ct.get(), reply ? ATTR_REPL_IPV4_SRC : ATTR_ORIG_IPV4_SRC, src);
      nfct_set_attr_u32(ct.get(), reply ? ATTR_REPL_IPV4_DST : ATTR_ORIG_IPV4_DST, dst);
    } else {
      nfct_set_attr(ct.get(), reply ? ATTR_REPL_IPV6_SRC : ATTR_ORIG_IPV6_SRC, t.src.data());
      nfct_set_attr(ct.get(), reply ? ATTR_REPL_IPV6_DST : ATTR_ORIG_IPV6_DST, t.dst.data());
    }
    nfct_set_attr_u16(ct.get(), reply ? ATTR_REPL_PORT_SRC : ATTR_ORIG_PORT_SRC, htons(t.src_port));
    nfct_set_attr_u16(ct.get(), reply ? ATTR_REPL_PORT_DST : ATTR_ORIG_PORT_DST, htons(t.dst_port));
  };
  set_tuple(e.original, false);
  if (with_reply) set_tuple(e.reply, true);
  nfct_set_attr_u32(ct.get(), ATTR_STATUS, e.status);

  alignas(nlmsghdr) std::array<uint8_t, 1024> room{};
  auto* header = reinterpret_cast<nlmsghdr*>(room.data());
  header->nlmsg_len = NLMSG_LENGTH(sizeof(nfgenmsg));
  header->nlmsg_type = kCtNew;
  header->nlmsg_flags = NLM_F_MULTI;
  auto* nfg = reinterpret_cast<nfgenmsg*>(room.data() + NLMSG_HDRLEN);
  nfg->nfgen_family = family;
  nfg->version = NFNETLINK_V0;
  EXPECT_EQ(nfct_nlmsg_build(header, ct.get()), 0);
  return {room.begin(), room.begin() + NLMSG_ALIGN(header->nlmsg_len)};
}

Result<std::vector<ConntrackEntry>> parse_all(std::span<const uint8_t> bytes) {
  std::vector<ConntrackEntry> out;
  auto parsed = parse_conntrack_chunk(bytes, out);
  if (!parsed) return parsed.error();
  if (!parsed->done) return plain_error("no NLMSG_DONE");
  return out;
}

std::vector<uint8_t> with_done(std::initializer_list<std::vector<uint8_t>> messages) {
  Reply r;
  for (const auto& m : messages) r.raw(m);
  r.done();
  return r.bytes();
}

// ---- The request ----

TEST(ConntrackRequest, DumpsBothFamiliesInOneWalk) {
  auto request = build_conntrack_request({}, 7);
  ASSERT_EQ(request.size(), NLMSG_LENGTH(sizeof(nfgenmsg)));
  auto header = load_unaligned<nlmsghdr>(request.data());
  EXPECT_EQ(header.nlmsg_len, request.size());
  EXPECT_EQ(header.nlmsg_type, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET);
  EXPECT_EQ(header.nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
  EXPECT_EQ(header.nlmsg_seq, 7U);
  auto family = load_unaligned<nfgenmsg>(request.data() + NLMSG_HDRLEN);
  EXPECT_EQ(family.nfgen_family, AF_UNSPEC);
  EXPECT_EQ(family.version, NFNETLINK_V0);
}

TEST(ConntrackRequest, AsksTheKernelForTranslatedEntriesOnly) {
  auto request = build_conntrack_request(ConntrackOptions{.translated_only = true}, 1);
  size_t offset = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));
  ASSERT_EQ(request.size(), offset + size_t{2} * NLA_ALIGN(NLA_HDRLEN + 4));
  // CTA_STATUS and CTA_STATUS_MASK, both IPS_DST_NAT, in network order.
  std::vector<std::pair<uint16_t, uint32_t>> attrs;
  while (offset < request.size()) {
    auto a = load_unaligned<nlattr>(request.data() + offset);
    attrs.emplace_back(a.nla_type & NLA_TYPE_MASK,
                       ntohl(load_unaligned<uint32_t>(request.data() + offset + NLA_HDRLEN)));
    offset += NLA_ALIGN(a.nla_len);
  }
  EXPECT_EQ(attrs, (std::vector<std::pair<uint16_t, uint32_t>>{{CTA_STATUS, IPS_DST_NAT},
                                                               {CTA_STATUS_MASK, IPS_DST_NAT}}));
  auto family = load_unaligned<nfgenmsg>(request.data() + NLMSG_HDRLEN);
  EXPECT_EQ(family.nfgen_family, AF_UNSPEC);
}

// ---- Replies the kernel sent ----

std::vector<std::vector<uint8_t>> captured_datagrams() {
  auto bytes = test::read_bytes(test::data_path("conntrack.dump"));
  std::vector<std::vector<uint8_t>> out;
  size_t offset = 0;
  while (offset + 4 <= bytes.size()) {
    auto length = load_unaligned<uint32_t>(bytes.data() + offset);
    offset += 4;
    out.emplace_back(bytes.begin() + offset, bytes.begin() + offset + length);
    offset += length;
  }
  return out;
}

uint16_t fact(const char* name) {
  std::ifstream in(test::data_path("conntrack.facts.json"));
  return nlohmann::json::parse(in).at(name).get<uint16_t>();
}

TEST(ConntrackReply, ParsesWhatTheKernelSent) {
  std::vector<ConntrackEntry> entries;
  bool done = false;
  for (const auto& datagram : captured_datagrams()) {
    ASSERT_FALSE(done);
    auto parsed = parse_conntrack_chunk(datagram, entries);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message();
    EXPECT_FALSE(parsed->interrupted);
    done = parsed->done;
  }
  EXPECT_TRUE(done);
  // Every TCP and UDP entry, in any order; the ICMP echo is left out.
  uint16_t tcp4 = fact("tcp4"), tcp6 = fact("tcp6"), mapped = fact("mapped");
  uint16_t udp = fact("udp"), snat = fact("snat");
  auto same_entry = [](const ConntrackEntry& a, const ConntrackEntry& b) {
    return a.protocol == b.protocol && a.ip_version == b.ip_version && a.original == b.original &&
           a.reply == b.reply;
  };
  const ConntrackEntry expected[] = {
      dnat(Protocol::kTcp, "10.213.15.1", tcp4, "10.96.213.20", 80, "10.213.15.1", 8080),
      dnat(Protocol::kTcp, "fd00:213:15::1", tcp6, "fd00:96:213::20", 80, "fd00:213:15::1", 8080),
      dnat(Protocol::kTcp, "10.213.15.1", mapped, "10.96.213.20", 80, "10.213.15.1", 8080),
      dnat(Protocol::kUdp, "10.213.15.1", udp, "10.96.213.20", 53, "10.213.15.1", 5353),
      // Source translation only: the reply's destination changed, not its source.
      entry(Protocol::kTcp, "10.213.15.1", snat, "10.213.15.1", 9090, "10.213.15.1", 9090,
            "10.213.15.3", snat),
  };
  ASSERT_EQ(entries.size(), std::size(expected));
  for (const auto& want : expected) {
    auto found = std::find_if(entries.begin(), entries.end(),
                              [&](const ConntrackEntry& e) { return same_entry(e, want); });
    ASSERT_NE(found, entries.end()) << "missing the entry from port " << want.original.src_port;
    bool translated = (want.status & IPS_DST_NAT) != 0;
    EXPECT_EQ(found->destination_translated(), translated) << want.original.src_port;
    EXPECT_EQ((found->status & IPS_DST_NAT) != 0, translated) << want.original.src_port;
    EXPECT_EQ((found->status & IPS_SRC_NAT) != 0, !translated) << want.original.src_port;
    EXPECT_NE(found->status & IPS_CONFIRMED, 0U);
  }
}

TEST(ConntrackReply, ParsesAnyAlignment) {
  // A chunk handed over at an odd address (a fuzzer's, a file's) parses the same.
  auto datagrams = captured_datagrams();
  std::vector<ConntrackEntry> aligned;
  std::vector<ConntrackEntry> unaligned;
  for (const auto& d : datagrams) {
    ASSERT_TRUE(parse_conntrack_chunk(d, aligned).ok());
    std::vector<uint8_t> shifted(d.size() + 1);
    std::copy(d.begin(), d.end(), shifted.begin() + 1);
    ASSERT_TRUE(parse_conntrack_chunk(std::span(shifted).subspan(1), unaligned).ok());
  }
  EXPECT_EQ(aligned, unaligned);
  EXPECT_EQ(aligned.size(), 5U);
}

// ---- Replies built by the library ----

TEST(ConntrackReply, RoundTripsEveryFamilyAndProtocol) {
  const ConntrackEntry entries[] = {
      dnat(Protocol::kTcp, "10.244.1.5", 40000, "10.96.0.10", 80, "10.244.2.7", 8080),
      dnat(Protocol::kUdp, "fd00:244:1::5", 41000, "fd00:96::a", 53, "fd00:244:2::7", 5353),
      dnat(Protocol::kUdpLite, "10.244.1.5", 42000, "10.96.0.11", 9, "10.244.2.8", 9),
      entry(Protocol::kTcp, "10.244.1.5", 43000, "1.1.1.1", 443, "1.1.1.1", 443, "192.0.2.1", 61000,
            IPS_CONFIRMED | IPS_SRC_NAT),
  };
  auto bytes = with_done({entry_message(entries[0]), entry_message(entries[1]),
                          entry_message(entries[2]), entry_message(entries[3])});
  auto parsed = parse_all(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(*parsed, std::vector<ConntrackEntry>(std::begin(entries), std::end(entries)));
  EXPECT_TRUE((*parsed)[0].destination_translated());
  EXPECT_TRUE((*parsed)[1].destination_translated());
  EXPECT_FALSE((*parsed)[3].destination_translated());  // SNAT only
}

TEST(ConntrackReply, LeavesOutOtherProtocols) {
  auto sctp = dnat(Protocol::kTcp, "10.0.0.1", 1000, "10.96.0.1", 80, "10.0.0.2", 80);
  auto bytes = with_done({entry_message(sctp, true, IPPROTO_SCTP)});
  auto parsed = parse_all(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_TRUE(parsed->empty());
}

TEST(ConntrackReply, RefusesAnEntryWithoutItsReplyTuple) {
  auto e = dnat(Protocol::kTcp, "10.0.0.1", 1000, "10.96.0.1", 80, "10.0.0.2", 80);
  auto parsed = parse_all(with_done({entry_message(e, false)}));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, EBADMSG);
  EXPECT_EQ(parsed.error().message(), "malformed conntrack entry: Bad message");
}

TEST(ConntrackReply, KernelErrorsAreValues) {
  // Without CAP_NET_ADMIN the kernel answers the request with an error message.
  auto denied = parse_all(Reply().error(-EPERM).bytes());
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, EPERM);
  EXPECT_EQ(denied.error().message(), "conntrack dump request: Operation not permitted");
  auto failed = parse_all(Reply().done(-ENOBUFS).bytes());
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ENOBUFS);
  auto nonsense = parse_all(Reply().error(INT_MIN).bytes());
  ASSERT_FALSE(nonsense.ok());
  EXPECT_EQ(nonsense.error().code, EPROTO);
}

TEST(ConntrackReply, MalformedBytesAreRefused) {
  auto e = dnat(Protocol::kTcp, "10.0.0.1", 1000, "10.96.0.1", 80, "10.0.0.2", 80);
  auto message = entry_message(e);
  // Cut short: the header says more than there is.
  std::vector<ConntrackEntry> out;
  auto cut = parse_conntrack_chunk(std::span(message).first(message.size() - 8), out);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, EBADMSG);
  // A length below the header's.
  auto bad = message;
  uint32_t tiny = 4;
  std::memcpy(bad.data(), &tiny, sizeof tiny);
  EXPECT_FALSE(parse_conntrack_chunk(bad, out).ok());
  // An entry message too short for its nfgenmsg.
  Reply short_entry;
  short_entry.message(kCtNew, NLM_F_MULTI, std::vector<uint8_t>{1, 0});
  auto too_short = parse_conntrack_chunk(short_entry.bytes(), out);
  ASSERT_FALSE(too_short.ok());
  EXPECT_EQ(too_short.error().message(), "truncated conntrack message: Bad message");
  EXPECT_TRUE(out.empty());
  // Bytes past the last whole message (what came before is the caller's to drop with it).
  auto trailing = message;
  trailing.push_back(0);
  auto past = parse_conntrack_chunk(trailing, out);
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().message(), "conntrack reply cut short: Bad message");
}

TEST(ConntrackReply, MessagesOfOtherTypesAreSkippedAndInterruptionsSaid) {
  auto e = dnat(Protocol::kTcp, "10.0.0.1", 1000, "10.96.0.1", 80, "10.0.0.2", 80);
  Reply r;
  r.message(NLMSG_NOOP, 0, std::vector<uint8_t>{0, 0, 0, 0});
  auto m = entry_message(e);
  uint16_t flags = NLM_F_MULTI | NLM_F_DUMP_INTR;
  std::memcpy(m.data() + offsetof(nlmsghdr, nlmsg_flags), &flags, sizeof flags);
  r.raw(m);
  std::vector<ConntrackEntry> out;
  auto parsed = parse_conntrack_chunk(r.bytes(), out);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_FALSE(parsed->done);
  EXPECT_TRUE(parsed->interrupted);
  EXPECT_EQ(out, std::vector<ConntrackEntry>{e});
}

// ---- Reading, through the syscall seam ----

// A fake kernel for read_conntrack(): the count file, the ctnetlink socket, canned replies.
struct FakeConntrack {
  std::optional<std::string> count = "3\n";  // nullopt: the file is not there
  std::deque<int> recv_errors;               // errno per recv call before the replies
  std::deque<std::vector<uint8_t>> replies;
  int sockets = 0;
  std::vector<std::vector<uint8_t>> requests;
};
FakeConntrack* g_fake = nullptr;

int fake_conntrack_open(const char* path, int flags) {
  if (std::string_view(path) != "/proc/sys/net/netfilter/nf_conntrack_count") {
    return ::open(path, flags | O_CLOEXEC);
  }
  if (!g_fake->count) {
    errno = ENOENT;
    return -1;
  }
  int fd = ::memfd_create("count", MFD_CLOEXEC);
  EXPECT_EQ(::write(fd, g_fake->count->data(), g_fake->count->size()),
            static_cast<ssize_t>(g_fake->count->size()));
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}
int fake_conntrack_socket(int domain, int /*type*/, int protocol) {
  EXPECT_EQ(domain, AF_NETLINK);
  EXPECT_EQ(protocol, NETLINK_NETFILTER);
  ++g_fake->sockets;
  return ::memfd_create("ctnetlink", MFD_CLOEXEC);
}
ssize_t fake_conntrack_sendmsg(int /*fd*/, const msghdr* msg, int /*flags*/) {
  const auto* base = static_cast<const uint8_t*>(msg->msg_iov[0].iov_base);
  g_fake->requests.emplace_back(base, base + msg->msg_iov[0].iov_len);
  return static_cast<ssize_t>(msg->msg_iov[0].iov_len);
}
ssize_t fake_conntrack_recv(int /*fd*/, void* buf, size_t len, int /*flags*/) {
  if (!g_fake->recv_errors.empty()) {
    errno = g_fake->recv_errors.front();
    g_fake->recv_errors.pop_front();
    return -1;
  }
  if (g_fake->replies.empty()) return 0;
  std::vector<uint8_t> reply = std::move(g_fake->replies.front());
  g_fake->replies.pop_front();
  std::memcpy(buf, reply.data(), std::min(len, reply.size()));
  return static_cast<ssize_t>(reply.size());
}

class ConntrackRead : public ::testing::Test {
 protected:
  void SetUp() override { g_fake = &fake_; }
  void TearDown() override { g_fake = nullptr; }
  FakeConntrack fake_;
  ScopedSyscall<int (*)(const char*, int)> open_{&Syscalls::open, fake_conntrack_open};
  ScopedSyscall<int (*)(int, int, int)> socket_{&Syscalls::socket, fake_conntrack_socket};
  ScopedSyscall<ssize_t (*)(int, const msghdr*, int)> send_{&Syscalls::sendmsg,
                                                            fake_conntrack_sendmsg};
  ScopedSyscall<ssize_t (*)(int, void*, size_t, int)> recv_{&Syscalls::recv, fake_conntrack_recv};
};

TEST_F(ConntrackRead, ReadsEveryDatagramAndRetriesAnInterruptedReceive) {
  auto a = dnat(Protocol::kTcp, "10.0.0.1", 1000, "10.96.0.1", 80, "10.0.0.2", 8080);
  auto b = dnat(Protocol::kUdp, "fd00::1", 2000, "fd00:96::1", 53, "fd00::2", 5353);
  fake_.recv_errors = {EINTR};
  fake_.replies = {entry_message(a), with_done({entry_message(b)})};
  auto read = read_conntrack(ConntrackOptions{.translated_only = true});
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_EQ(*read, (std::vector<ConntrackEntry>{a, b}));
  EXPECT_EQ(fake_.sockets, 1);
  ASSERT_EQ(fake_.requests.size(), 1U);
  EXPECT_EQ(fake_.requests[0],
            build_conntrack_request(ConntrackOptions{.translated_only = true}, 1));
}

TEST_F(ConntrackRead, AnEmptyTableIsNotDumpedUnlessAsked) {
  fake_.count = "0\n";
  auto skipped = read_conntrack();
  ASSERT_TRUE(skipped.ok());
  EXPECT_TRUE(skipped->empty());
  EXPECT_EQ(fake_.sockets, 0);
  fake_.replies = {Reply().done().bytes()};
  auto dumped = read_conntrack(ConntrackOptions{.skip_empty = false});
  ASSERT_TRUE(dumped.ok()) << dumped.error().message();
  EXPECT_EQ(fake_.sockets, 1);
}

TEST_F(ConntrackRead, WithoutNfConntrackNothingIsAskedOfTheKernel) {
  // Asking would make the kernel load the module: the table's absence is said instead.
  fake_.count = std::nullopt;
  auto read = read_conntrack(ConntrackOptions{.skip_empty = false});
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, ENOPROTOOPT);
  EXPECT_EQ(read.error().message(),
            "nf_conntrack is not loaded (there is no /proc/sys/net/netfilter/nf_conntrack_count): "
            "Protocol not available");
  EXPECT_EQ(fake_.sockets, 0);
}

TEST_F(ConntrackRead, KernelAndReceiveErrorsAreValues) {
  fake_.replies = {Reply().error(-EPERM).bytes()};
  auto denied = read_conntrack();
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, EPERM);
  fake_.recv_errors = {ENOBUFS};
  auto lost = read_conntrack();
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().message(), "receive the conntrack dump: No buffer space available");
  // The socket closed before the dump's end.
  fake_.replies = {
      entry_message(dnat(Protocol::kTcp, "10.0.0.1", 1000, "10.96.0.1", 80, "10.0.0.2", 8080))};
  auto ended = read_conntrack();
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(ended.error().message(), "conntrack dump ended without NLMSG_DONE: Bad message");
}

// ---- Matching sockets to entries ----

constexpr uint64_t kNodeNetns = 4026531840;
constexpr uint64_t kPodNetns = 4026532001;
constexpr uint64_t kOtherPodNetns = 4026532002;

SocketRecord socket_in(uint64_t netns, Protocol protocol, std::string_view src, uint16_t sport,
                       std::string_view dst, uint16_t dport) {
  SocketRecord s = make_socket(protocol, src, sport, dst, dport, kTcpEstablished);
  s.netns = netns;
  return s;
}

ConntrackTable node_table(std::vector<ConntrackEntry> entries) {
  return ConntrackTable{kNodeNetns, true, std::move(entries)};
}

TranslatedDestination backend(std::string_view addr, uint16_t port) {
  return TranslatedDestination{true, test::ip_version_of(addr), ip(addr), port};
}

TEST(Translations, PodSocketsTakeTheNodesDnat) {
  Snapshot snap;
  snap.sockets = {
      socket_in(kPodNetns, Protocol::kTcp, "10.244.1.5", 40000, "10.96.0.10", 80),
      // The server's side of the same connection: its tuple is the reply's, reversed.
      socket_in(kOtherPodNetns, Protocol::kTcp, "10.244.2.7", 8080, "10.244.1.5", 40000),
      // Another port of the same client: no entry.
      socket_in(kPodNetns, Protocol::kTcp, "10.244.1.5", 40001, "10.96.0.10", 80),
  };
  std::vector<ConntrackTable> tables = {node_table(
      {dnat(Protocol::kTcp, "10.244.1.5", 40000, "10.96.0.10", 80, "10.244.2.7", 8080)})};
  EXPECT_EQ(translate_destinations(snap, tables), 1U);
  ASSERT_EQ(snap.translations.size(), 3U);
  ASSERT_NE(snap.translation_of(0), nullptr);
  EXPECT_EQ(*snap.translation_of(0), backend("10.244.2.7", 8080));
  EXPECT_EQ(snap.translation_of(1), nullptr);
  EXPECT_EQ(snap.translation_of(2), nullptr);
}

TEST(Translations, IPv6AndUdp) {
  Snapshot snap;
  snap.sockets = {
      socket_in(kPodNetns, Protocol::kTcp, "fd00:244:1::5", 40000, "fd00:96::a", 80),
      socket_in(kPodNetns, Protocol::kUdp, "10.244.1.5", 53000, "10.96.0.10", 53),
      // The same ends over TCP: the UDP entry is not its.
      socket_in(kPodNetns, Protocol::kTcp, "10.244.1.5", 53000, "10.96.0.10", 53),
  };
  std::vector<ConntrackTable> tables = {node_table({
      dnat(Protocol::kTcp, "fd00:244:1::5", 40000, "fd00:96::a", 80, "fd00:244:2::7", 8080),
      dnat(Protocol::kUdp, "10.244.1.5", 53000, "10.96.0.10", 53, "10.244.3.9", 5353),
  })};
  EXPECT_EQ(translate_destinations(snap, tables), 2U);
  ASSERT_NE(snap.translation_of(0), nullptr);
  EXPECT_EQ(*snap.translation_of(0), backend("fd00:244:2::7", 8080));
  ASSERT_NE(snap.translation_of(1), nullptr);
  EXPECT_EQ(*snap.translation_of(1), backend("10.244.3.9", 5353));
  EXPECT_EQ(snap.translation_of(2), nullptr);
}

TEST(Translations, V4MappedSocketsMatchIPv4Entries) {
  Snapshot snap;
  snap.sockets = {
      socket_in(kNodeNetns, Protocol::kTcp, "::ffff:10.0.0.5", 40000, "::ffff:10.96.0.10", 80),
      // Mapped destination, but not a mapped source: no IPv4 flow has these ends.
      socket_in(kNodeNetns, Protocol::kTcp, "fd00::5", 40000, "::ffff:10.96.0.10", 80),
  };
  std::vector<ConntrackTable> tables = {
      node_table({dnat(Protocol::kTcp, "10.0.0.5", 40000, "10.96.0.10", 80, "10.244.2.7", 8080)})};
  EXPECT_EQ(translate_destinations(snap, tables), 1U);
  ASSERT_NE(snap.translation_of(0), nullptr);
  EXPECT_EQ(*snap.translation_of(0), backend("10.244.2.7", 8080));
  EXPECT_EQ(snap.translation_of(0)->ip_version, 4);
  EXPECT_EQ(snap.translation_of(1), nullptr);
}

TEST(Translations, SourceTranslationAloneIsNotADestination) {
  Snapshot snap;
  snap.sockets = {socket_in(kPodNetns, Protocol::kTcp, "10.244.1.5", 40000, "1.1.1.1", 443)};
  std::vector<ConntrackTable> tables = {
      node_table({entry(Protocol::kTcp, "10.244.1.5", 40000, "1.1.1.1", 443, "1.1.1.1", 443,
                        "192.0.2.1", 61000, IPS_CONFIRMED | IPS_SRC_NAT)})};
  EXPECT_EQ(translate_destinations(snap, tables), 0U);
  EXPECT_TRUE(snap.translations.empty());
  EXPECT_EQ(snap.translation_of(0), nullptr);
}

TEST(Translations, APortAloneTranslatedIsOne) {
  // A redirect to another port of the same address (REDIRECT, a sidecar's).
  Snapshot snap;
  snap.sockets = {socket_in(kPodNetns, Protocol::kTcp, "10.244.1.5", 40000, "10.244.1.5", 80)};
  std::vector<ConntrackTable> tables = {ConntrackTable{
      kPodNetns,
      false,
      {dnat(Protocol::kTcp, "10.244.1.5", 40000, "10.244.1.5", 80, "10.244.1.5", 15001)}}};
  EXPECT_EQ(translate_destinations(snap, tables), 1U);
  EXPECT_EQ(*snap.translation_of(0), backend("10.244.1.5", 15001));
}

TEST(Translations, ANamespacesOwnTableComesFirstAndAppliesToItAlone) {
  Snapshot snap;
  snap.sockets = {
      socket_in(kPodNetns, Protocol::kTcp, "10.244.1.5", 40000, "10.96.0.10", 80),
      // Same ends in another namespace (addresses repeat across isolated namespaces).
      socket_in(kOtherPodNetns, Protocol::kTcp, "10.244.1.5", 40000, "10.96.0.10", 80),
      socket_in(kOtherPodNetns, Protocol::kTcp, "10.244.1.5", 40001, "10.96.0.10", 80),
  };
  std::vector<ConntrackTable> tables = {
      node_table({dnat(Protocol::kTcp, "10.244.1.5", 40000, "10.96.0.10", 80, "10.244.2.7", 8080)}),
      ConntrackTable{
          kPodNetns,
          false,
          {dnat(Protocol::kTcp, "10.244.1.5", 40000, "10.96.0.10", 80, "127.0.0.1", 15001),
           // Not translated in the pod's own table: the node's entry for it stands.
           entry(Protocol::kTcp, "10.244.1.5", 40001, "10.96.0.10", 80, "10.96.0.10", 80,
                 "10.244.1.5", 40001)}},
      ConntrackTable{
          kPodNetns + 100,
          false,
          {dnat(Protocol::kTcp, "10.244.1.5", 40001, "10.96.0.10", 80, "10.244.9.9", 9999)}},
  };
  EXPECT_EQ(translate_destinations(snap, tables), 2U);
  EXPECT_EQ(*snap.translation_of(0), backend("127.0.0.1", 15001));
  EXPECT_EQ(*snap.translation_of(1), backend("10.244.2.7", 8080));  // the node's
  EXPECT_EQ(snap.translation_of(2), nullptr);  // a third namespace's table is not its
}

TEST(Translations, NoTablesNoTranslations) {
  Snapshot snap;
  snap.sockets = {socket_in(kPodNetns, Protocol::kTcp, "10.244.1.5", 40000, "10.96.0.10", 80)};
  snap.translations.resize(1);  // a stale one is not kept
  EXPECT_EQ(translate_destinations(snap, {}), 0U);
  EXPECT_TRUE(snap.translations.empty());
}

TEST(Translations, OnlyARunThatAsksReadsConntrack) {
  auto plain = compile_query(QueryOptions{});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->needs_translations());
  EXPECT_EQ(plain->request.conntrack, ConntrackScope::kOff);
  QueryOptions options;
  options.translations = true;
  auto asked = compile_query(options);
  ASSERT_TRUE(asked.ok());
  EXPECT_TRUE(asked->needs_translations());
  EXPECT_EQ(asked->request.conntrack, ConntrackScope::kNodeAndNamespaces);
}

TEST(Translations, VerboseSummary) {
  ConntrackSummary summary{true, 3, 10000, 12, 4.24};
  EXPECT_EQ(describe_conntrack(summary),
            "conntrack: 3 tables, 10000 entries read in 4.2 ms; 12 sockets translated");
  EXPECT_EQ(describe_conntrack(ConntrackSummary{true, 1, 1, 1, 0.5}),
            "conntrack: 1 table, 1 entry read in 0.5 ms; 1 socket translated");
  EXPECT_EQ(describe_conntrack(ConntrackSummary{}), "conntrack: not read");
}

}  // namespace
}  // namespace socksnap
