// One benchmark per operation x workload x dtype, on the public SoftmaxKernels API (the way a user
// calls it). Every buffer is allocated in the benchmark's setup, outside the measured region, so
// the measured region is nothing but kernel calls: `mallocCountTotal` must be 0, and the static
// thresholds in ../Thresholds make `swift package benchmark thresholds check` fail if a kernel
// ever allocates. See ../README.md.
import Benchmark
import SoftmaxKernels

/// SPEC.md's workloads.
let workloads: [(name: String, rows: Int, cols: Int)] = [
  ("W1", 8192, 10),  // small classifiers: per-row overhead dominates
  ("W2", 1024, 1000),  // ImageNet-sized heads
  ("W3", 128, 32000),  // LLM vocabulary (32k), rows fit in L2
  ("W4", 32, 128256),  // large vocabulary (128k)
  ("W5", 256, 128256),  // large vocabulary batch, memory-bound
]

/// The logits and output buffers of one benchmark, allocated in its setup.
final class Buffers<T: SoftmaxScalar>: @unchecked Sendable {
  let rows: Int
  let cols: Int
  let x: UnsafeMutableBufferPointer<T>
  let y: UnsafeMutableBufferPointer<T>
  let perRow: UnsafeMutableBufferPointer<T>

  init(rows: Int, cols: Int) {
    self.rows = rows
    self.cols = cols
    x = .allocate(capacity: rows * cols)
    y = .allocate(capacity: rows * cols)
    perRow = .allocate(capacity: rows)
    // Realistic logits: roughly normal (sum of three uniforms) with std ~3; no denormals anywhere.
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func uniform() -> Double {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Double(state >> 11) * 0x1p-53 * 2 - 1
    }
    for i in 0..<x.count { x[i] = T((uniform() + uniform() + uniform()) * 5.2) }
    y.initialize(repeating: 0)
    perRow.initialize(repeating: 0)
  }

  deinit {
    x.deallocate()
    y.deallocate()
    perRow.deallocate()
    for e in extras { e.deallocate() }
  }

  // Inputs of the loss and backward operations, created on first use. The benchmark's setup makes
  // one call of the operation, so every input it uses exists before the measured region.
  private var extras: [UnsafeMutableRawBufferPointer] = []

  private func extra<E>(_: E.Type, count: Int, fill: (UnsafeMutableBufferPointer<E>) -> Void)
    -> UnsafeMutableBufferPointer<E>
  {
    let b = UnsafeMutableBufferPointer<E>.allocate(capacity: count)
    fill(b)
    extras.append(UnsafeMutableRawBufferPointer(b))
    return b
  }

  /// One class label per row in 0..<cols.
  lazy var labels: UnsafeBufferPointer<Int32> = UnsafeBufferPointer(extra(Int32.self, count: rows) { b in
    for r in 0..<b.count { b[r] = Int32(truncatingIfNeeded: (r &* 7919) % Swift.max(1, cols)) }
  })
  /// An upstream gradient dy in [-1, 1].
  lazy var upstream: UnsafeBufferPointer<T> = UnsafeBufferPointer(extra(T.self, count: rows * cols) { b in
    for i in 0..<b.count { b[i] = T(Double((i &* 2_654_435_761) % 2001) / 1000 - 1) }
  })
  /// softmax(x), the forward output softmax backward starts from.
  lazy var probabilities: UnsafeBufferPointer<T> = UnsafeBufferPointer(extra(T.self, count: rows * cols) { b in
    try! softmax(input, rows: rows, cols: cols, output: b)
  })
  /// logSoftmax(x), the forward output log-softmax backward starts from.
  lazy var logProbabilities: UnsafeBufferPointer<T> = UnsafeBufferPointer(extra(T.self, count: rows * cols) { b in
    try! logSoftmax(input, rows: rows, cols: cols, output: b)
  })
  /// Binary targets in [0, 1].
  lazy var binaryTargets: UnsafeBufferPointer<T> = UnsafeBufferPointer(extra(T.self, count: rows * cols) { b in
    for i in 0..<b.count { b[i] = T(Double((i &* 40_503) % 1001) / 1000) }
  })

  /// A copy of the logits for the in-place calls, which overwrite it: from the second call on it
  /// holds the previous call's gradient (values in [-1, 1]), which the kernel takes as logits.
  lazy var scratch: UnsafeMutableBufferPointer<T> = extra(T.self, count: rows * cols) { b in
    _ = b.initialize(from: x)
  }

  var input: UnsafeBufferPointer<T> { UnsafeBufferPointer(x) }
}

/// An operation: its name and the call that is measured. Adding an operation is one entry.
struct Operation: Sendable {
  var name: String
  var float: @Sendable (Buffers<Float>) -> Void
  var double: @Sendable (Buffers<Double>) -> Void

  /// The same generic call for both precisions.
  static func make(_ name: String, _ call: @escaping @Sendable (Buffers<Float>) -> Void,
                   _ callD: @escaping @Sendable (Buffers<Double>) -> Void) -> Operation {
    Operation(name: name, float: call, double: callD)
  }
}

@inline(__always)
func runSoftmax<T: SoftmaxScalar>(_ b: Buffers<T>) {
  try! softmax(b.input, rows: b.rows, cols: b.cols, output: b.y)
}

