import PropertyBased
import SoftmaxKernels
import SoftmaxReference
import Testing

/// Gradients in two steps, each with a tolerance that can fail: the kernels' fused gradient (both
/// modes, every option and reduction, labels and targets) against the oracle's analytic gradient
/// at SPEC accuracy (`gradientBudget`, as the property tests), and the oracle's analytic gradient
/// against central differences of each row's loss computed in the wider precision (Double for
/// Float, Float80 for Double), within the error bound of the difference itself
/// (`centralDifference`). Binary cross-entropy likewise.
@Suite("Cross-entropy gradients vs finite differences")
struct CrossEntropyGradientTests {
  static let cases = 300

  static func check<T: ReferenceScalar>(_ c: CECase<T>, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let m = c.logits, (rows, cols) = (m.rows, m.cols)
    let s = c.settings.converted(to: T.Wide.self)
    var kernel = m.values
    switch c.target {
    case .labels(let l): _ = try crossEntropyWithGradient(inPlace: &kernel, cols: cols, labels: l, gradientScale: c.gradientScale, options: c.options)
    case .probabilities(let p): _ = try crossEntropyWithGradient(inPlace: &kernel, cols: cols, targets: p, gradientScale: c.gradientScale, options: c.options)
    }
    let ora: LossResult<T.Wide>
    switch c.target {
    case .labels(let l): ora = Oracle.crossEntropy(logits: m.values, rows: rows, cols: cols, labels: l, settings: c.settings, gradientScale: c.gradientScale)
    case .probabilities(let p): ora = Oracle.crossEntropy(logits: m.values, rows: rows, cols: cols, targets: p, settings: c.settings, gradientScale: c.gradientScale)
    }
    let oraSM = Oracle.softmax(m.values, rows: rows, cols: cols), oraLSE = Oracle.logSumExp(m.values, rows: rows, cols: cols)
    let scale = T.Wide(c.gradientScale), eps = T.Wide.ulpOfOne, z = s.zLoss
    let denom: T.Wide
    switch (c.options.reduction, c.target) {
    case (.mean, .labels(let l)): denom = l.filter { $0 != s.ignoreIndex }.map { s.classWeights?[$0] ?? 1 }.reduce(0, +)
    case (.mean, .probabilities): denom = T.Wide(rows)
    default: denom = 1
    }
    let gscale = denom == 0 ? 0 : scale / denom
    // Up to 3 failures of each kind: the kernel against the oracle, the oracle against differences.
    var failures: [String] = [], fdFailures: [String] = []
    func note(_ x: String) { if failures.count < 3 { failures.append(x) } }
    func noteFD(_ x: String) { if fdFailures.count < 3 { fdFailures.append(x) } }
    for r in 0..<rows {
      let coef = lossCoefficients(c, row: r)
      let L = oraLSE[r]
      let C = coef.reduce(0, +)
      let A = C + (z != 0 ? 2 * z * L : 0)
      let row = m.row(r), rowMax = row.reduce(-T.infinity) { $1 > $0 ? $1 : $0 }
      // The kernel against the oracle's analytic gradient, at SPEC accuracy.
      for j in 0..<cols {
        let k = r * cols + j
        let budget = gradientBudget(
          x: row[row.startIndex + j], max: rowMax, p: oraSM[k], a: A, target: coef[j], zLoss: z, lse: L, scale: gscale)
        let q = errorRatio(kernel[k], ora.gradient[k], budget: budget)
        if !(q <= 1) { note("kernel gradient \(r),\(j): \(kernel[k]) vs oracle \(ora.gradient[k]) (\(q)x budget \(budget))") }
      }
      // The oracle's analytic gradient against central differences of the row's loss.
      guard ora.losses[r].isFinite, L.isFinite, gscale != 0 else { continue }
      let xr = row.map { T.Wide($0) }
      func f(_ v: [T.Wide]) -> T.Wide {
        switch c.target {
        case .labels(let l): return Reference.crossEntropy(logits: v, rows: 1, cols: cols, labels: [l[r]], settings: s).losses[0]
        case .probabilities(let p):
          return Reference.crossEntropy(logits: v, rows: 1, cols: cols, targets: p[(r * cols)..<((r + 1) * cols)].map { T.Wide($0) }, settings: s).losses[0]
        }
      }
      // Row loss C L - sum_j c_j x_j + z L^2: derivative bounds from those of L (|L''| <= 1/4,
      // |L'''| <= 0.0963) and (L^2)'' = 2 (L'^2 + L L''), (L^2)''' = 2 (3 L' L'' + L L''').
      let absL = abs(L) + 1
      let m2 = abs(C) / 4 + 2 * z * (1 + absL / 4)
      let m3 = abs(C) * T.Wide(lseThirdDerivativeBound) + 2 * z * (T.Wide(3) / 4 + absL * T.Wide(lseThirdDerivativeBound))
      // Rounding of the loss: a few ulps of every term's magnitude (L itself errs by ulps of |m| + n).
      let mw = abs(T.Wide(rowMax)), nw = T.Wide(cols)
      var e = abs(ora.losses[r]) + abs(C) * (mw + nw) + z * (L * L + absL * (mw + nw))
      for j in 0..<cols where coef[j] != 0 { e += abs(coef[j]) * (abs(L) + abs(xr[j])) }
      e *= 8 * eps
      for j in 0..<cols where xr[j].isFinite {
        let k = r * cols + j
        let (fd, tol) = centralDifference(f, at: xr, j, roundingError: e, secondDerivative: m2, thirdDerivative: m3)
        if !(abs(ora.gradient[k] - gscale * fd) <= abs(gscale) * tol) {
          noteFD("oracle gradient \(r),\(j): \(ora.gradient[k]) vs finite difference \(gscale * fd) (tolerance \(abs(gscale) * tol))")
        }
      }
    }
    failures += fdFailures
    #expect(failures.isEmpty, "\(T.self) \(c): \(failures.joined(separator: "; "))", sourceLocation: sourceLocation)
  }

