#!/usr/bin/python3
"""socksnap speed benchmark: socksnap vs ss vs a bare netlink dump ("the floor").

Builds real loopback TCP connections in throw-away network namespaces (ssbench-PID-*), times
  socksnap --netns ...            (table output to /dev/null)
  ss -tuna via nsenter            (one namespace, or a shell loop over all of them)
  nldump_floor                    (same sock_diag requests as socksnap, nothing parsed)
R times each (interleaved, after one warm-up run) and prints medians and ratios.
Run as root. Standard library only. See bench/README.md.
"""

import argparse
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_SOCKSNAP = os.path.join(REPO, "build-bench", "src", "socksnap")
BUILD_CMD = (f"cmake -S {REPO} -B {REPO}/build-bench -G Ninja -DSOCKSNAP_TESTS=OFF "
             f"-DCMAKE_BUILD_TYPE=Release && ninja -C {REPO}/build-bench")

# name: (namespaces, sockets per namespace, target vs ss, description)
CASES = {
    "A": (1, 200_000, 0.6, "200,000 sockets in one namespace"),
    "B": (100, 200, 0.15, "100 namespaces x 200 sockets"),
    "C": (100, 1_000, 0.4, "100 namespaces x 1,000 sockets"),
}
FLOOR_TARGET = 1.3          # socksnap <= 1.3 x floor
BYTES_PER_SOCKET_TARGET = 400
PREFIX = f"ssbench-{os.getpid()}"


def log(msg=""):
    print(msg, flush=True)


def run_quiet(argv, **kw):
    return subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kw)


# ---------------------------------------------------------------- resources and teardown

