// Docker: <docker-root>/containers/<id>/config.v2.json and hostconfig.json. A container that
// shares another's network namespace (NetworkMode "container:<id>", as every container of a
// dockershim pod shares its sandbox's) takes that one's host-network flag and netns; a
// Kubernetes container takes its pod's labels from its sandbox. Those other containers are read
// once each.
#include <mutex>
#include <unordered_map>

#include "enrich/container_metadata.h"
#include "enrich/docker_config.h"
#include "enrich/runtime_files.h"
#include "util/files.h"

namespace socksnap {
namespace {

class DockerSource final : public ContainerMetadataSource {
 public:
  DockerSource(const HostPaths& host, const RuntimePaths& paths)
      : containers_dir_(host(paths.docker_root + "/containers")) {}

  RuntimeKind runtime() const override { return RuntimeKind::kDocker; }

  std::optional<ContainerMetadata> find(const std::string& container_id,
                                        Warnings& warnings) override {
    if (!is_safe_id(container_id) || !present(warnings)) return std::nullopt;
    std::string network_mode;
    auto meta = read(container_id, network_mode, warnings);
    if (!meta) return std::nullopt;
    std::string_view mode = network_mode;
    if (mode.substr(0, 10) == "container:") {
      const Peer& peer = peer_of(std::string(mode.substr(10)), warnings);
      meta->host_network = peer.host_network;
      meta->netns_path = peer.netns_path;
    }
    if (!meta->sandbox && !meta->sandbox_id.empty() && meta->sandbox_id != container_id) {
      meta->pod_labels = peer_of(meta->sandbox_id, warnings).pod_labels;
    }
    return meta;
  }

 private:
  // What a container takes from the one whose network it shares, or from its sandbox.
  struct Peer {
    bool host_network = false;
    std::string netns_path;
    Labels pod_labels;
  };

  bool present(Warnings& warnings) {
    std::call_once(checked_, [&] {
      auto checked = check_directory(containers_dir_);
      present_ = checked.ok();
      if (!present_) warn_unreadable(warnings, runtime(), "containers directory", checked.error());
    });
    return present_;
  }

  std::optional<ContainerMetadata> read(const std::string& id, std::string& network_mode,
                                        Warnings& warnings) const {
    std::string dir = containers_dir_ + "/" + id;
    auto text = read_file(dir + "/config.v2.json");
    if (!text) {
      warn_unreadable(warnings, runtime(), "config.v2.json", text.error());
      return std::nullopt;
    }
    auto meta = parse_docker_config(*text);
    if (!meta) {
      warn_unreadable(warnings, runtime(), "config.v2.json",
                      plain_error(meta.error().message() + " in " + dir + "/config.v2.json"));
      return std::nullopt;
    }
    meta->id = id;
    if (meta->sandbox) meta->sandbox_id = id;
    // Without hostconfig.json the guess from NetworkSettings stands.
    if (auto host = read_file(dir + "/hostconfig.json")) {
      if (auto mode = parse_docker_network_mode(*host)) {
        network_mode = std::move(*mode);
        if (network_mode == "host") {
          meta->host_network = true;
          meta->netns_path.clear();
        }
      } else {
        warn_unreadable(warnings, runtime(), "hostconfig.json",
                        plain_error(mode.error().message() + " in " + dir + "/hostconfig.json"));
      }
    } else {
      warn_unreadable(warnings, runtime(), "hostconfig.json", host.error());
    }
    return std::move(*meta);
  }

  const Peer& peer_of(const std::string& id, Warnings& warnings) {
    {
      std::lock_guard lock(mutex_);
      if (auto it = peers_.find(id); it != peers_.end()) return it->second;
    }
    Peer peer;
    std::string mode;
    if (is_safe_id(id)) {
      if (auto meta = read(id, mode, warnings)) {
        peer.host_network = meta->host_network;
        peer.netns_path = std::move(meta->netns_path);
        peer.pod_labels = std::move(meta->pod_labels);
      }
    }
    std::lock_guard lock(mutex_);
    // References into an unordered_map stay valid as it grows.
    return peers_.try_emplace(id, std::move(peer)).first->second;
  }

  std::string containers_dir_;
  std::once_flag checked_;
  bool present_ = false;
  std::mutex mutex_;
  std::unordered_map<std::string, Peer> peers_;
};

}  // namespace

std::unique_ptr<ContainerMetadataSource> make_docker_source(const HostPaths& host,
                                                            const RuntimePaths& paths) {
  return std::make_unique<DockerSource>(host, paths);
}

}  // namespace socksnap
