// Docker's config.v2.json (moby's container.Container): ID, Name ("/web"), Config.Image,
// Config.Labels, State.Pid, NetworkSettings.SandboxKey (the netns bind mount,
// /var/run/docker/netns/<12 hex>) and NetworkSettings.Networks. HostConfig is not in it (moby
// tags it json:"-"); `docker inspect` output does embed it, and is read the same way here.
//
// Under Kubernetes (dockershim, cri-dockerd) the labels say whose it is:
// io.kubernetes.docker.type (podsandbox|container), io.kubernetes.pod.{name,namespace,uid},
// io.kubernetes.container.name, io.kubernetes.sandbox.id. A sandbox's labels also carry the
// pod's own labels, and its annotations as "annotation.<key>".
#include "enrich/docker_config.h"

#include "enrich/container_metadata.h"
#include "enrich/pod_labels.h"
#include "model/labels.h"
#include "util/json_reader.h"

namespace socksnap {
namespace {

bool is_dockershim_label(std::string_view key) {
  return is_runtime_label(key) || key.substr(0, 11) == "annotation.";
}

std::string network_mode_in(JsonReader& r) {
  std::string mode;
  if (r.peek() != JsonReader::Type::kObject) {
    r.skip();
    return mode;
  }
  for (auto m = r.object(); m.next();) {
    if (m.key() == "NetworkMode") {
      r.read_string_or_skip(mode);
    } else {
      r.skip();
    }
  }
  return mode;
}

struct NetworkSettings {
  std::string sandbox_key;
  bool host = false;  // attached to the "host" network only
};

void read_network_settings(JsonReader& r, NetworkSettings& out) {
  if (r.peek() != JsonReader::Type::kObject) {
    r.skip();
    return;
  }
  for (auto m = r.object(); m.next();) {
    if (m.key() == "SandboxKey") {
      r.read_string_or_skip(out.sandbox_key);
    } else if (m.key() == "Networks" && r.peek() == JsonReader::Type::kObject) {
      int count = 0;
      bool host = false;
      for (auto n = r.object(); n.next();) {
        ++count;
        host = host || n.key() == "host";
        r.skip();
      }
      out.host = host && count == 1;
    } else {
      r.skip();
    }
  }
}

void read_config(JsonReader& r, ContainerMetadata& out, Labels& labels) {
  if (r.peek() != JsonReader::Type::kObject) {
    r.skip();
    return;
  }
  for (auto m = r.object(); m.next();) {
    if (m.key() == "Image") {
      r.read_string_or_skip(out.image);
    } else if (m.key() == "Labels" && r.peek() == JsonReader::Type::kObject) {
      read_labels(r, labels, NonStringLabel::kSkip);
    } else {
      r.skip();
    }
  }
}

void read_state(JsonReader& r, ContainerMetadata& out) {
  if (r.peek() != JsonReader::Type::kObject) {
    r.skip();
    return;
  }
  for (auto m = r.object(); m.next();) {
    int64_t pid = 0;
    if (m.key() == "Pid" && r.peek() == JsonReader::Type::kNumber) {
      if (r.read_int(pid) && pid > 0 && pid <= INT32_MAX) out.pid = static_cast<int32_t>(pid);
    } else {
      r.skip();
    }
  }
}

}  // namespace

Result<ContainerMetadata> parse_docker_config(std::string_view json) {
  JsonReader r(json);
  if (r.peek() != JsonReader::Type::kObject) {
    return plain_error("Docker config: not a JSON object");
  }
  ContainerMetadata out;
  out.runtime = RuntimeKind::kDocker;
  Labels labels;
  NetworkSettings net;
  std::string network_mode;
  for (auto m = r.object(); m.next();) {
    std::string_view key = m.key();
    if (key == "ID" || key == "Id") {
      r.read_string_or_skip(out.id);
    } else if (key == "Name") {
      r.read_string_or_skip(out.name);
    } else if (key == "Config") {
      read_config(r, out, labels);
    } else if (key == "State") {
      read_state(r, out);
    } else if (key == "NetworkSettings") {
      read_network_settings(r, net);
    } else if (key == "HostConfig") {
      network_mode = network_mode_in(r);
    } else {
      r.skip();
    }
  }
  if (!r.finish()) {
    return plain_error("Docker config: malformed JSON at byte " + std::to_string(r.offset()));
  }
  if (!out.name.empty() && out.name.front() == '/') out.name.erase(0, 1);

  std::string_view type = label_value(labels, "io.kubernetes.docker.type");
  if (!type.empty()) {
    out.sandbox = type == "podsandbox";
    out.pod_name = label_value(labels, "io.kubernetes.pod.name");
    out.pod_namespace = label_value(labels, "io.kubernetes.pod.namespace");
    out.pod_uid = label_value(labels, "io.kubernetes.pod.uid");
    // The Docker name is kubelet's k8s_<container>_<pod>_<namespace>_<uid>_<attempt>.
    out.name = out.sandbox ? "" : label_value(labels, "io.kubernetes.container.name");
    out.sandbox_id = out.sandbox ? out.id : label_value(labels, "io.kubernetes.sandbox.id");
    if (out.sandbox) {
      std::erase_if(labels, [](const auto& label) { return is_dockershim_label(label.first); });
      out.pod_labels = std::move(labels);
    }
  }

  out.host_network = network_mode == "host" || (network_mode.empty() && net.host);
  // A host-network container's SandboxKey is /var/run/docker/netns/default: the host's.
  if (!out.host_network) out.netns_path = net.sandbox_key;
  return out;
}

Result<std::string> parse_docker_network_mode(std::string_view hostconfig_json) {
  JsonReader r(hostconfig_json);
  if (r.peek() != JsonReader::Type::kObject) {
    return plain_error("Docker host config: not a JSON object");
  }
  std::string mode = network_mode_in(r);
  if (!r.finish()) {
    return plain_error("Docker host config: malformed JSON at byte " + std::to_string(r.offset()));
  }
  return mode;
}

}  // namespace socksnap
