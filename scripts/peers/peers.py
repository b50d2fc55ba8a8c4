#!/usr/bin/env python3
"""ONNX Runtime and PyTorch (CPU) on scripts/bench's operations, workloads and precisions.

Prints CSV on stdout, one line per (peer, op, workload, dtype): the median and best ns per element
of one call on the whole matrix, timed as Sources/SoftmaxBench/Measure.swift times this package
(warm-up, batches of calls of at least 5 ms, at least 15 samples and 0.6 s, at most 200 samples;
--quick: 2 ms, 5 samples, 0.08 s, 50), and the result's worst error against a float64 NumPy
reference (relative to the largest reference value; sampled rows, whole-matrix for reduced losses).
Usually run by scripts/peers/compare, one workload at a time between the runs of scripts/bench.

Inputs as in scripts/bench: logits normal with std 3 (clamped to +-24), labels uniform in 0..<cols,
an upstream gradient dy normal with std 1, y = softmax(x) and log_softmax(x) computed once,
binary targets uniform in [0, 1). Outputs are preallocated wherever the API takes one.

Precisions (--dtypes, scripts/bench's names): float, double, and the 16-bit half (IEEE binary16:
NumPy float16, torch.float16, ONNX FLOAT16) and bfloat16 (torch.bfloat16; NumPy has none, so the
values are held in float32 arrays rounded to bfloat16 and handed to PyTorch as bfloat16 tensors;
ONNX Runtime: n/a). Every input is rounded to the precision once, and the reference is computed in
float64 from the rounded values, so max_error measures the peer's arithmetic and output rounding
only. The error bounds (a warning on stderr above them): 1e-4 float, 1e-10 double, 2e-3 half and
1.6e-2 bfloat16 (about 4 units of the last place of 1: 4 x 2^-11 and 4 x 2^-8); in half and
bfloat16 the check first allows each value an absolute error of 2 units of the type's smallest
subnormal (the max_error column does not: a mean-reduced float16 gradient of a large matrix is
subnormal, and its error relative to the largest value grows with the matrix).

The calls (CALLS below says it per cell in the `call` column):
  ONNX Runtime (one InferenceSession per cell, CPU provider, intra_op_num_threads = --threads,
  inputs and outputs bound once with IOBinding, run_with_iobinding timed):
    softmax          Softmax(axis=-1), opset 13
    log-softmax      LogSoftmax(axis=-1)
    logsumexp        ReduceLogSumExp(axes=[1], keepdims=0)
    cross-entropy    SoftmaxCrossEntropyLoss(reduction="mean"), int64 labels, loss output only
    everything else  n/a: inference has no gradient ops (cross-entropy-grad, the backwards), and
                     no binary cross-entropy op (bce-logits is not composed from elementwise ops)
  PyTorch (torch.set_num_threads(--threads); forward ops under torch.inference_mode()):
    softmax          torch.softmax(x, -1, out=y)
    log-softmax      torch.log_softmax(x, -1, out=y)
    logsumexp        torch.logsumexp(x, -1, out=o)
    cross-entropy    F.cross_entropy(x, t) (mean; int64 labels)
    cross-entropy-grad  --torch-grad aten (default): the kernels autograd runs for
                     F.cross_entropy, called directly into preallocated buffers:
                     aten._log_softmax.out, aten.nll_loss_forward.output,
                     aten.nll_loss_backward.grad_input (d loss = 1), aten._log_softmax_backward_data.out;
                     --torch-grad autograd: loss = F.cross_entropy(x, t); torch.autograd.grad(loss, x)
    bce-logits       loss = F.binary_cross_entropy_with_logits(x, t) (mean); torch.autograd.grad(loss, x)
                     (ATen has no backward op for it to call directly)
    softmax-backward      aten._softmax_backward_data.out(dy, y, -1, dtype, grad_input=dx)
    log-softmax-backward  torch._log_softmax_backward_data(dy, log_y, -1, dtype, out=dx)

  pip install numpy onnx onnxruntime 'torch==2.13.0+cpu'
  python3 scripts/peers/peers.py --workloads W1,W2 --quick
"""
import argparse, contextlib, csv, math, sys, time

