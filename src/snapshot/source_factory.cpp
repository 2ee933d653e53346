#include "snapshot/source_factory.h"

#include <linux/capability.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <future>

#include <fmt/format.h>

#include "collect/bpf_source.h"
#include "collect/replay_source.h"
#include "collect/sock_diag_source.h"
#include "discover/host_paths.h"
#include "discover/netns_discovery.h"
#include "discover/netns_handle.h"
#include "util/capabilities.h"
#include "util/strings.h"

namespace socksnap {
namespace {

Result<std::vector<NetnsRef>, RunError> resolve_netns_options(const Host& host,
                                                              const HostPaths& paths,
                                                              Warnings& warnings) {
  std::vector<NetnsRef> chosen;
  // A path that leads to the node's own namespace names it as discovery does.
  std::optional<NetnsRef> node = find_node_namespace(paths);
  std::vector<NetnsRef> discovered;
  bool discovered_once = false;
  for (const auto& value : host.netns) {
    if (auto inode = parse_int<uint64_t>(value)) {
      if (!discovered_once) {
        discovered = discover_namespaces(paths, warnings);
        discovered_once = true;
      }
      auto it = std::find_if(discovered.begin(), discovered.end(),
                             [&](const NetnsRef& r) { return r.inode == *inode; });
      if (it == discovered.end()) {
        return usage_error(
            fmt::format("--netns {}: no network namespace with that inode was found", value));
      }
      chosen.push_back(*it);
      continue;
    }
    auto handle = NetnsHandle::open(value);
    if (!handle) return usage_error("--netns " + handle.error().message());
    bool nodes = node && node->inode == handle->inode();
    chosen.push_back(NetnsRef{handle->inode(), nodes ? node->source : value, {value}});
  }
  return chosen;
}

Result<void, RunError> require_privileges() {
  std::vector<std::string> missing;
  if (!has_capability(CAP_SYS_ADMIN)) {
    missing.emplace_back("CAP_SYS_ADMIN (to enter network namespaces)");
  }
  if (!has_capability(CAP_SYS_PTRACE)) {
    missing.emplace_back("CAP_SYS_PTRACE (to find the namespaces of other users' processes)");
  }
  if (missing.empty()) return {};
  std::string list = missing[0];
  if (missing.size() > 1) list += " and " + missing[1];
  return run_failure("missing capability " + list + "; run as root");
}

Result<SourceChoice, RunError> open_replay(const Host& host) {
  auto replay = ReplaySource::open(host.replay_dump);
  if (!replay) return usage_error("--replay-dump " + replay.error().message());
  SourceChoice choice;
  choice.replayed = true;
  choice.namespaces = (*replay)->namespaces();
  if (!host.netns.empty()) {
    std::vector<NetnsRef> chosen;
    for (const auto& value : host.netns) {
      auto inode = parse_int<uint64_t>(value);
      for (const auto& ns : choice.namespaces) {
        if (inode && ns.inode == *inode) chosen.push_back(ns);
      }
    }
    choice.namespaces = std::move(chosen);
  }
  choice.source = std::move(replay.value());
  return choice;
}

}  // namespace

Result<SourceChoice, RunError> open_socket_source(const Host& host, const CollectRequest& request,
                                                  Warnings& warnings) {
  bool iterators_used = request.tcp || request.udp;
  // A replay reads its owners under the root too (a recorded node).
  struct stat root {};
  if (host.root != "/" && ::stat(host.root.c_str(), &root) != 0) {
    return usage_error(fmt::format("--host-root {}: {}", host.root, std::strerror(errno)));
  }
  if (!host.replay_dump.empty()) return open_replay(host);
  // The BPF iterators are loaded (the kernel verifies them: a few ms) while the privileges are
  // checked and discovery walks /proc: the collection waits for nothing else before it starts.
  bool try_bpf = host.record_dump.empty() &&
                 (host.backend == "bpf" || (host.backend != "netlink" && iterators_used));
  std::future<Result<std::unique_ptr<BpfSource>>> loading;
  if (try_bpf) {
    loading = std::async(std::launch::async, [&request] { return BpfSource::open(request); });
  }
  if (auto privileged = require_privileges(); !privileged) return privileged.error();
  HostPaths paths(host.root);
  SourceChoice choice;
  if (host.netns.empty()) {
    choice.namespaces = discover_namespaces(paths, warnings);
  } else {
    auto chosen = resolve_netns_options(host, paths, warnings);
    if (!chosen) return chosen.error();
    choice.namespaces = std::move(chosen.value());
  }
  if (!host.record_dump.empty()) {
    auto created = DumpRecorder::create(host.record_dump);
    if (!created) return usage_error("--record-dump " + created.error().message());
    choice.recorder = std::move(created.value());
  }
  // A recording is of sock_diag's replies: a run that records reads through netlink.
  if (host.backend == "bpf" && choice.recorder != nullptr) {
    return usage_error("--record-dump records netlink replies: it needs --backend netlink");
  }
  if (try_bpf) {
    auto bpf = loading.get();
    if (bpf) {
      choice.source = std::move(bpf.value());
      return choice;
    }
    if (host.backend == "bpf") {
      return run_failure("cannot use the BPF source: " + bpf.error().message());
    }
    choice.note = "not using the BPF iterators: " + bpf.error().message() + "; ";
  } else if (host.backend != "netlink" && host.record_dump.empty()) {
    choice.note = "not using the BPF iterators: the run reads no TCP or UDP socket; ";
  }
  choice.source = std::make_unique<SockDiagSource>(choice.recorder.get());
  choice.note +=
      "sock_diag repeats no socket, but may miss one that lives through the snapshot when its "
      "table changes during the dump";
  return choice;
}

}  // namespace socksnap
