// Times softmax, cross-entropy with gradient and logsumexp through the public API, as a user's
// code would call them, and prints one line per cell:
//
//   <operation> <type> <mode> <workload> <ns per element> <samples>
//
// after a first line `isa <InstructionSet.active>`.
// ns per element is the minimum over the samples (timing noise only ever adds time). Each
// sample is one call, or a batch of calls reaching 2 ms; sampling stops after `--seconds` per cell
// (at least 3 samples). Arguments: `--workloads W1,W2` (default W2), `--types Float,Double,Float16,BFloat16`
// (default Float), `--seconds 0.3`. SOFTMAXKERNELS_ISA=avx2|baseline picks the backend as usual.
import SoftmaxKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func now() -> Double {
  var t = timespec()
  clock_gettime(CLOCK_MONOTONIC, &t)
  return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Seconds per call of `body`: the minimum over samples taken for about `seconds`.
func secondsPerCall(seconds: Double, _ body: () throws -> Void) rethrows -> (Double, Int) {
  let start = now()
  try body()  // warm-up, and the batch size
  let first = now() - start
  let batch = max(1, Int(0.002 / max(first, 1e-9)))
  var best = Double.infinity, samples = 0
  let end = now() + seconds
  while samples < 3 || now() < end {
    let t0 = now()
    for _ in 0..<batch { try body() }
    best = min(best, (now() - t0) / Double(batch))
    samples += 1
  }
  return (best, samples)
}

var workloads = ["W2"], types = ["Float"], seconds = 0.3
var arguments = CommandLine.arguments.dropFirst()
while let a = arguments.popFirst() {
  guard let v = arguments.popFirst() else { fatalError("\(a) needs a value") }
  switch a {
  case "--workloads": workloads = v.split(separator: ",").map(String.init)
  case "--types": types = v.split(separator: ",").map(String.init)
  case "--seconds": seconds = Double(v)!
  default: fatalError("unknown argument \(a)")
  }
}
print("isa", InstructionSet.active.rawValue)
let shapes = ["W1": (8192, 10), "W2": (1024, 1000)]

func run<T: SoftmaxScalar>(_: T.Type, _ name: String, workloads: [String], seconds: Double) throws {
  for w in workloads {
    guard let (rows, cols) = shapes[w] else { fatalError("unknown workload \(w)") }
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return state >> 11
    }
    // Logits roughly uniform in [-8, 8), labels uniform in 0..<cols; buffers as a hot loop has them.
    let xm = UnsafeMutableBufferPointer<T>.allocate(capacity: rows * cols)
    for i in xm.indices { xm[i] = T(Double(next()) / Double(1 << 53) * 16 - 8) }
    let lm = UnsafeMutableBufferPointer<Int32>.allocate(capacity: rows)
    for i in lm.indices { lm[i] = Int32(truncatingIfNeeded: next() % UInt64(cols)) }
    let y = UnsafeMutableBufferPointer<T>.allocate(capacity: rows * cols)
    let lse = UnsafeMutableBufferPointer<T.Arithmetic>.allocate(capacity: rows)
    defer { xm.deallocate(); lm.deallocate(); y.deallocate(); lse.deallocate() }
    let x = UnsafeBufferPointer(xm), labels = UnsafeBufferPointer(lm)
    var sink: T.Arithmetic = 0
    for mode in [KernelOptions.Mode.accurate, .fast] {
      let modeName = mode == .accurate ? "accurate" : "fast"
      let options = KernelOptions(mode: mode)
      let ceOptions = CrossEntropyOptions<T>(kernel: options)
      let cells: [(String, () throws -> Void)] = [
        ("softmax", { try softmax(x, rows: rows, cols: cols, output: y, options: options) }),
        ("crossEntropyWithGradient", {
          sink += try crossEntropyWithGradient(
            x, rows: rows, cols: cols, labels: labels, gradient: y, options: ceOptions)
        }),
        ("logSumExp", { try logSumExp(x, rows: rows, cols: cols, output: lse, options: options) }),
      ]
      for (op, body) in cells {
        let (s, n) = try secondsPerCall(seconds: seconds, body)
        let ns = s * 1e9 / Double(rows * cols)
        print(op, name, modeName, w, (ns * 10_000).rounded() / 10_000, n)
      }
    }
    if sink.isNaN { print("unexpected NaN loss") }
  }
}

for t in types {
  switch t {
  case "Float": try run(Float.self, t, workloads: workloads, seconds: seconds)
  case "Double": try run(Double.self, t, workloads: workloads, seconds: seconds)
  case "Float16": try run(Float16.self, t, workloads: workloads, seconds: seconds)
  case "BFloat16": try run(BFloat16.self, t, workloads: workloads, seconds: seconds)
  default: fatalError("unknown type \(t)")
  }
}
