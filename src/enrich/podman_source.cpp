// podman keeps each container's OCI bundle in containers/storage's graph root,
// <graph-root>/overlay-containers/<id>/userdata/config.json, its name and image in
// <graph-root>/overlay-containers/containers.json (and volatile-containers.json), and conmon
// writes its pid to <run-root>/overlay-containers/<id>/userdata/pidfile.
//
// Rootful: graph root RuntimePaths::podman_storage, run root RuntimePaths::crio_storage (the
// same /run/containers/storage CRI-O uses). Rootless: each user's own store,
// ~/.local/share/containers/storage with run root /run/user/<uid>/containers. The cgroup path
// names the container but not its user, so the users' stores are found once, from the host's
// /etc/passwd: every user whose home holds one. Not found: stores moved by a user's
// storage.conf or XDG_DATA_HOME, and users that are not in /etc/passwd (LDAP, sssd).
#include <mutex>
#include <unordered_map>

#include "enrich/container_metadata.h"
#include "enrich/containers_storage.h"
#include "enrich/runtime_files.h"
#include "util/files.h"
#include "util/strings.h"

namespace socksnap {
namespace {

struct Store {
  std::string containers_dir;  // <graph-root>/overlay-containers
  std::string run_dir;         // <run-root>/overlay-containers
  std::once_flag indexed;
  std::unordered_map<std::string, StorageContainer> by_id;  // from containers.json
};

class PodmanSource final : public ContainerMetadataSource {
 public:
  PodmanSource(HostPaths host, RuntimePaths paths)
      : host_(std::move(host)), paths_(std::move(paths)) {}

  RuntimeKind runtime() const override { return RuntimeKind::kPodman; }

  std::optional<ContainerMetadata> find(const std::string& container_id,
                                        Warnings& warnings) override {
    if (!is_safe_id(container_id)) return std::nullopt;
    for (Store& store : stores(warnings)) {
      std::string path = store.containers_dir + "/" + container_id + "/userdata/config.json";
      auto text = read_file(path);
      if (!text) {
        if (is_missing(text.error())) continue;
        warn_unreadable(warnings, runtime(), "config.json", text.error());
        return std::nullopt;
      }
      auto meta = parse_oci_config(*text, RuntimeKind::kPodman);
      if (!meta) {
        warn_unreadable(warnings, runtime(), "config.json",
                        plain_error(meta.error().message() + " in " + path));
        return std::nullopt;
      }
      meta->id = container_id;
      const auto& index = index_of(store, warnings);
      if (auto it = index.find(container_id); it != index.end()) {
        meta->name = it->second.name;
        meta->image = it->second.image;
      }
      std::string pidfile = store.run_dir + "/" + container_id + "/userdata/pidfile";
      if (auto pid_text = read_file(pidfile)) {
        meta->pid = parse_pidfile(*pid_text).value_or(0);
      }
      return std::move(*meta);
    }
    if (!stores_.empty()) {
      warn_runtime(warnings, runtime(), "not-found",
                   "no container storage holds some containers (they exited, or their store is "
                   "not where socksnap looks: rootful " +
                       stores_.front().containers_dir + ", rootless ~/.local/share/containers)");
    }
    return std::nullopt;
  }

 private:
  std::vector<Store>& stores(Warnings& warnings) {
    std::call_once(found_, [&] {
      std::vector<std::pair<std::string, std::string>> roots;
      roots.emplace_back(host_(paths_.podman_storage), host_(paths_.crio_storage));
      auto passwd = read_file(host_("/etc/passwd"));
      if (passwd) {
        for (std::string_view line : split(*passwd, '\n')) {
          auto fields = split(line, ':');
          if (fields.size() < 7) continue;
          auto uid = parse_int<uint32_t>(fields[2]);
          if (!uid || *uid == 0 || fields[5].empty() || fields[5].front() != '/') continue;
          std::string graph = host_(std::string(fields[5]) + "/.local/share/containers/storage");
          if (!check_directory(graph + "/overlay-containers")) continue;
          roots.emplace_back(graph, host_("/run/user/" + std::to_string(*uid) + "/containers"));
        }
      } else if (!is_missing(passwd.error())) {
        warn_unreadable(warnings, runtime(), "passwd (rootless stores)", passwd.error());
      }
      stores_ = std::vector<Store>(roots.size());
      for (size_t i = 0; i < roots.size(); ++i) {
        stores_[i].containers_dir = roots[i].first + "/overlay-containers";
        stores_[i].run_dir = roots[i].second + "/overlay-containers";
      }
      auto rootful = check_directory(stores_.front().containers_dir);
      if (!rootful && (roots.size() == 1 || !is_missing(rootful.error()))) {
        warn_unreadable(warnings, runtime(), "storage directory", rootful.error());
      }
    });
    return stores_;
  }

  const std::unordered_map<std::string, StorageContainer>& index_of(Store& store,
                                                                    Warnings& warnings) {
    std::call_once(store.indexed, [&] {
      for (const char* file : {"/containers.json", "/volatile-containers.json"}) {
        std::string path = store.containers_dir + file;
        auto text = read_file(path);
        if (!text) {
          if (!is_missing(text.error())) {
            warn_unreadable(warnings, runtime(), "containers.json", text.error());
          }
          continue;
        }
        auto list = parse_storage_containers(*text);
        if (!list) {
          warn_unreadable(warnings, runtime(), "containers.json",
                          plain_error(list.error().message() + " in " + path));
          continue;
        }
        for (auto& c : *list) store.by_id.try_emplace(c.id, std::move(c));
      }
    });
    return store.by_id;
  }

  HostPaths host_;
  RuntimePaths paths_;
  std::once_flag found_;
  std::vector<Store> stores_;
};

}  // namespace

std::unique_ptr<ContainerMetadataSource> make_podman_source(const HostPaths& host,
                                                            const RuntimePaths& paths) {
  return std::make_unique<PodmanSource>(host, paths);
}

}  // namespace socksnap
