#!/usr/bin/env python3
"""This package beside ONNX Runtime and PyTorch, measured in the same minutes.

For each workload in turn: scripts/bench (the softmax-bench binary, --format json) in accurate
mode, in fast mode (with `copy`, a memcpy of the logits), then scripts/peers/peers.py (ONNX
Runtime and PyTorch, CPU) on the same operations, workload, precisions and threads. Prints one
table per precision: rows op x workload, columns this package accurate and fast, ONNX Runtime,
PyTorch, a copy of the bytes the operation moves, the best peer and the ratios to it.

Optional and outside CI (neither scripts/test nor .ci/run calls it). Needs numpy, onnx,
onnxruntime and torch in the Python that runs it; scripts/peers/compare picks .venv-peers (in the
repository or beside it) or $SOFTMAXKERNELS_PEERS_PYTHON. The exact peer calls: the header of
scripts/peers/peers.py, and the legend under the tables.

A run takes about 8 minutes on a 2-core VM (--quick: about 3). Keep the machine otherwise idle: the legend
prints the load average at the start and the end.

16-bit precisions: --dtypes half,bfloat16 (or beside the others: float,double,half,bfloat16)
measures PyTorch's float16 and bfloat16 CPU kernels (ONNX Runtime: float16 where its CPU
provider has the op, bfloat16 n/a) on the same operations and workloads, beside this package's
Float16 and BFloat16 rows (softmax-bench's results with dtype half and bfloat16; their arithmetic
is Float's, each output rounded once). One table per precision. A softmax-bench without those
precisions (its --help lists the ones it has) measures only the others: the package's columns
of the 16-bit tables then show '-' and a note says so. The peers' results are checked against
float64 NumPy on the rounded inputs, within 2e-3 (half) and 1.6e-2 (bfloat16); peers.py's
header has the details. python3 scripts/peers/test_compare.py checks the parsing offline.
"""
import argparse, csv, datetime, importlib.util, io, json, os, platform, re, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OPS = ["softmax", "log-softmax", "logsumexp", "cross-entropy", "cross-entropy-grad", "bce-logits",
       "softmax-backward", "log-softmax-backward"]
WORKLOADS = ["W1", "W2", "W3", "W4", "W5"]
SHORT = {"accurate": "acc", "fast": "fast"}
# --dtypes names (scripts/bench's) and the table titles.
DTYPES = {"float": "Float", "double": "Double", "half": "Float16", "bfloat16": "BFloat16"}
PEERS = {"onnxruntime": ("ORT", ["numpy", "onnx", "onnxruntime"]),  # short name, Python modules
         "torch": ("PyTorch", ["numpy", "torch"])}
INSTALL = """  python3 -m venv .venv-peers
  .venv-peers/bin/pip install numpy onnx onnxruntime 'torch==2.13.0+cpu'
('torch==2.13.0+cpu' is the CPU-only wheel, 192 MB; plain 'torch' is the CUDA build, a 540 MB
wheel plus several GB of CUDA packages, and measures the same CPU kernels.)
scripts/peers/compare then uses .venv-peers/bin/python; or set SOFTMAXKERNELS_PEERS_PYTHON."""


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return float("nan")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# MARK: reading results

class Results:
    """Every measured cell: key (source, op, workload, dtype) -> dict(ns, best, bytes, ...).
    Sources: 'accurate' and 'fast' (this package), 'copy', and the peer names."""

    def __init__(self):
        self.cells, self.versions, self.calls, self.threads = {}, {}, {}, set()
        self.notes = []  # printed under the legend
        self.run = {}  # when, cpu, load: from compare.json or the first scripts/bench JSON

    def add(self, source, op, workload, dtype, ns, best=None, nbytes=None, note=None):
        self.cells[(source, op, workload, dtype)] = dict(ns=ns, best=best, bytes=nbytes, note=note)

    def get(self, source, op, workload, dtype):
        return self.cells.get((source, op, workload, dtype))

    def read(self, text, mode=None):
        """Reads one output of scripts/bench (--format json or csv; `mode` for csv, which does not
        say it) or of peers.py (csv)."""
        text = text.strip()
        if not text:
            return
        if text.startswith("{"):
            doc = json.loads(text)
            if "compare" in doc:
                self.run.update(doc["compare"])
                return
            self.run.setdefault("when", doc["date"])
            self.run.setdefault("cpu", doc["cpu"])
            self.threads.add(doc.get("threads"))
            for r in doc["results"]:
                self._bench(doc["mode"], r["op"], r["workload"], r["dtype"], r["ns_per_element"],
                            r.get("ns_per_element_min"), r.get("bytes_per_element"))
            return
        rows = list(csv.DictReader(io.StringIO(text)))
        if text.startswith("peer,"):
            for r in rows:
                self.threads.add(int(r["threads"]))
                self.versions[r["peer"]] = r["version"]
                num = lambda k: float(r[k]) if r[k] else None
                self.add(r["peer"], r["op"], r["workload"], r["dtype"], num("ns_per_element"),
                         num("ns_per_element_min"), note=None if r["ns_per_element"] else r["call"])
                self.calls.setdefault((r["peer"], r["op"]), r["call"])
        elif text.startswith("op,workload"):
            for r in rows:
                ns = float(r["ns_per_element"])
                self._bench(mode or "accurate", r["op"], r["workload"], r["dtype"], ns, None,
                            float(r["gb_per_s"]) * ns)
        else:
            raise SystemExit(f"compare: unrecognised input (neither scripts/bench nor peers.py output): {text[:60]!r}")

    def _bench(self, mode, op, workload, dtype, ns, best, nbytes):
        self.add("copy" if op == "copy" else mode, op, workload, dtype, ns, best, nbytes)
        if op != "copy":  # bytes moved per element, for the copy column
            self.cells.setdefault(("bytes", op, workload, dtype), dict(bytes=nbytes))


