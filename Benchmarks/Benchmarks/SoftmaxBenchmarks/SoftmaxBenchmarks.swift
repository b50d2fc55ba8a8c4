// One benchmark per operation x workload x storage type (Float, Double, Float16, BFloat16), on the public
// SoftmaxKernels API (the way a user calls it). Every buffer is allocated in the benchmark's setup, outside the measured region, so
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

/// The logits and output buffers of one benchmark, allocated in its setup. Rows are in `T`; the
/// per-row results (logsumexp, losses) in `T.Arithmetic` (`Float` for the 16-bit types), as the API
/// returns them.
final class Buffers<T: SoftmaxScalar>: @unchecked Sendable {
  let rows: Int
  let cols: Int
  let x: UnsafeMutableBufferPointer<T>
  let y: UnsafeMutableBufferPointer<T>
  let perRow: UnsafeMutableBufferPointer<T.Arithmetic>

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

/// An operation: its name (`rawValue`) and the call that is measured. Adding an operation is one
/// case here and its call in `run(_:)`.
enum Operation: String, CaseIterable, Sendable {
  case softmax = "softmax"
  case logSoftmax = "log-softmax"
  case logSumExp = "logsumexp"
  // SLEEF's vector exp alone over the same elements: the floor of every exp-based kernel.
  case exp = "exp"
  // Class-label cross-entropy (default options, mean): forward with per-row losses, and fused
  // forward + backward with the gradient in a separate buffer.
  case crossEntropy = "cross-entropy"
  case crossEntropyGrad = "cross-entropy-grad"
  // The same over the logits in place (the 128k-vocabulary training step without a second
  // matrix): the allocation gate proves it needs no buffer.
  case crossEntropyGradInPlace = "cross-entropy-grad-inplace"
  // Backward passes from the forward outputs (y, dy) into a separate buffer.
  case softmaxBackward = "softmax-backward"
  case logSoftmaxBackward = "log-softmax-backward"
  // Elementwise BCE with logits, mean, with the gradient.
  case bceLogits = "bce-logits"

  /// One call of the operation on `b`'s buffers.
  @inline(__always)
  func run<T: SoftmaxScalar>(_ b: Buffers<T>) {
    switch self {
    case .softmax:
      try! SoftmaxKernels.softmax(b.input, rows: b.rows, cols: b.cols, output: b.y)
    case .logSoftmax:
      try! SoftmaxKernels.logSoftmax(b.input, rows: b.rows, cols: b.cols, output: b.y)
    case .logSumExp:
      try! SoftmaxKernels.logSumExp(b.input, rows: b.rows, cols: b.cols, output: b.perRow)
    case .exp:
      try! VectorExp.exp(b.input, output: b.y)
    case .crossEntropy:
      _ = try! SoftmaxKernels.crossEntropy(b.input, rows: b.rows, cols: b.cols, labels: b.labels, losses: b.perRow)
    case .crossEntropyGrad:
      _ = try! crossEntropyWithGradient(b.input, rows: b.rows, cols: b.cols, labels: b.labels, gradient: b.y)
    case .crossEntropyGradInPlace:
      _ = try! crossEntropyWithGradient(inPlace: b.scratch, rows: b.rows, cols: b.cols, labels: b.labels)
    case .softmaxBackward:
      try! SoftmaxKernels.softmaxBackward(
        b.upstream, rows: b.rows, cols: b.cols, output: b.probabilities, gradient: b.y)
    case .logSoftmaxBackward:
      try! SoftmaxKernels.logSoftmaxBackward(
        b.upstream, rows: b.rows, cols: b.cols, output: b.logProbabilities, gradient: b.y)
    case .bceLogits:
      _ = try! binaryCrossEntropyWithGradient(b.input, rows: b.rows, cols: b.cols, targets: b.binaryTargets, gradient: b.y)
    }
  }
}

/// Every operation on every workload in storage type `T`, named `<op>.<workload>.<typeName>`.
func registerBenchmarks<T: SoftmaxScalar>(_: T.Type, _ typeName: String) {
  for op in Operation.allCases {
    for w in workloads {
      // Names carry no tags: the static thresholds are looked up by name (Thresholds/).
      Benchmark("\(op.rawValue).\(w.name).\(typeName)", configuration: Benchmark.defaultConfiguration) { (benchmark: Benchmark, b: Buffers<T>) in
        for _ in benchmark.scaledIterations { op.run(b) }
      } setup: {
        let b = Buffers<T>(rows: w.rows, cols: w.cols)
        op.run(b)  // creates the inputs the operation uses, outside the measured region
        return b
      }
    }
  }
}

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

  // The storage types, in this order. Float16 and BFloat16 rows are computed in Float (Swift has no
  // Float16 on macOS x86-64). A new type: its line here and its 50 threshold files (README.md).
  registerBenchmarks(Float.self, "Float")
  registerBenchmarks(Double.self, "Double")
  #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
  if #available(macOS 11.0, iOS 14.0, watchOS 7.0, tvOS 14.0, *) { registerBenchmarks(Float16.self, "Float16") }
  #endif
  registerBenchmarks(BFloat16.self, "BFloat16")
}
