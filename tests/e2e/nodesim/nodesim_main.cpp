// nodesim: the node simulator as a command, for running pods by hand or from scripts.
//
//   nodesim up DIR            mount a tmpfs on DIR (missing or empty), start containerd there,
//                             import the test images; prints the paths
//   nodesim pod DIR SPEC      run a pod (SPEC: JSON text, or @FILE); prints its sandbox id, IP,
//                             netns, pids
//   nodesim rmpod DIR ID      stop and remove a pod
//   nodesim pods DIR          the pods this node runs, as JSON lines
//   nodesim down DIR          remove everything; prints what was left over, exits 1 if anything
//
// Output is JSON. Commands on one DIR must not run at the same time.
#include <iostream>
#include <string>

#include "node_sim.h"
#include "support/files.h"

namespace {

int usage() {
  std::cerr << "usage: nodesim up DIR | pod DIR SPEC|@FILE | rmpod DIR ID | pods DIR | down DIR\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace socksnap::nodesim;
  if (argc < 3) return usage();
  std::string command = argv[1];
  std::string dir = argv[2];
  Options options;
  options.stop_with_parent = false;
  try {
    if (command == "up" && argc == 3) {
      auto node = NodeSim::up(dir, options);
      node->detach();
      std::cout << node_paths_json(node->paths(), node->containerd_pid()) << "\n";
    } else if (command == "pod" && argc == 4) {
      std::string spec = argv[3];
      if (!spec.empty() && spec[0] == '@') spec = socksnap::test::read_file(spec.substr(1));
      auto node = NodeSim::attach(dir, options);
      node->detach();
      std::cout << pod_info_json(node->run_pod(parse_pod_spec(spec))) << "\n";
    } else if (command == "rmpod" && argc == 4) {
      auto node = NodeSim::attach(dir, options);
      node->detach();
      node->remove_pod(argv[3]);
    } else if (command == "pods" && argc == 3) {
      auto node = NodeSim::attach(dir, options);
      node->detach();
      for (const auto& pod : node->pods()) std::cout << pod_info_json(pod) << "\n";
    } else if (command == "down" && argc == 3) {
      auto node = NodeSim::attach(dir, options);
      auto left = node->down();
      std::cout << "[";
      for (size_t i = 0; i < left.size(); ++i)
        std::cout << (i ? ", " : "") << '"' << left[i] << '"';
      std::cout << "]\n";
      return left.empty() ? 0 : 1;
    } else {
      return usage();
    }
  } catch (const std::exception& e) {
    std::cerr << "nodesim " << command << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
