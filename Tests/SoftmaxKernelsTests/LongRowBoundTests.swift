import SoftmaxKernels
import SoftmaxReference
import Testing

/// SPEC.md: the accuracy bound must not grow with the row length. Rows of 2^18 to 2^22 columns
/// (and one Float row of 2^24) span hundreds to thousands of 8 KiB chunks, so every way the chunk
/// partials are combined (the row kernels' own pass A, and the sharded `LogSumExpState` merged in
/// any order) is checked against the oracle with SPEC's bounds, in both modes: softmax,
/// log-softmax, logsumexp, the class-label and probability-target losses and their fused gradients,
/// and the sharded gradient. The oracle's sum is compensated in the wide type (`LongRowOracle`).
///
/// Rows: N(0, s) logits for s = 1, 3, 30 (two seeds each; one at 2^22 and in reduced runs);
/// rising ramps, noisy (shallow, where the earlier chunks hold most of the sum, and steep) and
/// smooth (the max rises in every chunk and every shard, so every merge rescales the running sum:
/// the case the double-word exp is for); and a random row whose max sits in the last chunk. The
/// longest rows run in release builds on native CPUs only (`LongRowLengths`): a debug build, or
/// the suite under qemu or a sanitizer, checks 2^18.
@Suite("Accuracy at any row length")
struct LongRowBoundTests {
  @Test("Float: N(0, s) rows", arguments: LongRowLengths.lengths)
  func normalRowsFloat(cols: Int) throws { try Self.normalRows(Float.self, cols: cols) }

  @Test("Double: N(0, s) rows", arguments: LongRowLengths.lengths)
  func normalRowsDouble(cols: Int) throws { try Self.normalRows(Double.self, cols: cols) }

  @Test("Float and Double: rising ramps and a max in the last chunk", arguments: LongRowLengths.lengths)
  func rampsAndLateMax(cols: Int) throws {
    // The steep ramp's sum is dominated by its last chunk; at 2^22 the shallow one says more.
    for shape in LongRow.Shape.structured where !(cols > 1 << 20 && shape.isSteep) {
      try LongRowCheck(LongRow.make(Float.self, shape, cols: cols, seed: 11)).run("\(shape)")
      try LongRowCheck(LongRow.make(Double.self, shape, cols: cols, seed: 12)).run("\(shape)")
    }
  }

  /// One row of 2^24 Float columns (64 MiB), release only.
  @Test("Float: one row of 2^24 columns", .enabled(if: LongRowLengths.includesHuge))
  func hugeRowFloat() throws {
    try LongRowCheck(LongRow.make(Float.self, .normal(scale: 1), cols: 1 << 24, seed: 99)).run("N(0, 1)", shards: 1024)
  }

  static func normalRows<T: ReferenceScalar>(_: T.Type, cols: Int) throws {
    for scale in [1.0, 3.0, 30.0] {
      // Two seeds up to 2^20 columns, one at 2^22 and in the reduced runs (the suite's time).
      for seed: UInt64 in cols > 1 << 20 || LongRowLengths.reduced ? [1] : [1, 2] {
        try LongRowCheck(LongRow.make(T.self, .normal(scale: scale), cols: cols, seed: seed)).run("N(0, \(scale)) seed \(seed)")
      }
    }
  }
}

/// Which lengths run: 2^18, 2^20, 2^22 in a native release build; 2^18 in a debug build, under
/// qemu (`SOFTMAXKERNELS_TEST_CPU` set) or when `SOFTMAXKERNELS_TEST_SHORT` is set (the
/// sanitizer runs).
enum LongRowLengths {
  static var reduced: Bool {
    #if DEBUG
    return true
    #else
    return ProcessInfoLite.environment("SOFTMAXKERNELS_TEST_CPU") != nil
      || ProcessInfoLite.environment("SOFTMAXKERNELS_TEST_SHORT") != nil
    #endif
  }
  static var lengths: [Int] { reduced ? [1 << 18] : [1 << 18, 1 << 20, 1 << 22] }
  static var includesHuge: Bool { !reduced }
}

enum LongRow {
  enum Shape: CustomStringConvertible {
    case normal(scale: Double)
    /// x_j = rise * j / n plus N(0, noise) noise: the max grows from chunk to chunk (without
    /// noise, in every chunk and every shard, so each merge rescales the running sum).
    case ramp(rise: Double, noise: Double)
    /// N(0, 1) with the max (+3 above the rest) in the last element.
    case maxInLastChunk

    static let structured: [Shape] = [.ramp(rise: 8, noise: 0.5), .ramp(rise: 1, noise: 0), .ramp(rise: 2000, noise: 0.5), .maxInLastChunk]

    var isSteep: Bool {
      if case .ramp(let r, _) = self { return r > 100 }
      return false
    }

    var description: String {
      switch self {
      case .normal(let s): return "N(0, \(s))"
      case .ramp(let r, let noise): return "ramp rising by \(r), noise \(noise)"
      case .maxInLastChunk: return "max in the last chunk"
      }
    }
  }

