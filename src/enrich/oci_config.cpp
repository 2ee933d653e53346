// An OCI runtime spec (config.json) as containerd's CRI plugin, CRI-O and podman write it. Who
// the container is lives in its annotations:
//
//   containerd (pkg/cri/annotations): io.kubernetes.cri.{container-type, container-name,
//     sandbox-name, sandbox-namespace, sandbox-uid, sandbox-id, image-name}.
//   CRI-O (pkg/annotations): io.kubernetes.cri-o.{ContainerType, SandboxID, ImageName, Image,
//     KubeName, Namespace, Metadata, Labels, HostNetwork}, and for a container its CRI labels
//     copied in as annotations (io.kubernetes.{container.name, pod.name, pod.namespace,
//     pod.uid}). io.kubernetes.cri-o.Labels is a JSON string of the CRI labels: for a sandbox
//     the pod's own labels (plus kubelet's io.kubernetes.* ones), for a container only
//     kubelet's io.kubernetes.* ones, so pod labels come from the sandbox's config.json.
//   podman: io.container.manager=libpod; its name and image are not in the spec.
//   nerdctl: nerdctl/name.
//
// The network namespace is linux.namespaces' "network" entry: a path joins an existing one
// (a pod's, pinned by the CRI plugin), no path makes a new one, no entry at all shares the
// host's.
#include "enrich/container_metadata.h"
#include "enrich/pod_labels.h"
#include "model/labels.h"
#include "util/json_reader.h"

