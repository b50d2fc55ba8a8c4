import PropertyBased
import SoftmaxKernels
import SoftmaxReference
import Testing

// Test machinery for the cross-entropy family: random cases (logits, labels or targets, options),
// error budgets derived from SPEC.md's bounds, and one checker that runs every entry point
// (forward, fused into a separate buffer, fused in place) against the reference and the oracle.

/// What a cross-entropy case predicts.
enum CETarget<T: ReferenceScalar> {
  case labels([Int])
  case probabilities([T])
}

/// One cross-entropy test case.
struct CECase<T: ReferenceScalar>: CustomStringConvertible {
  var logits: Matrix<T>
  var target: CETarget<T>
  var options: CrossEntropyOptions<T>
  var gradientScale: T = 1

  var description: String {
    let o = options
    let t: String
    switch target {
    case .labels(let l): t = "labels \(l)"
    case .probabilities(let p): t = "targets \(p.prefix(8))..."
    }
    return "\(logits) \(t) ignore=\(String(describing: o.ignoreIndex)) weights=\(o.classWeights.map { "\($0.prefix(6))..." } ?? "nil") "
      + "eps=\(o.labelSmoothing) z=\(o.zLoss) \(o.reduction) scale=\(gradientScale) \(o.kernel.mode)"
  }

  var settings: CrossEntropySettings<T> { CrossEntropySettings(options) }
}

enum CECases {
  /// Random options: each option is on in about a third of the cases; fast mode in half of them.
  static func options<T: ReferenceScalar>(_: T.Type, cols: Int, _ d: inout Draw) -> CrossEntropyOptions<T> {
    var o = CrossEntropyOptions<T>()
    // (With no columns every label must be the ignore index, so there must be one.)
    o.ignoreIndex = d.chance(0.2) && cols > 0 ? nil : (d.chance(0.2) && cols > 0 ? d.int(0...(cols - 1)) : -100)
    if d.chance(0.35) {
      o.classWeights = (0..<cols).map { _ in d.chance(0.1) ? 0 : T(d.double(0...3)) }
    }
    if d.chance(0.35) { o.labelSmoothing = [0, 1, T(d.double(0...1)), T(d.double(0...0.2))][d.int(0...3)] }
    if d.chance(0.3) { o.zLoss = [1e-4, 1e-2, T(d.double(0...1))][d.int(0...2)] }
    o.reduction = LossReduction.drawn(&d)
    o.kernel.mode = d.chance(0.5) ? .fast : .accurate
    return o
  }

  static func labels(rows: Int, cols: Int, ignore: Int?, _ d: inout Draw) -> [Int] {
    (0..<rows).map { _ in
      if let ignore, cols == 0 || d.chance(0.15) { return ignore }
      return cols == 0 ? 0 : d.int(0...(cols - 1))
    }
  }

  /// Probability rows: random, one-hot, or with zeros (often where the logit is masked).
  static func targets<T: ReferenceScalar>(for m: Matrix<T>, _ d: inout Draw) -> [T] {
    var out = [T]()
    for r in 0..<m.rows {
      let row = m.row(r)
      switch d.int(0...2) {
      case 0:
        let hot = m.cols > 0 ? d.int(0...(m.cols - 1)) : 0
        out += (0..<m.cols).map { $0 == hot ? 1 : 0 }
      case 1:
        let raw = row.map { $0 == -.infinity || d.chance(0.3) ? 0 : d.double(0...1) }
        let s = raw.reduce(0, +)
        out += raw.map { s > 0 ? T($0 / s) : 0 }
      default:
        out += (0..<m.cols).map { _ in T(d.double(0...1)) / T(max(m.cols, 1)) }
      }
    }
    return out
  }

  static func make<T: ReferenceScalar>(
    _: T.Type, rows rowRange: ClosedRange<Int> = 1...3, cols colRange: ClosedRange<Int>, adversarial: Bool,
    labels useLabels: Bool
  ) -> Generator<CECase<T>, Shrink.None<CECase<T>>> {
    let base = adversarial
      ? Rows.adversarial(T.self, rows: rowRange, cols: colRange) : Rows.random(T.self, rows: rowRange, cols: colRange)
    return Generator { rng in
      let m = base.run(using: &rng)
      var d = Draw(rng: rng)
      defer { rng = d.rng }
      let o = options(T.self, cols: m.cols, &d)
      let target: CETarget<T> = useLabels
        ? .labels(labels(rows: m.rows, cols: m.cols, ignore: o.ignoreIndex, &d))
        : .probabilities(targets(for: m, &d))
      let scale: T = d.chance(0.7) ? 1 : T(d.double(-2...2))
      return CECase(logits: m, target: target, options: o, gradientScale: scale)
    }
  }
}

