#!/usr/bin/env bash
# Builds socksnap (release) into build/; the binary is build/src/socksnap.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build socksnap
