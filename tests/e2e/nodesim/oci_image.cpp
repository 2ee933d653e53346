#include "oci_image.h"

#include <openssl/evp.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "support/files.h"
#include "support/process.h"

namespace socksnap::nodesim {
namespace {

using nlohmann::json;

constexpr size_t kBlock = 512;

// A zero-padded octal number filling `width` - 1 characters and a NUL.
void put_octal(char* field, size_t width, uint64_t value) {
  char text[32];
  int n = std::snprintf(text, sizeof text, "%0*llo", static_cast<int>(width - 1),
                        static_cast<unsigned long long>(value));
  if (n < 0 || static_cast<size_t>(n) >= width) throw std::runtime_error("tar: number too large");
  std::memcpy(field, text, static_cast<size_t>(n) + 1);
}

struct Blob {
  std::string digest;  // "sha256:<hex>"
  std::string bytes;
};

Blob make_blob(std::string bytes) {
  return Blob{"sha256:" + sha256_hex(bytes), std::move(bytes)};
}

json descriptor(const std::string& media_type, const Blob& blob) {
  return json{{"mediaType", media_type}, {"digest", blob.digest}, {"size", blob.bytes.size()}};
}

}  // namespace

void TarWriter::add_entry(const std::string& path, char type, uint32_t mode,
                          const std::string& contents, const std::string& link_target) {
  char header[kBlock] = {};
  std::string name = path;
  std::string prefix;
  if (name.size() > 99) {
    size_t cut = name.rfind('/', 154);
    if (cut == std::string::npos || name.size() - cut - 1 > 99) {
      throw std::runtime_error("tar: path too long: " + path);
    }
    prefix = name.substr(0, cut);
    name = name.substr(cut + 1);
  }
  if (link_target.size() > 99) throw std::runtime_error("tar: link too long: " + link_target);
  // Text fields need no terminator when full: the header starts zeroed.
  auto put_text = [&header](size_t offset, std::string_view text) {
    std::copy(text.begin(), text.end(), header + offset);
  };
  put_text(0, name);
  put_octal(header + 100, 8, mode);
  put_octal(header + 108, 8, 0);
  put_octal(header + 116, 8, 0);
  put_octal(header + 124, 12, contents.size());
  put_octal(header + 136, 12, 0);
  header[156] = type;
  put_text(157, link_target);
  put_text(257, "ustar");  // magic "ustar\0", version "00"
  put_text(263, "00");
  put_text(265, "root");
  put_text(297, "root");
  put_text(345, prefix);
  // The checksum is computed with its own field taken as spaces.
  std::memset(header + 148, ' ', 8);
  unsigned sum = 0;
  for (char c : header) sum += static_cast<unsigned char>(c);
  std::snprintf(header + 148, 8, "%06o", sum);
  data_.append(header, kBlock);
  data_ += contents;
  data_.append((kBlock - contents.size() % kBlock) % kBlock, '\0');
}

void TarWriter::add_directory(const std::string& path, uint32_t mode) {
  add_entry(path.back() == '/' ? path : path + "/", '5', mode, "", "");
}

void TarWriter::add_file(const std::string& path, const std::string& contents, uint32_t mode) {
  add_entry(path, '0', mode, contents, "");
}

void TarWriter::add_symlink(const std::string& path, const std::string& target) {
  add_entry(path, '2', 0777, "", target);
}

std::string TarWriter::finish() {
  data_.append(2 * kBlock, '\0');
  return std::exchange(data_, std::string());
}

std::string sha256_hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

std::string oci_architecture() {
  utsname u{};
  ::uname(&u);
  std::string machine = u.machine;
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64") return "arm64";
  if (machine == "i686" || machine == "i386") return "386";
  if (machine.rfind("armv7", 0) == 0) return "arm";
  return machine;
}

std::string build_busybox_layer(const std::string& busybox_path, const std::string& netprobe_path) {
  TarWriter tar;
  for (const char* dir : {"bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root", "proc", "sys",
                          "dev", "var", "run"}) {
    tar.add_directory(dir);
  }
  tar.add_directory("tmp", 01777);
  tar.add_file("bin/busybox", test::read_file(busybox_path), 0755);
  tar.add_file("bin/netprobe", test::read_file(netprobe_path), 0755);
  std::istringstream applets(test::run_checked({busybox_path, "--list-full"}));
  std::set<std::string> seen;
  for (std::string applet; std::getline(applets, applet);) {
    // Only applets in the directories above; busybox lists itself and "linuxrc" too.
    if (applet.find('/') == std::string::npos || applet == "bin/busybox") continue;
    if (!seen.insert(applet).second) continue;
    tar.add_symlink(applet, "/bin/busybox");
  }
  tar.add_file("etc/passwd",
               "root:x:0:0:root:/root:/bin/sh\n"
               "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  tar.add_file("etc/group", "root:x:0:\nnogroup:x:65534:\n");
  return tar.finish();
}

std::string build_image_archive(std::string layer_tar, const std::vector<ImageSpec>& images) {
  const std::string arch = oci_architecture();
  std::vector<Blob> blobs;
  blobs.push_back(make_blob(std::move(layer_tar)));
  // The layer's digest and descriptor, kept apart: `blobs` grows below.
  const std::string layer_digest = blobs.front().digest;
  const json layer_descriptor = descriptor("application/vnd.oci.image.layer.v1.tar", blobs.front());
  json index{{"schemaVersion", 2},
             {"mediaType", "application/vnd.oci.image.index.v1+json"},
             {"manifests", json::array()}};
  for (const auto& image : images) {
    json process{{"Env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
                 {"WorkingDir", "/"}};
    if (!image.entrypoint.empty()) process["Entrypoint"] = image.entrypoint;
    if (!image.cmd.empty()) process["Cmd"] = image.cmd;
    if (!image.user.empty()) process["User"] = image.user;
    json config{{"architecture", arch},
                {"os", "linux"},
                {"config", process},
                {"rootfs", {{"type", "layers"}, {"diff_ids", {layer_digest}}}}};
    Blob config_blob = make_blob(config.dump());
    json manifest{{"schemaVersion", 2},
                  {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                  {"config", descriptor("application/vnd.oci.image.config.v1+json", config_blob)},
                  {"layers", {layer_descriptor}}};
    Blob manifest_blob = make_blob(manifest.dump());
    json entry = descriptor("application/vnd.oci.image.manifest.v1+json", manifest_blob);
    entry["platform"] = {{"architecture", arch}, {"os", "linux"}};
    std::string tag = image.name.substr(image.name.rfind(':') + 1);
    entry["annotations"] = {{"io.containerd.image.name", image.name},
                            {"org.opencontainers.image.ref.name", tag}};
    index["manifests"].push_back(entry);
    blobs.push_back(std::move(config_blob));
    blobs.push_back(std::move(manifest_blob));
  }
  TarWriter tar;
  tar.add_file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  tar.add_file("index.json", index.dump());
  tar.add_directory("blobs");
  tar.add_directory("blobs/sha256");
  std::set<std::string> written;
  for (const auto& blob : blobs) {
    if (!written.insert(blob.digest).second) continue;
    tar.add_file("blobs/sha256/" + blob.digest.substr(7), blob.bytes);
  }
  return tar.finish();
}

}  // namespace socksnap::nodesim
