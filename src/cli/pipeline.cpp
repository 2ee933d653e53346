#include "cli/pipeline.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>

#include "collect/collector.h"
#include "collect/replay_source.h"
#include "collect/sock_diag_source.h"
#include "discover/netns_discovery.h"
#include "discover/netns_handle.h"
#include "enrich/enricher.h"
#include "util/capabilities.h"
#include "util/strings.h"

namespace socksnap {
namespace {

// For tests: after discovery, wait until the named FIFO is written to, so a test can make a
// namespace vanish between discovery and collection.
void test_pause_after_discovery() {
  const char* fifo = std::getenv("SOCKSNAP_TEST_PAUSE_AFTER_DISCOVERY");
  if (fifo == nullptr || *fifo == '\0') return;
  int fd = ::open(fifo, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char byte = 0;
  while (::read(fd, &byte, 1) < 0 && errno == EINTR) {
  }
  ::close(fd);
}

std::vector<NetnsRef> resolve_netns_options(const Options& options, const HostPaths& paths,
                                            Warnings& warnings) {
  std::vector<NetnsRef> chosen;
  std::vector<NetnsRef> discovered;
  bool discovered_once = false;
  for (const auto& value : options.netns) {
    if (auto inode = parse_int<uint64_t>(value)) {
      if (!discovered_once) {
        discovered = discover_namespaces(paths, warnings);
        discovered_once = true;
      }
      auto it = std::find_if(discovered.begin(), discovered.end(),
                             [&](const NetnsRef& r) { return r.inode == *inode; });
      if (it == discovered.end()) {
        throw SnapshotFailure{kExitUsage,
                              fmt::format("--netns {}: no network namespace with that inode "
                                          "was found",
                                          value)};
      }
      chosen.push_back(*it);
      continue;
    }
    auto handle = NetnsHandle::open(value);
    if (!handle) throw SnapshotFailure{kExitUsage, "--netns " + handle.error().message()};
    chosen.push_back(NetnsRef{handle->inode(), value, {value}});
  }
  return chosen;
}

// What the namespaces shown hold decides the default columns: pods (Kubernetes columns),
// containers, or neither. A pod on the host's network counts, since the host's namespace is
// shown; a plain namespace given with --netns keeps the host columns on any node.
NodeKind shown_kind(const Census& census, const Snapshot& snap) {
  std::unordered_set<uint64_t> shown;
  for (const auto& ns : snap.namespaces) shown.insert(ns.inode);
  bool containers = false;
  for (size_t i = 0; i < census.processes.size(); ++i) {
    const auto& who = census.identities[i];
    if (!who || shown.count(census.processes[i].netns) == 0) continue;
    if (!who->pod_uid.empty()) return NodeKind::kKubernetes;
    containers = true;
  }
  return containers ? NodeKind::kContainers : NodeKind::kHost;
}

void require_privileges() {
  std::vector<std::string> missing;
  if (!has_capability(CAP_SYS_ADMIN))
    missing.emplace_back("CAP_SYS_ADMIN (to enter network namespaces)");
  if (!has_capability(CAP_SYS_PTRACE)) {
    missing.emplace_back("CAP_SYS_PTRACE (to find the namespaces of other users' processes)");
  }
  if (missing.empty()) return;
  std::string list = missing[0];
  if (missing.size() > 1) list += " and " + missing[1];
  throw SnapshotFailure{kExitFailure, "missing capability " + list + "; run as root"};
}

double milliseconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

SnapshotRun take_snapshot(const Options& options, Plan& plan, Warnings& warnings,
                          std::shared_ptr<const std::vector<PodLabelsByUid>> api_labels) {
  HostPaths paths(options.host_root);
  SnapshotRun run;

  std::unique_ptr<SocketSource> source;
  std::unique_ptr<DumpRecorder> recorder;
  std::vector<NetnsRef> namespaces;
  auto started = std::chrono::steady_clock::now();
  if (!options.replay_dump.empty()) {
    auto replay = ReplaySource::open(options.replay_dump);
    if (!replay) throw SnapshotFailure{kExitUsage, "--replay-dump " + replay.error().message()};
    namespaces = (*replay)->namespaces();
    if (!options.netns.empty()) {
      std::vector<NetnsRef> chosen;
      for (const auto& value : options.netns) {
        auto inode = parse_int<uint64_t>(value);
        for (const auto& ns : namespaces) {
          if (inode && ns.inode == *inode) chosen.push_back(ns);
        }
      }
      namespaces = std::move(chosen);
    }
    source = std::move(replay.value());
  } else {
    struct stat root {};
    if (options.host_root != "/" && ::stat(options.host_root.c_str(), &root) != 0) {
      throw SnapshotFailure{
          kExitUsage, fmt::format("--host-root {}: {}", options.host_root, std::strerror(errno))};
    }
    require_privileges();
    namespaces = options.netns.empty() ? discover_namespaces(paths, warnings)
                                       : resolve_netns_options(options, paths, warnings);
    if (!options.record_dump.empty()) {
      auto created = DumpRecorder::create(options.record_dump);
      if (!created) throw SnapshotFailure{kExitUsage, "--record-dump " + created.error().message()};
      recorder = std::move(created.value());
    }
    source = std::make_unique<SockDiagSource>(recorder.get());
  }
  test_pause_after_discovery();

  unsigned jobs =
      options.jobs != 0 ? options.jobs : std::max(1U, std::thread::hardware_concurrency());
  bool replay = !options.replay_dump.empty();
  EnrichOptions enrich;
  enrich.host = paths;
  enrich.runtime = RuntimePaths{options.containerd_state, options.runc_root, options.crio_storage,
                                options.docker_root, options.podman_storage};
  enrich.cri_socket = options.cri_socket;
  enrich.node_name = options.node_name;
  enrich.threads = jobs;
  enrich.api_labels = std::move(api_labels);

  // Owners: a census of the node's processes picks the default columns; the owners themselves
  // (every descriptor of every process) are read only when the output shows them. Both need no
  // sockets, so they run beside the collection: when the plan shows owners on any node, the
  // descriptor scan too (it is as costly as the dump on a busy host).
  Census census;
  census.node = node_name(options.node_name);
  std::vector<SocketFd> fds;
  bool early_fds = !replay && needs_owners_on_any_node(plan);
  bool need_census = !replay && (early_fds || kind_matters(plan));
  std::thread beside;
  struct JoinOnExit {
    std::thread& thread;
    ~JoinOnExit() {
      if (thread.joinable()) thread.join();
    }
  } join_beside{beside};
  if (need_census) {
    beside = std::thread([&] {
      census = take_census(enrich, warnings);
      if (early_fds) fds = scan_socket_fds(enrich.host, census.processes, jobs, warnings);
    });
  }
  CollectOutcome outcome = collect_snapshot(namespaces, *source, plan.request, jobs, warnings);
  if (beside.joinable()) beside.join();
  if (!namespaces.empty() && outcome.failed == namespaces.size()) {
    throw SnapshotFailure{
        kExitFailure, "no network namespace could be read: " + outcome.errors.front().message()};
  }
  if (recorder) {
    if (auto done = recorder->finish(); !done) {
      throw SnapshotFailure{kExitFailure, "--record-dump " + done.error().message()};
    }
  }
  auto collected = std::chrono::steady_clock::now();
  run.snapshot = std::move(outcome.snapshot);
  Snapshot& snap = run.snapshot;
  settle_plan(plan, shown_kind(census, snap));
  snap.node = census.node;
  if (!replay && needs_owners(plan)) {
    if (!need_census) census = take_census(enrich, warnings);
    enrich.labels = needs_labels(plan);
    enrich_snapshot(snap, census, enrich, warnings, early_fds ? &fds : nullptr);
  }
  auto enriched = std::chrono::steady_clock::now();

  run.rows = select_rows(snap, plan.selection, jobs);
  run.source = std::string(source->name());
  run.namespaces = namespaces.size();
  run.skipped = outcome.failed;
  run.threads = static_cast<unsigned>(std::min<size_t>(jobs, namespaces.size()));
  run.collect_ms = milliseconds(collected - started);
  run.owners_ms = milliseconds(enriched - collected);
  run.select_ms = milliseconds(std::chrono::steady_clock::now() - enriched);
  return run;
}

}  // namespace socksnap