  /// SplitMix64, so that every row is reproducible from its seed.
  struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }
    /// N(0, 1) by Marsaglia's polar method (one of the pair).
    mutating func normal() -> Double {
      while true {
        let u = 2 * uniform() - 1, v = 2 * uniform() - 1
        let s = u * u + v * v
        if s > 0 && s < 1 { return u * (-2 * Double.libmLog(s) / s).squareRoot() }
      }
    }
  }

  static func make<T: ReferenceScalar>(_: T.Type, _ shape: Shape, cols n: Int, seed: UInt64) -> [T] {
    var g = Generator(state: seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(n))
    switch shape {
    case .normal(let s):
      return (0..<n).map { _ in T(g.normal() * s) }
    case .ramp(let rise, let noise):
      return (0..<n).map { j in T(rise * Double(j) / Double(n) + (noise == 0 ? 0 : noise * g.normal())) }
    case .maxInLastChunk:
      var x = (0..<n).map { _ in T(g.normal()) }
      x[n - 1] = x.max()! + 3
      return x
    }
  }
}

/// The oracle of one finite row, in the wide type: max m, excess = sum_j exp(x_j - m) - 1 by a
/// compensated (TwoSum) sum, lse = m + log1p(excess), and p_j = exp(x_j - m) / (1 + excess).
struct LongRowOracle<T: ReferenceScalar> {
  typealias W = T.Wide
  let max: T
  let lse: W
  let log1pExcess: W
  let p: [W]

  init(_ x: [T]) {
    let m = x.max()!
    let mw = W(m)
    let e = x.map { W.libmExp(W($0) - mw) }
    var s = W(-1), c = W(0)
    for v in e {
      let t = s + v
      let z = t - s
      c += (s - (t - z)) + (v - z)
      s = t
    }
    let excess = s + c
    max = m
    log1pExcess = W.libmLog1p(excess)
    lse = mw + log1pExcess
    let sum = 1 + excess
    p = e.map { $0 / sum }
  }
}

/// Runs every forward operation on one long row in both modes and checks each element against
/// `LongRowOracle` with SPEC's bounds; prints the worst error / bound per operation.
struct LongRowCheck<T: ReferenceScalar> {
  let x: [T]
  let oracle: LongRowOracle<T>
  /// The label of the class-label checks: an entry far from the max (its gradient is p_t - 1).
  let label: Int

  init(_ x: [T]) {
    self.x = x
    oracle = LongRowOracle(x)
    label = x.count / 3
  }

  /// Worst error / bound of each check, by name.
  struct Worst: CustomStringConvertible {
    var ratios: [(String, Double)] = []
    var failures: [String] = []
    mutating func record(_ name: String, _ e: ElementError, at j: Int) {
      if let k = ratios.firstIndex(where: { $0.0 == name }) {
        ratios[k].1 = Swift.max(ratios[k].1, e.ratio)
      } else {
        ratios.append((name, e.ratio))
      }
      if !e.passes && failures.count < 6 { failures.append("\(name) at \(j): \(e.error) > \(e.bound)") }
    }
    var description: String { ratios.map { "\($0.0) \(String(format3: $0.1))" }.joined(separator: ", ") }
  }

  func run(_ what: String, shards: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
    for mode in KernelOptions.Mode.allCases {
      var worst = Worst()
      try check(mode: mode, shards: shards ?? Swift.min(1024, x.count / 256), into: &worst)
      print("long row \(T.self) \(mode) cols=\(x.count) \(what): worst error/bound \(worst)")
      #expect(worst.failures.isEmpty, "\(T.self) \(mode) cols=\(x.count) \(what): \(worst.failures)", sourceLocation: sourceLocation)
    }
  }

  func softmaxError(_ y: T, _ j: Int) -> ElementError {
    Accuracy.softmax(y, oracle: oracle.p[j], x: x[j], max: oracle.max)
  }

  /// p_j - [j = t] (the fused gradient with one class label, or a one-hot target, scale 1): the
  /// softmax bound on p_j for j != t; at t, that bound on p_t plus one rounding of the difference
  /// (2 ulpOfOne of 1, in ulpOfOne units of p_t).
  func gradientError(_ g: T, _ j: Int) -> ElementError {
    if j != label { return softmaxError(g, j) }
    let o = oracle.p[j] - 1
    let eps = T.Wide(T.ulpOfOne)
    let bound = (abs(T.Wide(x[j]) - T.Wide(oracle.max)) + 4) * oracle.p[j] * eps + 2 * eps
    return ElementError(error: Double(abs(T.Wide(g) - o) / eps), bound: Double(bound / eps))
  }

