#!/usr/bin/env bash
# Installs what socksnap needs to build, test and benchmark, from Debian 12's packages. Run as root.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (it installs Debian packages)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
packages=(
  # build
  cmake ninja-build g++ pkg-config
  libfmt-dev nlohmann-json3-dev libcli11-dev libre2-dev
  # the CRI API (gRPC) for pod labels
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # the cluster mode: TLS (agent server, certificates), HTTPS client, kubeconfig (YAML)
  libssl-dev libcurl4-openssl-dev libyaml-dev ca-certificates
  # the BPF source: its iterators are compiled by clang -target bpf against the kernel's BTF
  # (bpftool dumps it, and makes the skeleton; llvm-strip trims the object), libbpf's headers
  clang llvm bpftool libbpf-dev
  # the service map's picture (graph -o svg/html): Graphviz's library (libgvc6 at run time), and
  # a font for its labels
  libgraphviz-dev fonts-dejavu-core
  # tests: GoogleTest, clang for libFuzzer, the tools tests drive
  libgtest-dev libgmock-dev clang libclang-rt-14-dev clang-format clang-tidy python3-yaml
  python3-jsonschema curl
  iproute2 util-linux procps
  # the picture's tests: libxml2 parses its SVG and HTML; headless Chromium loads the page and
  # Tesseract reads the labels back from its screenshot
  libxml2-dev chromium tesseract-ocr
  # kube-proxy's kind of DNAT rules in the tests' own namespaces; conntrack fills a bench's
  # table; libnetfilter-conntrack builds the entries the ctnetlink parser's unit tests read
  nftables conntrack libnetfilter-conntrack-dev
  # promtool checks the agent's metrics; Graphviz's dot reads back `socksnap graph -o dot`
  prometheus graphviz
  # the shells whose completion scripts the tests check (bash is there already)
  zsh fish
  # end-to-end tests: a real node (tests/e2e/nodesim) and its hand-made images (sha256, static C)
  containerd runc containernetworking-plugins busybox-static libssl-dev libc6-dev
  # benchmarks
  python3 libbenchmark-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  # Packages with a service (prometheus, containerd) must not start it: the tests start their own
  # containerd, and only promtool is wanted of prometheus. invoke-rc.d asks policy-rc.d (101:
  # not now); one of the machine's own is left as it is.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The SARIF 2.1.0 JSON Schema (OASIS's, final revision rtm.5) that `socksnap audit -o sarif` is
# validated against in the tests. Debian packages none; the npm registry's @microsoft/jest-sarif
# ships it. Fetched once, checked against the pinned digest, kept outside the repository.
sarif_schema=/var/cache/socksnap/sarif-schema-2.1.0.json
if [ ! -s "$sarif_schema" ]; then
  tarball=https://registry.npmjs.org/@microsoft/jest-sarif/-/jest-sarif-1.0.0-beta.0.tgz
  work=$(mktemp -d)
  curl -fsSL --retry 3 -o "$work/p.tgz" "$tarball"
  echo "748e2c3d1a842e7bb258416685c7ea3a0da40005b72267b2052c2856d48ad102  $work/p.tgz" |
    sha256sum -c --quiet
  tar -xzf "$work/p.tgz" -C "$work" package/lib/schemas/sarif-2.1.0-rtm.5.json
  mkdir -p "$(dirname "$sarif_schema")"
  mv "$work/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$sarif_schema"
  rm -rf "$work"
fi
echo "setup.sh: dependencies installed"
