#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "model/address.h"
#include "model/states.h"
#include "render/renderer.h"
#include "render/structured_writer.h"

namespace socksnap {
namespace {

// The gadget's endpoint: kind "raw", or "pod"/"svc" with the name's namespace and name (in
// "podname", as the gadget has it for both kinds, and in socksnap's own "name").
void emit_endpoint(StructuredWriter& w, std::string_view key, uint8_t ip_version,
                   const std::array<uint8_t, 16>& addr, uint16_t port, const EndpointName* name,
                   fmt::memory_buffer& scratch) {
  scratch.clear();
  append_address(scratch, ip_version, addr);
  w.begin_object(key);
  w.field("addr", std::string_view(scratch.data(), scratch.size()));
  w.field("version", static_cast<uint64_t>(ip_version));
  if (name == nullptr) {
    w.field("kind", "raw");
  } else {
    w.field("kind", name->kind == EndpointKind::kPod ? "pod" : "svc");
    w.field("namespace", name->name_namespace);
    w.field("podname", name->name);
    w.field("name", name->name);
    if (!name->labels.empty()) {
      w.begin_object("podlabels");
      for (const auto& [label, value] : name->labels) w.field(label, value);
      w.end_object();
    }
  }
  w.field("port", static_cast<uint64_t>(port));
  w.end_object();
}

// One socket with the gadget's field names, then socksnap's own.
void emit_socket(const Snapshot& snap, size_t row, StructuredWriter& w,
                 fmt::memory_buffer& scratch) {
  const SocketRecord& s = snap.sockets[row];
  w.begin_item();
  const ContainerInfo* container = snap.container_of(row);
  const PodInfo* pod = snap.pod_of(row);
  w.begin_object("runtime");
  if (container != nullptr) {
    if (!container->runtime.empty()) w.field("runtimeName", container->runtime);
    w.field("containerId", container->id);
    if (!container->name.empty()) w.field("containerName", container->name);
    if (container->pid != 0) w.field("containerPid", static_cast<uint64_t>(container->pid));
    if (!container->image.empty()) w.field("containerImageName", container->image);
  }
  w.end_object();
  w.begin_object("k8s");
  if (const std::string& node = snap.node_of(row); !node.empty()) w.field("node", node);
  if (pod != nullptr) {
    if (!pod->pod_namespace.empty()) w.field("namespace", pod->pod_namespace);
    if (!pod->name.empty()) w.field("podName", pod->name);
    if (container != nullptr && container->pod != kNone && !container->name.empty()) {
      w.field("containerName", container->name);
    }
    if (pod->host_network) w.field("hostNetwork", true);
    if (!pod->labels.empty()) {
      w.begin_object("podLabels");
      for (const auto& [key, value] : pod->labels) w.field(key, value);
      w.end_object();
    }
  }
  w.end_object();
  w.field("netnsid", s.netns);
  w.field("protocol", protocol_name(s.protocol));
  emit_endpoint(w, "src", s.ip_version, s.src_addr, s.src_port, snap.src_name_of(row), scratch);
  emit_endpoint(w, "dst", s.ip_version, s.dst_addr, s.dst_port, snap.dst_name_of(row), scratch);
  std::string_view status = status_name(s.protocol, s.state);
  if (status.empty()) {
    scratch.clear();
    fmt::format_to(std::back_inserter(scratch), "{}", s.state);
    status = std::string_view(scratch.data(), scratch.size());
  }
  w.field("status", status);
  w.field("inodeNumber", s.inode);
  if (const SocketOwner* owner = snap.owner_of(row); owner != nullptr && owner->holder_count > 0) {
    const ProcessInfo& first = snap.processes[snap.holders[owner->first_holder].process];
    w.field("pid", static_cast<uint64_t>(first.pid));
    w.field("comm", first.comm);
    w.begin_list("processes");
    for (uint32_t h = owner->first_holder; h < owner->first_holder + owner->holder_count; ++h) {
      const SocketHolder& holder = snap.holders[h];
      const ProcessInfo& p = snap.processes[holder.process];
      w.begin_list_item();
      w.field("pid", static_cast<uint64_t>(p.pid));
      w.field("comm", p.comm);
      w.field("fd", static_cast<uint64_t>(holder.fd));
      w.end_list_item();
    }
    w.end_list();
  }
  w.field("uid", static_cast<uint64_t>(s.uid));
  w.field("rxQueue", static_cast<uint64_t>(s.rx_queue));
  w.field("txQueue", static_cast<uint64_t>(s.tx_queue));
  w.field("cookie", s.cookie);
  if (s.ifindex != 0) {
    scratch.clear();
    find_column("interface")->text(snap, row, scratch);
    w.field("interface", std::string_view(scratch.data(), scratch.size()));
  }
  if (const TcpInfo* t = snap.tcp_info_of(row)) {
    w.begin_object("tcpInfo");
    w.field("rtt", t->rtt_us / 1000.0);
    w.field("rttvar", t->rttvar_us / 1000.0);
    w.field("cwnd", static_cast<uint64_t>(t->snd_cwnd));
    w.field("retrans", static_cast<uint64_t>(t->total_retrans));
    w.field("bytesAcked", t->bytes_acked);
    w.field("bytesReceived", t->bytes_received);
    w.field("bytesSent", t->bytes_sent);
    if (t->congestion[0] != '\0') w.field("congestion", std::string_view(t->congestion.data()));
    w.end_object();
  }
  w.end_item();
}

}  // namespace

namespace {

std::unique_ptr<StructuredWriter> make_writer(OutputFormat format, OutputSink& out,
                                              JsonStrings strings = JsonStrings::kUnicode) {
  return format == OutputFormat::kYaml
             ? make_yaml_writer(out)
             : make_json_writer(out, format == OutputFormat::kJsonPretty, strings);
}

// Rows each thread formats at a time: large enough to pay for a thread, small enough that the
// pieces waiting to be written hold little memory.
constexpr size_t kPieceRows = 8192;

}  // namespace

void render_structured(const Snapshot& snap, const std::vector<uint32_t>& rows, OutputFormat format,
                       OutputSink& out, unsigned threads, JsonStrings strings) {
  fmt::memory_buffer scratch;
  auto writer = make_writer(format, out, strings);
  writer->begin_document();
  if (threads <= 1 || rows.size() < 2 * kPieceRows) {
    for (uint32_t row : rows) {
      emit_socket(snap, row, *writer, scratch);
      if (out.reader_gone()) return;
    }
    writer->end_document();
    return;
  }
  // Rounds of one piece per thread, written out in order as soon as the round is done.
  std::vector<std::string> pieces(threads);
  for (size_t start = 0; start < rows.size(); start += threads * kPieceRows) {
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) {
      size_t begin = start + t * kPieceRows;
      size_t end = std::min(rows.size(), begin + kPieceRows);
      pieces[t].clear();
      if (begin >= end) continue;
      workers.emplace_back([&snap, &rows, &piece = pieces[t], begin, end, format, strings] {
        OutputSink sink(&piece);
        auto w = make_writer(format, sink, strings);
        w->resume_document(begin);
        fmt::memory_buffer local;
        for (size_t i = begin; i < end; ++i) emit_socket(snap, rows[i], *w, local);
        (void)sink.finish();  // into a string: cannot fail
      });
    }
    for (auto& worker : workers) worker.join();
    for (const auto& piece : pieces) out.write_through(piece);
    if (out.reader_gone()) return;
  }
  auto closing = make_writer(format, out, strings);
  closing->resume_document(rows.size());
  closing->end_document();
}

std::string StructuredPieces::format(const Snapshot& snap, const std::vector<uint32_t>& rows,
                                     OutputFormat format) {
  std::string piece;
  OutputSink sink(&piece);
  auto writer = make_writer(format, sink);
  writer->resume_document(0);  // as the first items: add() puts a separator before the others
  fmt::memory_buffer scratch;
  for (uint32_t row : rows) emit_socket(snap, row, *writer, scratch);
  (void)sink.finish();  // into a string: cannot fail
  return piece;
}

void StructuredPieces::begin() {
  make_writer(format_, out_)->begin_document();
}

void StructuredPieces::add(std::string_view piece, size_t items) {
  if (items == 0) return;
  // Only JSON separates items, with a comma before every item but the first.
  if (items_ > 0 && format_ != OutputFormat::kYaml) out_.append(",");
  out_.write_through(piece);
  items_ += items;
}

void StructuredPieces::end() {
  auto closing = make_writer(format_, out_);
  closing->resume_document(items_);
  closing->end_document();
}

}  // namespace socksnap
