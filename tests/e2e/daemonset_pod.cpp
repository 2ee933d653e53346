#include "daemonset_pod.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <random>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "support/files.h"

namespace socksnap::test {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what);
}

// A mapping read member by member: every member must be read or ignored by name, so that a
// field this emulation does not know fails the test instead of being left out silently.
class Members {
 public:
  Members(const YamlNode* node, std::string file, std::string where)
      : node_(node), file_(std::move(file)), where_(std::move(where)) {
    if (node_ != nullptr && node_->kind != YamlNode::Kind::kMapping &&
        node_->kind != YamlNode::Kind::kNull) {
      error(*node_, where_ + ": expected a mapping");
    }
  }
  Members(const Members&) = delete;
  Members& operator=(const Members&) = delete;
  // Every member must have been taken or ignored by now.
  ~Members() noexcept(false) {
    if (std::uncaught_exceptions() > 0 || node_ == nullptr) return;
    for (const auto& [key, value] : node_->members) {
      if (seen_.count(key) == 0) {
        error(value,
              where_ + "." + key +
                  " is not emulated by this test: emulate it in tests/e2e/daemonset_pod.cpp, "
                  "or list it there as one that cannot change how the pod runs");
      }
    }
  }

  const YamlNode* take(std::string_view key) {
    seen_.emplace(key);
    if (node_ == nullptr) return nullptr;
    const YamlNode* value = node_->find(key);
    return value == nullptr || value->kind == YamlNode::Kind::kNull ? nullptr : value;
  }
  // A field that cannot change how the pod runs on the node (the caller says why).
  void ignore(std::string_view key) { seen_.emplace(key); }

  std::string text(std::string_view key, const std::string& fallback = "") {
    const YamlNode* value = take(key);
    if (value == nullptr) return fallback;
    if (value->kind != YamlNode::Kind::kScalar) error(*value, path(key) + ": expected a scalar");
    return value->scalar;
  }
  bool flag(std::string_view key, bool fallback) {
    const YamlNode* value = take(key);
    if (value == nullptr) return fallback;
    auto b = value->as_bool();
    if (!b || value->quoted) error(*value, path(key) + ": expected true or false");
    return *b;
  }
  std::optional<int64_t> integer(std::string_view key) {
    const YamlNode* value = take(key);
    if (value == nullptr) return std::nullopt;
    int64_t n = 0;
    const std::string& s = value->scalar;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (value->quoted || ec != std::errc() || end != s.data() + s.size()) {
      error(*value, path(key) + ": expected an integer");
    }
    return n;
  }
  // A sequence of scalars.
  std::vector<std::string> texts(std::string_view key) {
    std::vector<std::string> out;
    for (const YamlNode& item : items(key)) {
      if (item.kind != YamlNode::Kind::kScalar) error(item, path(key) + ": expected scalars");
      out.push_back(item.scalar);
    }
    return out;
  }
  const std::vector<YamlNode>& items(std::string_view key) {
    static const std::vector<YamlNode> kNone;
    const YamlNode* value = take(key);
    if (value == nullptr) return kNone;
    if (value->kind != YamlNode::Kind::kSequence) error(*value, path(key) + ": expected a list");
    return value->items;
  }
  // A string-to-string mapping (labels, annotations, matchLabels).
  std::map<std::string, std::string> strings(std::string_view key) {
    std::map<std::string, std::string> out;
    const YamlNode* value = take(key);
    if (value == nullptr) return out;
    if (value->kind != YamlNode::Kind::kMapping) error(*value, path(key) + ": expected a mapping");
    for (const auto& [k, v] : value->members) {
      if (v.kind != YamlNode::Kind::kScalar && v.kind != YamlNode::Kind::kNull) {
        error(v, path(key) + "." + k + ": expected a string");
      }
      out[k] = v.scalar;
    }
    return out;
  }

  std::string path(std::string_view key) const { return where_ + "." + std::string(key); }
  const std::string& file() const { return file_; }
  [[noreturn]] void error(const YamlNode& at, const std::string& what) const {
    fail(fmt::format("{} line {}: {}", file_, at.line, what));
  }

 private:
  const YamlNode* node_;
  std::string file_;
  std::string where_;
  std::set<std::string, std::less<>> seen_;
};

