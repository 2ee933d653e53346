// -n/-p/-c/-l/--no-host over owners (label selectors themselves: label_selector_test.cpp).
#include "select/owner_selector.h"

#include <gtest/gtest.h>

namespace socksnap {
namespace {

// Row 0: container "nginx" of pod shop/web-0 (app=web, tier=front); row 1: pod shop/db-0
// (app=db) by its namespace only; row 2: a host process; row 3: nobody.
Snapshot owned() {
  Snapshot snap;
  snap.sockets.resize(4);
  snap.pods = {PodInfo{"web-0", "shop", "u1", {{"app", "web"}, {"tier", "front"}}, false, 0},
               PodInfo{"db-0", "shop", "u2", {{"app", "db"}}, false, 0}};
  snap.containers = {ContainerInfo{"containerd", "c1", "nginx", "nginx:1", 10, 0}};
  snap.processes = {ProcessInfo{10, "nginx", 1, 0}, ProcessInfo{20, "sshd", 1, kNone}};
  snap.holders = {SocketHolder{0, 3}, SocketHolder{1, 4}};
  snap.owners = {SocketOwner{0, 1, 0, 0}, SocketOwner{0, 0, kNone, 1},
                 SocketOwner{1, 1, kNone, kNone}, SocketOwner{}};
  return snap;
}

std::vector<size_t> rows_matching(const OwnerSelector& selector) {
  Snapshot snap = owned();
  std::vector<size_t> rows;
  for (size_t i = 0; i < snap.sockets.size(); ++i) {
    if (selector.matches(snap, i)) rows.push_back(i);
  }
  return rows;
}

OwnerSelector with_labels(const char* text) {
  OwnerSelector s;
  auto labels = parse_label_selector(text);
  EXPECT_TRUE(labels) << text;
  if (labels) s.labels = *labels;
  return s;
}

TEST(OwnerSelector, EachSelectorKeepsExactlyItsRows) {
  OwnerSelector all;
  EXPECT_FALSE(all.active());
  EXPECT_EQ(rows_matching(all), (std::vector<size_t>{0, 1, 2, 3}));

  OwnerSelector ns;
  ns.pod_namespace = "shop";
  EXPECT_EQ(rows_matching(ns), (std::vector<size_t>{0, 1}));
  ns.pod_namespace = "other";
  EXPECT_EQ(rows_matching(ns), (std::vector<size_t>{}));

  OwnerSelector pod;
  pod.pod_name = "db-0";
  EXPECT_EQ(rows_matching(pod), (std::vector<size_t>{1}));

  OwnerSelector container;
  container.container_name = "nginx";
  EXPECT_EQ(rows_matching(container), (std::vector<size_t>{0}));

  OwnerSelector no_host;
  no_host.include_host = false;
  EXPECT_TRUE(no_host.active());
  EXPECT_EQ(rows_matching(no_host), (std::vector<size_t>{0, 1}));
}

TEST(OwnerSelector, LabelRequirementsAllHold) {
  EXPECT_EQ(rows_matching(with_labels("app=web")), (std::vector<size_t>{0}));
  EXPECT_EQ(rows_matching(with_labels("app==db")), (std::vector<size_t>{1}));
  EXPECT_EQ(rows_matching(with_labels("app!=web")), (std::vector<size_t>{1}));
  EXPECT_EQ(rows_matching(with_labels("tier")), (std::vector<size_t>{0}));
  EXPECT_EQ(rows_matching(with_labels("!tier")), (std::vector<size_t>{1}));
  EXPECT_EQ(rows_matching(with_labels("app=web,tier=front")), (std::vector<size_t>{0}));
  EXPECT_EQ(rows_matching(with_labels("app=web,tier=back")), (std::vector<size_t>{}));
  EXPECT_EQ(rows_matching(with_labels("app in (web, db)")), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(rows_matching(with_labels("tier notin (front)")), (std::vector<size_t>{1}));
  // Sockets of no pod have no labels: no label selector matches them, not even a negative one.
  EXPECT_EQ(rows_matching(with_labels("!nosuch")), (std::vector<size_t>{0, 1}));
}

}  // namespace
}  // namespace socksnap
