#include "example_map.h"

namespace socksnap::test {

ServiceMap example_service_map() {
  ServiceMap map;
  // Sorted by id, as ServiceMap keeps them.
  map.vertices = {
      {"svc/kube-system/kube-dns", VertexKind::kService, "kube-system", "kube-dns", {{"UDP", 53}}},
      {"svc/shop/cart", VertexKind::kService, "shop", "cart", {{"TCP", 80}}},
      {"svc/shop/redis", VertexKind::kService, "shop", "redis", {{"TCP", 6379}}},
      {"workload/kube-system/Deployment/coredns",
       VertexKind::kWorkload,
       "kube-system",
       "Deployment/coredns",
       {{"TCP", 53}, {"UDP", 53}}},
      {"workload/shop/Deployment/cart",
       VertexKind::kWorkload,
       "shop",
       "Deployment/cart",
       {{"TCP", 8080}}},
      {"workload/shop/Deployment/frontend",
       VertexKind::kWorkload,
       "shop",
       "Deployment/frontend",
       {{"TCP", 8080}}},
      {"workload/shop/StatefulSet/redis",
       VertexKind::kWorkload,
       "shop",
       "StatefulSet/redis",
       {{"TCP", 6379}}},
      {"world", VertexKind::kWorld, "", "world", {}},
  };
  constexpr uint32_t kDns = 0, kCartService = 1, kRedisService = 2, kCoredns = 3, kCart = 4,
                     kFrontend = 5, kRedis = 6, kWorld = 7;
  map.edges = {
      {kCart, kCoredns, kDns, 53, "UDP", 53, 2},
      {kCart, kRedis, kRedisService, 6379, "TCP", 6379, 4},
      {kFrontend, kCart, kCartService, 80, "TCP", 8080, 6},
      {kFrontend, kCoredns, kDns, 53, "UDP", 53, 3},
      {kWorld, kFrontend, -1, 0, "TCP", 8080, 12},
  };
  return map;
}

}  // namespace socksnap::test