# MARK: running

def run(cmd, what, hint=""):
    print(f"==> {what}", file=sys.stderr, flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, cwd=REPO)
    if p.returncode != 0:
        raise SystemExit(f"compare: {' '.join(cmd)} failed (exit {p.returncode}){hint}")
    return p.stdout


def build_bench():
    """Builds softmax-bench through scripts/bench (its build output goes to stderr) and returns
    the binary, so each run below does not re-check the build, and the precisions its --help
    lists (None when the help does not say)."""
    help_text = run([os.path.join(REPO, "scripts", "bench"), "--help"], "building softmax-bench (scripts/bench --help)",
                    "; --no-bench measures the peers alone")
    scratch = os.environ.get("SOFTMAXKERNELS_BENCH_SCRATCH", ".build-bench")
    return os.path.join(REPO, scratch, "release", "softmax-bench"), bench_dtypes(help_text)


def bench_dtypes(help_text):
    """The precisions softmax-bench's --help lists for --dtypes (the option's text, up to the next
    option: "Comma-separated precisions: float, double."), or None when the help has no --dtypes
    option (then every requested one is passed on)."""
    m = re.search(r"^\s*--dtypes <[^>]*>(.*?)(?=^\s*-|^\s*$|\Z)", help_text, re.S | re.M)
    if not m:
        return None
    return {d for d in DTYPES if re.search(rf"\b{d}\b", m.group(1), re.I)}


def split_dtypes(requested, supported):
    """(the precisions to ask softmax-bench for, the ones it does not have)."""
    if supported is None:
        return list(requested), []
    return [d for d in requested if d in supported], [d for d in requested if d not in supported]


def measure(args, results, log):
    bench, supported = build_bench() if not args.no_bench else (None, None)
    bench_dt, missing = split_dtypes(args.dtypes, supported)
    if bench and missing:
        note = (f"softmax-bench has no {', '.join(missing)} (its --dtypes: {', '.join(sorted(supported))}): "
                f"this package's columns of {', '.join(DTYPES[d] for d in missing)} are not measured")
        print(f"compare: {note}", file=sys.stderr)
        results.notes.append(note)
    modes = ["accurate", "fast"] if args.mode == "both" else [args.mode]
    timing = ["--threads", str(args.threads)] + (["--quick"] if args.quick else [])
    for w in args.workloads:
        if bench and bench_dt:
            for i, mode in enumerate(modes):
                ops = args.ops + (["copy"] if i == len(modes) - 1 else [])
                out = run([bench, "--ops", ",".join(ops), "--workloads", w, "--mode", mode, "--format", "json",
                           "--no-progress", "--dtypes", ",".join(bench_dt)] + timing, f"{w}: scripts/bench --mode {mode}")
                log(f"bench-{mode}-{w}.json", out)
                results.read(out)
        if args.peers:
            cmd = [sys.executable, os.path.join(HERE, "peers.py"), "--ops", ",".join(args.ops), "--workloads", w,
                   "--peers", ",".join(args.peers), "--torch-grad", args.torch_grad,
                   "--dtypes", ",".join(args.dtypes)] + timing
            out = run(cmd, f"{w}: peers ({', '.join(args.peers)})")
            log(f"peers-{w}.csv", out)
            results.read(out)


# MARK: printing

def fmt(x):
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 10 else f"{x:.2f}"