  func check(mode: KernelOptions.Mode, shards: Int, into worst: inout Worst) throws {
    let n = x.count
    let options = KernelOptions(mode: mode)
    let sm = try softmax(x, cols: n, options: options)
    for j in 0..<n { worst.record("softmax", softmaxError(sm[j], j), at: j) }
    let lsm = try logSoftmax(x, cols: n, options: options)
    for j in 0..<n {
      let o = (T.Wide(x[j]) - T.Wide(oracle.max)) - oracle.log1pExcess
      worst.record("log-softmax", Accuracy.logScale(lsm[j], oracle: o, x: x[j], lse: oracle.lse), at: j)
    }
    let lse = try logSumExp(x, cols: n, options: options)[0]
    worst.record("logsumexp", Accuracy.logScale(lse, oracle: oracle.lse, x: oracle.max, lse: oracle.lse), at: 0)

    // Cross-entropy: the label loss, the fused label gradient (in place), and the one-hot
    // probability target's loss and gradient (the general pass, which goes through the chunked
    // logsumexp partial).
    let ce = CrossEntropyOptions<T>(kernel: KernelOptions(mode: mode))
    let lossOracle = oracle.lse - T.Wide(x[label])
    var g = x
    let loss = try crossEntropyWithGradient(inPlace: &g, cols: n, labels: [label], options: ce)
    worst.record("CE loss", Accuracy.logScale(loss, oracle: lossOracle, x: x[label], lse: oracle.lse), at: label)
    for j in 0..<n { worst.record("CE gradient", gradientError(g[j], j), at: j) }
    var oneHot = [T](repeating: 0, count: n)
    oneHot[label] = 1
    var gt = x
    let targetLoss = try crossEntropyWithGradient(inPlace: &gt, cols: n, targets: oneHot, options: ce)
    worst.record("CE target loss", Accuracy.logScale(targetLoss, oracle: lossOracle, x: x[label], lse: oracle.lse), at: label)
    for j in 0..<n { worst.record("CE target gradient", gradientError(gt[j], j), at: j) }

    try checkShards(shards, mode: mode, into: &worst)
  }

  /// The row split into `k` shards of equal width: their `LogSumExpState`s merged left to right,
  /// right to left, in a shuffled order and as a balanced tree each give the row's logsumexp, and
  /// the sharded gradient (`crossEntropyShard`) from the left-to-right and the shuffled merges
  /// is the fused gradient's.
  func checkShards(_ k: Int, mode: KernelOptions.Mode, into worst: inout Worst) throws {
    let n = x.count
    precondition(n % k == 0)
    let w = n / k
    let states = try (0..<k).map { s in
      try logSumExpStates(Array(x[(s * w)..<((s + 1) * w)]), cols: w, options: KernelOptions(mode: mode))[0]
    }
    var leftToRight = LogSumExpState<T>.empty
    for s in states { leftToRight = leftToRight.merged(with: s) }
    var rightToLeft = LogSumExpState<T>.empty
    for s in states.reversed() { rightToLeft = s.merged(with: rightToLeft) }
    var g = LongRow.Generator(state: UInt64(n))
    var order = Array(0..<k)
    for i in stride(from: k - 1, to: 0, by: -1) { order.swapAt(i, Int(g.next() % UInt64(i + 1))) }
    var shuffled = LogSumExpState<T>.empty
    for i in order { shuffled = shuffled.merged(with: states[i]) }
    func tree(_ r: Range<Int>) -> LogSumExpState<T> {
      r.count == 1 ? states[r.lowerBound] : tree(r.lowerBound..<(r.lowerBound + r.count / 2)).merged(with: tree((r.lowerBound + r.count / 2)..<r.upperBound))
    }
    for (name, state) in [("left to right", leftToRight), ("right to left", rightToLeft), ("shuffled", shuffled), ("tree", tree(0..<k))] {
      worst.record("\(k) shards \(name): logsumexp", Accuracy.logScale(state.logSumExp, oracle: oracle.lse, x: oracle.max, lse: oracle.lse), at: 0)
    }
    let ce = CrossEntropyOptions<T>(reduction: .sum, kernel: KernelOptions(mode: mode))
    for (name, state) in [("left to right", leftToRight), ("shuffled", shuffled)] {
      var grad = [T](repeating: .nan, count: n)
      try x.withUnsafeBufferPointer { xb in
        try grad.withUnsafeMutableBufferPointer { gb in
          try [Int32(label)].withUnsafeBufferPointer { lb in
            try [state].withUnsafeBufferPointer { sb in
              for s in 0..<k {
                _ = try crossEntropyShardWithGradient(
                  UnsafeBufferPointer(rebasing: xb[(s * w)..<((s + 1) * w)]), rows: 1, cols: w,
                  columnOffset: s * w, totalCols: n, labels: lb, states: sb,
                  gradient: UnsafeMutableBufferPointer(rebasing: gb[(s * w)..<((s + 1) * w)]), options: ce)
              }
            }
          }
        }
      }
      for j in 0..<n { worst.record("\(k) shards \(name): gradient", gradientError(grad[j], j), at: j) }
    }
  }
}

extension String {
  /// `v` with three decimals.
  init(format3 v: Double) {
    let r = (v * 1000).rounded() / 1000
    self = "\(r)"
  }
}