namespace socksnap {
namespace {

struct Annotations {
  // containerd's CRI plugin
  std::string cri_type, cri_container_name, cri_sandbox_name, cri_sandbox_namespace,
      cri_sandbox_uid, cri_sandbox_id, cri_image;
  // CRI-O, and the CRI labels it copies in
  std::string crio_type, crio_sandbox_id, crio_image_name, crio_image, crio_kube_name,
      crio_namespace, crio_metadata, crio_labels, crio_host_network;
  std::string kube_container_name, kube_pod_name, kube_pod_namespace, kube_pod_uid;
  // others
  std::string manager, nerdctl_name;
};

struct Field {
  std::string_view key;
  std::string Annotations::*member;
};

constexpr Field kFields[] = {
    {"io.kubernetes.cri.container-type", &Annotations::cri_type},
    {"io.kubernetes.cri.container-name", &Annotations::cri_container_name},
    {"io.kubernetes.cri.sandbox-name", &Annotations::cri_sandbox_name},
    {"io.kubernetes.cri.sandbox-namespace", &Annotations::cri_sandbox_namespace},
    {"io.kubernetes.cri.sandbox-uid", &Annotations::cri_sandbox_uid},
    {"io.kubernetes.cri.sandbox-id", &Annotations::cri_sandbox_id},
    {"io.kubernetes.cri.image-name", &Annotations::cri_image},
    {"io.kubernetes.cri-o.ContainerType", &Annotations::crio_type},
    {"io.kubernetes.cri-o.SandboxID", &Annotations::crio_sandbox_id},
    {"io.kubernetes.cri-o.ImageName", &Annotations::crio_image_name},
    {"io.kubernetes.cri-o.Image", &Annotations::crio_image},
    {"io.kubernetes.cri-o.KubeName", &Annotations::crio_kube_name},
    {"io.kubernetes.cri-o.Namespace", &Annotations::crio_namespace},
    {"io.kubernetes.cri-o.Metadata", &Annotations::crio_metadata},
    {"io.kubernetes.cri-o.Labels", &Annotations::crio_labels},
    {"io.kubernetes.cri-o.HostNetwork", &Annotations::crio_host_network},
    {"io.kubernetes.container.name", &Annotations::kube_container_name},
    {"io.kubernetes.pod.name", &Annotations::kube_pod_name},
    {"io.kubernetes.pod.namespace", &Annotations::kube_pod_namespace},
    {"io.kubernetes.pod.uid", &Annotations::kube_pod_uid},
    {"io.container.manager", &Annotations::manager},
    {"nerdctl/name", &Annotations::nerdctl_name},
};

std::string Annotations::*field_for(std::string_view key) {
  for (const Field& f : kFields) {
    if (f.key == key) return f.member;
  }
  return nullptr;
}

void read_annotations(JsonReader& r, Annotations& out) {
  if (r.peek() != JsonReader::Type::kObject) {
    r.skip();
    return;
  }
  for (auto m = r.object(); m.next();) {
    auto member = field_for(m.key());
    if (member == nullptr) {
      r.skip();
    } else {
      r.read_string_or_skip(out.*member);
    }
  }
}

struct Namespaces {
  bool listed = false;  // linux.namespaces was there
  bool network = false;
  std::string network_path;
};

void read_namespace_list(JsonReader& r, Namespaces& out) {
  if (r.peek() != JsonReader::Type::kArray) {
    r.skip();
    return;
  }
  out.listed = true;
  std::string type;
  std::string path;
  for (auto e = r.array(); e.next();) {
    if (r.peek() != JsonReader::Type::kObject) {
      r.skip();
      continue;
    }
    type.clear();
    path.clear();
    for (auto m = r.object(); m.next();) {
      if (m.key() == "type") {
        r.read_string_or_skip(type);
      } else if (m.key() == "path") {
        r.read_string_or_skip(path);
      } else {
        r.skip();
      }
    }
    if (type == "network") {
      out.network = true;
      out.network_path = path;
    }
  }
}

void read_linux(JsonReader& r, Namespaces& out) {
  if (r.peek() != JsonReader::Type::kObject) {
    r.skip();
    return;
  }
  for (auto m = r.object(); m.next();) {
    if (m.key() == "namespaces") {
      read_namespace_list(r, out);
    } else {
      r.skip();
    }
  }
}

// CRI-O's io.kubernetes.cri-o.Metadata: {"name": ..., "uid": ..., "namespace": ...} for a
// sandbox, {"name": ..., "attempt": ...} for a container.
struct CrioMetadata {
  std::string name, uid, pod_namespace;
};

CrioMetadata parse_crio_metadata(std::string_view json) {
  CrioMetadata out;
  if (json.empty()) return out;
  JsonReader r(json);
  if (r.peek() != JsonReader::Type::kObject) return out;
  for (auto m = r.object(); m.next();) {
    if (m.key() == "name") {
      r.read_string_or_skip(out.name);
    } else if (m.key() == "uid") {
      r.read_string_or_skip(out.uid);
    } else if (m.key() == "namespace") {
      r.read_string_or_skip(out.pod_namespace);
    } else {
      r.skip();
    }
  }
  return out;
}

void set_if_empty(std::string& field, const std::string& value) {
  if (field.empty()) field = value;
}

void apply_crio(Annotations& a, ContainerMetadata& out) {
  if (!a.crio_type.empty()) out.sandbox = a.crio_type == "sandbox";
  set_if_empty(out.sandbox_id, a.crio_sandbox_id);
  set_if_empty(out.image, a.crio_image_name);
  set_if_empty(out.image, a.crio_image);
  if (!out.sandbox) set_if_empty(out.name, a.kube_container_name);
  set_if_empty(out.pod_name, a.kube_pod_name);
  set_if_empty(out.pod_namespace, a.kube_pod_namespace);
  set_if_empty(out.pod_uid, a.kube_pod_uid);

  // The labels JSON names the pod on both kinds; a sandbox's also holds the pod's own labels.
  if (!a.crio_labels.empty()) {
    JsonReader r(a.crio_labels);
    Labels all;
    if (r.peek() == JsonReader::Type::kObject && read_labels(r, all, NonStringLabel::kSkip) &&
        r.finish()) {
      set_if_empty(out.pod_name, std::string(label_value(all, "io.kubernetes.pod.name")));
      set_if_empty(out.pod_namespace, std::string(label_value(all, "io.kubernetes.pod.namespace")));
      set_if_empty(out.pod_uid, std::string(label_value(all, "io.kubernetes.pod.uid")));
      if (out.sandbox) {
        std::erase_if(all, [](const auto& label) { return is_runtime_label(label.first); });
        out.pod_labels = std::move(all);
      }
    }
  }
  CrioMetadata meta = parse_crio_metadata(a.crio_metadata);
  if (out.sandbox) {
    set_if_empty(out.pod_name, a.crio_kube_name);
    set_if_empty(out.pod_name, meta.name);
    set_if_empty(out.pod_namespace, a.crio_namespace);
    set_if_empty(out.pod_namespace, meta.pod_namespace);
    set_if_empty(out.pod_uid, meta.uid);
  } else {
    set_if_empty(out.name, meta.name);
  }
  if (a.crio_host_network == "true") out.host_network = true;
}

RuntimeKind runtime_from(const Annotations& a) {
  if (!a.cri_type.empty() || !a.cri_sandbox_id.empty() || !a.nerdctl_name.empty()) {
    return RuntimeKind::kContainerd;
  }
  if (a.manager == "libpod") return RuntimeKind::kPodman;
  if (!a.crio_type.empty() || a.manager == "cri-o") return RuntimeKind::kCrio;
  return RuntimeKind::kUnknown;
}

}  // namespace

Result<ContainerMetadata> parse_oci_config(std::string_view json, RuntimeKind runtime) {
  JsonReader r(json);
  Annotations a;
  Namespaces ns;
  if (r.peek() != JsonReader::Type::kObject) {
    return plain_error("OCI config: not a JSON object");
  }
  for (auto m = r.object(); m.next();) {
    if (m.key() == "annotations") {
      read_annotations(r, a);
    } else if (m.key() == "linux") {
      read_linux(r, ns);
    } else {
      r.skip();
    }
  }
  if (!r.finish()) {
    return plain_error("OCI config: malformed JSON at byte " + std::to_string(r.offset()));
  }

  ContainerMetadata out;
  out.runtime = runtime == RuntimeKind::kUnknown ? runtime_from(a) : runtime;
  out.sandbox = a.cri_type == "sandbox";
  out.name = a.cri_container_name.empty() ? a.nerdctl_name : a.cri_container_name;
  out.image = a.cri_image;
  out.pod_name = a.cri_sandbox_name;
  out.pod_namespace = a.cri_sandbox_namespace;
  out.pod_uid = a.cri_sandbox_uid;
  out.sandbox_id = a.cri_sandbox_id;
  apply_crio(a, out);

  if (ns.network) {
    out.netns_path = ns.network_path;
  } else if (ns.listed) {
    out.host_network = true;
  }
  if (out.host_network) out.netns_path.clear();
  return out;
}

Result<int32_t> parse_runc_state_pid(std::string_view json) {
  JsonReader r(json);
  if (r.peek() != JsonReader::Type::kObject) return plain_error("runc state: not a JSON object");
  int64_t pid = 0;
  bool bad_pid = false;
  for (auto m = r.object(); m.next();) {
    if (m.key() == "init_process_pid" && r.peek() == JsonReader::Type::kNumber) {
      if (!r.read_int(pid)) bad_pid = true;
    } else {
      r.skip();
    }
  }
  if (bad_pid || pid < 0 || pid > INT32_MAX) {
    return plain_error("runc state: init_process_pid is not a pid");
  }
  if (!r.finish()) {
    return plain_error("runc state: malformed JSON at byte " + std::to_string(r.offset()));
  }
  return static_cast<int32_t>(pid);
}

}  // namespace socksnap