// As Kubernetes names generated objects (k8s.io/apimachinery's rand.String: no vowels, no
// digits that look like letters).
std::string random_suffix(size_t length) {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::random_device random;
  std::string out;
  for (size_t i = 0; i < length; ++i) out += kAlphabet[random() % kAlphabet.size()];
  return out;
}

std::string random_uid() {
  std::random_device random;
  std::string hex;
  for (int i = 0; i < 32; ++i) hex += "0123456789abcdef"[random() % 16];
  return fmt::format("{}-{}-4{}-a{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(13, 3),
                     hex.substr(17, 3), hex.substr(20, 12));
}

struct VolumeSource {
  std::string host_path;
};

void read_security_context(Members& sc, nodesim::SecuritySpec& out, const YamlNode& at) {
  if (auto user = sc.integer("runAsUser")) out.run_as_user = *user;
  if (auto group = sc.integer("runAsGroup")) out.run_as_group = *group;
  // The kubelet refuses to start a container that would run as root against runAsNonRoot.
  if (sc.flag("runAsNonRoot", false) && out.run_as_user.value_or(-1) == 0) {
    sc.error(at, sc.path("runAsNonRoot") + ": the kubelet refuses runAsUser 0 with it");
  }
  out.read_only_root = sc.flag("readOnlyRootFilesystem", false);
  out.privileged = sc.flag("privileged", false);
  // kubelet (securitycontext.AddNoNewPrivileges): no_new_privs exactly when
  // allowPrivilegeEscalation is false; not set, it stays off.
  const YamlNode* escalation = sc.take("allowPrivilegeEscalation");
  bool no_escalation = escalation != nullptr && escalation->as_bool() == false;
  out.no_new_privs = no_escalation;
  if (const YamlNode* caps_node = sc.take("capabilities")) {
    Members caps(caps_node, sc.file(), sc.path("capabilities"));
    out.add_capabilities = caps.texts("add");
    out.drop_capabilities = caps.texts("drop");
  }
  // What the API server refuses (ValidateSecurityContext).
  if (no_escalation && out.privileged) {
    sc.error(at, "the API server refuses allowPrivilegeEscalation false with privileged true");
  }
  if (no_escalation &&
      std::count(out.add_capabilities.begin(), out.add_capabilities.end(), "CAP_SYS_ADMIN") > 0) {
    sc.error(at, "the API server refuses allowPrivilegeEscalation false with CAP_SYS_ADMIN added");
  }
  auto profile = [&](std::string_view key) -> std::string {
    const YamlNode* node = sc.take(key);
    if (node == nullptr) return "";
    Members p(node, sc.file(), sc.path(key));
    std::string type = p.text("type");
    std::string ref = p.text("localhostProfile");
    if (type == "Unconfined" || type == "RuntimeDefault") return type;
    if (type == "Localhost" && !ref.empty()) return "Localhost/" + ref;
    p.error(*node, sc.path(key) + ": type " + type + " is not emulated");
  };
  out.seccomp = profile("seccompProfile");
  out.apparmor = profile("appArmorProfile");
}

