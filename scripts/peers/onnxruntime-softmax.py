#!/usr/bin/env python3
# The peer row of the README's Measured section: ONNX Runtime's Softmax (axis -1) on SPEC's
# workloads W1-W5, Float and Double, one intra-op thread, output preallocated (IOBinding), logits
# normal with std 3 as in scripts/bench. Prints the median, best and p90 ns per element of one
# call on the whole matrix, after 3 warm-up calls and at least 2 s of calls.
#
#   pip install onnxruntime onnx numpy && python3 scripts/peers/onnxruntime-softmax.py
import time, numpy as np, onnx, onnxruntime as ort
from onnx import helper, TensorProto
W = {"W1": (8192, 10), "W2": (1024, 1000), "W3": (128, 32000), "W4": (32, 128256), "W5": (256, 128256)}
for dtype, tp in (("float", TensorProto.FLOAT), ("double", TensorProto.DOUBLE)):
  for name, (r, c) in W.items():
    g = helper.make_graph([helper.make_node("Softmax", ["x"], ["y"], axis=-1)], "g",
                          [helper.make_tensor_value_info("x", tp, [r, c])], [helper.make_tensor_value_info("y", tp, [r, c])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 8
    so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    s = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    npd = np.float32 if dtype == "float" else np.float64
    x = (np.random.default_rng(1).standard_normal((r, c)) * 3).astype(npd); y = np.empty_like(x)
    b = s.io_binding()
    b.bind_cpu_input("x", x); b.bind_output("y", "cpu", 0, npd, [r, c], y.ctypes.data)
    for _ in range(3): s.run_with_iobinding(b)
    ts = []
    budget = time.perf_counter() + 2.0
    while time.perf_counter() < budget or len(ts) < 5:
      t0 = time.perf_counter_ns(); s.run_with_iobinding(b); ts.append(time.perf_counter_ns() - t0)
    ts.sort(); n = r * c
    print(f"onnxruntime {ort.__version__} softmax {name} {dtype}: median {ts[len(ts)//2]/n:.3f} ns/el, best {ts[0]/n:.3f}, p90 {ts[int(len(ts)*0.9)]/n:.3f} ({len(ts)} runs)", flush=True)
    ref = np.exp(x - x.max(1, keepdims=True)); ref /= ref.sum(1, keepdims=True)
    assert np.allclose(y, ref, rtol=1e-4, atol=1e-30), "wrong result"
