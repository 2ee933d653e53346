#!/usr/bin/env bash
# Builds the .deb as `cpack -G DEB` does (into a temporary folder, not the build tree) and checks
# it with dpkg-deb: its control fields, dependencies from dpkg-shlibdeps, exactly the installed
# files, stripped; then runs the socksnap it holds, unpacked.
# Arguments: BUILD_DIR CPACK VERSION.
set -euo pipefail
build=$1 cpack=$2 version=$3
tmp=$(mktemp -d /tmp/socksnap-deb-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$cpack" --config "$build/CPackConfig.cmake" -G DEB -B "$tmp" >"$tmp/cpack.log" 2>&1 ||
  fail "cpack: $(cat "$tmp/cpack.log")"
arch=$(dpkg --print-architecture)
deb=$tmp/socksnap_${version}_$arch.deb
[ -f "$deb" ] || fail "no $deb: $(ls "$tmp")"
dpkg-deb --info "$deb" >/dev/null || fail "dpkg-deb --info"

field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = socksnap ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version)"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
[ "$(field Section)" = net ] || fail "Section: $(field Section)"
[ "$(field Homepage)" = https://github.com/socksnap/socksnap ] || fail "Homepage: $(field Homepage)"
[[ $(field Maintainer) =~ ^[^\<]+\ \<[^@\>]+@[^\>]+\>$ ]] || fail "Maintainer: $(field Maintainer)"
[[ $(field Description) == "snapshot of every TCP and UDP socket"* ]] ||
  fail "Description: $(field Description)"
# dpkg-shlibdeps' dependencies: the C library, and what the programs and the plugins link (the
# CRI plugin gRPC, the picture plugin Graphviz).
depends=$(field Depends)
for package in libc6 libstdc++6 libssl3 libcurl4 libyaml-0-2 libfmt9 'libgrpc++1.51' libprotobuf32 \
  libgvc6 libcgraph6; do
  [[ ", $depends," == *", $package "* || ", $depends," == *", $package,"* ]] ||
    fail "Depends lacks $package: $depends"
done

files=$(dpkg-deb --contents "$deb" | awk '$1 !~ /^d/ {print $1, $6}' | sort)
expected=$(printf '%s\n' "-rwxr-xr-x ./usr/bin/kubectl-socksnap" \
  "-rwxr-xr-x ./usr/bin/kubectl_complete-socksnap" "-rwxr-xr-x ./usr/bin/socksnap" \
  "-rwxr-xr-x ./usr/bin/socksnap-agent" "-rw-r--r-- ./usr/lib/socksnap/socksnap-cri.so" \
  "-rw-r--r-- ./usr/lib/socksnap/socksnap-picture.so" | sort)
[ "$files" = "$expected" ] || fail "contents:
$files
expected:
$expected"

dpkg-deb -x "$deb" "$tmp/root"
for f in usr/bin/socksnap usr/bin/socksnap-agent usr/bin/kubectl-socksnap \
  usr/lib/socksnap/socksnap-cri.so usr/lib/socksnap/socksnap-picture.so; do
  if readelf -S "$tmp/root/$f" | grep -q '\.debug_info'; then fail "$f is not stripped"; fi
done
"$tmp/root/usr/bin/socksnap" --help | grep -q -- '--protocol' || fail "the packaged socksnap --help"
"$tmp/root/usr/bin/socksnap" agent --help | grep -q -- '--allowed-user' ||
  fail "the packaged socksnap agent --help"
# The packaged socksnap finds its picture plugin where the package put it.
"$tmp/root/usr/bin/socksnap" graph -o svg -q -v --netns /proc/self/ns/net >"$tmp/map.svg" \
  2>"$tmp/map.err" || fail "the packaged socksnap graph -o svg: $(cat "$tmp/map.err")"
grep -Fqx "socksnap: picture plugin: $tmp/root/usr/bin/../lib/socksnap/socksnap-picture.so" \
  "$tmp/map.err" || fail "the packaged picture plugin: $(cat "$tmp/map.err")"
tail -1 "$tmp/map.svg" | grep -qx '</svg>' || fail "the packaged socksnap's SVG: $(head -c 300 "$tmp/map.svg")"
echo "$(basename "$deb"): fields, dependencies, contents, stripped, runs: ok"