nodesim::ContainerSpec read_container(const YamlNode& node, const std::string& file,
                                      const std::string& where,
                                      const std::map<std::string, VolumeSource>& volumes) {
  Members c(&node, file, where);
  nodesim::ContainerSpec out;
  out.name = c.text("name");
  out.image = c.text("image");
  if (out.name.empty() || out.image.empty()) c.error(node, where + ": needs a name and an image");
  // The image is on the node already: no policy pulls it.
  c.ignore("imagePullPolicy");
  // Probes: the kubelet restarts the container or marks the pod unready by them; they do not
  // change how the container runs (the test asks the agent itself).
  c.ignore("livenessProbe");
  c.ignore("readinessProbe");
  c.ignore("startupProbe");
  // Requests and limits: the pod's cgroup shares and limits, far above what the agent uses for
  // a node of a few pods.
  c.ignore("resources");
  // Where the kubelet reads a message after the container ends.
  c.ignore("terminationMessagePath");
  c.ignore("terminationMessagePolicy");
  // command replaces the image's Entrypoint (CRI command), args its Cmd (CRI args). $(VAR)
  // references would be expanded by the kubelet: not emulated, so refused.
  out.args = c.texts("command");
  out.image_args = c.texts("args");
  out.working_dir = c.text("workingDir");
  for (const auto& arg : out.args) {
    if (arg.find("$(") != std::string::npos) c.error(node, where + ".command: $(VAR) not emulated");
  }
  for (const auto& arg : out.image_args) {
    if (arg.find("$(") != std::string::npos) c.error(node, where + ".args: $(VAR) not emulated");
  }

  const auto& env = c.items("env");
  for (size_t i = 0; i < env.size(); ++i) {
    std::string at = fmt::format("{}.env[{}]", where, i);
    Members e(&env[i], file, at);
    nodesim::EnvSpec var;
    var.name = e.text("name");
    var.value = e.text("value");
    if (var.value.find("$(") != std::string::npos) e.error(env[i], at + ": $(VAR) not emulated");
    if (const YamlNode* from = e.take("valueFrom")) {
      Members f(from, file, at + ".valueFrom");
      Members ref(f.take("fieldRef"), file, at + ".valueFrom.fieldRef");
      ref.ignore("apiVersion");  // v1, the only one
      var.field_path = ref.text("fieldPath");
      // nodesim resolves these as the kubelet does, and refuses the others.
      static const std::set<std::string> kFields = {
          "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "status.podIP"};
      if (kFields.count(var.field_path) == 0) {
        e.error(*from, at + ": only fieldRef " + fmt::format("{}", fmt::join(kFields, ", ")) +
                           " are emulated, not " + var.field_path);
      }
    }
    out.env.push_back(std::move(var));
  }

  const auto& ports = c.items("ports");
  for (size_t i = 0; i < ports.size(); ++i) {
    Members p(&ports[i], file, fmt::format("{}.ports[{}]", where, i));
    nodesim::PortSpec port;
    port.name = p.text("name");
    port.container_port = static_cast<uint16_t>(p.integer("containerPort").value_or(0));
    port.protocol = p.text("protocol", "TCP");
    port.host_port = static_cast<uint16_t>(p.integer("hostPort").value_or(0));
    port.host_ip = p.text("hostIP");
    out.ports.push_back(port);
  }

  if (const YamlNode* sc_node = c.take("securityContext")) {
    Members sc(sc_node, file, where + ".securityContext");
    read_security_context(sc, out.security, *sc_node);
  }

  const auto& mounts = c.items("volumeMounts");
  for (size_t i = 0; i < mounts.size(); ++i) {
    std::string at = fmt::format("{}.volumeMounts[{}]", where, i);
    Members m(&mounts[i], file, at);
    std::string name = m.text("name");
    auto volume = volumes.find(name);
    if (volume == volumes.end()) m.error(mounts[i], at + ": no volume " + name);
    nodesim::MountSpec mount;
    mount.container_path = m.text("mountPath");
    mount.host_path = volume->second.host_path;
    mount.read_only = m.flag("readOnly", false);
    std::string propagation = m.text("mountPropagation", "None");
    if (propagation == "HostToContainer") {
      mount.propagation = nodesim::MountSpec::Propagation::kHostToContainer;
    } else if (propagation == "Bidirectional") {
      if (!out.security.privileged) {
        m.error(mounts[i],
                at + ": the API server refuses Bidirectional in an unprivileged container");
      }
      mount.propagation = nodesim::MountSpec::Propagation::kBidirectional;
    } else if (propagation != "None") {
      m.error(mounts[i], at + ": unknown mountPropagation " + propagation);
    }
    out.mounts.push_back(mount);
  }
  return out;
}

// mkdir -p, mode 0755 (as the kubelet makes a DirectoryOrCreate folder); appends each folder
// it made to `made`.
void make_dirs(const std::string& path, std::vector<std::string>& made) {
  for (size_t at = 0; at != std::string::npos;) {
    at = path.find('/', at + 1);
    std::string partial = path.substr(0, at);
    if (::mkdir(partial.c_str(), 0755) == 0) {
      made.push_back(partial);
    } else if (errno != EEXIST) {
      fail("mkdir " + partial + ": " + std::strerror(errno));
    }
  }
}

}  // namespace

