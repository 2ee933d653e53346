// The CRI client proper, built as the plugin socksnap-cri.so: gRPC and its fifty-odd shared
// libraries are loaded only by the runs that ask for pod labels (see cri_client.cpp).
#include "enrich/cri_client.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "cri_runtime_v1.grpc.pb.h"

namespace socksnap {
namespace {

// Runtimes answer a node's worth of pods; kubelet allows 16 MiB, gRPC's default is 4 MiB.
constexpr int kMaxReplyBytes = 16 * 1024 * 1024;

bool contains(std::string_view text, std::string_view word) {
  return text.find(word) != std::string_view::npos;
}

// One line that says what went wrong in words, then gRPC's own status for the details.
std::string describe(const std::string& socket_path, std::chrono::milliseconds timeout,
                     const grpc::Status& status) {
  std::string what;
  const std::string& detail = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      what = "no answer within " + std::to_string(timeout.count()) + " ms";
      break;
    case grpc::StatusCode::UNIMPLEMENTED:
      what = "the runtime does not serve runtime.v1 ListPodSandbox";
      break;
    case grpc::StatusCode::UNAVAILABLE:
      if (contains(detail, "Connection refused")) {
        what = "connection refused";
      } else if (contains(detail, "Permission denied")) {
        what = "permission denied";
      } else {
        what = "runtime unavailable";
      }
      break;
    default:
      what = "call failed";
      break;
  }
  static constexpr std::string_view kCodeNames[] = {"OK",
                                                    "CANCELLED",
                                                    "UNKNOWN",
                                                    "INVALID_ARGUMENT",
                                                    "DEADLINE_EXCEEDED",
                                                    "NOT_FOUND",
                                                    "ALREADY_EXISTS",
                                                    "PERMISSION_DENIED",
                                                    "RESOURCE_EXHAUSTED",
                                                    "FAILED_PRECONDITION",
                                                    "ABORTED",
                                                    "OUT_OF_RANGE",
                                                    "UNIMPLEMENTED",
                                                    "INTERNAL",
                                                    "UNAVAILABLE",
                                                    "DATA_LOSS",
                                                    "UNAUTHENTICATED"};
  auto code = static_cast<size_t>(status.error_code());
  std::string line = "CRI ListPodSandbox on " + socket_path + ": " + what + " (";
  line += code < std::size(kCodeNames) ? std::string(kCodeNames[code]) : std::to_string(code);
  if (!detail.empty()) line += ": " + detail;
  line += ")";
  std::replace(line.begin(), line.end(), '\n', ' ');
  return line;
}

}  // namespace

Result<std::vector<PodSandboxInfo>> list_pod_sandboxes_over_grpc(
    const std::string& socket_path, std::chrono::milliseconds timeout) {
  // gRPC reports a missing socket only as an unavailable address after retrying: ask the
  // file system first, so the error says what is wrong.
  struct stat st {};
  if (::stat(socket_path.c_str(), &st) != 0) {
    return system_error("CRI socket " + socket_path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return plain_error("CRI socket " + socket_path + ": not a socket");
  }

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReplyBytes);
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  auto channel =
      grpc::CreateCustomChannel("unix:" + socket_path, grpc::InsecureChannelCredentials(), args);
  auto stub = runtime::v1::RuntimeService::NewStub(channel);

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  runtime::v1::ListPodSandboxRequest request;
  runtime::v1::ListPodSandboxResponse reply;
  grpc::Status status = stub->ListPodSandbox(&context, request, &reply);
  if (!status.ok()) return plain_error(describe(socket_path, timeout, status));

  std::vector<PodSandboxInfo> pods;
  pods.reserve(static_cast<size_t>(reply.items_size()));
  for (const auto& item : reply.items()) {
    PodSandboxInfo pod;
    pod.id = item.id();
    pod.name = item.metadata().name();
    pod.pod_namespace = item.metadata().namespace_();
    pod.uid = item.metadata().uid();
    pod.labels.assign(item.labels().begin(), item.labels().end());
    std::sort(pod.labels.begin(), pod.labels.end());
    pod.ready = item.state() == runtime::v1::SANDBOX_READY;
    pods.push_back(std::move(pod));
  }
  return pods;
}

}  // namespace socksnap

// The plugin's one entry point, looked up by name. Both sides are built together, so C++ types
// cross it safely.
extern "C" __attribute__((visibility("default"))) bool socksnap_cri_list_pod_sandboxes(
    const std::string& socket_path, long timeout_ms,
    std::vector<socksnap::PodSandboxInfo>& sandboxes, socksnap::Error& error) {
  auto listed =
      socksnap::list_pod_sandboxes_over_grpc(socket_path, std::chrono::milliseconds(timeout_ms));
  if (!listed) {
    error = listed.error();
    return false;
  }
  sandboxes = std::move(listed.value());
  return true;
}
