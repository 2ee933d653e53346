// Where and how this host's sockets and owners are read: the host side of every front-end's
// command line (--host-root, --netns, --node-name, the runtimes' paths, --cri-socket, -j) and of
// the agent's configuration.
#pragma once

#include <string>
#include <vector>

#include "enrich/container_metadata.h"

namespace socksnap {

// One thread per CPU: what a run uses unless told otherwise (-j).
unsigned default_thread_count();

struct Host {
  std::string root = "/";          // where the host's / is (an agent in a container: /host)
  std::vector<std::string> netns;  // --netns: inodes or paths; empty: every namespace
  std::string node_name;           // empty: $NODE_NAME, then the host name
  RuntimePaths runtime;            // the container runtimes' state, under `root`
  std::string cri_socket;          // for pod labels; empty: the runtime's default; "none": skip
  unsigned jobs = 0;               // namespaces read at once; 0: one per CPU
  std::string backend = "auto";    // --backend: auto (BPF iterators, else netlink), bpf, netlink
  std::string record_dump;         // hidden: write the kernel's raw replies here
  std::string replay_dump;         // hidden: read them from here instead of the kernel

  // How many threads a run uses: `jobs`, else one per CPU.
  unsigned threads() const;
};

}  // namespace socksnap
