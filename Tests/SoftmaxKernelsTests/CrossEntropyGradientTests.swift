import PropertyBased
import SoftmaxKernels
import SoftmaxReference
import Testing

/// Gradients against central finite differences of the oracle loss computed in the wider precision
/// (Double for Float, Float80 for Double): the oracle's analytic gradient and the kernels' fused
/// gradient, for every option (random combinations) and reduction, labels and targets.
@Suite("Cross-entropy gradients vs finite differences")
struct CrossEntropyGradientTests {
  static let cases = 300

  static func check<T: ReferenceScalar>(_ c: CECase<T>, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let m = c.logits, (rows, cols) = (m.rows, m.cols)
    let s = c.settings.converted(to: T.Wide.self)
    let xw = m.values.map { T.Wide($0) }
    func f(_ v: [T.Wide]) -> T.Wide {
      switch c.target {
      case .labels(let l): return Reference.crossEntropy(logits: v, rows: rows, cols: cols, labels: l, settings: s).loss
      case .probabilities(let p): return Reference.crossEntropy(logits: v, rows: rows, cols: cols, targets: p.map { T.Wide($0) }, settings: s).loss
      }
    }
    let f0 = f(xw)
    guard f0.isFinite else { return }  // infinite losses have no finite differences
    var kernel = m.values
    switch c.target {
    case .labels(let l): _ = try crossEntropyWithGradient(logits: &kernel, labels: l, cols: cols, options: c.options, gradientScale: c.gradientScale)
    case .probabilities(let p): _ = try crossEntropyWithGradient(logits: &kernel, targets: p, cols: cols, options: c.options, gradientScale: c.gradientScale)
    }
    let ora: LossResult<T.Wide>
    switch c.target {
    case .labels(let l): ora = Oracle.crossEntropy(logits: m.values, rows: rows, cols: cols, labels: l, settings: c.settings, gradientScale: c.gradientScale)
    case .probabilities(let p): ora = Oracle.crossEntropy(logits: m.values, rows: rows, cols: cols, targets: p, settings: c.settings, gradientScale: c.gradientScale)
    }
    let wideEps = T.Wide.ulpOfOne
    let hScale = T.Wide.libmExp(T.Wide.libmLog(wideEps) / 3)  // cube root of eps
    let scale = T.Wide(c.gradientScale)
    // Central differences err by h^2 f''' / 6 (truncation) + eps |f| / h (rounding), with the step
    // h = hScale * max(1, |x_k|) of each element: the tolerance grows with that step squared.
    // (A fixed hScale^2 failed on CI-like random cases with |x_k| > 1: 1.0e-6 against 9.1e-7.)
    func tolerance(_ h: T.Wide) -> T.Wide { 1e3 * h * h * Swift.max(1, abs(f0)) * Swift.max(1, abs(scale)) }
    let oraSM = Oracle.softmax(m.values, rows: rows, cols: cols), oraLSE = Oracle.logSumExp(m.values, rows: rows, cols: cols)
    var failures: [String] = []
    for r in 0..<rows {
      let coef = lossCoefficients(c, row: r)
      let z = s.zLoss
      let A = coef.reduce(0, +) + (z != 0 ? 2 * z * oraLSE[r] : 0)
      let row = m.row(r), rowMax = row.reduce(-T.infinity) { $1 > $0 ? $1 : $0 }
      let denom: T.Wide
      switch (c.options.reduction, c.target) {
      case (.mean, .labels(let l)): denom = l.filter { $0 != s.ignoreIndex }.map { s.classWeights?[$0] ?? 1 }.reduce(0, +)
      case (.mean, .probabilities): denom = T.Wide(rows)
      default: denom = 1
      }
      for j in 0..<cols {
        let k = r * cols + j
        guard xw[k].isFinite else { continue }
        let h = hScale * Swift.max(1, abs(xw[k]))
        var p = xw, q = xw
        p[k] += h
        q[k] -= h
        let fd = scale * (f(p) - f(q)) / (2 * h)
        let tol = tolerance(h)
        if !(abs(ora.gradient[k] - fd) <= tol) && failures.count < 5 {
          failures.append("oracle gradient \(r),\(j): \(ora.gradient[k]) vs finite difference \(fd) (tol \(tol))")
        }
        let budget = gradientBudget(
          x: row[row.startIndex + j], max: rowMax, p: oraSM[k], a: A, target: coef[j], zLoss: z, lse: oraLSE[r],
          scale: denom == 0 ? 0 : scale / denom)
        if !(abs(T.Wide(kernel[k]) - fd) <= tol + budget) && failures.count < 5 {
          failures.append("kernel gradient \(r),\(j): \(kernel[k]) vs finite difference \(fd) (tol \(tol) + \(budget))")
        }
      }
    }
    #expect(failures.isEmpty, "\(T.self) \(c): \(failures.joined(separator: "; "))", sourceLocation: sourceLocation)
  }

  @Test func labelsFloat() async {
    await propertyCheck(count: Self.cases, input: CECases.make(Float.self, cols: 1...24, adversarial: false, labels: true)) { c in recordingErrors { try Self.check(c) } }
  }

  @Test func labelsDouble() async {
    await propertyCheck(count: Self.cases, input: CECases.make(Double.self, cols: 1...24, adversarial: false, labels: true)) { c in recordingErrors { try Self.check(c) } }
  }

  @Test func targetsFloat() async {
    await propertyCheck(count: Self.cases, input: CECases.make(Float.self, cols: 1...24, adversarial: false, labels: false)) { c in recordingErrors { try Self.check(c) } }
  }

  @Test func targetsDouble() async {
    await propertyCheck(count: Self.cases, input: CECases.make(Double.self, cols: 1...24, adversarial: false, labels: false)) { c in recordingErrors { try Self.check(c) } }
  }
}