def table(results, args, dtype, info):
    stat = "best" if args.best else "ns"
    modes = ["accurate", "fast"] if args.mode == "both" else [args.mode]
    peers = [p for p in PEERS if any(k[0] == p for k in results.cells)]
    mine = "fast" if "fast" in modes else modes[0]
    head = ["op", "workload"] + modes + [PEERS[p][0] for p in peers] + ["copy", "best peer"] \
        + [f"{SHORT[m]}/peer" for m in modes] + [f"{SHORT[mine]}/copy"]
    rows = []
    for op in args.ops:
        for w in args.workloads:
            value = lambda src: (results.get(src, op, w, dtype) or {}).get(stat)
            vals = {s: value(s) for s in modes + peers}
            cells = {s: results.get(s, op, w, dtype) for s in peers}
            if all(v is None for v in vals.values()) and all(c is None for c in cells.values()):
                continue
            copy, nbytes = results.get("copy", "copy", w, dtype), (results.get("bytes", op, w, dtype) or {}).get("bytes")
            same = copy[stat] * nbytes / copy["bytes"] if copy and copy.get(stat) and nbytes and copy["bytes"] else None
            measured = [(vals[p], p) for p in peers if vals[p] is not None]
            best = min(measured) if measured else None
            ratio = lambda a, b: f"{a / b:.2f}" if a is not None and b else "-"
            row = [op, w] + [fmt(vals[m]) for m in modes]
            row += ["n/a" if cells[p] and cells[p]["note"] else fmt(vals[p]) for p in peers]
            name_width = max(len(PEERS[p][0]) for p in peers)  # so that the numbers line up
            row += [fmt(same), f"{fmt(best[0])} {PEERS[best[1]][0]:<{name_width}}" if best else "-"]
            row += [ratio(vals[m], best[0] if best else None) for m in modes] + [ratio(vals[mine], same)]
            rows.append(row)
    title = (f"{DTYPES.get(dtype, dtype)}: {'best' if args.best else 'median'} ns per element, "
             f"{info['threads']} thread{'s' if info['threads'] != 1 else ''}; {info['when']}; {info['cpu']}; "
             f"{info['peers']}")
    out = []
    if args.markdown:
        out += [f"_{title}_", "", "| " + " | ".join(head) + " |",
                "|" + "".join("---|" if i < 2 else "---:|" for i in range(len(head)))]
        out += ["| " + " | ".join(c.strip() for c in r) + " |" for r in rows]
    else:
        width = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
        line = lambda r: "  ".join(c.ljust(width[i]) if i < 2 else c.rjust(width[i]) for i, c in enumerate(r))
        out += [title, line(head), "-" * len(line(head))]
        last = None
        for r in rows:
            if last is not None and r[0] != last:
                out.append("")
            out.append(line(r))
            last = r[0]
    return "\n".join(out) + "\n"


def legend(results, args, info):
    lines = [
        "Columns: this package (scripts/bench) in each mode; the peers' calls below; copy: memcpy of the",
        "logits (scripts/bench --ops copy) scaled to the bytes the op reads and writes (scripts/bench's",
        "bytes per element; an estimate for ops that do not move 2 x size); best peer: the faster measured",
        "peer; acc/peer, fast/peer: this package's time over the best peer's (below 1: this package is",
        "faster); fast/copy: fast mode's time over the copy. n/a: the peer has no such op; -: not measured.",
        "Each op of this package runs with the options scripts/bench gives it (its Operations.swift: some",
        "ignore --mode or --threads, and then their two modes match); the peers get --threads threads.",
    ]
    if info["load"]:
        lines.append(f"Load average (1 min) at the start {info['load'][0]:.2f}, at the end {info['load'][1]:.2f}"
                     f" ({os.cpu_count()} CPUs here; near or above their count the numbers mean little).")
    order = lambda kv: (kv[0][0], OPS.index(kv[0][1]) if kv[0][1] in OPS else 99)
    calls = [(PEERS.get(peer, (peer,))[0], op, call) for (peer, op), call in sorted(results.calls.items(), key=order)
             if op in args.ops]
    if any(d in ("half", "bfloat16") for d in args.dtypes):
        lines += ["Float16 and BFloat16: rows, targets and outputs in the 16-bit type. This package computes in Float",
                  "and rounds each output once; the peers run their own float16 / bfloat16 kernels (peers.py's header)."]
    lines += results.notes
    if args.markdown:  # one paragraph, then a list
        return "\n".join(lines) + "\n\nPeer calls:\n\n" + "".join(f"- {p} {op}: `{c}`\n" for p, op, c in calls)
    return "\n".join(lines[:1] + ["  " + l for l in lines[1:]]) + "\nPeer calls:\n" \
        + "".join(f"  {p} {op}: {c}\n" for p, op, c in calls)