std::vector<YamlNode> yaml_documents(std::string_view text, const std::string& file) {
  std::vector<YamlNode> documents;
  size_t start = 0;
  int first_line = 1;
  int line = 1;
  auto add = [&](size_t end) {
    auto doc = parse_yaml(text.substr(start, end - start));
    if (!doc)
      fail(fmt::format("{} (document from line {}): {}", file, first_line, doc.error().message()));
    if (doc->kind != YamlNode::Kind::kNull) documents.push_back(std::move(*doc));
  };
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view current = text.substr(at, end - at);
    if (current == "---" || current.rfind("--- ", 0) == 0) {
      add(at);
      start = end;
      first_line = line + 1;
    }
    at = end + 1;
    ++line;
  }
  add(text.size());
  return documents;
}

DaemonSetPod daemonset_pod(const YamlNode& manifest, const std::string& file) {
  DaemonSetPod pod;
  Members top(&manifest, file, "");
  if (top.text("apiVersion") != "apps/v1" || top.text("kind") != "DaemonSet") {
    top.error(manifest, "not an apps/v1 DaemonSet");
  }
  const YamlNode* metadata_node = top.take("metadata");
  Members metadata(metadata_node, file, ".metadata");
  pod.daemonset = metadata.text("name");
  pod.spec.pod_namespace = metadata.text("namespace", "default");
  // The DaemonSet's own labels and annotations are not its pods'.
  metadata.ignore("labels");
  metadata.ignore("annotations");

  const YamlNode* spec_node = top.take("spec");
  if (spec_node == nullptr) top.error(manifest, "no spec");
  Members spec(spec_node, file, ".spec");
  // How pods are replaced on a change, not how one runs.
  spec.ignore("updateStrategy");
  spec.ignore("minReadySeconds");
  spec.ignore("revisionHistoryLimit");
  const YamlNode* template_node = spec.take("template");
  if (template_node == nullptr) spec.error(*spec_node, ".spec.template missing");
  Members pod_template(template_node, file, ".spec.template");
  Members template_metadata(pod_template.take("metadata"), file, ".spec.template.metadata");
  pod.spec.labels = template_metadata.strings("labels");
  pod.spec.annotations = template_metadata.strings("annotations");
  {
    // The API server refuses a selector that does not select the template's labels.
    Members selector(spec.take("selector"), file, ".spec.selector");
    for (const auto& [k, v] : selector.strings("matchLabels")) {
      auto it = pod.spec.labels.find(k);
      if (it == pod.spec.labels.end() || it->second != v) {
        selector.error(*spec_node, ".spec.selector does not match the template's labels");
      }
    }
  }
  // The DaemonSet controller names its pods NAME-xxxxx.
  pod.spec.name = pod.daemonset + "-" + random_suffix(5);
  pod.spec.uid = random_uid();

  const YamlNode* pod_spec_node = pod_template.take("spec");
  Members ps(pod_spec_node, file, ".spec.template.spec");
  pod.service_account = ps.text("serviceAccountName", ps.text("serviceAccount", "default"));
  pod.automount_token = ps.flag("automountServiceAccountToken", true);
  pod.spec.host_pid = ps.flag("hostPID", false);
  pod.spec.host_network = ps.flag("hostNetwork", false);
  if (ps.flag("hostIPC", false)) ps.error(*pod_spec_node, "hostIPC is not emulated");
  // Which nodes the pod goes to and who is evicted first: this node is one it runs on.
  ps.ignore("priorityClassName");
  ps.ignore("priority");
  ps.ignore("tolerations");
  ps.ignore("nodeSelector");
  ps.ignore("affinity");
  // How long the kubelet waits for the pod to stop.
  ps.ignore("terminationGracePeriodSeconds");
  // The pod's resolv.conf: the agent resolves no names (it reaches the API server at
  // KUBERNETES_SERVICE_HOST, an address).
  ps.ignore("dnsPolicy");

  std::map<std::string, VolumeSource> volumes;
  const auto& volume_items = ps.items("volumes");
  for (size_t i = 0; i < volume_items.size(); ++i) {
    std::string at = fmt::format(".spec.template.spec.volumes[{}]", i);
    Members v(&volume_items[i], file, at);
    std::string name = v.text("name");
    const YamlNode* host_path_node = v.take("hostPath");
    if (host_path_node == nullptr)
      v.error(volume_items[i], at + ": only hostPath volumes are emulated");
    Members hp(host_path_node, file, at + ".hostPath");
    HostPathVolume host_path{hp.text("path"), hp.text("type")};
    if (host_path.path.empty() || host_path.path[0] != '/') {
      hp.error(*host_path_node, at + ": hostPath needs an absolute path");
    }
    if (!host_path.type.empty() && host_path.type != "Directory" &&
        host_path.type != "DirectoryOrCreate") {
      hp.error(*host_path_node, at + ": hostPath type " + host_path.type + " is not emulated");
    }
    volumes[name] = {host_path.path};
    pod.host_paths.push_back(host_path);
  }
  const auto& containers = ps.items("containers");
  if (containers.empty()) ps.error(*pod_spec_node, "no containers");
  for (size_t i = 0; i < containers.size(); ++i) {
    pod.spec.containers.push_back(read_container(
        containers[i], file, fmt::format(".spec.template.spec.containers[{}]", i), volumes));
  }
  return pod;
}

