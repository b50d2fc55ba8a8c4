#!/usr/bin/env python3
"""Offline checks of scripts/peers/compare.py's parsing (no measurement, no NumPy or torch):
softmax-bench's --help for the precisions it has, and the 16-bit rows of softmax-bench CSV
(dtype half / bfloat16) and peers.py CSV read into the Float16 and BFloat16 tables.

  python3 scripts/peers/test_compare.py
"""
import importlib.util, os, sys, types, unittest

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("compare", os.path.join(HERE, "compare.py"))
compare = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare)

HELP = """OVERVIEW: Times the SoftmaxKernels kernels.

For each operation and workload, each storage type of
--dtypes side by side (Float and Double by default); half and bfloat16 rows are computed in Float.

OPTIONS:
  --ops <ops>             Comma-separated operations: softmax, log-softmax.
  --dtypes <dtypes>       Comma-separated precisions: float, double. (default:
                          float,double)
  --format <format>       Output format: table, csv, json, markdown. (default: table)
"""

BENCH_FAST = """op,workload,rows,cols,dtype,ns_per_element,gb_per_s,speedup_vs_reference,times_exp_floor,max_error
softmax,W2,1024,1000,float,0.200,40.0,30.0,1.2,1.2e-7
softmax,W2,1024,1000,half,0.350,11.4,17.0,1.8,4.9e-4
softmax,W2,1024,1000,bfloat16,0.330,12.1,18.0,1.7,3.9e-3
cross-entropy-grad,W2,1024,1000,bfloat16,0.500,8.0,12.0,2.2,3.9e-3
copy,W2,1024,1000,bfloat16,0.041,97.6,1.0,0.2,0
"""

PEERS = """peer,version,op,workload,rows,cols,dtype,threads,ns_per_element,ns_per_element_min,samples,calls_per_sample,max_error,call
torch,2.13.0+cpu,softmax,W2,1024,1000,half,1,0.7000,0.6900,50,1,0.000221,"torch.softmax(x, -1, out=y)"
torch,2.13.0+cpu,softmax,W2,1024,1000,bfloat16,1,0.6600,0.6500,50,1,0.00178,"torch.softmax(x, -1, out=y)"
torch,2.13.0+cpu,cross-entropy-grad,W2,1024,1000,bfloat16,1,1.3200,1.3100,50,1,0.00235,"aten _log_softmax (out=)"
onnxruntime,1.32.0,softmax,W2,1024,1000,bfloat16,1,,,,,,"n/a: bfloat16 not measured"
"""


class Parsing(unittest.TestCase):
    def test_bench_dtypes(self):
        self.assertEqual(compare.bench_dtypes(HELP), {"float", "double"})
        wider = HELP.replace("precisions: float, double.", "storage types: float, double, half (Float16),\n"
                             "                          bfloat16 (BFloat16); the report shows them in that order.")
        self.assertEqual(compare.bench_dtypes(wider), {"float", "double", "half", "bfloat16"})
        self.assertIsNone(compare.bench_dtypes("USAGE: softmax-bench"))
        self.assertEqual(compare.split_dtypes(["float", "half", "bfloat16"], {"float", "double"}),
                         (["float"], ["half", "bfloat16"]))
        self.assertEqual(compare.split_dtypes(["half"], None), (["half"], []))

    def test_sixteen_bit_rows(self):
        r = compare.Results()
        r.read(BENCH_FAST, "fast")
        r.read(PEERS)
        self.assertEqual(r.get("fast", "softmax", "W2", "half")["ns"], 0.35)
        self.assertEqual(r.get("fast", "softmax", "W2", "bfloat16")["ns"], 0.33)
        self.assertEqual(r.get("torch", "cross-entropy-grad", "W2", "bfloat16")["ns"], 1.32)
        self.assertIsNotNone(r.get("onnxruntime", "softmax", "W2", "bfloat16")["note"])
        args = types.SimpleNamespace(best=False, mode="fast", ops=["softmax", "cross-entropy-grad"], workloads=["W2"],
                                     markdown=False, dtypes=["half", "bfloat16"])
        info = dict(threads=1, when="now", cpu="cpu", load=None, peers="PyTorch 2.13.0+cpu")
        bf = compare.table(r, args, "bfloat16", info)
        self.assertTrue(bf.startswith("BFloat16:"))
        softmax = next(l for l in bf.splitlines() if l.startswith("softmax"))
        self.assertIn("0.330", softmax)
        self.assertIn("0.50", softmax.split()[-2])  # fast/peer: 0.33 / 0.66
        half = compare.table(r, args, "half", info)
        self.assertTrue(half.startswith("Float16:"))
        self.assertIn("0.350", half)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1] + sys.argv[1:])