  @Test func labelsFloat() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Float.self, cols: 1...24, adversarial: false, labels: true)) { c in try Self.check(c) }
  }

  @Test func labelsDouble() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Double.self, cols: 1...24, adversarial: false, labels: true)) { c in try Self.check(c) }
  }

  @Test func targetsFloat() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Float.self, cols: 1...24, adversarial: false, labels: false)) { c in try Self.check(c) }
  }

  @Test func targetsDouble() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Double.self, cols: 1...24, adversarial: false, labels: false)) { c in try Self.check(c) }
  }

  /// Binary cross-entropy: the oracle's analytic gradient against central differences of each
  /// element's loss in the wide type (the kernel against the oracle is BinaryCrossEntropyTests').
  static func checkBCE<T: ReferenceScalar>(_ c: BinaryCrossEntropyTests.Case<T>, sourceLocation: SourceLocation = #_sourceLocation) {
    let (rows, cols) = (c.logits.rows, c.logits.cols)
    let ora = Oracle.binaryCrossEntropyWithLogits(
      logits: c.logits.values, targets: c.targets, rows: rows, cols: cols, posWeight: c.posWeight, reduction: c.reduction, gradientScale: c.scale)
    let count = T.Wide(rows * cols)
    let gscale = T.Wide(c.scale) / (c.reduction == .mean && count > 0 ? count : 1)
    let eps = T.Wide.ulpOfOne
    var failures: [String] = []
    for k in 0..<(rows * cols) where c.logits.values[k].isFinite && ora.losses[k].isFinite {
      let x = T.Wide(c.logits.values[k]), t = T.Wide(c.targets[k]), pw = T.Wide(c.posWeight?[k % cols] ?? 1)
      func f(_ v: [T.Wide]) -> T.Wide {
        Reference.binaryCrossEntropyWithLogits(logits: v, targets: [t], rows: 1, cols: 1, posWeight: [pw], reduction: .sum).losses[0]
      }
      // loss = (1 - t) x + (1 - t + pw t) softplus(-x): derivatives of softplus bounded as lse's.
      let a = abs(1 - t + pw * t)
      let e = 8 * eps * (abs(1 - t) * abs(x) + pw * t * abs(x) + a + abs(ora.losses[k]))
      let (fd, tol) = centralDifference(f, at: [x], 0, roundingError: e, secondDerivative: a / 4, thirdDerivative: a * T.Wide(lseThirdDerivativeBound))
      if !(abs(ora.gradient[k] - gscale * fd) <= abs(gscale) * tol) && failures.count < 5 {
        failures.append("oracle gradient \(k) x=\(x) t=\(t) pw=\(pw): \(ora.gradient[k]) vs finite difference \(gscale * fd) (tolerance \(abs(gscale) * tol))")
      }
    }
    #expect(failures.isEmpty, "\(T.self) \(c): \(failures.joined(separator: "; "))", sourceLocation: sourceLocation)
  }

  @Test func binaryCrossEntropyFloat() async {
    await seededPropertyCheck(count: Self.cases, input: BinaryCrossEntropyTests.cases(Float.self, adversarial: false)) { c in Self.checkBCE(c) }
  }

  @Test func binaryCrossEntropyDouble() async {
    await seededPropertyCheck(count: Self.cases, input: BinaryCrossEntropyTests.cases(Double.self, adversarial: false)) { c in Self.checkBCE(c) }
  }
}
