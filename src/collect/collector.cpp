#include "collect/collector.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include "util/huge_pages.h"

namespace socksnap {

CollectOutcome collect_snapshot(const std::vector<NetnsRef>& namespaces, SocketSource& source,
                                const CollectRequest& request, unsigned jobs, Warnings& warnings) {
  std::vector<std::optional<Result<NamespaceSockets>>> results(namespaces.size());
  source.plan(namespaces.size(), jobs);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < namespaces.size(); i = next.fetch_add(1)) {
      results[i].emplace(source.collect(namespaces[i], request, warnings));
    }
  };
  size_t threads = std::min<size_t>(std::max(1U, jobs), namespaces.size());
  if (threads <= 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
  }

  CollectOutcome outcome;
  size_t total = 0;
  size_t unix_total = 0;
  for (auto& r : results) {
    if (r && r->ok()) {
      total += r->value().sockets.size();
      unix_total += r->value().unix_sockets.size();
    }
  }
  Snapshot& snap = outcome.snapshot;
  // One namespace's vectors are moved, not copied: room is made only for several.
  if (namespaces.size() > 1) {
    reserve_huge(snap.sockets, total);
    snap.unix_sockets.reserve(unix_total);
    if (request.tcp_info) reserve_huge(snap.tcp_info, total);
  }
  // Merged in inode order, and each namespace's sockets protocol by protocol (TCP, UDP,
  // UDP-Lite, unix): the default sort's first two keys then hold without sorting.
  std::vector<size_t> order(namespaces.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return namespaces[a].inode < namespaces[b].inode; });
  for (size_t i : order) {
    const NetnsRef& ns = namespaces[i];
    Result<NamespaceSockets>& r = *results[i];
    if (!r) {
      ++outcome.failed;
      outcome.errors.push_back(r.error());
      if (r.error().code == ENOENT) {
        warnings.add(
            fmt::format("network namespace {} ({}) vanished before it could be read; "
                        "skipped",
                        ns.inode, ns.source));
      } else {
        warnings.add(fmt::format("network namespace {} ({}) skipped: {}", ns.inode, ns.source,
                                 r.error().message()));
      }
      continue;
    }
    NamespaceSockets& got = r.value();
    auto base = static_cast<uint32_t>(snap.sockets.size());
    if (namespaces.size() == 1) {
      snap.unix_sockets = std::move(got.unix_sockets);  // one namespace: no copy, rows as they are
    } else {
      for (UnixSocketInfo& u : got.unix_sockets) {
        u.row += base;
        snap.unix_sockets.push_back(std::move(u));
      }
    }
    if (snap.sockets.empty() && namespaces.size() == 1) {
      snap.sockets = std::move(got.sockets);  // one namespace: no copy at all
    } else {
      snap.sockets.insert(snap.sockets.end(), got.sockets.begin(), got.sockets.end());
    }
    if (request.tcp_info && namespaces.size() == 1) {
      snap.tcp_info = std::move(got.tcp_info);
    } else if (request.tcp_info) {
      snap.tcp_info.insert(snap.tcp_info.end(), got.tcp_info.begin(), got.tcp_info.end());
    }
    snap.namespaces.push_back(NetnsInfo{ns.inode, ns.source, std::move(got.interfaces)});
    // Free each namespace's copy as soon as it is merged, to keep the peak low.
    got = NamespaceSockets();
  }
  return outcome;
}

}  // namespace socksnap
