#!/usr/bin/env bash
# Installs the build with `cmake --install` into a temporary DESTDIR (prefix /usr/local), as a
# packager does, and runs the installed programs from there: each one's --help, `socksnap agent`
# (which runs socksnap-agent from its own folder), `kubectl socksnap` through kubectl's plugin
# mechanism, a snapshot, and a snapshot that needs pod labels, for which socksnap loads its CRI
# plugin from the installed lib/socksnap (its verbose output names it). Root for the last part:
# a process is put into a cgroup that names a Kubernetes pod no runtime knows.
# Arguments: BUILD_DIR CMAKE BINDIR PLUGINDIR (the last two relative to the prefix).
set -euo pipefail
build=$1 cmake=$2 bindir=$3 plugindir=$4
prefix=/usr/local
tmp=$(mktemp -d /tmp/socksnap-install-XXXXXX)
listener=
cgroup_top=
cleanup() {
  if [ -n "$listener" ]; then kill "$listener" 2>/dev/null || true; wait "$listener" 2>/dev/null || true; fi
  if [ -n "$cgroup_top" ]; then
    find "$cgroup_top" -depth -type d -exec rmdir {} + 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

DESTDIR=$tmp "$cmake" --install "$build" --prefix "$prefix" >/dev/null
root=$tmp$prefix
bin=$root/$bindir

# Exactly these files, executables executable.
installed=$(cd "$root" && find . -type f -printf '%P %m\n' | sort)
expected=$(printf '%s\n' "$bindir/kubectl-socksnap 755" "$bindir/kubectl_complete-socksnap 755" \
  "$bindir/socksnap 755" "$bindir/socksnap-agent 755" "$plugindir/socksnap-cri.so 644" \
  "$plugindir/socksnap-picture.so 644" | sort)
[ "$installed" = "$expected" ] || fail "installed files:
$installed
expected:
$expected"

# --help of each program, and `socksnap agent` finds the agent beside it.
"$bin/socksnap" --help | grep -q -- '--protocol' || fail "socksnap --help"
agent_help=$("$bin/socksnap" agent --help)
case $agent_help in
  "socksnap agent: serves this node's socket snapshot"*) ;;
  *) fail "socksnap agent --help: $agent_help" ;;
esac
"$bin/socksnap-agent" --help | grep -q -- '--allowed-user' || fail "socksnap-agent --help"
"$bin/kubectl-socksnap" --help | grep -q -- '--agent-namespace' || fail "kubectl-socksnap --help"
if command -v kubectl >/dev/null; then
  PATH=$bin:$PATH kubectl socksnap --help | grep -q -- '--agent-namespace' ||
    fail "kubectl socksnap --help through kubectl's plugin mechanism"
  # kubectl finds the installed completion beside the plugin.
  completed=$(PATH=$bin:$PATH kubectl __complete socksnap --protocol '' 2>/dev/null | cut -f1)
  [ "$completed" = "$(printf 'inet\nall\ntcp\nudp\nudplite\nunix\n:4')" ] ||
    fail "kubectl __complete socksnap --protocol '': $completed"
fi

# A snapshot of this process' namespace: valid JSON, the installed program's.
"$bin/socksnap" --netns /proc/self/ns/net -o json -q | python3 -c 'import json, sys; json.load(sys.stdin)' ||
  fail "socksnap -o json"

# The CRI plugin from the installed layout. A listener in a cgroup that names a pod
# (kubepods/besteffort/pod<uid>/<container id>, the cgroupfs driver's layout) that no runtime's
# files describe: socksnap asks the CRI API for its name and labels, which loads the plugin,
# whose connection to a socket that is not there then fails.
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the CRI plugin part needs root"
  exit 77
fi
cgroup2=$(findmnt -n -o TARGET -t cgroup2 | head -1)
[ -n "$cgroup2" ] || { echo "SKIP: no cgroup v2 mount"; exit 77; }
cgroup_top=$cgroup2/socksnap-install-test-$$
uid=6f1c5a4e-0000-4000-8000-$(printf '%012x' $$)
container=$(printf '%064x' $$)
mkdir -p "$cgroup_top/kubepods/besteffort/pod$uid/$container"
ready=$tmp/ready
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
open(sys.argv[1], "w").close()
time.sleep(120)' "$ready" &
listener=$!
echo "$listener" >"$cgroup_top/kubepods/besteffort/pod$uid/$container/cgroup.procs"
for _ in $(seq 100); do [ -e "$ready" ] && break; sleep 0.05; done
[ -e "$ready" ] || fail "the listener did not start"

"$bin/socksnap" --netns "/proc/$listener/ns/net" --cri-socket "$tmp/no-cri.sock" -o json -v \
  >"$tmp/out" 2>"$tmp/err" || fail "socksnap with pod labels: $(cat "$tmp/err")"
grep -Fqx "socksnap: CRI plugin: $bin/../$plugindir/socksnap-cri.so" "$tmp/err" ||
  fail "the CRI plugin was not loaded from the installed layout: $(cat "$tmp/err")"
grep -Fq "pod labels unavailable: CRI socket $tmp/no-cri.sock: No such file or directory" \
  "$tmp/err" || fail "no answer from the CRI plugin: $(cat "$tmp/err")"
python3 - "$tmp/out" "$container" <<'PY' || fail "no row of the container: $(cat "$tmp/out")"
import json, sys
rows = json.load(open(sys.argv[1]))
sys.exit(0 if any(r.get("runtime", {}).get("containerId") == sys.argv[2] for r in rows) else 1)
PY

# A picture: the picture plugin, found from the installed layout too.
"$bin/socksnap" graph --netns "/proc/$listener/ns/net" -o svg -q -v >"$tmp/map.svg" 2>"$tmp/err" ||
  fail "socksnap graph -o svg: $(cat "$tmp/err")"
grep -Fqx "socksnap: picture plugin: $bin/../$plugindir/socksnap-picture.so" "$tmp/err" ||
  fail "the picture plugin was not loaded from the installed layout: $(cat "$tmp/err")"
tail -1 "$tmp/map.svg" | grep -qx '</svg>' || fail "not an SVG: $(head -c 300 "$tmp/map.svg")"
echo "installed into $root: files, --help, socksnap agent, kubectl socksnap, snapshots, CRI and picture plugins: ok"