extension LossReduction {
  /// A random reduction, drawn as before `.none` was removed: one of three, with the old `.none`
  /// (which returned the sum and the gradient of the sum, the per-row losses going to the
  /// `losses:` buffer as in every case) now `.sum`. The draw is unchanged, so a seed replays the
  /// same case as before.
  static func drawn(_ d: inout Draw) -> LossReduction { [LossReduction.sum, .sum, .mean][d.int(0...2)] }
}

/// Runs a property body and records a thrown error as an issue. PropertyBased 2.x discards errors
/// thrown by the body (`try?` around it in IssueCounting.swift), so a throwing check would pass
/// silently; every property test here goes through this.
func recordingErrors(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
  do { try body() } catch { Issue.record("unexpected error: \(error)", sourceLocation: sourceLocation) }
}

/// The class-label loss of the single row `row` (default options) against the oracle, within
/// SPEC's log-scale bound (ulps of max(|x_label|, |lse|)).
func expectRowLossWithinBound<T: ReferenceScalar>(
  _ row: [T], label: Int, mode: KernelOptions.Mode, _ what: String,
  sourceLocation: SourceLocation = #_sourceLocation
) throws {
  let cols = row.count
  let loss = try crossEntropy(row, cols: cols, labels: [label], options: .init(kernel: KernelOptions(mode: mode)))
  let o = Oracle.crossEntropy(
    logits: row, rows: 1, cols: cols, labels: [label], settings: CrossEntropySettings(CrossEntropyOptions<T>()))
  let lse = Oracle.logSumExp(row, rows: 1, cols: cols)[0]
  let e = Accuracy.logScale(loss, oracle: o.losses[0], x: row[label], lse: lse)
  #expect(e.passes, "\(T.self) \(mode) \(what): loss \(loss) vs \(o.losses[0]), \(e.error) ulp", sourceLocation: sourceLocation)
}

/// ulp of |v| in `T` (the least nonzero magnitude for 0, greatestFinite's for huge).
func ulpOf<T: ReferenceScalar>(_ v: T.Wide, _: T.Type) -> T.Wide {
  let t = T(abs(v))
  let u = t.isFinite ? t.ulp : T.greatestFiniteMagnitude.ulp
  return T.Wide(Swift.max(u, T.leastNonzeroMagnitude))
}

/// Absolute error budget of one row's loss, from the oracle's values: SPEC's 4 ulp(max(|x_j|, |L|))
/// for every log-probability term, weighted by its coefficient, plus the z-loss term's
/// 2 z |L| * 4 ulp(max(|m|, |L|)) (SPEC's logsumexp bound, m the row max: L = m + log1p(...) can
/// be far smaller than m), plus 4 ulp of the loss itself for the final additions.
func lossBudget<T: ReferenceScalar>(
  row: ArraySlice<T>, coefficients c: [T.Wide], lse: T.Wide, zLoss z: T.Wide, loss: T.Wide
) -> T.Wide {
  var b: T.Wide = 0
  for (k, x) in row.enumerated() where c[k] != 0 && x.isFinite {
    b += c[k] * 4 * ulpOf(Swift.max(abs(T.Wide(x)), abs(lse)), T.self)
  }
  let m = row.reduce(-T.infinity) { $1 > $0 ? $1 : $0 }
  let lseScale = m.isFinite ? Swift.max(abs(T.Wide(m)), abs(lse)) : abs(lse)
  if z != 0 { b += z * 2 * abs(lse) * 4 * ulpOf(lseScale, T.self) }
  return b + 4 * ulpOf(loss, T.self)
}

/// The coefficient of (L - x_j) for every j of a row (labels or targets form).
func lossCoefficients<T: ReferenceScalar>(_ c: CECase<T>, row r: Int) -> [T.Wide] {
  let s = c.settings.converted(to: T.Wide.self)
  let n = c.logits.cols
  let w = s.classWeights ?? [T.Wide](repeating: 1, count: n)
  let eps = s.labelSmoothing
  switch c.target {
  case .labels(let l):
    if l[r] == s.ignoreIndex { return [T.Wide](repeating: 0, count: n) }
    return (0..<n).map { j in eps / T.Wide(n) * w[j] + (j == l[r] ? (1 - eps) * w[j] : 0) }
  case .probabilities(let p):
    return (0..<n).map { j in w[j] * ((1 - eps) * T.Wide(p[r * n + j]) + eps / T.Wide(n)) }
  }
}

