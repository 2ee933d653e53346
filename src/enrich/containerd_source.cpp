// containerd: each running container's OCI bundle is
// <state>/io.containerd.runtime.v2.task/<namespace>/<id>/config.json, with the pid of its first
// process in init.pid beside it (the runc shim's --pid-file, a number); where that is missing,
// runc's state gives it, <runc-root>/<namespace>/<id>/state.json (9 KB of JSON). Kubernetes
// containers are in namespace k8s.io, Docker's (since 20.10) in moby, nerdctl's and ctr's in
// default; the namespaces present are listed once, on the first lookup, k8s.io first. moby is
// left to the Docker source: its bundles hold nothing Docker's own files do not, and less (no
// name, no dockershim labels).
#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "enrich/container_metadata.h"
#include "enrich/runtime_files.h"
#include "util/files.h"
#include "util/strings.h"

namespace socksnap {
namespace {

class ContainerdSource final : public ContainerMetadataSource {
 public:
  ContainerdSource(const HostPaths& host, const RuntimePaths& paths)
      : task_dir_(host(paths.containerd_state + "/io.containerd.runtime.v2.task")),
        runc_root_(host(paths.runc_root)) {}

  RuntimeKind runtime() const override { return RuntimeKind::kContainerd; }

  std::optional<ContainerMetadata> find(const std::string& container_id,
                                        Warnings& warnings) override {
    if (!is_safe_id(container_id)) return std::nullopt;
    for (const std::string& ns : namespaces(warnings)) {
      std::string config = fmt::format("{}/{}/{}/config.json", task_dir_, ns, container_id);
      auto text = read_file(config);
      if (!text) {
        if (is_missing(text.error())) continue;
        warn_unreadable(warnings, runtime(), "config.json", text.error());
        return std::nullopt;
      }
      auto meta = parse_oci_config(*text, RuntimeKind::kContainerd);
      if (!meta) {
        warn_unreadable(warnings, runtime(), "config.json",
                        plain_error(meta.error().message() + " in " + config));
        return std::nullopt;
      }
      meta->id = container_id;
      meta->pid = read_init_pid(fmt::format("{}/{}/{}/init.pid", task_dir_, ns, container_id));
      if (meta->pid == 0) {
        meta->pid =
            read_pid(fmt::format("{}/{}/{}/state.json", runc_root_, ns, container_id), warnings);
      }
      return std::move(*meta);
    }
    if (!namespaces_.empty()) {
      warn_runtime(warnings, runtime(), "not-found",
                   "no bundle under " + task_dir_ +
                       " for some containers (they exited, or are not containerd's)");
    }
    return std::nullopt;
  }

 private:
  const std::vector<std::string>& namespaces(Warnings& warnings) {
    std::call_once(listed_, [&] {
      auto names = list_directory(task_dir_);
      if (!names) {
        warn_unreadable(warnings, runtime(), "state directory", names.error());
        return;
      }
      namespaces_ = std::move(*names);
      std::erase(namespaces_, "moby");
      std::sort(namespaces_.begin(), namespaces_.end(), [](const auto& a, const auto& b) {
        return std::pair(a != "k8s.io", a) < std::pair(b != "k8s.io", b);
      });
    });
    return namespaces_;
  }

  // The shim's pid file: a number; 0 when it is not there or holds anything else.
  static int32_t read_init_pid(const std::string& path) {
    constexpr size_t kMaxBytes = 32;
    auto text = read_file(path, kMaxBytes);
    if (!text) return 0;
    auto pid = parse_int<int32_t>(trim(*text));
    return pid && *pid > 0 ? *pid : 0;
  }

  // 0 when runc's state is not there (yet, or any more): the pid is a convenience.
  int32_t read_pid(const std::string& path, Warnings& warnings) const {
    auto text = read_file(path);
    if (!text) {
      warn_unreadable(warnings, runtime(), "runc state.json", text.error());
      return 0;
    }
    auto pid = parse_runc_state_pid(*text);
    if (!pid) {
      warn_unreadable(warnings, runtime(), "runc state.json",
                      plain_error(pid.error().message() + " in " + path));
      return 0;
    }
    return *pid;
  }

  std::string task_dir_;
  std::string runc_root_;
  std::once_flag listed_;
  std::vector<std::string> namespaces_;
};

}  // namespace

std::unique_ptr<ContainerMetadataSource> make_containerd_source(const HostPaths& host,
                                                                const RuntimePaths& paths) {
  return std::make_unique<ContainerdSource>(host, paths);
}

}  // namespace socksnap