def main():
    p = argparse.ArgumentParser(prog="scripts/peers/compare", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="shorter timings (scripts/bench --quick, and the same plan for the peers)")
    p.add_argument("--ops", default=",".join(OPS), help="comma-separated, scripts/bench's names (default: %(default)s)")
    p.add_argument("--workloads", default=",".join(WORKLOADS), help="W1..W5 or ROWSxCOLS (default: %(default)s)")
    p.add_argument("--dtypes", default="float,double",
                   help="comma-separated: float, double, half (Float16 / float16), bfloat16; one table each "
                        "(default: %(default)s; the 16-bit ones: see below)")
    p.add_argument("--threads", type=int, default=1, help="threads per call, this package and the peers (default: 1)")
    p.add_argument("--mode", choices=["accurate", "fast", "both"], default="both", help="this package's mode(s)")
    p.add_argument("--peers", default="onnxruntime,torch", help="comma-separated: onnxruntime, torch; '' for none")
    p.add_argument("--torch-grad", choices=["aten", "autograd"], default="aten",
                   help="PyTorch's cross-entropy-grad: the ATen kernels autograd runs, called directly into "
                        "preallocated buffers (default), or F.cross_entropy + torch.autograd.grad")
    p.add_argument("--no-bench", action="store_true", help="measure only the peers")
    p.add_argument("--best", action="store_true", help="print the best sample instead of the median")
    p.add_argument("--markdown", action="store_true", help="markdown tables (for the README)")
    p.add_argument("--save", metavar="DIR", help="also write every raw output (scripts/bench JSON, peers CSV) to DIR")
    p.add_argument("--from", dest="sources", metavar="FILE", nargs="+",
                   help="print from saved outputs instead of measuring: scripts/bench --format json or csv "
                        "(csv: write MODE=FILE, e.g. fast=bench.csv; it carries no best sample), peers.py csv")
    args = p.parse_args()
    args.ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    for o in args.ops:
        if o not in OPS:
            p.error(f"unknown op '{o}'; known: {', '.join(OPS)}")
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    args.peers = [x.strip().lower() for x in args.peers.split(",") if x.strip()]
    for x in args.peers:
        if x not in PEERS:
            p.error(f"unknown peer '{x}'; known: {', '.join(PEERS)}")
    args.dtypes = [d.strip().lower() for d in args.dtypes.split(",") if d.strip()]
    for d in args.dtypes:
        if d not in DTYPES:
            p.error(f"unknown dtype '{d}'; known: {', '.join(DTYPES)}")

    results = Results()
    if args.sources:
        for f in args.sources:
            mode, path = (f.split("=", 1) if "=" in f and not os.path.exists(f) else (None, f))
            with open(path) as fh:
                results.read(fh.read(), mode)
    else:
        missing = sorted({m for x in args.peers for m in PEERS[x][1] if importlib.util.find_spec(m) is None})
        if missing:
            sys.exit(f"compare: missing Python packages for the peers: {', '.join(missing)} (Python: {sys.executable}).\n"
                     f"Install them, for example:\n{INSTALL}\nOr leave a peer out: --peers onnxruntime, --peers torch.")
        load = load_average()
        if load > 3:
            print(f"compare: load average {load:.2f} > 3: the numbers will mean little", file=sys.stderr)
        log = lambda name, text: None
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            def log(name, text):
                with open(os.path.join(args.save, name), "w") as fh:
                    fh.write(text)
        results.run = dict(when=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                           cpu=cpu_model(), load=[load, None])
        measure(args, results, log)
        results.run["load"][1] = load_average()
        log("compare.json", json.dumps({"compare": results.run}) + "\n")
    threads = sorted(t for t in results.threads if t is not None) or [args.threads]
    long = {"onnxruntime": "ONNX Runtime (ORT)", "torch": "PyTorch"}
    names = [f"{long[p]} {v}" for p, v in sorted(results.versions.items()) if p in PEERS]
    info = dict(threads=threads[0] if len(threads) == 1 else "/".join(map(str, threads)),
                when=results.run.get("when", "date unknown"), cpu=results.run.get("cpu", "CPU unknown"),
                load=results.run.get("load"), peers=", ".join(names) or "no peers")
    out = [table(results, args, d, info) for d in args.dtypes]
    print("\n".join(out) + "\n" + legend(results, args, info), end="")


if __name__ == "__main__":
    main()