/// Gradient budget of element j: the softmax bound (|x_j - m| + 8) eps on p_j * A, 8 eps on the
/// target term, the z-loss term's error through L, and 4 least-normal units for underflow.
func gradientBudget<T: ReferenceScalar>(
  x: T, max m: T, p: T.Wide, a: T.Wide, target: T.Wide, zLoss z: T.Wide, lse: T.Wide, scale: T.Wide
) -> T.Wide {
  let eps = T.Wide(T.ulpOfOne)
  let shift = m.isFinite && x.isFinite ? abs(T.Wide(x) - T.Wide(m)) : 0
  var b = p * abs(a) * (shift + 8) * eps + 8 * eps * abs(target)
  // L's error is SPEC's logsumexp bound, 4 ulp(max(|m|, |L|)), doubled here for the product.
  if z != 0 && lse.isFinite {
    let lseScale = m.isFinite ? Swift.max(abs(T.Wide(m)), abs(lse)) : abs(lse)
    b += 2 * z * p * 8 * ulpOf(lseScale, T.self)
  }
  return abs(scale) * (b + 4 * T.Wide(T.leastNormalMagnitude) * Swift.max(1, abs(a)))
}

/// Runs the cross-entropy kernels on `c` (forward with padded strides, fused into a separate padded
/// buffer, fused in place) and checks losses, reduced loss and gradients against the oracle with
/// the budgets above, the reference against the oracle likewise, in place = separate bit for bit,
/// untouched stride padding, and the sign and NaN rules. Returns the worst error/budget ratios.
@discardableResult
func checkCrossEntropy<T: ReferenceScalar>(
  _ c: CECase<T>, sourceLocation: SourceLocation = #_sourceLocation
) throws -> (loss: Double, gradient: Double) {
  let m = c.logits, (rows, cols) = (m.rows, m.cols)
  let pad = cols % 3
  let sentinel = T(-12345.5)
  var strided = [T](repeating: sentinel, count: rows * (cols + pad))
  for r in 0..<rows { for j in 0..<cols { strided[r * (cols + pad) + j] = m.values[r * cols + j] } }
  var losses = [T](repeating: sentinel, count: rows), fusedLosses = losses, inPlaceLosses = losses
  var grad = [T](repeating: sentinel, count: rows * (cols + pad))
  var inPlace = m.values
  let labels32: [Int32]
  if case .labels(let l) = c.target { labels32 = l.map { Int32($0) } } else { labels32 = [] }
  let loss: T, fusedLoss: T, inPlaceLoss: T
  switch c.target {
  case .labels:
    (loss, fusedLoss, inPlaceLoss) = try strided.withUnsafeBufferPointer { x in
      try labels32.withUnsafeBufferPointer { l in
        let a = try losses.withUnsafeMutableBufferPointer { lo in
          try crossEntropy(x, rows: rows, cols: cols, stride: cols + pad, labels: l, losses: lo, options: c.options)
        }
        let b = try fusedLosses.withUnsafeMutableBufferPointer { lo in
          try grad.withUnsafeMutableBufferPointer { g in
            try crossEntropyWithGradient(
              x, rows: rows, cols: cols, stride: cols + pad, labels: l, gradient: g, gradientStride: cols + pad,
              losses: lo, gradientScale: c.gradientScale, options: c.options)
          }
        }
        let i = try inPlaceLosses.withUnsafeMutableBufferPointer { lo in
          try inPlace.withUnsafeMutableBufferPointer { g in
            try crossEntropyWithGradient(
              inPlace: g, rows: rows, cols: cols, labels: l, losses: lo, gradientScale: c.gradientScale,
              options: c.options)
          }
        }
        return (a, b, i)
      }
    }
  case .probabilities(let p):
    var pStrided = [T](repeating: 0, count: rows * (cols + pad))
    for r in 0..<rows { for j in 0..<cols { pStrided[r * (cols + pad) + j] = p[r * cols + j] } }
    (loss, fusedLoss, inPlaceLoss) = try strided.withUnsafeBufferPointer { x in
      try pStrided.withUnsafeBufferPointer { pt in
        let a = try losses.withUnsafeMutableBufferPointer { lo in
          try crossEntropy(
            x, rows: rows, cols: cols, stride: cols + pad, targets: pt, targetsStride: cols + pad, losses: lo,
            options: c.options)
        }
        let b = try fusedLosses.withUnsafeMutableBufferPointer { lo in
          try grad.withUnsafeMutableBufferPointer { g in
            try crossEntropyWithGradient(
              x, rows: rows, cols: cols, stride: cols + pad, targets: pt, targetsStride: cols + pad, gradient: g,
              gradientStride: cols + pad, losses: lo, gradientScale: c.gradientScale, options: c.options)
          }
        }
        let i = try p.withUnsafeBufferPointer { pp in
          try inPlaceLosses.withUnsafeMutableBufferPointer { lo in
            try inPlace.withUnsafeMutableBufferPointer { g in
              try crossEntropyWithGradient(
                inPlace: g, rows: rows, cols: cols, targets: pp, losses: lo, gradientScale: c.gradientScale,
                options: c.options)
            }
          }
        }
        return (a, b, i)
      }
    }
  }

  let ref: LossResult<T>, ora: LossResult<T.Wide>
  switch c.target {
  case .labels(let l):
    ref = Reference.crossEntropy(logits: m.values, rows: rows, cols: cols, labels: l, settings: c.settings, gradientScale: c.gradientScale)
    ora = Oracle.crossEntropy(logits: m.values, rows: rows, cols: cols, labels: l, settings: c.settings, gradientScale: c.gradientScale)
  case .probabilities(let p):
    ref = Reference.crossEntropy(logits: m.values, rows: rows, cols: cols, targets: p, settings: c.settings, gradientScale: c.gradientScale)
    ora = Oracle.crossEntropy(logits: m.values, rows: rows, cols: cols, targets: p, settings: c.settings, gradientScale: c.gradientScale)
  }
  let oraLSE = Oracle.logSumExp(m.values, rows: rows, cols: cols)
  let oraSM = Oracle.softmax(m.values, rows: rows, cols: cols)
  let s = c.settings.converted(to: T.Wide.self)
  let z = s.zLoss

  var failures: [String] = []
  func note(_ s: String) { if failures.count < 6 { failures.append(s) } }
  var worstLoss = 0.0, worstGrad = 0.0
  var totalBudget: T.Wide = 0
  for r in 0..<rows {
    let row = m.row(r)
    let coef = lossCoefficients(c, row: r)
    let plain = c.options.classWeights == nil && c.options.labelSmoothing == 0 && c.options.zLoss == 0
    var budget = lossBudget(row: row, coefficients: coef, lse: oraLSE[r], zLoss: z, loss: ora.losses[r])
    if plain, case .labels(let l) = c.target, l[r] != s.ignoreIndex {
      // SPEC: CE loss as logsumexp, 4 ulp(max(|x_t|, |lse|)).
      budget = 4 * ulpOf(Swift.max(abs(T.Wide(row[row.startIndex + l[r]])), abs(oraLSE[r])), T.self)
    }
    if budget.isFinite { totalBudget += budget }
    for (name, v) in [("forward", losses[r]), ("fused", fusedLosses[r]), ("reference", ref.losses[r])] {
      let q = errorRatio(v, ora.losses[r], budget: budget)
      if name != "reference" { worstLoss = max(worstLoss, q) }
      if !(q <= 1) { note("\(name) loss row \(r): \(v) vs oracle \(ora.losses[r]) (\(q)x budget \(budget))") }
    }
    if !identical(inPlaceLosses[r], fusedLosses[r]) { note("in-place loss row \(r) differs: \(inPlaceLosses[r]) vs \(fusedLosses[r])") }
    let rowNaN = row.contains { $0.isNaN }
    if !rowNaN && losses[r] < 0 { note("negative loss row \(r): \(losses[r])") }
    if rowNaN && !losses[r].isNaN && coef.contains(where: { $0 != 0 }) { note("NaN row \(r) has loss \(losses[r])") }

    // Gradient: d loss/dx_j = scale * (p_j * A - coef_j), A = sum coef + 2 z L.
    let rowMax = row.reduce(-T.infinity) { $1 > $0 ? $1 : $0 }
    let A = coef.reduce(0, +) + (z != 0 && oraLSE[r].isFinite ? 2 * z * oraLSE[r] : 0)
    let denom: T.Wide
    switch (c.options.reduction, c.target) {
    case (.mean, .labels(let l)):
      denom = l.filter { $0 != s.ignoreIndex }.map { s.classWeights?[$0] ?? 1 }.reduce(0, +)
    case (.mean, .probabilities): denom = T.Wide(rows)
    default: denom = 1
    }
    let gscale = denom == 0 ? 0 : T.Wide(c.gradientScale) / denom
    for j in 0..<cols {
      let k = r * cols + j, ks = r * (cols + pad) + j
      let budget = gradientBudget(
        x: row[row.startIndex + j], max: rowMax, p: oraSM[k], a: A, target: coef[j], zLoss: z, lse: oraLSE[r], scale: gscale)
      for (name, v) in [("fused", grad[ks]), ("reference", ref.gradient[k])] {
        let q = errorRatio(v, ora.gradient[k], budget: budget)
        if name == "fused" { worstGrad = max(worstGrad, q) }
        if !(q <= 1) { note("\(name) gradient \(r),\(j) x=\(row[row.startIndex + j]): \(v) vs oracle \(ora.gradient[k]) (\(q)x budget \(budget))") }
      }
      if !identical(inPlace[k], grad[ks]) { note("in-place gradient \(r),\(j) differs: \(inPlace[k]) vs \(grad[ks])") }
      // SPEC: a masked class with no target weight has gradient exactly 0, and a fully masked
      // row's gradient is exactly 0 everywhere (no underflow slack).
      if !rowNaN && row[row.startIndex + j] == -.infinity && (coef[j] == 0 || rowMax == -.infinity) && grad[ks] != 0 {
        note("gradient of masked class \(r),\(j) not exactly 0: \(grad[ks])")
      }
    }
    for j in cols..<(cols + pad) where grad[r * (cols + pad) + j] != sentinel { note("stride padding written at \(r),\(j)") }
  }
  // Reduced loss.
  let denomAll: T.Wide
  switch (c.options.reduction, c.target) {
  case (.mean, .labels(let l)): denomAll = l.filter { $0 != s.ignoreIndex }.map { s.classWeights?[$0] ?? 1 }.reduce(0, +)
  case (.mean, .probabilities): denomAll = T.Wide(rows)
  default: denomAll = 1
  }
  let reducedBudget = (denomAll == 0 ? 0 : totalBudget / denomAll) + 4 * ulpOf(ora.loss, T.self)
  // A row loss beyond T's range is +inf in T, but the mean is back in range when the exact one is.
  for (name, v) in [("forward", loss), ("fused", fusedLoss), ("reference", ref.loss)] {
    let q = errorRatio(v, ora.loss, budget: reducedBudget)
    if !(q <= 1) { note("\(name) reduced loss \(v) vs oracle \(ora.loss) (\(q)x budget)") }
  }
  if !identical(inPlaceLoss, fusedLoss) { note("in-place reduced loss differs") }
  #expect(failures.isEmpty, "\(T.self) \(c): \(failures.joined(separator: "; "))", sourceLocation: sourceLocation)
  return (worstLoss, worstGrad)
}

/// Error / budget of `y` against the oracle `o`; an infinite oracle must be matched exactly.
/// A finite oracle is compared in the wide type even when it lies past `T`'s largest finite value:
/// the true result can sit right at the overflow threshold, where both `greatestFiniteMagnitude`
/// and `inf` are correct roundings within the budget (found by targetsAdversarialDouble:
/// loss 1.7976931348623157e308 against an oracle 1e292 above it).
func errorRatio<T: ReferenceScalar>(_ y: T, _ o: T.Wide, budget: T.Wide) -> Double {
  if o.isNaN || y.isNaN { return o.isNaN && y.isNaN ? 0 : .infinity }
  if !o.isFinite { return T.Wide(y) == o ? 0 : .infinity }
  if !y.isFinite {
    guard o.sign == y.sign else { return .infinity }
    if !T(o).isFinite { return 0 }  // the exact value overflows T: inf is its rounding
    // Overflow to inf is within the budget when the exact value is within it of the largest finite.
    let e = abs(T.Wide(T.greatestFiniteMagnitude) - abs(o)) + T.Wide(T.greatestFiniteMagnitude.ulp)
    return Double(e / budget)
  }
  let e = abs(T.Wide(y) - o)
  return e == 0 ? 0 : Double(e / budget)
}

