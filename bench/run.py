#!/usr/bin/python3
"""socksnap speed benchmark: socksnap vs ss vs a bare netlink dump ("the floor").

Cases A, B, C (speed): builds real loopback TCP connections in throw-away network namespaces
(ssbench-PID-*), times
  socksnap --netns ...            (table output to /dev/null)
  ss -tuna via nsenter            (one namespace, or a shell loop over all of them)
  nldump_floor                    (same sock_diag requests as socksnap, nothing parsed)
Cases D, E (owners): 500 holder processes in one namespace; socksnap -o +pid,+comm against
  ss -tunap (both map socket inodes to processes through /proc/*/fd).
Case F (pods): a node simulator (containerd + CRI + runc + CNI) running 100 pods; socksnap's
  Kubernetes columns and JSON against the same run without owners.
Cases S, T (summary): farms as A and C; `socksnap summary` (its default groups: netns,
  direction, status) against the plain snapshot of the same namespaces.
Case U (unix): 100,000 unix sockets in one namespace; socksnap --protocol unix with each
  backend against ss -xa.
Cases G, H (graph): farms as A and C; `socksnap graph` (level process, the default on a host;
  and level netns) against the plain snapshot of the same namespaces. A graph also reads each
  namespace's conntrack table, for translated destinations.
R times each (interleaved, after one warm-up run) and prints medians and ratios.
Run as root. Standard library only. See bench/README.md.
"""

import argparse
import json
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
DEFAULT_NODESIM = os.path.join(REPO, "build-bench", "tests", "e2e", "nodesim")
BUILD_CMD = (f"cmake -S {REPO} -B {REPO}/build-bench -G Ninja -DSOCKSNAP_TESTS=ON "
             f"-DCMAKE_BUILD_TYPE=Release && ninja -C {REPO}/build-bench socksnap nodesim")

# name: (namespaces, sockets per namespace, target vs ss, description)
CASES = {
    "A": (1, 200_000, 0.6, "200,000 sockets in one namespace"),
    "B": (100, 200, 0.15, "100 namespaces x 200 sockets"),
    "C": (100, 1_000, 0.4, "100 namespaces x 1,000 sockets"),
}
# Owner cases: name: (holder processes, connections per holder, target vs ss -tunap, description).
# Every holder keeps both ends of its connections and its listeners (IPv4, and IPv6 when it has
# IPv6 connections), all in one namespace.
OWNER_CASES = {
    "D": (500, 20, 0.1, "20,000 sockets held by 500 processes, owners"),
    "E": (500, 100, 0.05, "100,000 sockets held by 500 processes, owners"),
}
# Pod cases: name: (pods, target in ms that enrichment may add, description).
POD_CASES = {
    "F": (100, 10.0, "100 pods on a simulated node, enrichment"),
}
# Answer cases: name: (namespaces, sockets per namespace, target vs the snapshot, subcommand,
# description).
SUMMARY_CASES = {
    "S": (1, 200_000, 1.2, "summary", "summary of 200,000 sockets in one namespace"),
    "T": (100, 1_000, 1.2, "summary", "summary of 100 namespaces x 1,000 sockets"),
    "G": (1, 200_000, 1.2, "graph", "graph of 200,000 sockets in one namespace"),
    "H": (100, 1_000, 1.2, "graph", "graph of 100 namespaces x 1,000 sockets"),
    "W": (1, 100_000, None, "watch", "a watch poll of 100,000 sockets in one namespace"),
}
# Unix cases: name: (unix sockets in one namespace, target vs ss -xa, description).
UNIX_CASES = {
    "U": (100_000, 0.5, "100,000 unix sockets in one namespace"),
}
ALL_CASES = (list(CASES) + list(OWNER_CASES) + list(POD_CASES) + list(SUMMARY_CASES)
             + list(UNIX_CASES))
PLAIN_COLUMNS = "columns=netns,protocol,src,dst,status"
PLAIN_SORT = "netns,protocol,src,dst"
FLOOR_TARGET = 1.3          # socksnap --backend netlink <= 1.3 x the netlink floor
BPF_SS_TARGET = 0.3         # one namespace: socksnap --backend bpf <= 0.3 x ss -tuna
ITER_FLOOR_TARGET = 1.15    # one namespace: the BPF source (-v's collect) <= 1.15 x do-nothing iterators
BYTES_PER_SOCKET_TARGET = 250
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


