// /proc/PID/mountinfo: network namespaces bind-mounted as nsfs files.
#include "discover/mountinfo.h"

#include <gtest/gtest.h>

namespace socksnap {
namespace {

struct Mount {
  uint64_t inode;
  std::string mount_point;
  bool operator==(const Mount&) const = default;
};

std::vector<Mount> mounts(std::string_view text) {
  std::vector<Mount> out;
  for (auto& m : parse_netns_mounts(text)) out.push_back(Mount{m.inode, m.mount_point});
  return out;
}

std::ostream& operator<<(std::ostream& os, const Mount& m) {
  return os << m.inode << " " << m.mount_point;
}

// Lines as a host with ip netns, docker and a mount namespace bind-mount shows them.
constexpr std::string_view kHostMountinfo =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
    "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
    "25 22 0:23 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=814512k\n"
    "620 25 0:4 net:[4026532251] /run/netns/blue rw shared:227 - nsfs nsfs rw\n"
    "621 25 0:4 net:[4026532252] /run/netns/with\\040space rw,nosuid shared:228 - nsfs nsfs rw\n"
    "622 25 0:4 mnt:[4026532253] /run/mntns/x rw - nsfs nsfs rw\n"
    "623 25 0:4 net:[4026532254] /run/docker/netns/1a2b3c rw shared:1 master:2 - nsfs nsfs rw\n"
    "624 25 0:4 uts:[4026532255] /run/utsns/y rw - nsfs nsfs rw\n"
    "625 22 0:4 net:[4026532256] /tmp/tab\\011and\\134slash rw - nsfs nsfs rw";  // no final \n

TEST(ParseNetnsMounts, RealShapedLines) {
  EXPECT_EQ(mounts(kHostMountinfo), (std::vector<Mount>{{4026532251ULL, "/run/netns/blue"},
                                                        {4026532252ULL, "/run/netns/with space"},
                                                        {4026532254ULL, "/run/docker/netns/1a2b3c"},
                                                        {4026532256ULL, "/tmp/tab\tand\\slash"}}));
}

TEST(ParseNetnsMounts, NothingToFind) {
  EXPECT_TRUE(mounts("").empty());
  EXPECT_TRUE(mounts("\n\n").empty());
  EXPECT_TRUE(mounts("23 22 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n").empty());
}

TEST(ParseNetnsMounts, GarbageLinesAreSkipped) {
  constexpr std::string_view text =
      "garbage\n"
      "1 2 3\n"
      "626 25 0:4 net:[4026532257] /no/dash rw nsfs nsfs rw\n"
      "627 25 0:4 net:[4026532258] /dash/last rw -\n"
      "628 25 0:4 net:[notanumber] /a rw - nsfs nsfs rw\n"
      "629 25 0:4 net:[] /b rw - nsfs nsfs rw\n"
      "630 25 0:4 net:[42 /c rw - nsfs nsfs rw\n"
      "631 25 0:4 net:[-1] /d rw - nsfs nsfs rw\n"
      "632 25 0:4 net:[99999999999999999999] /e rw - nsfs nsfs rw\n"
      "633 25 0:4 net:[4026532259] /f rw - tmpfs tmpfs rw\n"
      "634 25 0:4 NET:[4026532260] /g rw - nsfs nsfs rw\n"
      "635 25 0:4 net:[4026532261] /good rw - nsfs nsfs rw\n";
  EXPECT_EQ(mounts(text), (std::vector<Mount>{{4026532261ULL, "/good"}}));
}

TEST(ParseNetnsMounts, RunsOfSpacesAreOneSeparator) {
  EXPECT_EQ(mounts("620  25 0:4 net:[7]   /x rw - nsfs  nsfs rw\n"),
            (std::vector<Mount>{{7, "/x"}}));
}

TEST(UnescapeMountPath, OctalEscapes) {
  EXPECT_EQ(unescape_mount_path("/plain/path"), "/plain/path");
  EXPECT_EQ(unescape_mount_path("a\\040b"), "a b");
  EXPECT_EQ(unescape_mount_path("\\011\\012\\134"), "\t\n\\");
  EXPECT_EQ(unescape_mount_path("\\101\\102C"), "ABC");
  EXPECT_EQ(unescape_mount_path("end\\040"), "end ");
}

TEST(UnescapeMountPath, IncompleteOrNonOctalEscapesStayAsTheyAre) {
  EXPECT_EQ(unescape_mount_path("a\\04"), "a\\04");
  EXPECT_EQ(unescape_mount_path("a\\0"), "a\\0");
  EXPECT_EQ(unescape_mount_path("a\\"), "a\\");
  EXPECT_EQ(unescape_mount_path("a\\089"), "a\\089");
  EXPECT_EQ(unescape_mount_path("a\\x20"), "a\\x20");
}

}  // namespace
}  // namespace socksnap