class Farm:
    """Namespaces and holder processes of one case; torn down by close()."""

    def __init__(self):
        self.namespaces = []   # names
        self.holders = []      # Popen objects (we only ever signal these PIDs)

    def paths(self):
        return [f"/run/netns/{n}" for n in self.namespaces]

    def add_namespaces(self, names):
        # Record first: a half-done batch is still cleaned up.
        self.namespaces.extend(names)
        subprocess.run(["ip", "-batch", "-"], input="".join(f"netns add {n}\n" for n in names),
                       text=True, check=True)

    def close(self):
        old = {s: signal.signal(s, signal.SIG_IGN)
               for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            self._close()
        finally:
            for s, h in old.items():
                signal.signal(s, h)

    def _close(self):
        for p in self.holders:
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for p in self.holders:
            p.wait()
        self.holders = []
        if self.namespaces:
            subprocess.run(["ip", "-force", "-batch", "-"],
                           input="".join(f"netns del {n}\n" for n in self.namespaces),
                           text=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            left = [n for n in self.namespaces if os.path.exists(f"/run/netns/{n}")]
            for n in left:
                subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)
            self.namespaces = []


def cleanup_stale():
    """Deletes ssbench-PID-* namespaces whose PID is no longer running."""
    if not os.path.isdir("/run/netns"):
        return
    for name in sorted(os.listdir("/run/netns")):
        m = re.match(r"ssbench-(\d+)-", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            log(f"deleting stale namespace {name}")
            subprocess.run(["ip", "netns", "del", name])


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------- building

def compile_tools(tmp):
    tools = {}
    for src, out, extra in (("sockfarm.c", "sockfarm", []),
                            ("nldump_floor.c", "nldump_floor", ["-pthread"]),
                            ("spawntime.c", "spawntime", [])):
        path = os.path.join(tmp, out)
        run_quiet(["gcc", "-O2", "-Wall", "-o", path, os.path.join(HERE, src)] + extra)
        tools[out] = path
    return tools


def wait_ready(holders, timeout):
    """Reads 'ready N' from every holder; returns the sum of N."""
    total = 0
    deadline = time.monotonic() + timeout
    for p in holders:
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("socket farm not ready in time")
            r, _, _ = select.select([p.stdout], [], [], left)
            if r:
                chunk = os.read(p.stdout.fileno(), 100)
                if not chunk:
                    raise RuntimeError(f"holder {p.pid} exited with {p.wait()}")
                line += chunk
        total += int(line.split()[1])
    return total


def build_farm(farm, tools, case, n_ns, per_ns, args):
    """Creates n_ns namespaces holding per_ns // 2 loopback connections (+ listeners + UDP)."""
    names = [f"{PREFIX}-{case.lower()}{i:03d}" for i in range(n_ns)]
    farm.add_namespaces(names)
    paths = farm.paths()
    conns = per_ns // 2
    # (connections per namespace, namespaces) for each holder, at most per_holder connections.
    plan = []
    if conns > args.per_holder:             # one namespace split over several holders
        k = -(-conns // args.per_holder)
        for path in paths:
            for h in range(k):
                plan.append((conns // k + (1 if h < conns % k else 0), [path], h))
    else:                                   # several whole namespaces per holder
        per = max(1, args.per_holder // max(conns, 1))
        for i in range(0, len(paths), per):
            plan.append((conns, paths[i:i + per], 0))
    t0 = time.perf_counter()
    for c, group, h in plan:
        argv = [tools["sockfarm"], "-c", str(c), "-u", str(args.udp), "-6", str(args.v6),
                "-p", str(100 + 2 * h)] + group
        farm.holders.append(subprocess.Popen(argv, stdout=subprocess.PIPE))
    made = wait_ready(farm.holders, timeout=600)
    log(f"  farm: {n_ns} namespace(s), {conns} connections + {args.udp} UDP per namespace, "
        f"{len(plan)} holder process(es); {made} sockets in {time.perf_counter() - t0:.1f} s")
    return made


# ---------------------------------------------------------------- timing

def spawn_wait(spawntime, argv, stderr_path):
    """Runs argv through spawntime (stdout on /dev/null); returns (seconds, maxrss bytes,
    exit code, CPU seconds)."""
    out = subprocess.run([spawntime, stderr_path] + argv, stdout=subprocess.PIPE, text=True,
                         check=True).stdout.split()
    return float(out[0]), int(out[1]) * 1024, int(out[2]), float(out[3])


def capture(argv):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_quiet(limit=30.0):
    """Waits (up to limit s) until the CPUs are mostly idle: other users' work, or kernel
    workers still tearing down the previous case's sockets and namespaces."""
    end = time.monotonic() + limit
    while True:
        b1, t1 = cpu_stat()
        time.sleep(0.5)
        b2, t2 = cpu_stat()
        busy = (b2 - b1) / max(1, t2 - t1)
        if busy < 0.1:
            return
        if time.monotonic() > end:
            log(f"  note: machine still {busy:.0%} busy, timings may be noisy")
            return


class Tool:
    def __init__(self, label, argv, shown):
        self.label, self.argv, self.shown = label, argv, shown
        self.times, self.cpu, self.maxrss = [], [], 0

    def median_ms(self):
        return statistics.median(self.times) * 1000


def cpu_stat():
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)


def measure(spawntime, tools, reps, errfile):
    """Times every tool reps times; returns the share of the machine's CPU time that was
    busy with something other than the timed commands (other work, kernel workers)."""
    ours = 0.0
    b0, t0 = cpu_stat()
    for rep in range(reps + 1):            # rep 0 is a warm-up
        for t in tools:
            secs, maxrss, code, cpu = spawn_wait(spawntime, t.argv, errfile)
            ours += cpu
            if code != 0:
                with open(errfile) as f:
                    raise RuntimeError(f"{t.shown} exited with {code}: {f.read()[-2000:]}")
            if rep > 0:
                t.times.append(secs)
                t.cpu.append(cpu)
                t.maxrss = max(t.maxrss, maxrss)
    b1, t1 = cpu_stat()
    hz = os.sysconf("SC_CLK_TCK")
    return max(0.0, ((b1 - b0) / hz - ours) / max(1e-9, (t1 - t0) / hz))


# ---------------------------------------------------------------- one case

def ns_list_shown(paths):
    if len(paths) == 1:
        return paths[0]
    return f"{paths[0][:-3]}{{000..{len(paths) - 1:03d}}}"   # bash brace form, exact


def run_case(case, args, tools, results):
    n_ns, per_ns, ss_target, desc = CASES[case]
    if n_ns == 1:
        per_ns = max(2, round(per_ns * args.scale))
    else:
        n_ns = max(1, round(n_ns * args.scale))
    log(f"\n== case {case}: {desc}" + (f" (scaled: {n_ns} x {per_ns})" if args.scale != 1 else ""))
    farm = Farm()
    try:
        made = build_farm(farm, tools, case, n_ns, per_ns, args)
        paths = farm.paths()
        nsargs = [a for p in paths for a in ("--netns", p)]
        shown_ns = ns_list_shown(paths)
        snap = args.socksnap
        nsenter, ss, sh = shutil.which("nsenter"), shutil.which("ss"), "/bin/sh"

        # Counts: what each tool sees.
        got = capture([snap, "--no-headers"] + nsargs)
        snap_count = got.stdout.count("\n")
        loop = 'for ns in "$@"; do nsenter --net="$ns" ss -tuna; done'
        got_ss = capture([sh, "-c", loop.replace("-tuna", "-tunaH"), "sh"] + paths)
        ss_count = got_ss.stdout.count("\n")
        got_fl = capture([tools["nldump_floor"], "-c"] + paths)
        floor_count = int(got_fl.stderr.split()[0]) if got_fl.returncode == 0 else -1
        ok = snap_count == ss_count == floor_count == made
        log(f"  sockets: farm made {made}, socksnap prints {snap_count}, ss prints {ss_count}, "
            f"floor reads {floor_count}" + ("" if ok else "   <-- MISMATCH"))

        if n_ns == 1:
            ss_tool = Tool("ss -tuna", [nsenter, f"--net={paths[0]}", ss, "-tuna"],
                           f"nsenter --net={paths[0]} ss -tuna")
        else:
            ss_tool = Tool("ss loop", [sh, "-c", loop, "sh"] + paths,
                           f"sh -c 'for ns in {shown_ns}; do nsenter --net=$ns ss -tuna; done'")
        tl = [
            Tool("socksnap", [snap] + nsargs, f"socksnap --netns {shown_ns}"
                 + (" (each path as its own --netns)" if n_ns > 1 else "")),
            ss_tool,
            Tool("floor", [tools["nldump_floor"]] + paths, f"nldump_floor {shown_ns}"),
        ]
        if n_ns > 1:
            for j in args.jobs_sweep:
                tl.append(Tool(f"socksnap -j{j}", [snap, "-j", str(j)] + nsargs,
                               f"socksnap -j {j} --netns ..."))
                tl.append(Tool(f"floor -j{j}", [tools["nldump_floor"], "-j", str(j)] + paths,
                               f"nldump_floor -j {j} ..."))
        log("  timed commands (stdout > /dev/null):")
        for t in tl:
            log(f"    {t.label:<14} {t.shown}")

        errfile = os.path.join(args.tmp, "stderr")
        for attempt in range(args.retries + 1):
            wait_quiet()
            for t in tl:
                t.times, t.cpu, t.maxrss = [], [], 0
            background = measure(tools["spawntime"], tl, args.reps, errfile)
            if background <= args.max_background:
                break
            log(f"  note: {background:.0%} of the CPU was busy with other work during the "
                "timings" + ("; measuring again" if attempt < args.retries else ""))

        # socksnap -v: where its time goes (separate runs, not in the timings above).
        coll, prt = [], []
        for _ in range(args.reps):
            spawn_wait(tools["spawntime"], [snap, "-v"] + nsargs, errfile)   # stdout > /dev/null
            with open(errfile) as f:
                err = f.read()
            m = re.search(r"collected in ([\d.]+) ms.*printed in ([\d.]+) ms", err)
            if m:
                coll.append(float(m.group(1)))
                prt.append(float(m.group(2)))
        verbose = (statistics.median(coll), statistics.median(prt)) if coll else None
        results.append(dict(case=case, tools=tl, ss=ss_tool, sockets=snap_count,
                            ss_target=ss_target, verbose=verbose, n_ns=n_ns,
                            background=background))
        print_case(results[-1])
    finally:
        farm.close()


def print_case(r):
    snap, ss_t, floor = r["tools"][0], r["ss"], r["tools"][2]
    log(f"  {'tool':<14} {'median ms':>10} {'min ms':>8} {'cpu ms':>8} {'x ss':>6} "
        f"{'x floor':>8} {'maxrss MB':>10} {'B/socket':>9}")
    for t in r["tools"]:
        fl = floor if not t.label.startswith("socksnap -j") else next(
            x for x in r["tools"] if x.label == "floor -j" + t.label[len("socksnap -j"):])
        bps = f"{t.maxrss / max(1, r['sockets']):9.0f}" if t.label.startswith("socksnap") else ""
        log(f"  {t.label:<14} {t.median_ms():10.1f} {min(t.times) * 1000:8.1f} "
            f"{statistics.median(t.cpu) * 1000:8.1f} "
            f"{t.median_ms() / ss_t.median_ms():6.2f} {t.median_ms() / fl.median_ms():8.2f} "
            f"{t.maxrss / 1e6:10.1f} {bps}")
    log(f"  CPU busy with other work during the timings: {r['background']:.0%} of the machine")
    if r["verbose"]:
        log(f"  socksnap -v (median): collect {r['verbose'][0]:.1f} ms, "
            f"print {r['verbose'][1]:.1f} ms")


def verdicts(results):
    log("\n== targets")
    rows = []
    for r in results:
        snap, ss_t, floor = r["tools"][0], r["ss"], r["tools"][2]
        x_ss = snap.median_ms() / ss_t.median_ms()
        x_fl = snap.median_ms() / floor.median_ms()
        rows.append((r["case"], f"socksnap / {ss_t.label}", x_ss, r["ss_target"]))
        rows.append((r["case"], "socksnap / floor", x_fl, FLOOR_TARGET))
        bps = snap.maxrss / max(1, r["sockets"])
        rows.append((r["case"], "bytes per socket" + ("" if r["n_ns"] == 1 else " (info)"),
                     bps, BYTES_PER_SOCKET_TARGET if r["n_ns"] == 1 else None))
    for case, what, val, target in rows:
        if target is None:
            log(f"  {case}  {what:<26} {val:8.2f}")
        else:
            ok = "PASS" if val <= target else "MISS"
            log(f"  {case}  {what:<26} {val:8.2f}  target <= {target:<6} {ok}")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="A,B,C", help="cases to run, e.g. A,B (default A,B,C)")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="scale sizes: case A's socket count, B's and C's namespace count")
    ap.add_argument("-r", "--reps", type=int, default=7, help="timed runs per tool (default 7)")
    ap.add_argument("--socksnap", default=DEFAULT_SOCKSNAP, help="socksnap binary")
    ap.add_argument("--build", action="store_true", help="build socksnap in build-bench first")
    ap.add_argument("--jobs-sweep", default="1,2,4",
                    help="for B and C also time socksnap/floor with these -j (default 1,2,4; "
                         "'' for none)")
    ap.add_argument("--v6", type=int, default=250,
                    help="connections in 1000 over IPv6 ::1 (default 250)")
    ap.add_argument("--udp", type=int, default=0, help="extra UDP sockets per namespace")
    ap.add_argument("--per-holder", type=int, default=9000,
                    help="connections per holder process (2 fds each; default 9000)")
    ap.add_argument("--max-background", type=float, default=0.10,
                    help="measure a case again when more than this share of the CPU was busy "
                         "with other work during its timings (default 0.10)")
    ap.add_argument("--retries", type=int, default=2,
                    help="how many times to measure again (default 2)")
    ap.add_argument("--cleanup-stale", action="store_true",
                    help="delete ssbench-PID-* namespaces of dead runs, then exit")
    args = ap.parse_args()
    args.jobs_sweep = [int(j) for j in args.jobs_sweep.split(",") if j.strip()]
    cases = [c.strip().upper() for c in args.cases.split(",") if c.strip()]
    for c in cases:
        if c not in CASES:
            ap.error(f"unknown case {c}")
    if os.geteuid() != 0:
        sys.exit("run.py: run as root (namespaces, setns)")
    if args.cleanup_stale:
        cleanup_stale()
        return
    if args.build:
        subprocess.run(BUILD_CMD, shell=True, check=True)
    if not os.access(args.socksnap, os.X_OK):
        sys.exit(f"run.py: no socksnap at {args.socksnap}; build it with:\n  {BUILD_CMD}")
    args.socksnap = os.path.abspath(args.socksnap)

    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    args.tmp = tempfile.mkdtemp(prefix="ssbench-")
    results = []
    try:
        tools = compile_tools(args.tmp)
        log(f"socksnap: {args.socksnap}; CPUs: {os.cpu_count()}; kernel {os.uname().release}; "
            f"{args.reps} timed runs per tool after 1 warm-up; medians in ms")
        for c in cases:
            run_case(c, args, tools, results)
        verdicts(results)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # finish the teardown
        shutil.rmtree(args.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