class Node:
    """A node simulator (`nodesim`: containerd + CRI + runc + CNI bridge) in a folder of its
    own; torn down by close() with `nodesim down`, also after an interrupted `up`."""

    def __init__(self, nodesim, directory):
        self.nodesim, self.dir = nodesim, directory
        self.paths = None

    def _nodesim(self, *argv):
        got = subprocess.run([self.nodesim] + list(argv), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        if got.returncode != 0:
            raise RuntimeError(f"nodesim {' '.join(argv[:2])}: {got.stderr.strip()[-3000:]}")
        return got.stdout

    def up(self):
        self.paths = json.loads(self._nodesim("up", self.dir))

    def run_pod(self, spec):
        return json.loads(self._nodesim("pod", self.dir, json.dumps(spec)))

    def close(self):
        old = {s: signal.signal(s, signal.SIG_IGN)
               for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            self._close()
        finally:
            for s, h in old.items():
                signal.signal(s, h)

    def _close(self):
        if not os.path.isdir(self.dir):
            return
        t0 = time.perf_counter()
        if os.path.exists(os.path.join(self.dir, "nodesim.json")):
            got = subprocess.run([self.nodesim, "down", self.dir], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            if got.returncode != 0:
                log(f"  warning: nodesim down {self.dir} (exit {got.returncode}): left over "
                    f"{got.stdout.strip()} {got.stderr.strip()[-2000:]}")
        # An `up` interrupted before it wrote nodesim.json leaves at most its tmpfs.
        if os.path.ismount(self.dir):
            subprocess.run(["umount", "-l", self.dir])
        try:
            os.rmdir(self.dir)
        except OSError:
            pass
        log(f"  node {self.dir} torn down in {time.perf_counter() - t0:.1f} s")


def cleanup_stale(nodesim):
    """Deletes ssbench-PID-* namespaces, and tears down /tmp/ssbench-PID-node* nodes, whose PID
    is no longer running."""
    if os.path.isdir("/run/netns"):
        for name in sorted(os.listdir("/run/netns")):
            m = re.match(r"ssbench-(\d+)-", name)
            if m and not os.path.exists(f"/proc/{m.group(1)}"):
                log(f"deleting stale namespace {name}")
                subprocess.run(["ip", "netns", "del", name])
    for name in sorted(os.listdir("/tmp")):
        m = re.match(r"ssbench-(\d+)-node", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            log(f"tearing down stale node /tmp/{name}")
            Node(nodesim, f"/tmp/{name}").close()


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------- building

def compile_tools(tmp):
    tools = {}
    for src, out, extra in (("sockfarm.c", "sockfarm", []),
                            ("nldump_floor.c", "nldump_floor", ["-pthread"]),
                            ("procfd_floor.c", "procfd_floor", ["-pthread"]),
                            ("spawntime.c", "spawntime", []),
                            ("unixfarm.c", "unixfarm", [])):
        path = os.path.join(tmp, out)
        run_quiet(["gcc", "-O2", "-Wall", "-o", path, os.path.join(HERE, src)] + extra)
        tools[out] = path
    # The BPF source's floor: do-nothing iterators (iter_floor.bpf.c) against this kernel's BTF.
    run_quiet(["sh", "-c", f"bpftool btf dump file /sys/kernel/btf/vmlinux format c "
                           f"> {tmp}/vmlinux.h"])
    obj = os.path.join(tmp, "iter_floor.bpf.o")
    run_quiet(["clang", "-g", "-O2", "-target", "bpf", f"-I{tmp}", "-c",
               os.path.join(HERE, "iter_floor.bpf.c"), "-o", obj])
    run_quiet(["sh", "-c", f"bpftool gen skeleton -L {obj} name iter_floor "
                           f"> {tmp}/iter_floor.lskel.h"])
    tools["iter_floor"] = os.path.join(tmp, "iter_floor")
    run_quiet(["gcc", "-O2", "-Wall", f"-I{tmp}", "-o", tools["iter_floor"],
               os.path.join(HERE, "iter_floor.c"), "-pthread"])
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
        # Own ports below the ephemeral range (1024-65535 in the farm's namespaces), where no
        # connection can have taken them; past that, ports the kernel picks (see sockfarm -p).
        port = 100 + 2 * h if 100 + 2 * h + 1 < 1024 else 0
        argv = [tools["sockfarm"], "-c", str(c), "-u", str(args.udp), "-6", str(args.v6),
                "-p", str(port)] + group
        farm.holders.append(subprocess.Popen(argv, stdout=subprocess.PIPE))
    made = wait_ready(farm.holders, timeout=600)
    log(f"  farm: {n_ns} namespace(s), {conns} connections + {args.udp} UDP per namespace, "
        f"{len(plan)} holder process(es); {made} sockets in {time.perf_counter() - t0:.1f} s")
    return made


def build_owner_farm(farm, tools, case, holders, conns, args):
    """One namespace; `holders` processes holding `conns` loopback connections each (both ends)
    and their listeners. Listener ports are the kernel's choice (sockfarm -p 0): fixed ports
    would have to lie in the ephemeral range for 500 holders, where a connection of another
    holder may already use them."""
    farm.add_namespaces([f"{PREFIX}-{case.lower()}000"])
    path = farm.paths()[0]
    t0 = time.perf_counter()
    for _ in range(holders):
        argv = [tools["sockfarm"], "-c", str(conns), "-6", str(args.v6), "-p", "0", path]
        farm.holders.append(subprocess.Popen(argv, stdout=subprocess.PIPE))
    made = wait_ready(farm.holders, timeout=600)
    log(f"  farm: 1 namespace, {holders} holder processes x {conns} connections (both ends) + "
        f"their listeners; {made} sockets in {time.perf_counter() - t0:.1f} s")
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
    def __init__(self, label, argv, shown, reps=None, floors=()):
        self.label, self.argv, self.shown = label, argv, shown
        self.times, self.cpu, self.maxrss = [], [], 0
        self.reps = reps          # timed runs, when fewer than the others (slow ss)
        self.floors = floors      # the floor tools whose medians add up to this tool's floor
        self.split = None         # socksnap -v's (collect, print) ms of each timed run, if kept

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
            if t.reps is not None and rep > t.reps:
                continue
            secs, maxrss, code, cpu = spawn_wait(spawntime, t.argv, errfile)
            ours += cpu
            if code != 0:
                with open(errfile) as f:
                    raise RuntimeError(f"{t.shown} exited with {code}: {f.read()[-2000:]}")
            if rep > 0:
                t.times.append(secs)
                t.cpu.append(cpu)
                t.maxrss = max(t.maxrss, maxrss)
                if t.split is not None:
                    with open(errfile) as f:
                        m = re.search(r"collected in ([\d.]+) ms.*printed in ([\d.]+) ms", f.read())
                    if m:
                        t.split.append((float(m.group(1)), float(m.group(2))))
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
        iter_floor = [tools["iter_floor"]]
        # socksnap runs with -v (one line on stderr): where its time goes, from the same
        # interleaved runs as the floors it is compared with.
        snap_tool = Tool("socksnap", [snap, "-v", "--backend", "bpf"] + nsargs,
                         f"socksnap -v --backend bpf --netns {shown_ns}"
                         + (" (each path as its own --netns)" if n_ns > 1 else ""))
        tl = [
            snap_tool,
            ss_tool,
            Tool("floor", [tools["nldump_floor"]] + paths, f"nldump_floor {shown_ns}"),
            Tool("socksnap nl", [snap, "--backend", "netlink"] + nsargs,
                 "socksnap --backend netlink --netns ..."),
            Tool("iter floor", iter_floor + paths, f"iter_floor {shown_ns}"),
        ]
        if n_ns > 1:
            for j in args.jobs_sweep:
                tl.append(Tool(f"socksnap -j{j}", [snap, "--backend", "bpf", "-j", str(j)] + nsargs,
                               f"socksnap --backend bpf -j {j} --netns ..."))
                tl.append(Tool(f"iter floor -j{j}", iter_floor + ["-j", str(j)] + paths,
                               f"iter_floor -j {j} ..."))
        log("  timed commands (stdout > /dev/null):")
        for t in tl:
            log(f"    {t.label:<14} {t.shown}")

        errfile = os.path.join(args.tmp, "stderr")
        for attempt in range(args.retries + 1):
            wait_quiet()
            for t in tl:
                t.times, t.cpu, t.maxrss = [], [], 0
            snap_tool.split = []
            background = measure(tools["spawntime"], tl, args.reps, errfile)
            if background <= args.max_background:
                break
            log(f"  note: {background:.0%} of the CPU was busy with other work during the "
                "timings" + ("; measuring again" if attempt < args.retries else ""))

        split = snap_tool.split
        verbose = (statistics.median(c for c, _ in split),
                   statistics.median(p for _, p in split)) if split else None
        results.append(dict(case=case, tools=tl, ss=ss_tool, sockets=snap_count,
                            ss_target=ss_target, verbose=verbose, n_ns=n_ns,
                            background=background))
        print_case(results[-1])
    finally:
        farm.close()


def floor_of(r, t):
    """The floor a tool is measured against: the netlink dump for netlink runs, the do-nothing
    iterators for the BPF source (with the same -j)."""
    by_label = {x.label: x for x in r["tools"]}
    if t.label.startswith("socksnap -j"):
        return by_label["iter floor -j" + t.label[len("socksnap -j"):]]
    if t.label == "socksnap":
        return by_label["iter floor"]
    if t.label.startswith("iter floor"):
        return t
    return by_label["floor"]


def print_case(r):
    ss_t = r["ss"]
    log(f"  {'tool':<16} {'median ms':>10} {'min ms':>8} {'cpu ms':>8} {'x ss':>6} "
        f"{'x floor':>8} {'maxrss MB':>10} {'B/socket':>9}")
    for t in r["tools"]:
        fl = floor_of(r, t)
        bps = f"{t.maxrss / max(1, r['sockets']):9.0f}" if t.label.startswith("socksnap") else ""
        log(f"  {t.label:<16} {t.median_ms():10.1f} {min(t.times) * 1000:8.1f} "
            f"{statistics.median(t.cpu) * 1000:8.1f} "
            f"{t.median_ms() / ss_t.median_ms():6.2f} {t.median_ms() / fl.median_ms():8.2f} "
            f"{t.maxrss / 1e6:10.1f} {bps}")
    log(f"  CPU busy with other work during the timings: {r['background']:.0%} of the machine")
    if r["verbose"]:
        log(f"  socksnap -v in the timed runs (median): collect {r['verbose'][0]:.1f} ms, "
            f"print {r['verbose'][1]:.1f} ms")


def verdicts(results):
    log("\n== targets")
    rows = []
    for r in results:
        if "rows" in r:                     # D, E, F
            rows.extend((r["case"], what, val, target) for what, val, target in r["rows"])
            continue
        by_label = {t.label: t for t in r["tools"]}
        snap, ss_t, netlink = by_label["socksnap"], r["ss"], by_label["socksnap nl"]
        one_ns = r["n_ns"] == 1
        rows.append((r["case"], f"bpf / {ss_t.label}", snap.median_ms() / ss_t.median_ms(),
                     BPF_SS_TARGET if one_ns else None))
        # The whole command also sorts and prints every row, which the do-nothing walk does not:
        # the target is on the source alone (the collect time of -v, below).
        rows.append((r["case"], "bpf / iter floor (info)",
                     snap.median_ms() / by_label["iter floor"].median_ms(), None))
        rows.append((r["case"], "bpf / netlink", snap.median_ms() / netlink.median_ms(),
                     None if one_ns else 1.0))
        if r["verbose"]:                    # the source alone: socksnap -v's collect time
            collect = r["verbose"][0]
            rows.append((r["case"], f"bpf collect / {ss_t.label} (info)",
                         collect / ss_t.median_ms(), None))
            rows.append((r["case"], "bpf collect / iter floor",
                         collect / by_label["iter floor"].median_ms(),
                         ITER_FLOOR_TARGET if one_ns else None))
        rows.append((r["case"], f"netlink / {ss_t.label}", netlink.median_ms() / ss_t.median_ms(),
                     r["ss_target"]))
        rows.append((r["case"], "netlink / floor",
                     netlink.median_ms() / by_label["floor"].median_ms(), FLOOR_TARGET))
        bps = snap.maxrss / max(1, r["sockets"])
        rows.append((r["case"], "bytes per socket" + ("" if r["n_ns"] == 1 else " (info)"),
                     bps, BYTES_PER_SOCKET_TARGET if r["n_ns"] == 1 else None))
    for case, what, val, target in rows:
        if target is None:
            log(f"  {case}  {what:<32} {val:8.2f}")
        else:
            ok = "PASS" if val <= target else "MISS"
            log(f"  {case}  {what:<32} {val:8.2f}  target <= {target:<6} {ok}")


# ---------------------------------------------------------------- owner cases (D, E)

VERBOSE_RE = re.compile(
    r"collected in ([\d.]+) ms.*owners in ([\d.]+) ms \((\d+) processes, (\d+) containers, "
    r"(\d+) pods\), filtered and sorted in ([\d.]+) ms, printed in ([\d.]+) ms")
VERBOSE_KEYS = ("collect", "owners", "processes", "containers", "pods", "sort", "print")


def verbose_split(spawntime, argv, reps, errfile):
    """Runs `socksnap -v ...` reps times (stdout > /dev/null); medians of its phase times."""
    got = {k: [] for k in VERBOSE_KEYS}
    for _ in range(reps):
        spawn_wait(spawntime, [argv[0], "-v"] + argv[1:], errfile)
        with open(errfile) as f:
            m = VERBOSE_RE.search(f.read())
        if m:
            for k, v in zip(VERBOSE_KEYS, m.groups()):
                got[k].append(float(v))
    return {k: statistics.median(v) for k, v in got.items() if v} or None


def verbose_line(v):
    return (f"collect {v['collect']:.1f} ms, owners {v['owners']:.1f} ms "
            f"({v['processes']:.0f} processes, {v['containers']:.0f} containers, "
            f"{v['pods']:.0f} pods), sort {v['sort']:.1f} ms, print {v['print']:.1f} ms")


def timed_once(argv):
    t0 = time.perf_counter()
    got = capture(argv)
    return got, time.perf_counter() - t0


def run_owner_case(case, args, tools, results):
    holders, conns, ss_target, desc = OWNER_CASES[case]
    holders = max(1, round(holders * args.scale))
    log(f"\n== case {case}: {desc}" + (f" (scaled: {holders} holders)" if args.scale != 1 else ""))
    farm = Farm()
    try:
        made = build_owner_farm(farm, tools, case, holders, conns, args)
        path = farm.paths()[0]
        snap = args.socksnap
        nsenter, ss = shutil.which("nsenter"), shutil.which("ss")
        own_argv = [snap, "--netns", path, "-o", "+pid,+comm"]

        # Counts: every socket listed, and every one with its holder.
        got = capture(own_argv + ["--no-headers"])
        lines = got.stdout.splitlines()
        unowned = sum(1 for ln in lines if len(ln.split()) < 7)
        pids = {ln.split()[5] for ln in lines if len(ln.split()) >= 7}
        holder_pids = {str(p.pid) for p in farm.holders}
        got_ss, ss_secs = timed_once([nsenter, f"--net={path}", ss, "-tunapH"])
        ss_lines = got_ss.stdout.splitlines()
        ss_unowned = sum(1 for ln in ss_lines if "users:(" not in ln)
        got_fl = capture([tools["nldump_floor"], "-c", path])
        floor_count = int(got_fl.stderr.split()[0]) if got_fl.returncode == 0 else -1
        got_pf = capture([tools["procfd_floor"], "-c"])
        procs, links = (int(x) for x in got_pf.stderr.split()[:2])
        ok = len(lines) == len(ss_lines) == floor_count == made and unowned == 0 \
            and ss_unowned == 0 and pids == holder_pids
        log(f"  sockets: farm made {made}, socksnap prints {len(lines)} ({unowned} without a "
            f"pid; {len(pids)} distinct pids, {'all' if pids == holder_pids else 'NOT all'} "
            f"{len(holder_pids)} holders), ss -tunap prints {len(ss_lines)} ({ss_unowned} "
            f"without users:), floor reads {floor_count}" + ("" if ok else "   <-- MISMATCH"))
        log(f"  host: {procs} processes, {links} socket descriptors in /proc/*/fd")
        if got.stderr.strip():
            log("  socksnap stderr: " + got.stderr.strip()[:500])

        ss_reps = None
        if ss_secs > args.slow_ss and args.ss_reps < args.reps:
            ss_reps = args.ss_reps
            log(f"  ss -tunap took {ss_secs:.1f} s in the count check: {ss_reps} timed runs "
                f"(--ss-reps) instead of {args.reps}")
        floor = Tool("floor", [tools["nldump_floor"], path], f"nldump_floor {path}")
        pfloor = Tool("procfd floor", [tools["procfd_floor"]], "procfd_floor")
        floor.floors, pfloor.floors = (floor,), (pfloor,)
        tl = [
            Tool("socksnap +pid", own_argv, f"socksnap --netns {path} -o +pid,+comm",
                 floors=(floor, pfloor)),
            Tool("ss -tunap", [nsenter, f"--net={path}", ss, "-tunap"],
                 f"nsenter --net={path} ss -tunap", reps=ss_reps, floors=(floor, pfloor)),
            Tool("socksnap", [snap, "--netns", path], f"socksnap --netns {path}",
                 floors=(floor,)),
            Tool("ss -tuna", [nsenter, f"--net={path}", ss, "-tuna"],
                 f"nsenter --net={path} ss -tuna", floors=(floor,)),
            floor, pfloor,
        ]
        log("  timed commands (stdout > /dev/null):")
        for t in tl:
            log(f"    {t.label:<14} {t.shown}")
        background = measure_case(tl, args, tools)
        verbose = verbose_split(tools["spawntime"], own_argv, args.reps,
                                os.path.join(args.tmp, "stderr"))
        snap_t, ss_t, plain = tl[0], tl[1], tl[2]
        r = dict(case=case, kind="owners", tools=tl, ss=ss_t, sockets=len(lines),
                 background=background, verbose=verbose, reps=args.reps)
        r["rows"] = [
            (f"socksnap +pid / {ss_t.label}", snap_t.median_ms() / ss_t.median_ms(), ss_target),
            ("owners add (ms, info)", snap_t.median_ms() - plain.median_ms(), None),
            ("socksnap +pid / floors (info)",
             snap_t.median_ms() / sum(f.median_ms() for f in snap_t.floors), None),
            ("bytes per socket (info)", snap_t.maxrss / max(1, len(lines)), None),
        ]
        results.append(r)
        print_owner_case(r)
    finally:
        farm.close()


def measure_case(tl, args, tools):
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
    return background


def run_unix_case(case, args, tools, results):
    """Unix sockets (stream pairs) in one namespace: socksnap --protocol unix with each backend
    against ss -xa in the same namespace."""
    sockets, target, desc = UNIX_CASES[case]
    sockets = max(2, round(sockets * args.scale))
    log(f"\n== case {case}: {desc}" + (f" (scaled: {sockets})" if args.scale != 1 else ""))
    farm = Farm()
    try:
        farm.add_namespaces([f"{PREFIX}-{case.lower()}000"])
        path = farm.paths()[0]
        per = 9_000                          # pairs per holder: a process may hold 20,000 fds
        pairs = sockets // 2
        t0 = time.perf_counter()
        while pairs > 0:
            n = min(per, pairs)
            farm.holders.append(subprocess.Popen([tools["unixfarm"], str(n), path],
                                                 stdout=subprocess.PIPE))
            pairs -= n
        made = wait_ready(farm.holders, timeout=600)
        log(f"  farm: 1 namespace, {len(farm.holders)} holder processes; {made} unix sockets in "
            f"{time.perf_counter() - t0:.1f} s")
        snap = args.socksnap
        nsenter, ss = shutil.which("nsenter"), shutil.which("ss")
        got = capture([snap, "--protocol", "unix", "--no-headers", "--netns", path])
        got_ss = capture([nsenter, f"--net={path}", ss, "-xaH"])
        log(f"  sockets: farm made {made}, socksnap prints {got.stdout.count(chr(10))}, "
            f"ss prints {got_ss.stdout.count(chr(10))}")
        # The default backend (auto) reads unix sockets through sock_diag and, when nothing
        # else is asked for, loads no BPF program; --backend bpf loads them all the same.
        tl = [
            Tool("socksnap", [snap, "--protocol", "unix", "--netns", path],
                 f"socksnap --protocol unix --netns {path}"),
            Tool("ss -xa", [nsenter, f"--net={path}", ss, "-xa"], f"nsenter --net={path} ss -xa"),
            Tool("socksnap bpf", [snap, "--protocol", "unix", "--backend", "bpf", "--netns",
                                  path], "socksnap --protocol unix --backend bpf --netns ..."),
        ]
        log("  timed commands (stdout > /dev/null):")
        for t in tl:
            log(f"    {t.label:<14} {t.shown}")
        background = measure_case(tl, args, tools)
        ss_t = tl[1]
        log(f"  {'tool':<14} {'median ms':>10} {'min ms':>8} {'cpu ms':>8} {'x ss':>6} "
            f"{'maxrss MB':>10} {'B/socket':>9}")
        for t in tl:
            log(f"  {t.label:<14} {t.median_ms():10.1f} {min(t.times) * 1000:8.1f} "
                f"{statistics.median(t.cpu) * 1000:8.1f} {t.median_ms() / ss_t.median_ms():6.2f} "
                f"{t.maxrss / 1e6:10.1f} {t.maxrss / max(1, made):9.0f}")
        log(f"  CPU busy with other work during the timings: {background:.0%} of the machine")
        results.append(dict(case=case, rows=[
            ("socksnap / ss -xa", tl[0].median_ms() / ss_t.median_ms(), target),
            ("--backend bpf / ss -xa", tl[2].median_ms() / ss_t.median_ms(), None),
            ("bytes per socket", tl[0].maxrss / max(1, made), BYTES_PER_SOCKET_TARGET),
        ]))
    finally:
        farm.close()


def print_owner_case(r):
    ss_t = r["ss"]
    log(f"  {'tool':<14} {'median ms':>10} {'min ms':>8} {'cpu ms':>8} {'x ss':>6} "
        f"{'x floor':>8} {'maxrss MB':>10} {'runs':>5}")
    for t in r["tools"]:
        fl = sum(f.median_ms() for f in t.floors)
        log(f"  {t.label:<16} {t.median_ms():10.1f} {min(t.times) * 1000:8.1f} "
            f"{statistics.median(t.cpu) * 1000:8.1f} {t.median_ms() / ss_t.median_ms():6.2f} "
            f"{t.median_ms() / fl:8.2f} {t.maxrss / 1e6:10.1f} {len(t.times):5d}")
    log(f"  (x ss: / {ss_t.label}; x floor: / floor, and + procfd floor for the tools that "
        "show owners)")
    log(f"  CPU busy with other work during the timings: {r['background']:.0%} of the machine")
    if r["verbose"]:
        log(f"  socksnap -v -o +pid,+comm (median): {verbose_line(r['verbose'])}")


# ---------------------------------------------------------------- pod case (F)

def run_pod_case(case, args, tools, results):
    n_pods, target_ms, desc = POD_CASES[case]
    n_pods = max(1, round(n_pods * args.scale))
    log(f"\n== case {case}: {desc}" + (f" (scaled: {n_pods} pods)" if args.scale != 1 else ""))
    node = Node(args.nodesim, f"/tmp/{PREFIX}-node{case.lower()}")
    try:
        t0 = time.perf_counter()
        node.up()
        log(f"  node: {node.dir} up in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        names = set()
        for i in range(n_pods):
            name = f"web-{i:03d}"
            node.run_pod({"name": name, "namespace": "ssbench",
                          "labels": {"app": "web", "bench": PREFIX, "index": str(i)},
                          "containers": [{"name": "httpd", "args": ["httpd", "-f", "-p", "8080"],
                                          "wait_for": ["tcp-listen:8080"]}]})
            names.add(name)
            if (i + 1) % 25 == 0 or i + 1 == n_pods:
                log(f"  pods: {i + 1} running ({time.perf_counter() - t0:.1f} s)")
        p = node.paths
        snap = args.socksnap
        base = [snap, "--containerd-state", p["containerd_state"], "--runc-root", p["runc_root"]]
        k8s_argv = base + ["--cri-socket", p["socket"]]
        json_argv = k8s_argv + ["-o", "json"]
        plain_argv = base + ["-o", PLAIN_COLUMNS, "--cri-socket", "none"]
        # On a node with pods the default sort starts with k8s.namespace,k8s.podName, which
        # need owners even when no column shows them: "plain" still reads every process's
        # descriptors. "bare" sorts by columns it shows and reads no owners.
        bare_argv = plain_argv + ["--sort", PLAIN_SORT]

        # Checks: the default columns are the Kubernetes set, and the JSON has every pod with
        # its labels.
        got = capture(k8s_argv)
        header = got.stdout.splitlines()[0].split() if got.stdout else []
        warn = got.stderr.strip()
        got_plain = capture(plain_argv + ["--no-headers"])
        got_json = capture(json_argv)
        rows = json.loads(got_json.stdout or "[]")
        ours = [r for r in rows if r.get("k8s", {}).get("namespace") == "ssbench"]
        pods_seen = {r["k8s"].get("podName") for r in ours}
        labelled = {r["k8s"].get("podName") for r in ours
                    if r["k8s"].get("podLabels", {}).get("bench") == PREFIX}
        ok = (header[:3] == ["K8S.NODE", "K8S.NAMESPACE", "K8S.PODNAME"]
              and pods_seen == names and labelled == names
              and len(rows) == got_plain.stdout.count("\n"))
        log(f"  sockets on the host: {len(rows)} (json), {got_plain.stdout.count(chr(10))} "
            f"(plain columns); {len(ours)} in the {len(names)} pods, {len(pods_seen)} pods seen, "
            f"{len(labelled)} with their labels; default columns: {' '.join(header)}"
            + ("" if ok else "   <-- MISMATCH"))
        for what, text in (("default", warn), ("plain", got_plain.stderr.strip()),
                           ("json", got_json.stderr.strip())):
            if text:
                log(f"  socksnap ({what}) stderr: {text[:500]}")

        tl = [
            Tool("socksnap k8s", k8s_argv, "socksnap " + " ".join(k8s_argv[1:])),
            Tool("socksnap json", json_argv, "socksnap ... -o json"),
            Tool("socksnap plain", plain_argv, "socksnap " + " ".join(plain_argv[1:])),
            Tool("socksnap bare", bare_argv, f"socksnap ... (as plain) --sort {PLAIN_SORT}"),
        ]
        log("  timed commands (stdout > /dev/null), over the whole host:")
        for t in tl:
            log(f"    {t.label:<15} {t.shown}")
        background = measure_case(tl, args, tools)
        errfile = os.path.join(args.tmp, "stderr")
        verbose = {t.label: verbose_split(tools["spawntime"], t.argv, args.reps, errfile)
                   for t in tl}
        k8s, js, plain, bare = tl
        r = dict(case=case, kind="pods", tools=tl, plain=bare, background=background,
                 verbose=verbose, sockets=len(rows))
        r["rows"] = [
            ("enrichment: k8s - bare (ms)", k8s.median_ms() - bare.median_ms(), target_ms),
            ("k8s - plain (ms, info)", k8s.median_ms() - plain.median_ms(), None),
            ("json - bare (ms, info)", js.median_ms() - bare.median_ms(), None),
        ]
        results.append(r)
        print_pod_case(r)
    finally:
        node.close()


def print_pod_case(r):
    plain = r["plain"]
    log(f"  {'tool':<15} {'median ms':>10} {'min ms':>8} {'cpu ms':>8} {'x bare':>8} "
        f"{'+ms':>7} {'maxrss MB':>10} {'runs':>5}")
    for t in r["tools"]:
        log(f"  {t.label:<15} {t.median_ms():10.1f} {min(t.times) * 1000:8.1f} "
            f"{statistics.median(t.cpu) * 1000:8.1f} {t.median_ms() / plain.median_ms():8.2f} "
            f"{t.median_ms() - plain.median_ms():7.1f} {t.maxrss / 1e6:10.1f} {len(t.times):5d}")
    log(f"  CPU busy with other work during the timings: {r['background']:.0%} of the machine")
    for label, v in r["verbose"].items():
        if v:
            log(f"  {label + ' -v':<18} (median): {verbose_line(v)}")
    log("  (owners: the census of every process's stat, ns/net and cgroup, which every run "
        "pays, plus, when needed, every process's descriptors, the runtime's files and the CRI "
        "call for labels)")


# ---------------------------------------------------------------- summary cases (S, T)

def run_summary_case(case, args, tools, results):
    n_ns, per_ns, target, command, desc = SUMMARY_CASES[case]
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

        got = capture([snap, "--no-headers"] + nsargs)
        rows = got.stdout.count("\n")
        if command == "summary":
            # Counts: the groups add up to the rows.
            got_sum = capture([snap, "summary", "-o", "json"] + nsargs)
            groups = json.loads(got_sum.stdout or "[]")
            counted = sum(g["count"] for g in groups)
            ok = rows == counted == made
            log(f"  sockets: farm made {made}, socksnap prints {rows}, socksnap summary counts "
                f"{counted} in {len(groups)} groups" + ("" if ok else "   <-- MISMATCH"))
            tl = [
                Tool("snapshot", [snap] + nsargs, f"socksnap --netns {shown_ns}"),
                Tool("summary", [snap, "summary"] + nsargs, f"socksnap summary --netns {shown_ns}"),
                Tool("summary src", [snap, "summary", "--by", "src"] + nsargs,
                     f"socksnap summary --by src --netns {shown_ns} (a group per socket, nearly)"),
            ]
        elif command == "watch":
            run_watch_polls(case, args, tools, results, made, rows, nsargs, shown_ns)
            return
        else:
            # Counts: every connection of the farm once, though both its ends are read.
            got_map = capture([snap, "graph", "--level", "netns", "-o", "json"] + nsargs)
            graph = json.loads(got_map.stdout or '{"nodes":[],"edges":[]}')
            connections = sum(e["connections"] for e in graph["edges"])
            log(f"  sockets: farm made {made}, socksnap prints {rows}; socksnap graph --level "
                f"netns: {len(graph['nodes'])} vertices, {len(graph['edges'])} edges, "
                f"{connections} connections")
            # A map's vertices are the sockets' owners (at level process, the default on a
            # host, the processes holding them: every descriptor of every process is read), so
            # the snapshot that shows the same owners is timed too.
            tl = [
                Tool("snapshot", [snap] + nsargs, f"socksnap --netns {shown_ns}"),
                Tool("graph", [snap, "graph"] + nsargs, f"socksnap graph --netns {shown_ns}"),
                Tool("graph netns", [snap, "graph", "--level", "netns"] + nsargs,
                     f"socksnap graph --level netns --netns {shown_ns}"),
                Tool("snapshot +comm", [snap, "-o", "+pid,+comm"] + nsargs,
                     f"socksnap -o +pid,+comm --netns {shown_ns} (the owners a map names)"),
            ]
        log("  timed commands (stdout > /dev/null):")
        for t in tl:
            log(f"    {t.label:<14} {t.shown}")
        background = measure_case(tl, args, tools)
        base = tl[0]
        log(f"  {'tool':<14} {'median ms':>10} {'min ms':>8} {'cpu ms':>8} {'x snapshot':>10} "
            f"{'maxrss MB':>10}")
        for t in tl:
            log(f"  {t.label:<16} {t.median_ms():10.1f} {min(t.times) * 1000:8.1f} "
                f"{statistics.median(t.cpu) * 1000:8.1f} {t.median_ms() / base.median_ms():10.2f} "
                f"{t.maxrss / 1e6:10.1f}")
        log(f"  CPU busy with other work during the timings: {background:.0%} of the machine")
        r = dict(case=case, kind="summary", tools=tl, background=background)
        r["rows"] = [
            (f"{tl[1].label} / snapshot", tl[1].median_ms() / base.median_ms(), target),
            (f"{tl[2].label} / snapshot (info)", tl[2].median_ms() / base.median_ms(), None),
        ]
        if len(tl) > 3:
            r["rows"].append((f"{tl[1].label} / {tl[3].label} (info)",
                              tl[1].median_ms() / tl[3].median_ms(), None))
        results.append(r)
    finally:
        farm.close()


# ---------------------------------------------------------------- watch case (W)

POLL_RE = re.compile(r": (\d+) sockets, (\d+) selected, (\d+) changes; polled in ([\d.]+) ms")


def run_watch_polls(case, args, tools, results, made, rows, nsargs, shown_ns):
    """What one poll of `socksnap watch` costs: its own -v timings (the snapshot, the diff
    against the one before, the printing) over reps polls after the first, against the plain
    snapshot of the same namespace timed as the other cases time it."""
    snap = args.socksnap
    log(f"  sockets: farm made {made}, socksnap prints {rows}")
    tl = [Tool("snapshot", [snap] + nsargs, f"socksnap --netns {shown_ns}")]
    log("  timed commands (stdout > /dev/null):")
    log(f"    {tl[0].label:<14} {tl[0].shown}")
    log(f"    {'poll':<14} socksnap watch --changes-only --interval 2s -v --netns {shown_ns} "
        f"({args.reps} polls after the first, from its -v lines)")
    background = measure_case(tl, args, tools)
    watch = subprocess.Popen([snap, "watch", "--changes-only", "--interval", "2s", "-v"] + nsargs,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    polls, hwm_kb = [], 0
    try:
        for line in watch.stderr:
            m = POLL_RE.search(line)
            if not m:
                continue
            polls.append(float(m.group(4)))
            with open(f"/proc/{watch.pid}/status") as f:
                for field in f:
                    if field.startswith("VmHWM:"):
                        hwm_kb = int(field.split()[1])
            if len(polls) > args.reps:
                break
    finally:
        watch.send_signal(signal.SIGINT)
        watch.wait(timeout=30)
    later = polls[1:]
    poll_ms = statistics.median(later) if later else float("nan")
    base = tl[0].median_ms()
    log(f"  {'tool':<14} {'median ms':>10} {'x snapshot':>10} {'maxrss MB':>10}")
    log(f"  {'snapshot':<14} {base:10.1f} {1:10.2f} {tl[0].maxrss / 1e6:10.1f}")
    log(f"  {'poll':<14} {poll_ms:10.1f} {poll_ms / base:10.2f} {hwm_kb / 1e3:10.1f}"
        f"   (first poll {polls[0]:.1f} ms; exit {watch.returncode})")
    log(f"  CPU busy with other work during the timings: {background:.0%} of the machine")
    results.append(dict(case=case, kind="watch", tools=tl, background=background,
                        rows=[("poll / snapshot (info)", poll_ms / base, None),
                              ("poll ms (info)", poll_ms, None),
                              ("watch peak MB (info)", hwm_kb / 1e3, None)]))


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=",".join(ALL_CASES),
                    help=f"cases to run, e.g. A,B (default {','.join(ALL_CASES)})")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="scale sizes: case A's and S's socket count, B's, C's and T's "
                         "namespace count, D's and E's holder count, F's pod count")
    ap.add_argument("-r", "--reps", type=int, default=7, help="timed runs per tool (default 7)")
    ap.add_argument("--ss-reps", type=int, default=3,
                    help="timed runs of ss -tunap in D and E when one run takes more than "
                         "--slow-ss seconds (default 3)")
    ap.add_argument("--slow-ss", type=float, default=1.0,
                    help="see --ss-reps (default 1.0 s)")
    ap.add_argument("--socksnap", default=DEFAULT_SOCKSNAP, help="socksnap binary")
    ap.add_argument("--nodesim", default=DEFAULT_NODESIM, help="nodesim binary (case F)")
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
                    help="delete ssbench-PID-* namespaces and /tmp/ssbench-PID-node* nodes "
                         "of dead runs, then exit")
    args = ap.parse_args()
    args.jobs_sweep = [int(j) for j in args.jobs_sweep.split(",") if j.strip()]
    cases = [c.strip().upper() for c in args.cases.split(",") if c.strip()]
    for c in cases:
        if c not in ALL_CASES:
            ap.error(f"unknown case {c}")
    if os.geteuid() != 0:
        sys.exit("run.py: run as root (namespaces, setns)")
    if args.cleanup_stale:
        cleanup_stale(args.nodesim)
        return
    if args.build:
        subprocess.run(BUILD_CMD, shell=True, check=True)
    if not os.access(args.socksnap, os.X_OK):
        sys.exit(f"run.py: no socksnap at {args.socksnap}; build it with:\n  {BUILD_CMD}")
    args.socksnap = os.path.abspath(args.socksnap)
    if any(c in POD_CASES for c in cases) and not os.access(args.nodesim, os.X_OK):
        sys.exit(f"run.py: no nodesim at {args.nodesim} (case F); build it with:\n  {BUILD_CMD}")

    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    args.tmp = tempfile.mkdtemp(prefix="ssbench-")
    results = []
    try:
        tools = compile_tools(args.tmp)
        log(f"socksnap: {args.socksnap}; CPUs: {os.cpu_count()}; kernel {os.uname().release}; "
            f"{args.reps} timed runs per tool after 1 warm-up; medians in ms")
        for c in cases:
            if c in OWNER_CASES:
                run_owner_case(c, args, tools, results)
            elif c in POD_CASES:
                run_pod_case(c, args, tools, results)
            elif c in SUMMARY_CASES:
                run_summary_case(c, args, tools, results)
            elif c in UNIX_CASES:
                run_unix_case(c, args, tools, results)
            else:
                run_case(c, args, tools, results)
        verdicts(results)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # finish the teardown
        shutil.rmtree(args.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
