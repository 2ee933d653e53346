// CRI-O: each container's OCI bundle is <run-root>/overlay-containers/<id>/userdata/config.json
// (containers/storage's run root, /run/containers/storage), and conmon writes the container's
// pid to userdata/pidfile beside it. A container's config.json names its pod but not the pod's
// labels; those are in the pod sandbox's config.json, read once per sandbox.
#include <mutex>
#include <unordered_map>

#include "enrich/container_metadata.h"
#include "enrich/containers_storage.h"
#include "enrich/runtime_files.h"
#include "util/files.h"

namespace socksnap {
namespace {

class CrioSource final : public ContainerMetadataSource {
 public:
  CrioSource(const HostPaths& host, const RuntimePaths& paths)
      : containers_dir_(host(paths.crio_storage + "/overlay-containers")) {}

  RuntimeKind runtime() const override { return RuntimeKind::kCrio; }

  std::optional<ContainerMetadata> find(const std::string& container_id,
                                        Warnings& warnings) override {
    if (!is_safe_id(container_id) || !present(warnings)) return std::nullopt;
    auto meta = read_config(container_id, warnings);
    if (!meta) return std::nullopt;
    std::string pidfile = containers_dir_ + "/" + container_id + "/userdata/pidfile";
    if (auto text = read_file(pidfile)) {
      meta->pid = parse_pidfile(*text).value_or(0);
    } else if (!is_missing(text.error())) {
      warn_unreadable(warnings, runtime(), "pidfile", text.error());
    }
    if (!meta->sandbox && !meta->sandbox_id.empty() && meta->sandbox_id != container_id) {
      meta->pod_labels = sandbox_labels(meta->sandbox_id, warnings);
    }
    return meta;
  }

 private:
  bool present(Warnings& warnings) {
    std::call_once(checked_, [&] {
      auto checked = check_directory(containers_dir_);
      present_ = checked.ok();
      if (!present_) warn_unreadable(warnings, runtime(), "storage directory", checked.error());
    });
    return present_;
  }

  std::optional<ContainerMetadata> read_config(const std::string& id, Warnings& warnings) const {
    std::string path = containers_dir_ + "/" + id + "/userdata/config.json";
    auto text = read_file(path);
    if (!text) {
      warn_unreadable(warnings, runtime(), "config.json", text.error());
      return std::nullopt;
    }
    auto meta = parse_oci_config(*text, RuntimeKind::kCrio);
    if (!meta) {
      warn_unreadable(warnings, runtime(), "config.json",
                      plain_error(meta.error().message() + " in " + path));
      return std::nullopt;
    }
    meta->id = id;
    return std::move(*meta);
  }

  Labels sandbox_labels(const std::string& sandbox_id, Warnings& warnings) {
    {
      std::lock_guard lock(mutex_);
      if (auto it = sandboxes_.find(sandbox_id); it != sandboxes_.end()) return it->second;
    }
    Labels labels;
    if (is_safe_id(sandbox_id)) {
      if (auto sandbox = read_config(sandbox_id, warnings)) labels = std::move(sandbox->pod_labels);
    }
    std::lock_guard lock(mutex_);
    return sandboxes_.try_emplace(sandbox_id, std::move(labels)).first->second;
  }

  std::string containers_dir_;
  std::once_flag checked_;
  bool present_ = false;
  std::mutex mutex_;
  std::unordered_map<std::string, Labels> sandboxes_;
};

}  // namespace

std::unique_ptr<ContainerMetadataSource> make_crio_source(const HostPaths& host,
                                                          const RuntimePaths& paths) {
  return std::make_unique<CrioSource>(host, paths);
}

}  // namespace socksnap
