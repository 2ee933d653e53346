#include "snapshot/take_snapshot.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>

#include "analyze/direction.h"
#include "collect/bpf_tasks.h"
#include "collect/collector.h"
#include "collect/conntrack.h"
#include "enrich/translations.h"
#include "enrich/unix_peers.h"
#include "snapshot/source_factory.h"

namespace socksnap {
namespace {

// What the namespaces shown hold decides the default columns: pods (Kubernetes columns),
// containers, or neither. A pod on the host's network counts, since the host's namespace is
// shown; a plain namespace given with --netns keeps the host columns on any node. `shown` null:
// every namespace is.
NodeKind shown_kind(const Census& census, const std::unordered_set<uint64_t>* shown) {
  bool containers = false;
  for (size_t i = 0; i < census.processes.size(); ++i) {
    const auto& who = census.identities[i];
    if (!who || (shown != nullptr && shown->count(census.processes[i].netns) == 0)) continue;
    if (!who->pod_uid.empty()) return NodeKind::kKubernetes;
    containers = true;
  }
  return containers ? NodeKind::kContainers : NodeKind::kHost;
}

NodeKind shown_kind(const Census& census, const Snapshot& snap) {
  std::unordered_set<uint64_t> shown;
  for (const auto& ns : snap.namespaces) shown.insert(ns.inode);
  return shown_kind(census, &shown);
}

double milliseconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Says once why the tables could not be read; translates the sockets with those that could.
ConntrackSummary apply_conntrack(Snapshot& snap, const ConntrackTables& read, Warnings& warnings) {
  if (read.node_error) {
    warnings.add("conntrack: cannot read the node's connection tracking table: " +
                 read.node_error->message() + "; services are shown as the edges' ends");
  }
  for (const ConntrackFailure& failed : read.failures) {
    warnings.add(
        fmt::format("conntrack: cannot read the connection tracking table of network "
                    "namespace {} ({}): {}",
                    failed.netns, failed.source, failed.error.message()));
  }
  ConntrackSummary summary;
  summary.read = true;
  summary.tables = read.tables.size();
  summary.entries = read.entries;
  summary.ms = read.ms;
  summary.translated = translate_destinations(snap, read.tables);
  return summary;
}

}  // namespace

std::string describe_conntrack(const ConntrackSummary& summary) {
  if (!summary.read) return "conntrack: not read";
  return fmt::format("conntrack: {} table{}, {} entr{} read in {:.1f} ms; {} socket{} translated",
                     summary.tables, summary.tables == 1 ? "" : "s", summary.entries,
                     summary.entries == 1 ? "y" : "ies", summary.ms, summary.translated,
                     summary.translated == 1 ? "" : "s");
}

Result<SnapshotRun, RunError> take_snapshot(const Query& query, const Host& host,
                                            Warnings& warnings, const SnapshotInputs& inputs) {
  auto started = std::chrono::steady_clock::now();
  unsigned jobs = host.threads();
  EnrichOptions enrich;
  enrich.host = HostPaths(host.root);
  // A replayed dump's owners are read from the tree --host-root names (a node recorded with the
  // dump), never from this host's own /proc: its processes did not hold the recorded sockets, and
  // socket inodes repeat from boot to boot.
  bool owners_readable = host.replay_dump.empty() || !enrich.host.root().empty();
  enrich.node_name = host.node_name;
  enrich.threads = jobs;
  enrich.api_labels = inputs.api_labels;

  // Owners: a census of the node's processes picks the default columns; the owners themselves
  // (every descriptor of every process) are read only when the output shows them. Both need no
  // sockets, so they run beside the collection: when the query shows owners on any node, the
  // descriptor scan too (it is as costly as the dump on a busy host).
  Census census;
  census.node = node_name(host.node_name);
  std::vector<SocketFd> fds;
  bool early_fds = owners_readable && query.needs_owners_on_any_node() && query.needs_holders();
  bool need_census = owners_readable && (early_fds || query.kind_matters());
  // The BPF iterators of processes give both in a pass over the tasks each, where /proc has
  // files a process; they load on the thread that reads them, beside the socket iterators' load.
  // Not with --backend netlink (no BPF), nor for a replay (not this host's processes); where
  // they cannot load or their PIDs are not /proc's, /proc is read.
  bool task_iterators = host.backend != "netlink" && host.replay_dump.empty();
  std::unique_ptr<BpfTaskSource> task_source;
  std::string census_note;
  std::string holders_note;
  auto load_task_source = [&] {
    if (!task_iterators || task_source != nullptr || !census_note.empty()) return;
    auto loaded = BpfTaskSource::open();
    if (loaded) {
      task_source = std::move(loaded.value());
    } else {
      census_note = "census and owners read from /proc, not the BPF iterators of processes: " +
                    loaded.error().message();
    }
  };
  auto census_of = [&] {
    load_task_source();
    std::optional<std::vector<ScannedProcess>> processes;
    if (task_source != nullptr) {
      auto tasks = task_source->tasks();
      auto found = tasks ? census_from_tasks(enrich.host, std::move(tasks.value()))
                         : Result<std::vector<ScannedProcess>>(tasks.error());
      if (found) {
        processes = std::move(found.value());
      } else {
        census_note = "census read from /proc, not iter/task: " + found.error().message();
      }
    }
    return take_census(enrich, warnings, std::move(processes));
  };
  auto read_fds = [&] {
    load_task_source();
    if (task_source != nullptr) {
      auto records = task_source->socket_fds();
      auto found = records ? census_socket_fds(enrich.host, census.processes, *records)
                           : Result<std::vector<SocketFd>>(records.error());
      if (found) return std::move(found.value());
      holders_note = "owners read from /proc, not iter/task_file: " + found.error().message();
    }
    return scan_socket_fds(enrich.host, census.processes, jobs, warnings);
  };
  // The runtimes' metadata of the census's containers and the CRI API's pod sandboxes need no
  // sockets either. A run that reads every namespace shows what the census holds: from it alone
  // the thread beside knows the node's kind, so whether the output shows owners and labels, and
  // reads them too (a run of a few namespaces reads only their containers', afterwards).
  OwnerSources sources = host_owner_sources(enrich.host, host.runtime, host.cri_socket);
  OwnerPrefetch prefetched;
  bool fds_read = false;
  // The process iterators load on the thread beside while the socket iterators load on another,
  // which the collection waits for: that load took as long with this one beside it as without
  // (2.6 and 2.7 ms, 12 runs each of case A), while this one, loaded after it, took a core from
  // the collection's walk of the sockets.
  // What the run reads, and through what, for the thread beside: a run that asked for inodes only
  // because some kind of node would need them stops reading them once the census tells which kind
  // its namespaces show (in a table of 200,000 sockets, a cache miss each). Given whether or not
  // the source could be opened, before the thread is joined.
  std::promise<SourceChoice*> choice_made;
  std::shared_future<SourceChoice*> choice_future = choice_made.get_future().share();
  std::thread beside;
  struct JoinOnExit {
    std::thread& thread;
    ~JoinOnExit() {
      if (thread.joinable()) thread.join();
    }
  } join_beside{beside};
  if (need_census) {
    beside = std::thread([&] {
      census = census_of();
      if (query.request.inodes) {
        if (SourceChoice* made = choice_future.get(); made != nullptr) {
          std::unordered_set<uint64_t> read;  // what is shown is some of these
          for (const NetnsRef& ns : made->namespaces) read.insert(ns.inode);
          if (!query.needs_inodes(shown_kind(census, &read))) made->source->stop_reading_inodes();
        }
      }
      bool every_namespace = host.netns.empty();
      NodeKind kind = every_namespace ? shown_kind(census, nullptr) : NodeKind::kHost;
      bool owners = early_fds || (every_namespace && query.needs_owners(kind));
      if (owners && query.needs_holders()) {
        fds = read_fds();
        fds_read = true;
      }
      if (owners && every_namespace) {
        bool sandboxes = !enrich.api_labels && query.needs_labels(kind);
        prefetch_owners(census, fds, sources, sandboxes, prefetched);
      }
    });
  }

  // The BPF source's iterators read TCP and UDP sockets; unix sockets come through sock_diag
  // with either source.
  auto chosen = open_socket_source(host, query.request, warnings);
  choice_made.set_value(chosen ? &chosen.value() : nullptr);
  if (!chosen) return chosen.error();
  SourceChoice& choice = chosen.value();
  if (inputs.after_discovery) inputs.after_discovery();

  // The conntrack tables need no sockets either, and are read only when the run asks for them
  // (each read walks the kernel's host-wide conntrack table). Only this host's: a replayed dump
  // has none. Only entries whose destination was translated are asked for.
  ConntrackTables conntrack;
  std::thread conntrack_reader;
  JoinOnExit join_conntrack{conntrack_reader};
  bool read_conntrack = query.needs_translations() && !choice.replayed;
  if (read_conntrack) {
    conntrack_reader = std::thread([&] {
      static const std::vector<NetnsRef> kNoOther;
      bool each = query.request.conntrack == ConntrackScope::kNodeAndNamespaces;
      // The node's own namespace is pid 1's; on this host (no --host-root) where pid 1 cannot be
      // read (a sandbox's), socksnap's own, which is then the host's as far as it can tell: this
      // thread's, which it has from the thread that started it. Not /proc/self's: that is the
      // main thread's, which may be inside a namespace it is collecting right now.
      std::vector<std::string> node = {enrich.host("/proc/1/ns/net")};
      if (enrich.host.root().empty()) node.emplace_back("/proc/thread-self/ns/net");
      conntrack = read_conntrack_tables(node, each ? choice.namespaces : kNoOther,
                                        ConntrackOptions{.translated_only = true});
    });
  }
  CollectOutcome outcome =
      collect_snapshot(choice.namespaces, *choice.source, query.request, jobs, warnings);
  if (beside.joinable()) beside.join();
  if (conntrack_reader.joinable()) conntrack_reader.join();
  if (!choice.namespaces.empty() && outcome.failed == choice.namespaces.size()) {
    return run_failure("no network namespace could be read: " + outcome.errors.front().message());
  }
  if (choice.recorder) {
    if (auto done = choice.recorder->finish(); !done) {
      return run_failure("--record-dump " + done.error().message());
    }
  }
  auto collected = std::chrono::steady_clock::now();
  SnapshotRun run;
  run.snapshot = std::move(outcome.snapshot);
  Snapshot& snap = run.snapshot;
  run.kind = shown_kind(census, snap);
  snap.node = census.node;
  if (read_conntrack) run.conntrack = apply_conntrack(snap, conntrack, warnings);
  if (owners_readable && query.needs_owners(run.kind)) {
    if (!need_census) census = census_of();
    enrich.labels = query.needs_labels(run.kind);
    // No descriptors read (fds stays empty) when only the namespaces' pods are needed.
    if (!fds_read && query.needs_holders()) fds = read_fds();
    enrich_snapshot(snap, census, enrich, sources, warnings, &fds, &prefetched);
  }
  // Unix sockets' peers: their names, and their processes once owners are known.
  link_unix_peers(snap);
  auto enriched = std::chrono::steady_clock::now();

  // Before the selection: a socket's direction needs every listener of its namespace.
  if (query.needs_direction(run.kind)) classify_directions(snap);

  run.rows = select_rows(snap, query.selection_for(run.kind), jobs);
  run.source = std::string(choice.source->name());
  run.source_note = choice.note;
  for (const std::string* note : {&census_note, &holders_note}) {
    if (!note->empty()) run.source_note += (run.source_note.empty() ? "" : "; ") + *note;
  }
  run.namespaces = choice.namespaces.size();
  run.skipped = outcome.failed;
  run.threads = static_cast<unsigned>(std::min<size_t>(jobs, choice.namespaces.size()));
  run.collect_ms = milliseconds(collected - started);
  run.owners_ms = milliseconds(enriched - collected);
  run.select_ms = milliseconds(std::chrono::steady_clock::now() - enriched);
  return run;
}

}  // namespace socksnap
