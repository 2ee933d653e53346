#include "util/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "util/files.h"
#include "util/strings.h"

namespace socksnap {

std::optional<uint64_t> parse_effective_capabilities(std::string_view status) {
  for (std::string_view line : split(status, '\n')) {
    constexpr std::string_view kKey = "CapEff:";
    if (line.substr(0, kKey.size()) != kKey) continue;
    std::string_view hex = trim(line.substr(kKey.size()));
    uint64_t mask = 0;
    auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), mask, 16);
    if (ec != std::errc() || ptr != hex.data() + hex.size() || hex.empty()) return std::nullopt;
    return mask;
  }
  return std::nullopt;
}

bool has_capability(int cap) {
  if (cap < 0 || cap >= 64) return false;
  // capget: the calling thread's sets in one system call, 0.3 us here, where a read of
  // /proc/self/status (the kernel formats some 60 lines) takes 11 us, and a run asks three or
  // four times before its BPF programs load. The file where capget fails.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, 2> data{};
  if (::syscall(SYS_capget, &header, data.data()) == 0) {
    uint64_t effective = uint64_t{data[0].effective} | (uint64_t{data[1].effective} << 32);
    return ((effective >> cap) & 1U) != 0;
  }
  auto status = read_file("/proc/self/status");
  if (!status) return false;
  auto mask = parse_effective_capabilities(*status);
  return mask && ((*mask >> cap) & 1U) != 0;
}

namespace {

constexpr std::array<const char*, 41> kNames = {"CAP_CHOWN",
                                                "CAP_DAC_OVERRIDE",
                                                "CAP_DAC_READ_SEARCH",
                                                "CAP_FOWNER",
                                                "CAP_FSETID",
                                                "CAP_KILL",
                                                "CAP_SETGID",
                                                "CAP_SETUID",
                                                "CAP_SETPCAP",
                                                "CAP_LINUX_IMMUTABLE",
                                                "CAP_NET_BIND_SERVICE",
                                                "CAP_NET_BROADCAST",
                                                "CAP_NET_ADMIN",
                                                "CAP_NET_RAW",
                                                "CAP_IPC_LOCK",
                                                "CAP_IPC_OWNER",
                                                "CAP_SYS_MODULE",
                                                "CAP_SYS_RAWIO",
                                                "CAP_SYS_CHROOT",
                                                "CAP_SYS_PTRACE",
                                                "CAP_SYS_PACCT",
                                                "CAP_SYS_ADMIN",
                                                "CAP_SYS_BOOT",
                                                "CAP_SYS_NICE",
                                                "CAP_SYS_RESOURCE",
                                                "CAP_SYS_TIME",
                                                "CAP_SYS_TTY_CONFIG",
                                                "CAP_MKNOD",
                                                "CAP_LEASE",
                                                "CAP_AUDIT_WRITE",
                                                "CAP_AUDIT_CONTROL",
                                                "CAP_SETFCAP",
                                                "CAP_MAC_OVERRIDE",
                                                "CAP_MAC_ADMIN",
                                                "CAP_SYSLOG",
                                                "CAP_WAKE_ALARM",
                                                "CAP_BLOCK_SUSPEND",
                                                "CAP_AUDIT_READ",
                                                "CAP_PERFMON",
                                                "CAP_BPF",
                                                "CAP_CHECKPOINT_RESTORE"};

int last_capability() {
  auto text = read_file("/proc/sys/kernel/cap_last_cap");
  auto last = text ? parse_int<int>(trim(*text)) : std::nullopt;
  if (last && *last > 0 && *last < 64) return *last;
  return static_cast<int>(kNames.size()) - 1;
}

}  // namespace

std::string capability_name(int cap) {
  if (cap >= 0 && static_cast<size_t>(cap) < kNames.size()) return kNames[cap];
  return "CAP_" + std::to_string(cap);
}

Result<std::vector<std::string>> keep_only_capabilities(const std::vector<int>& keep) {
  auto kept = [&keep](int cap) { return std::find(keep.begin(), keep.end(), cap) != keep.end(); };
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, 2> data{};
  if (::syscall(SYS_capget, &header, data.data()) != 0) return system_error("capget");
  uint64_t permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);

  // The bounding set first, while CAP_SETPCAP (if the thread has it) is still effective.
  bool can_drop_bounding = ((permitted >> CAP_SETPCAP) & 1U) != 0;
  for (int cap = 0; cap <= last_capability() && can_drop_bounding; ++cap) {
    if (kept(cap) || ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      return system_error("dropping " + capability_name(cap) + " from the bounding set");
    }
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);  // EINVAL before Linux 4.3: none

  uint64_t mask = 0;
  std::vector<std::string> names;
  for (int cap : keep) {
    if (cap < 0 || cap > 63 || ((permitted >> cap) & 1U) == 0) continue;
    mask |= uint64_t{1} << cap;
    names.push_back(capability_name(cap));
  }
  for (int i = 0; i < 2; ++i) {
    auto half = static_cast<uint32_t>(mask >> (32 * i));
    data[i].effective = half;
    data[i].permitted = half;
    data[i].inheritable = 0;
  }
  header = {_LINUX_CAPABILITY_VERSION_3, 0};
  if (::syscall(SYS_capset, &header, data.data()) != 0) return system_error("capset");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return system_error("no_new_privs");
  return names;
}

}  // namespace socksnap
