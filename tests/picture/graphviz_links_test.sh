#!/usr/bin/env bash
# Which programs load Graphviz: only what draws the service map (the picture plugin
# socksnap-picture.so, src/picture), never the programs themselves (socksnap and kubectl-socksnap
# load the plugin only for a picture) nor the node agent. Reads each file's ldd.
# Arguments: --without PROGRAM (must not load libgvc, libcgraph or libcdt) and --with PROGRAM
# (must load libgvc: the check's own proof that it sees Graphviz where it is), any number of each.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
[ $# -gt 0 ] || fail "no program given"
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || fail "$1 needs a program"
  libraries=$(ldd "$2") || fail "ldd $2"
  graphviz=$(grep -E '^\s*lib(gvc|cgraph|cdt)\.so' <<<"$libraries" || true)
  case $1 in
    --without) [ -z "$graphviz" ] || fail "$2 loads Graphviz:"$'\n'"$graphviz" ;;
    --with) grep -q '^\s*libgvc\.so' <<<"$graphviz" || fail "$2 does not load libgvc" ;;
    *) fail "unknown argument $1" ;;
  esac
  echo "$1 Graphviz: $2: ok"
  shift 2
done
