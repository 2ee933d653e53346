#!/usr/bin/env bash
# Builds socksnap and runs every test: unit, fuzz corpora and integration (root: the tests make
# their own network namespaces), once normally with warnings as errors and once under
# ASan+UBSan; then short libFuzzer runs, clang-tidy and a format check. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
passed=0
failed=0
failures=()

note() { printf '\n=== %s (%d:%02d in)\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }
count() {  # name, status
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}

# Runs ctest in a build tree (further arguments go to ctest) and adds its counts to the totals.
run_ctest() {
  local dir=$1 log
  shift
  log=$(mktemp)
  ctest --test-dir "$dir" --output-on-failure "$@" 2>&1 | tee "$log"
  local total bad
  total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
  bad=$(sed -n 's/.* \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -1)
  if [ -z "$total" ]; then
    count "ctest in $dir did not run" 1
  else
    passed=$((passed + total - bad))
    failed=$((failed + bad))
    [ "$bad" -eq 0 ] || failures+=("$bad ctest test(s) in $dir")
  fi
  rm -f "$log"
}

# Runs a GoogleTest program once, all its tests in one process, from its own directory as ctest
# does, and adds its counts to the totals. A crash (a sanitizer stops at its first finding) ends
# the program early: that counts as one failure, named.
run_gtest() {
  local program=$1 log status ok bad
  log=$(mktemp)
  (cd "$(dirname "$program")" && "./$(basename "$program")") 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\?\..*/\1/p' "$log" | tail -1)
  bad=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) tests\?, listed below:.*/\1/p' "$log" | tail -1)
  passed=$((passed + ${ok:-0}))
  if [ -n "$bad" ]; then
    failed=$((failed + bad))
    failures+=("$bad test(s) of $program")
  elif [ "$status" -ne 0 ] || [ -z "$ok" ]; then
    count "$program stopped (status $status) before it finished" 1
  fi
  rm -f "$log"
}

build() {  # dir, cmake args... [-- ninja targets]
  local dir=$1 args=() targets=()
  shift
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
  [ $# -gt 0 ] && shift && targets=("$@")
  cmake -S "$root" -B "$dir" -G Ninja -DSOCKSNAP_WERROR=ON "${args[@]}" >/dev/null &&
    ninja -C "$dir" "${targets[@]}"
}

# Every tree below is a unity build (CMake's CMAKE_UNITY_BUILD: the sources of a target compiled
# eight to a file): the first tree built in 320 s instead of 580 here; the trees' builds are most
# of the run on two cores. Each file still compiles alone in scripts/build.sh's tree.
note "build (warnings as errors)"
# Optimised as scripts/build.sh's RelWithDebInfo, without -g: GCC makes the same code with or
# without it, and the files compile a third faster. A build type of its own, so that build.sh in
# this same tree afterwards still gets -g.
build build -DCMAKE_BUILD_TYPE=CI -DCMAKE_CXX_FLAGS_CI="-O2 -DNDEBUG" \
  -DCMAKE_C_FLAGS_CI="-O2 -DNDEBUG" -DCMAKE_UNITY_BUILD=ON
built=$?

# clang-tidy reads a unity tree of its own, configured as build/, of which only the generated
# headers are made. It checks each unity file of src/'s targets, and so every source of src/ (the
# configuration's HeaderFilterRegex, src/.*, names them too): 32 files, where src/ has 125. That
# took 4.9 CPU-minutes here, against 11.7 with each source checked alone, the headers they share
# parsed and matched again for each. The check bugprone-suspicious-include would name each unity
# file's includes of sources, so it is off there; the grep below does its work over the sources.
# It starts now, at the lowest priority, so that it uses the CPU the tests leave idle and gives
# way to the builds; it is awaited after the fuzzers. A process group of its own (set -m), so
# that an interrupted run stops it too; not a session of its own (setsid): with autogroup
# scheduling each session gets an equal share of the CPU whatever its nice value, and tidy took
# half of the sanitizer build's.
tidy_log=$(mktemp)
set -m
(
  if build build-tidy -DCMAKE_BUILD_TYPE=CI -DCMAKE_CXX_FLAGS_CI="-O2 -DNDEBUG" \
    -DCMAKE_C_FLAGS_CI="-O2 -DNDEBUG" -DCMAKE_UNITY_BUILD=ON -- socksnap_generated_headers \
    >/dev/null; then
    # The files of the compile commands that include a source of src/, or are one (a source
    # left out of the unity build); a source of src/ in none of them is a finding.
    python3 - "$root" build-tidy/compile_commands.json <<'PYTHON' >"$tidy_log.files" 2>"$tidy_log"
import glob, json, re, sys
root, commands = sys.argv[1], sys.argv[2]
sources = {f"{root}/{path}" for path in glob.glob("src/*/*.cpp")}
files, covered = [], set()
for entry in json.load(open(commands)):
    name = entry["file"]
    included = {name} if name in sources else set(
        re.findall(r'#include "([^"]+)"', open(name).read()) if "/Unity/" in name else [])
    if included & sources:
        files.append(name)
        covered |= included & sources
for missing in sorted(sources - covered):
    print(f"error: no compile command checks {missing}", file=sys.stderr)
print("\n".join(sorted(set(files))))
PYTHON
    [ -s "$tidy_log.files" ] || echo "error: no files for clang-tidy to check" >>"$tidy_log"
    nice -n 19 xargs -r -P "$(nproc)" -n 1 clang-tidy -p build-tidy --quiet \
      --checks=-bugprone-suspicious-include <"$tidy_log.files" >>"$tidy_log" 2>/dev/null
  else
    echo "error: the tree clang-tidy reads could not be configured" >"$tidy_log"
  fi
  rm -f "$tidy_log.files"
) &
tidy_pid=$!
set +m
trap 'kill -- -"$tidy_pid" 2>/dev/null' EXIT

if [ "$built" -eq 0 ]; then
  run_ctest build
else
  count "build" 1
fi

note "build with ASan+UBSan (clang), with the libFuzzer programs"
# One tree for the tests under the sanitizers and for the fuzzers: clang, the programs at -O1 (as
# ASan's documentation advises; the tests themselves at -O0) with line tables only, so that the
# sanitizers' reports name files and lines; the fuzz targets are libFuzzer programs, and the code
# they reach carries libFuzzer's coverage counters (-fsanitize=fuzzer-no-link, here everywhere).
# A tree of its own for the fuzzers cost 6.8 CPU-minutes more; this one took 14.4 CPU-minutes
# here, where the g++ sanitizer tree it replaced took 16.5. GCC's warnings are the first tree's.
# Without the benchmark programs (not run here).
asan_built=1
if CC=clang CXX=clang++ build build-asan -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_DEBUG="-O1 -gline-tables-only" \
  -DSOCKSNAP_SANITIZE=ON -DSOCKSNAP_FUZZ=ON -DSOCKSNAP_BENCHMARKS=OFF -DCMAKE_UNITY_BUILD=ON; then
  asan_built=0
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  # Each test program in one process. Started once per test, as ctest does, each unit test paid
  # about 0.15 s of start-up under the sanitizers (80 s in all, against 20 s for the whole
  # program), and each cluster and node test set up its cluster or node again (75 s and 35 s of
  # the sanitizer stage); the first stage runs them one per process, as ctest does.
  run_gtest build-asan/tests/unit/unit_tests
  run_gtest build-asan/tests/cluster/cluster_tests
  run_gtest build-asan/tests/e2e/e2e_tests
  # The package's contents are the first stage's (the programs under the sanitizers, 30 s
  # to pack, add nothing to them).
  run_ctest build-asan -LE 'unit|cluster|e2e|package'
  unset ASAN_OPTIONS UBSAN_OPTIONS
else
  count "ASan build" 1
fi

note "libFuzzer runs (clang)"
# One fuzzer per core at a time; each reports in its own log, read in order afterwards. The
# fuzzers are the sanitizer tree's; each first runs its checked-in corpus.
fuzz_one() {  # target, work dir
  local target=$1 work=$2 name
  name=$(basename "$target")
  cp -r "tests/fuzz/corpus/$name/." "$work/"
  "$target" -max_total_time="${FUZZ_SECONDS:-20}" -print_final_stats=0 \
    -artifact_prefix="$work/" "$work" >"$work.log" 2>&1
  echo $? >"$work.status"
}
if [ "$asan_built" -eq 0 ]; then
  targets=()
  works=()
  pids=()
  for target in build-asan/tests/fuzz/fuzz_*; do
    [ -x "$target" ] || continue
    targets+=("$target")
    works+=("$(mktemp -d)")
  done
  running() {  # how many fuzzers still run
    local n=0 pid
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && n=$((n + 1)); done
    echo "$n"
  }
  for i in "${!targets[@]}"; do
    while [ "$(running)" -ge "$(nproc)" ]; do sleep 0.2; done
    echo "fuzzing $(basename "${targets[$i]}") for ${FUZZ_SECONDS:-20}s"
    fuzz_one "${targets[$i]}" "${works[$i]}" &
    pids+=($!)
  done
  [ "${#pids[@]}" -eq 0 ] || wait "${pids[@]}"
  for i in "${!targets[@]}"; do
    work=${works[$i]}
    status=$(cat "$work.status" 2>/dev/null || echo 1)
    if [ "$status" -ne 0 ]; then
      echo "$(basename "${targets[$i]}") failed:"
      tail -40 "$work.log"
      for artifact in "$work"/crash-* "$work"/oom-* "$work"/timeout-* "$work"/leak-*; do
        [ -f "$artifact" ] && { echo "input that failed ($artifact):"; xxd "$artifact" | head -20; }
      done
    fi
    count "fuzz $(basename "${targets[$i]}")" "$status"
    rm -rf "$work" "$work.log" "$work.status"
  done
else
  count "fuzzers (the sanitizer tree did not build)" 1
fi

note "clang-tidy (bugprone, performance, modernize)"
wait "$tidy_pid"
# bugprone-suspicious-include's work: no file includes a source file.
grep -rnE '#include\s*[<"][^">]*\.(c|cc|cpp|cxx)[">]' src tests bench |
  sed 's/$/: error: #include of a source file [bugprone-suspicious-include]/' >>"$tidy_log"
tidy_errors=$(grep -c -E '(warning|error): ' "$tidy_log" || true)
grep -E '(warning|error): ' "$tidy_log" | sort -u
echo "$tidy_errors clang-tidy findings"
count "clang-tidy" "$([ "$tidy_errors" -eq 0 ] && echo 0 || echo 1)"
rm -f "$tidy_log"

note "format"
format_log=$(mktemp)
find src tests bench -name '*.cpp' -o -name '*.h' -o -name '*.c' | sort |
  xargs clang-format --dry-run --Werror >"$format_log" 2>&1
unformatted=$(grep -c 'error:' "$format_log" || true)
grep 'error:' "$format_log" | cut -d: -f1,2 | sort -u  # where, so that it can be fixed
rm -f "$format_log"
echo "$unformatted formatting errors"
count "clang-format" "$([ "$unformatted" -eq 0 ] && echo 0 || echo 1)"

note "summary"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