WORKLOADS = {"W1": (8192, 10), "W2": (1024, 1000), "W3": (128, 32000), "W4": (32, 128256), "W5": (256, 128256)}
OPS = ["softmax", "log-softmax", "logsumexp", "cross-entropy", "cross-entropy-grad", "bce-logits",
       "softmax-backward", "log-softmax-backward"]
COLUMNS = ["peer", "version", "op", "workload", "rows", "cols", "dtype", "threads", "ns_per_element",
           "ns_per_element_min", "samples", "calls_per_sample", "max_error", "call"]
# Measure.swift's TimingPlan.accurate and .quick.
# --dtypes name -> NumPy storage type (bfloat16: float32 arrays holding bfloat16 values), the
# error bound of max_error, and the absolute error the check allows on top of it in the 16-bit
# types: 2 units of the smallest subnormal (mean-reduced gradients, 1/N, are subnormal in float16
# for N above 16384: torch's float16 bce-logits gradient on 256x1000 is 0.8% off by that alone).
DTYPES = {"float": ("float32", 1e-4, 0.0), "double": ("float64", 1e-10, 0.0), "half": ("float16", 2e-3, 2 * 2.0**-24),
          "bfloat16": ("float32", 1.6e-2, 2 * 2.0**-133)}
PLANS = {"accurate": dict(warmup=0.1, min_sample=0.005, min_samples=15, target=0.6, max_samples=200),
         "quick": dict(warmup=0.02, min_sample=0.002, min_samples=5, target=0.08, max_samples=50)}


