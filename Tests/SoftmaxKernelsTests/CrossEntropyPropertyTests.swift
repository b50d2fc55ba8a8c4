import PropertyBased
import SoftmaxKernels
import SoftmaxReference
import Testing

/// Cross-entropy kernels (forward, fused, fused in place) vs the scalar reference vs the oracle,
/// on random and adversarial logits with 0...300 columns and random options, 1000 cases each.
@Suite("Property: cross-entropy vs reference vs oracle")
struct CrossEntropyPropertyTests {
  static let cases = 1000

  @Test func labelsRandomFloat() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Float.self, cols: 0...300, adversarial: false, labels: true)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }

  @Test func labelsRandomDouble() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Double.self, cols: 0...300, adversarial: false, labels: true)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }

  @Test func labelsAdversarialFloat() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Float.self, cols: 0...300, adversarial: true, labels: true)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }

  @Test func labelsAdversarialDouble() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Double.self, cols: 0...300, adversarial: true, labels: true)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }

  @Test func targetsRandomFloat() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Float.self, cols: 0...300, adversarial: false, labels: false)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }

  @Test func targetsRandomDouble() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Double.self, cols: 0...300, adversarial: false, labels: false)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }

  @Test func targetsAdversarialFloat() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Float.self, cols: 0...300, adversarial: true, labels: false)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }

  @Test func targetsAdversarialDouble() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Double.self, cols: 0...300, adversarial: true, labels: false)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }

  /// Short rows through the row blocks (`labelRowBlock`: rows of fewer than 8 vectors, `width` at
  /// a time; the columns reach past that limit for every width: 128 Float / 64 Double columns on
  /// AVX-512): whole blocks, a last partial block, and blocks whose rows are ignored, hold a NaN,
  /// a +inf or only -inf (adversarial rows are drawn row by row, ignored labels 15% of rows).
  /// Each case also checks that every row's loss and gradient equal those of the row alone.
  /// Cases per mode of the row-block tests: 300 in a native release run; 100 where everything
  /// runs many times slower (debug builds, qemu, the sanitizers: `LongRowLengths.reduced`), where
  /// the native runs of the same seeds have already covered the 300.
  static var blockCases: Int { LongRowLengths.reduced ? 100 : 300 }

  @Test func labelRowBlocksFloat() async {
    for adversarial in [false, true] {
      await seededPropertyCheck(count: Self.blockCases, input: CECases.make(Float.self, rows: 4...40, cols: 1...140, adversarial: adversarial, labels: true)) { c in
        recordingErrors {
          try checkCrossEntropy(c)
          try checkCrossEntropyRowsIndependent(c)
        }
      }
    }
  }

  @Test func labelRowBlocksDouble() async {
    for adversarial in [false, true] {
      await seededPropertyCheck(count: Self.blockCases, input: CECases.make(Double.self, rows: 2...20, cols: 1...72, adversarial: adversarial, labels: true)) { c in
        recordingErrors {
          try checkCrossEntropy(c)
          try checkCrossEntropyRowsIndependent(c)
        }
      }
    }
  }

  /// Short rows of probability targets through the row blocks (`targetRowBlock`), as
  /// `labelRowBlocksFloat`: whole and partial blocks, rows with a NaN, a +inf or only -inf, masked
  /// classes with and without target mass, label smoothing, weights and z-loss drawn per case.
  @Test func targetRowBlocksFloat() async {
    for adversarial in [false, true] {
      await seededPropertyCheck(count: Self.blockCases, input: CECases.make(Float.self, rows: 4...40, cols: 1...140, adversarial: adversarial, labels: false)) { c in
        recordingErrors {
          try checkCrossEntropy(c)
          try checkCrossEntropyRowsIndependent(c)
        }
      }
    }
  }

  @Test func targetRowBlocksDouble() async {
    for adversarial in [false, true] {
      await seededPropertyCheck(count: Self.blockCases, input: CECases.make(Double.self, rows: 2...20, cols: 1...72, adversarial: adversarial, labels: false)) { c in
        recordingErrors {
          try checkCrossEntropy(c)
          try checkCrossEntropyRowsIndependent(c)
        }
      }
    }
  }
}

