#!/usr/bin/env bash
# Builds socksnap (release) into build/: every program the README names, in build/src/ —
# socksnap, its CRI plugin socksnap-cri.so, the node agent socksnap-agent and the kubectl plugin
# kubectl-socksnap. `cmake --install build --prefix /usr/local` installs them (README: Install).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build socksnap socksnap_cri_plugin socksnap-agent kubectl-socksnap