void prepare_pod(DaemonSetPod& pod, const KubeletSetup& kubelet,
                 std::vector<std::string>& made_dirs) {
  // hostPath types, as the kubelet checks them before it starts the pod.
  for (const auto& volume : pod.host_paths) {
    struct stat st {};
    bool is_dir = ::stat(volume.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    if (volume.type == "DirectoryOrCreate" && !is_dir) make_dirs(volume.path, made_dirs);
    if (volume.type == "Directory" && !is_dir) {
      fail("hostPath " + volume.path + " is not a directory: the kubelet does not start the pod");
    }
  }

  // The projected service-account volume admission adds (kube-api-access-xxxxx), written as the
  // kubelet's atomic writer writes it: the files in a timestamped folder, ..data a link to it,
  // and each name a link through ..data.
  std::string volume;
  if (pod.automount_token) {
    volume = fmt::format("{}/{}/volumes/kubernetes.io~projected/kube-api-access-{}",
                         kubelet.pods_dir, pod.spec.uid, random_suffix(5));
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char stamp[64];
    std::strftime(stamp, sizeof stamp, "..%Y_%m_%d_%H_%M_%S.", &utc);
    std::string data_dir = stamp + std::to_string(::getpid());
    std::vector<std::string> in_node_folder;  // removed with the node
    make_dirs(volume + "/" + data_dir, in_node_folder);
    for (const auto& [name, contents] :
         {std::pair<std::string, std::string>{"token", kubelet.token},
          {"ca.crt", kubelet.ca_pem},
          {"namespace", pod.spec.pod_namespace}}) {
      test::write_file(volume + "/" + data_dir + "/" + name, contents);
      ::chmod((volume + "/" + data_dir + "/" + name).c_str(), 0644);
      if (::symlink(("..data/" + name).c_str(), (volume + "/" + name).c_str()) != 0) {
        fail("symlink " + volume + "/" + name + ": " + std::strerror(errno));
      }
    }
    if (::symlink(data_dir.c_str(), (volume + "/..data").c_str()) != 0) {
      fail("symlink " + volume + "/..data: " + std::strerror(errno));
    }
  }

  // The "kubernetes" service's variables, which every container gets.
  std::string host = kubelet.api_host;
  std::string port = std::to_string(kubelet.api_port);
  std::string url = "tcp://" + host + ":" + port;
  std::string prefix = "KUBERNETES_PORT_" + port + "_TCP";
  std::vector<nodesim::EnvSpec> service_env = {{"KUBERNETES_SERVICE_HOST", host, ""},
                                               {"KUBERNETES_SERVICE_PORT", port, ""},
                                               {"KUBERNETES_SERVICE_PORT_HTTPS", port, ""},
                                               {"KUBERNETES_PORT", url, ""},
                                               {prefix, url, ""},
                                               {prefix + "_PROTO", "tcp", ""},
                                               {prefix + "_PORT", port, ""},
                                               {prefix + "_ADDR", host, ""}};
  for (auto& container : pod.spec.containers) {
    container.env.insert(container.env.begin(), service_env.begin(), service_env.end());
    if (!volume.empty()) {
      container.mounts.push_back({"/var/run/secrets/kubernetes.io/serviceaccount", volume, true,
                                  nodesim::MountSpec::Propagation::kPrivate});
    }
    // Not emulated, as they change nothing for the agent: the kubelet's /etc/hosts for pods on
    // the pod network and the file behind /dev/termination-log.
  }
}

}  // namespace socksnap::test