/// Each row's loss and fused gradient (separate and in place) in `c` (labels or targets) are
/// bit-identical to those of the row on its own, with the sum reduction (so the gradient scale does
/// not depend on the other rows), and so is the forward-only loss: a row's result does not depend
/// on its neighbours in a row block.
func checkCrossEntropyRowsIndependent<T: ReferenceScalar>(
  _ c: CECase<T>, sourceLocation: SourceLocation = #_sourceLocation
) throws {
  let m = c.logits, cols = m.cols
  guard cols > 0 else { return }
  var options = c.options
  options.reduction = .sum
  /// The calls on `x` with the targets of `rows` (labels, or probability rows).
  func run(_ x: [T], _ target: CETarget<T>, rows: Int) throws
    -> (losses: [T], forward: [T], gradient: [T], inPlace: [T], inPlaceLosses: [T])
  {
    var losses = [T](repeating: 0, count: rows), gradient = [T](repeating: 0, count: rows * cols)
    var forward = losses, inPlace = x, inPlaceLosses = losses
    try x.withUnsafeBufferPointer { x in
      switch target {
      case .labels(let l):
        try l.map { Int32($0) }.withUnsafeBufferPointer { l in
          _ = try forward.withUnsafeMutableBufferPointer { lo in
            try crossEntropy(x, rows: rows, cols: cols, labels: l, losses: lo, options: options)
          }
          try losses.withUnsafeMutableBufferPointer { lo in
            try gradient.withUnsafeMutableBufferPointer { g in
              _ = try crossEntropyWithGradient(
                x, rows: rows, cols: cols, labels: l, gradient: g, losses: lo, gradientScale: c.gradientScale,
                options: options)
            }
          }
          try inPlaceLosses.withUnsafeMutableBufferPointer { lo in
            try inPlace.withUnsafeMutableBufferPointer { g in
              _ = try crossEntropyWithGradient(
                inPlace: g, rows: rows, cols: cols, labels: l, losses: lo, gradientScale: c.gradientScale,
                options: options)
            }
          }
        }
      case .probabilities(let p):
        try p.withUnsafeBufferPointer { p in
          _ = try forward.withUnsafeMutableBufferPointer { lo in
            try crossEntropy(x, rows: rows, cols: cols, targets: p, losses: lo, options: options)
          }
          try losses.withUnsafeMutableBufferPointer { lo in
            try gradient.withUnsafeMutableBufferPointer { g in
              _ = try crossEntropyWithGradient(
                x, rows: rows, cols: cols, targets: p, gradient: g, losses: lo, gradientScale: c.gradientScale,
                options: options)
            }
          }
          try inPlaceLosses.withUnsafeMutableBufferPointer { lo in
            try inPlace.withUnsafeMutableBufferPointer { g in
              _ = try crossEntropyWithGradient(
                inPlace: g, rows: rows, cols: cols, targets: p, losses: lo, gradientScale: c.gradientScale,
                options: options)
            }
          }
        }
      }
    }
    return (losses, forward, gradient, inPlace, inPlaceLosses)
  }
  let all = try run(m.values, c.target, rows: m.rows)
  var failures: [String] = []
  for r in 0..<m.rows {
    let range = (r * cols)..<((r + 1) * cols)
    let target: CETarget<T>
    switch c.target {
    case .labels(let l): target = .labels([l[r]])
    case .probabilities(let p): target = .probabilities(Array(p[range]))
    }
    let alone = try run(Array(m.row(r)), target, rows: 1)
    if !identical(all.losses[r], alone.losses[0]) { failures.append("loss row \(r): \(all.losses[r]) vs \(alone.losses[0])") }
    if !identical(all.forward[r], alone.forward[0]) { failures.append("forward loss row \(r): \(all.forward[r]) vs \(alone.forward[0])") }
    if !identical(all.inPlaceLosses[r], alone.losses[0]) { failures.append("in-place loss row \(r)") }
    if !all.gradient[range].elementsEqual(alone.gradient, by: identical) { failures.append("gradient row \(r)") }
    if !all.inPlace[range].elementsEqual(alone.gradient, by: identical) { failures.append("in-place gradient row \(r)") }
  }
  #expect(failures.isEmpty, "\(T.self) \(options.kernel.mode) \(m): differs from the row alone: \(failures.prefix(5))", sourceLocation: sourceLocation)
}