def quantile(s, q):
    pos = q * (len(s) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def measure(fn, plan):
    """ns per call: (median, best, samples, batch), as Measure.swift's measure(_:_:)."""
    clock = time.perf_counter_ns
    start = clock()
    while True:
        t0 = clock(); fn(); last = clock() - t0
        if clock() - start >= plan["warmup"] * 1e9:
            break
    batch = max(1, math.ceil(plan["min_sample"] * 1e9 / max(last, 1)))
    samples, spent = [], 0
    while len(samples) < plan["max_samples"] and (len(samples) < plan["min_samples"] or spent < plan["target"] * 1e9):
        t0 = clock()
        for _ in range(batch):
            fn()
        dt = clock() - t0
        spent += dt
        samples.append(dt / batch)
    samples.sort()
    return quantile(samples, 0.5), samples[0], len(samples), batch


def round_bfloat16(np, v):
    """float32 array of `v` rounded to bfloat16 (to nearest, ties to even; finite values)."""
    u = np.ascontiguousarray(v, dtype=np.float32).view(np.uint32)
    u = (u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) & np.uint32(0xFFFF0000)
    return u.view(np.float32)


class Inputs:
    """One workload in one precision (`dname`, a DTYPES key); extra inputs are made on first use.
    Every array is stored rounded to the precision (`store`)."""

    def __init__(self, np, rows, cols, dname, seed):
        self.np, self.rows, self.cols, self.dname = np, rows, cols, dname
        self.dtype = np.dtype(DTYPES[dname][0]).type
        self.rng = np.random.default_rng(seed)
        x = self.rng.standard_normal((rows, cols)) * 3
        self.x = self.store(np.clip(x, -24, 24))
        self._cache = {}
        k = min(rows, max(1, (1 << 16) // cols))  # evenly spaced rows for the error check
        self.check_rows = [i * rows // k for i in range(k)]

    def store(self, v):
        """`v` rounded to this precision, in its NumPy storage type."""
        v = v.astype(self.dtype)
        return round_bfloat16(self.np, v) if self.dname == "bfloat16" else v

    def get(self, name):
        np = self.np
        if name not in self._cache:
            r, c = self.rows, self.cols
            if name == "labels":
                v = self.rng.integers(0, c, size=r, dtype=np.int64)
            elif name == "dy":
                v = self.store(self.rng.standard_normal((r, c)))
            elif name == "y":
                v = self.store(np.exp(self.get("log_y").astype(np.float64)))
            elif name == "log_y":
                x = self.x.astype(np.float64)
                v = self.store(x - lse64(np, x)[:, None])
            elif name == "targets":
                v = self.store(self.rng.random((r, c)))
            self._cache[name] = v
        return self._cache[name]


def lse64(np, x):
    m = x.max(axis=1)
    return m + np.log(np.exp(x - m[:, None]).sum(axis=1))


def reference(np, op, inp):
    """float64 results to check against: {name: (array, rows-or-None)}; None means the whole value."""
    rows = inp.check_rows
    xs = inp.x[rows].astype(np.float64)
    lse = lse64(np, xs)
    if op == "softmax":
        return {"y": (np.exp(xs - lse[:, None]), rows)}
    if op == "log-softmax":
        return {"y": (xs - lse[:, None], rows)}
    if op == "logsumexp":
        return {"y": (lse, rows)}
    if op in ("cross-entropy", "cross-entropy-grad"):
        x = inp.x.astype(np.float64)
        t = inp.get("labels")
        loss = float((lse64(np, x) - x[np.arange(inp.rows), t]).mean())
        out = {"loss": (np.array(loss), None)}
        if op == "cross-entropy-grad":
            g = np.exp(xs - lse[:, None])
            g[np.arange(len(rows)), t[rows]] -= 1
            out["grad"] = (g / inp.rows, rows)
        return out
    if op == "bce-logits":
        x, t = inp.x.astype(np.float64), inp.get("targets").astype(np.float64)
        loss = float((np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))).mean())
        g = (1 / (1 + np.exp(-xs)) - t[rows]) / x.size
        return {"loss": (np.array(loss), None), "grad": (g, rows)}
    if op == "softmax-backward":
        y, dy = inp.get("y")[rows].astype(np.float64), inp.get("dy")[rows].astype(np.float64)
        return {"grad": (y * (dy - (dy * y).sum(axis=1, keepdims=True)), rows)}
    if op == "log-softmax-backward":
        ly, dy = inp.get("log_y")[rows].astype(np.float64), inp.get("dy")[rows].astype(np.float64)
        return {"grad": (dy - np.exp(ly) * dy.sum(axis=1, keepdims=True), rows)}
    raise ValueError(op)


def max_error(np, ref, got, floor=0.0):
    """Largest |result - reference| over the checked values, relative to the largest |reference|;
    and the same with `floor` taken off each |result - reference| first (for the bound check)."""
    worst, beyond = 0.0, 0.0
    for name, (want, rows) in ref.items():
        have = np.asarray(got[name], dtype=np.float64)
        if rows is not None:
            have = have[rows]
        scale = max(float(np.abs(want).max()), 1e-300)
        diff = np.abs(have - want)
        worst = max(worst, float(diff.max()) / scale)
        beyond = max(beyond, float(np.maximum(diff - floor, 0).max()) / scale)
    return worst, beyond


def forward(fn):
    """Marks a PyTorch call that needs no autograd: timed under torch.inference_mode()."""
    fn.forward = True
    return fn


# MARK: ONNX Runtime

class OnnxRuntime:
    name = "onnxruntime"

    def __init__(self, threads, args):
        import onnx, onnxruntime
        self.onnx, self.ort, self.threads = onnx, onnxruntime, threads
        self.version = onnxruntime.__version__

    def mode(self, fn):
        return contextlib.nullcontext()

    def cell(self, op, inp):
        """(timed call, results getter, call description) or a string saying why there is none."""
        np, (r, c) = inp.np, (inp.rows, inp.cols)
        h, TP = self.onnx.helper, self.onnx.TensorProto
        if inp.dname == "bfloat16":
            return "n/a: bfloat16 not measured (NumPy has no bfloat16 to bind; ORT 1.32 has no CPU bfloat16 Softmax)"
        tp = {"float": TP.FLOAT, "double": TP.DOUBLE, "half": TP.FLOAT16}[inp.dname]
        value = h.make_tensor_value_info
        if op == "softmax" or op == "log-softmax":
            kind = "Softmax" if op == "softmax" else "LogSoftmax"
            node = h.make_node(kind, ["x"], ["y"], axis=-1)
            outs = {"y": np.empty((r, c), inp.dtype)}
            call = f"{kind}(axis=-1)"
        elif op == "logsumexp":
            node = h.make_node("ReduceLogSumExp", ["x"], ["y"], axes=[1], keepdims=0)
            outs = {"y": np.empty((r,), inp.dtype)}
            call = "ReduceLogSumExp(axes=[1], keepdims=0)"
        elif op == "cross-entropy":
            node = h.make_node("SoftmaxCrossEntropyLoss", ["x", "t"], ["loss"], reduction="mean")
            outs = {"loss": np.empty((), inp.dtype)}
            call = "SoftmaxCrossEntropyLoss(reduction=mean), int64 labels"
        elif op == "bce-logits":
            return "n/a: no binary cross-entropy op"
        else:
            return "n/a: inference has no gradient op"
        ins = {"x": inp.x}
        if op == "cross-entropy":
            ins["t"] = inp.get("labels")
        shapes = {k: list(v.shape) for k, v in {**ins, **outs}.items()}
        types = {k: (TP.INT64 if v.dtype == np.int64 else tp) for k, v in {**ins, **outs}.items()}
        graph = h.make_graph([node], "g", [value(k, types[k], shapes[k]) for k in ins],
                             [value(k, types[k], shapes[k]) for k in outs])
        model = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
        model.ir_version = 8
        so = self.ort.SessionOptions()
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        try:
            s = self.ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        except Exception as e:  # e.g. no kernel for this type
            return "n/a: " + str(e).splitlines()[0][:80]
        b = s.io_binding()
        for k, v in ins.items():
            b.bind_cpu_input(k, v)
        for k, v in outs.items():
            b.bind_output(k, "cpu", 0, v.dtype, list(v.shape), v.ctypes.data)
        return (lambda: s.run_with_iobinding(b)), (lambda: outs), call


# MARK: PyTorch

class PyTorch:
    name = "torch"

    def __init__(self, threads, args):
        import torch
        self.torch, self.grad_mode = torch, args.torch_grad
        torch.set_num_threads(threads)
        self.version = torch.__version__

    def mode(self, fn):
        return self.torch.inference_mode() if getattr(fn, "forward", False) else contextlib.nullcontext()

    def tensor(self, inp, a):
        """The NumPy array `a` of `inp` as a tensor of the precision (bfloat16: converted, exactly)."""
        t = self.torch.from_numpy(a)
        return t.to(self.torch.bfloat16) if inp.dname == "bfloat16" else t

    def numpy(self, t):
        """A result tensor as NumPy (bfloat16 widened to float32, exactly)."""
        t = t.detach()
        return (t.float() if t.dtype == self.torch.bfloat16 else t).numpy()

    def cell(self, op, inp):
        torch, np = self.torch, inp.np
        F = torch.nn.functional
        aten = torch.ops.aten
        x = self.tensor(inp, inp.x)
        dt = x.dtype
        if op in ("softmax", "log-softmax"):
            y = torch.empty_like(x)
            f = torch.softmax if op == "softmax" else torch.log_softmax
            return forward(lambda: f(x, -1, out=y)), (lambda: {"y": self.numpy(y)}), \
                f"torch.{f.__name__}(x, -1, out=y)"
        if op == "logsumexp":
            o = torch.empty(inp.rows, dtype=dt)
            return forward(lambda: torch.logsumexp(x, -1, out=o)), (lambda: {"y": self.numpy(o)}), \
                "torch.logsumexp(x, -1, out=o)"
        if op == "cross-entropy":
            t = torch.from_numpy(inp.get("labels"))
            res = {}
            def run():
                res["loss"] = F.cross_entropy(x, t)
            return forward(run), (lambda: {"loss": res["loss"].item()}), "F.cross_entropy(x, t)"
        if op == "cross-entropy-grad":
            t = torch.from_numpy(inp.get("labels"))
            res = {}
            if self.grad_mode == "autograd":
                xg = x.clone().requires_grad_(True)
                def run():
                    loss = F.cross_entropy(xg, t)
                    res["loss"], res["grad"] = loss, torch.autograd.grad(loss, xg)[0]
                return run, (lambda: {k: self.numpy(v) for k, v in res.items()}), \
                    "F.cross_entropy + torch.autograd.grad"
            lsm, gn, g = torch.empty_like(x), torch.empty_like(x), torch.empty_like(x)
            loss, tw, one = torch.empty((), dtype=dt), torch.empty((), dtype=dt), torch.ones((), dtype=dt)
            def run():
                aten._log_softmax.out(x, 1, False, out=lsm)
                aten.nll_loss_forward.output(lsm, t, None, 1, -100, output=loss, total_weight=tw)
                aten.nll_loss_backward.grad_input(one, lsm, t, None, 1, -100, tw, grad_input=gn)
                aten._log_softmax_backward_data.out(gn, lsm, 1, dt, out=g)
            return forward(run), (lambda: {"loss": self.numpy(loss), "grad": self.numpy(g)}), \
                "aten _log_softmax, nll_loss_forward, nll_loss_backward, _log_softmax_backward_data (out=)"
        if op == "bce-logits":
            xg = x.clone().requires_grad_(True)
            t = self.tensor(inp, inp.get("targets"))
            res = {}
            def run():
                loss = F.binary_cross_entropy_with_logits(xg, t)
                res["loss"], res["grad"] = loss, torch.autograd.grad(loss, xg)[0]
            return run, (lambda: {k: self.numpy(v) for k, v in res.items()}), \
                "F.binary_cross_entropy_with_logits + torch.autograd.grad"
        if op == "softmax-backward":
            y, dy, dx = self.tensor(inp, inp.get("y")), self.tensor(inp, inp.get("dy")), torch.empty_like(x)
            return forward(lambda: aten._softmax_backward_data.out(dy, y, -1, dt, grad_input=dx)), \
                (lambda: {"grad": self.numpy(dx)}), "aten._softmax_backward_data.out(dy, y, -1, dtype, grad_input=dx)"
        if op == "log-softmax-backward":
            ly, dy, dx = self.tensor(inp, inp.get("log_y")), self.tensor(inp, inp.get("dy")), torch.empty_like(x)
            return forward(lambda: torch._log_softmax_backward_data(dy, ly, -1, dt, out=dx)), \
                (lambda: {"grad": self.numpy(dx)}), "torch._log_softmax_backward_data(dy, log_y, -1, dtype, out=dx)"
        return "n/a"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ops", default=",".join(OPS))
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--dtypes", default="float,double", help="comma-separated: " + ", ".join(DTYPES))
    p.add_argument("--peers", default="onnxruntime,torch", help="comma-separated: onnxruntime, torch")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--torch-grad", choices=["aten", "autograd"], default="aten")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-header", action="store_true")
    args = p.parse_args()

    import numpy as np
    plan = PLANS["quick" if args.quick else "accurate"]
    kinds = {"onnxruntime": OnnxRuntime, "ort": OnnxRuntime, "torch": PyTorch, "pytorch": PyTorch}
    peers = [kinds[n.strip().lower()](args.threads, args) for n in args.peers.split(",") if n.strip()]
    ops = [o.strip() for o in args.ops.split(",") if o.strip() in OPS]
    out = csv.writer(sys.stdout, lineterminator="\n")
    if not args.no_header:
        out.writerow(COLUMNS)
    for wname in args.workloads.split(","):
        wname = wname.strip()
        r, c = WORKLOADS[wname] if wname in WORKLOADS else map(int, wname.lower().split("x"))
        for dname in [d.strip() for d in args.dtypes.split(",") if d.strip()]:
            if dname not in DTYPES:
                p.error(f"unknown dtype '{dname}'; known: {', '.join(DTYPES)}")
            inp = Inputs(np, r, c, dname, args.seed + r * 1000003 + c)
            for op in ops:
                ref = None
                for peer in peers:
                    row = [peer.name, peer.version, op, wname, r, c, dname, args.threads]
                    cell = peer.cell(op, inp)
                    if isinstance(cell, str):
                        out.writerow(row + ["", "", "", "", "", cell]); sys.stdout.flush()
                        continue
                    fn, results, call = cell
                    print(f"  {peer.name} {wname} {dname} {op}", file=sys.stderr, flush=True)
                    # PyTorch's forward ops run in inference mode, set once around the timing.
                    with peer.mode(fn):
                        med, best, n, batch = measure(fn, plan)
                    ref = ref or reference(np, op, inp)
                    _, bound, floor = DTYPES[dname]
                    err, beyond = max_error(np, ref, results(), floor)
                    if not beyond <= bound:
                        print(f"peers.py: {peer.name} {op} {wname} {dname}: error {err:.3g} above {bound:g}"
                              + (f" (beyond {floor:.3g} absolute: {beyond:.3g})" if floor else ""), file=sys.stderr)
                    e = r * c
                    out.writerow(row + [f"{med / e:.4f}", f"{best / e:.4f}", n, batch, f"{err:.3g}", call])
                    sys.stdout.flush()
                    del fn, cell


if __name__ == "__main__":
    main()
