// OCI image archives written by hand, for a node with no registry to pull from: one
// uncompressed layer, one config and one manifest per image, in an OCI image layout tar whose
// index names each image with the io.containerd.image.name annotation (what
// `ctr images import` reads).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace socksnap::nodesim {

// A tar archive (ustar) built in memory. Paths are relative ("bin/sh"); mtime, uid and gid 0.
class TarWriter {
 public:
  void add_directory(const std::string& path, uint32_t mode = 0755);
  void add_file(const std::string& path, const std::string& contents, uint32_t mode = 0644);
  void add_symlink(const std::string& path, const std::string& target);
  // The archive with its end-of-archive blocks, moved out: the writer is left empty (an image
  // of real programs is hundreds of megabytes under the sanitizers).
  std::string finish();

 private:
  void add_entry(const std::string& path, char type, uint32_t mode, const std::string& contents,
                 const std::string& link_target);
  std::string data_;
};

std::string sha256_hex(const std::string& bytes);

struct ImageSpec {
  std::string name;                     // e.g. "socksnap.test/busybox:1"
  std::vector<std::string> entrypoint;  // the image config's Entrypoint
  std::vector<std::string> cmd;         // and Cmd
  std::string user;                     // and User ("0"); empty: none
};

// An OCI image layout archive holding `images`, all sharing one root-filesystem layer.
std::string build_image_archive(std::string layer_tar, const std::vector<ImageSpec>& images);

// The test root filesystem: busybox (from `busybox_path`, a static binary) with a link for
// every applet it lists, /bin/netprobe, and /etc/passwd, /etc/group.
std::string build_busybox_layer(const std::string& busybox_path, const std::string& netprobe_path);

// The OCI architecture name of this machine (amd64, arm64, ...).
std::string oci_architecture();

}  // namespace socksnap::nodesim