@inline(__always)
func runLogSoftmax<T: SoftmaxScalar>(_ b: Buffers<T>) {
  try! logSoftmax(b.input, rows: b.rows, cols: b.cols, output: b.y)
}

@inline(__always)
func runLogSumExp<T: SoftmaxScalar>(_ b: Buffers<T>) {
  try! logSumExp(b.input, rows: b.rows, cols: b.cols, output: b.perRow)
}

@inline(__always)
func runExp<T: SoftmaxScalar>(_ b: Buffers<T>) {
  try! VectorExp.exp(b.input, output: b.y)
}

@inline(__always)
func runCrossEntropy<T: SoftmaxScalar>(_ b: Buffers<T>) {
  _ = try! crossEntropy(b.input, rows: b.rows, cols: b.cols, labels: b.labels, losses: b.perRow)
}

@inline(__always)
func runCrossEntropyGrad<T: SoftmaxScalar>(_ b: Buffers<T>) {
  _ = try! crossEntropyWithGradient(b.input, rows: b.rows, cols: b.cols, labels: b.labels, gradient: b.y)
}

@inline(__always)
func runCrossEntropyGradInPlace<T: SoftmaxScalar>(_ b: Buffers<T>) {
  _ = try! crossEntropyWithGradient(inPlace: b.scratch, rows: b.rows, cols: b.cols, labels: b.labels)
}

@inline(__always)
func runSoftmaxBackward<T: SoftmaxScalar>(_ b: Buffers<T>) {
  try! softmaxBackward(b.upstream, rows: b.rows, cols: b.cols, output: b.probabilities, gradient: b.y)
}

@inline(__always)
func runLogSoftmaxBackward<T: SoftmaxScalar>(_ b: Buffers<T>) {
  try! logSoftmaxBackward(b.upstream, rows: b.rows, cols: b.cols, output: b.logProbabilities, gradient: b.y)
}

@inline(__always)
func runBCELogits<T: SoftmaxScalar>(_ b: Buffers<T>) {
  _ = try! binaryCrossEntropyWithGradient(b.input, rows: b.rows, cols: b.cols, targets: b.binaryTargets, gradient: b.y)
}

let operations: [Operation] = [
  .make("softmax", runSoftmax, runSoftmax),
  .make("log-softmax", runLogSoftmax, runLogSoftmax),
  .make("logsumexp", runLogSumExp, runLogSumExp),
  // SLEEF's vector exp alone over the same elements: the floor of every exp-based kernel.
  .make("exp", runExp, runExp),
  // Class-label cross-entropy (default options, mean): forward with per-row losses, and fused
  // forward + backward with the gradient in a separate buffer.
  .make("cross-entropy", runCrossEntropy, runCrossEntropy),
  .make("cross-entropy-grad", runCrossEntropyGrad, runCrossEntropyGrad),
  // The same over the logits in place (the 128k-vocabulary training step without a second
  // matrix): the allocation gate proves it needs no buffer.
  .make("cross-entropy-grad-inplace", runCrossEntropyGradInPlace, runCrossEntropyGradInPlace),
  // Backward passes from the forward outputs (y, dy) into a separate buffer.
  .make("softmax-backward", runSoftmaxBackward, runSoftmaxBackward),
  .make("log-softmax-backward", runLogSoftmaxBackward, runLogSoftmaxBackward),
  // Elementwise BCE with logits, mean, with the gradient.
  .make("bce-logits", runBCELogits, runBCELogits),
]

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    // No .cpuTotal: reading the OS CPU counters allocates (16 mallocs per iteration on Linux), which
    // would hide the kernels' zero in mallocCountTotal.
    // No .throughput: it counts whole calls per second (a W5 Double call runs 3-4 times a second,
    // so one call more is +33%) and would need its own tolerances; wall clock says the same.
    metrics: [.wallClock, .mallocCountTotal],
    timeUnits: .microseconds,
    warmupIterations: 2,
    maxDuration: .seconds(1),
    maxIterations: 10_000,
    thresholds: [
      // Any allocation in the measured region is a failure (see Thresholds/).
      .mallocCountTotal: .init(relative: BenchmarkThresholds.Relative.strict, absolute: BenchmarkThresholds.Absolute.strict),
      // Timing tolerances for `baseline check`: a 2-core shared machine is noisy.
      .wallClock: .init(relative: [.p25: 15, .p50: 15, .p75: 20]),
    ]
  )

  for op in operations {
    for w in workloads {
      // Names carry no tags: the static thresholds are looked up by name (Thresholds/).
      let config = Benchmark.defaultConfiguration
      Benchmark("\(op.name).\(w.name).Float", configuration: config) { benchmark, b in
        for _ in benchmark.scaledIterations { op.float(b) }
      } setup: {
        let b = Buffers<Float>(rows: w.rows, cols: w.cols)
        op.float(b)  // creates the inputs the operation uses, outside the measured region
        return b
      }
      Benchmark("\(op.name).\(w.name).Double", configuration: config) { benchmark, b in
        for _ in benchmark.scaledIterations { op.double(b) }
      } setup: {
        let b = Buffers<Double>(rows: w.rows, cols: w.cols)
        op.double(b)
        return b
      }
    }
  }
}

