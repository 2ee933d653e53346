// A source that answers from a recording made with --record-dump instead of the kernel.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collect/dump_file.h"
#include "collect/socket_source.h"

namespace socksnap {

class ReplaySource final : public SocketSource {
 public:
  static Result<std::unique_ptr<ReplaySource>> open(const std::string& path);
  explicit ReplaySource(std::vector<DumpFrame> frames) : frames_(std::move(frames)) {}

  // The namespaces the recording holds, in recorded order (its stand-in for discovery).
  std::vector<NetnsRef> namespaces() const;

  std::string_view name() const override { return "recorded sock_diag dump"; }
  Result<NamespaceSockets> collect(const NetnsRef& ns, const CollectRequest& request,
                                   Warnings& warnings) override;

 private:
  std::vector<DumpFrame> frames_;
};

}  // namespace socksnap
