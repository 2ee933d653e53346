// Which socket source serves a run, and which namespaces it reads, picked once per run: a
// recorded dump when the run replays one (its namespaces are the recording's), else the kernel's
// sockets over the namespaces discovery finds or --netns names: through the BPF iterators where
// they can run (--backend auto, bpf), else through sock_diag; the choice and why go to -v.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collect/dump_file.h"
#include "collect/socket_source.h"
#include "discover/netns_ref.h"
#include "snapshot/host.h"
#include "util/result.h"
#include "util/run_error.h"
#include "util/warnings.h"

namespace socksnap {

struct SourceChoice {
  std::unique_ptr<DumpRecorder> recorder;  // when the run records (before `source`, which uses it)
  std::unique_ptr<SocketSource> source;
  std::vector<NetnsRef> namespaces;  // to read, in this order
  bool replayed = false;             // from a recording: not this host's sockets
  // For -v: why --backend auto did not use the BPF iterators, or what the source cannot promise.
  std::string note;
};

// Usage errors: a --netns or --replay-dump that cannot be read, a --host-root that is not there;
// failures: a missing capability, --backend bpf where the iterators cannot run. The BPF
// iterators are made for runs of `request`'s kind (BpfSource::open). A run that reads no TCP or
// UDP socket (unix sockets alone), which the BPF source reads in its own way, gains nothing from
// loading its programs: --backend auto then reads through sock_diag. (The sockets' holders come
// from the BPF iterators of processes, collect/bpf_tasks.h, whatever the source.)
Result<SourceChoice, RunError> open_socket_source(const Host& host, const CollectRequest& request,
                                                  Warnings& warnings);

}  // namespace socksnap
