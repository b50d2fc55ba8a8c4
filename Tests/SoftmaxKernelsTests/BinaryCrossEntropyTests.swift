import PropertyBased
import SoftmaxKernels
import SoftmaxReference
import Testing

/// Binary cross-entropy with logits vs the reference and the oracle: random and extreme logits,
/// targets in [0, 1] (0 and 1 often), optional pos_weight, every reduction, 1000 cases each.
@Suite("Property: binary cross-entropy with logits")
struct BinaryCrossEntropyTests {
  static let cases = 1000

  struct Case<T: ReferenceScalar>: CustomStringConvertible {
    var logits: Matrix<T>
    var targets: [T]
    var posWeight: [T]?
    var reduction: LossReduction
    var scale: T
    var description: String { "\(logits) targets \(targets.prefix(6)) pw \(posWeight?.prefix(4).description ?? "nil") \(reduction) scale \(scale)" }
  }

  static func cases<T: ReferenceScalar>(_: T.Type, adversarial: Bool) -> Generator<Case<T>, Shrink.None<Case<T>>> {
    let base = adversarial ? Rows.adversarial(T.self, cols: 0...300) : Rows.random(T.self, cols: 0...300)
    return Generator { rng in
      let m = base.run(using: &rng)
      var d = Draw(rng: rng)
      defer { rng = d.rng }
      // BCE is for finite logits (NaN must stay NaN); +-inf are kept too, as limits.
      let t = (0..<m.values.count).map { _ in [T(0), 1, T(d.double(0...1))][d.int(0...2)] }
      let pw: [T]? = d.chance(0.4) ? (0..<m.cols).map { _ in T(d.double(0...5)) } : nil
      return Case(logits: m, targets: t, posWeight: pw, reduction: LossReduction.allCases[d.int(0...2)], scale: d.chance(0.5) ? 1 : T(d.double(-2...2)))
    }
  }

  static func check<T: ReferenceScalar>(_ c: Case<T>, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let (rows, cols) = (c.logits.rows, c.logits.cols)
    var losses = [T](repeating: 0, count: rows * cols), grad = losses
    let loss = try c.logits.values.withUnsafeBufferPointer { x in
      try c.targets.withUnsafeBufferPointer { t in
        try losses.withUnsafeMutableBufferPointer { l in
          try grad.withUnsafeMutableBufferPointer { g in
            try binaryCrossEntropyWithLogits(
              logits: x, targets: t, rows: rows, cols: cols, posWeight: c.posWeight, reduction: c.reduction,
              gradientScale: c.scale, losses: l, gradient: g)
          }
        }
      }
    }
    let ref = Reference.binaryCrossEntropyWithLogits(
      logits: c.logits.values, targets: c.targets, rows: rows, cols: cols, posWeight: c.posWeight, reduction: c.reduction, gradientScale: c.scale)
    let ora = Oracle.binaryCrossEntropyWithLogits(
      logits: c.logits.values, targets: c.targets, rows: rows, cols: cols, posWeight: c.posWeight, reduction: c.reduction, gradientScale: c.scale)
    let eps = T.Wide(T.ulpOfOne)
    var failures: [String] = []
    let count = T.Wide(rows * cols)
    let gscale = abs(T.Wide(c.scale)) / (c.reduction == .mean && count > 0 ? count : 1)
    var total: T.Wide = 0
    for k in 0..<(rows * cols) {
      let x = T.Wide(c.logits.values[k]), t = T.Wide(c.targets[k]), pw = T.Wide(c.posWeight?[k % cols] ?? 1)
      let o = ora.losses[k]
      let lb = 8 * ulpOf(o, T.self)
      if o.isFinite { total += lb }
      for (name, v) in [("kernel", losses[k]), ("reference", ref.losses[k])] {
        let ok = (o.isNaN && v.isNaN) || T.Wide(v) == T.Wide(T(o)) || abs(T.Wide(v) - o) <= lb
        if !ok && failures.count < 5 { failures.append("\(name) loss \(k) x=\(x) t=\(t): \(v) vs \(o)") }
      }
      let sig = 1 / (1 + T.Wide.libmExp(-x)), sigNeg = 1 / (1 + T.Wide.libmExp(x))
      let gb = 8 * eps * gscale * ((1 - t) * sig + pw * t * sigNeg) + 4 * T.Wide(T.leastNormalMagnitude)
      for (name, v) in [("kernel", grad[k]), ("reference", ref.gradient[k])] {
        let o = ora.gradient[k]
        let ok = (o.isNaN && v.isNaN) || abs(T.Wide(v) - o) <= gb
        if !ok && failures.count < 5 { failures.append("\(name) gradient \(k) x=\(x) t=\(t): \(v) vs \(o)") }
      }
      if x.isFinite && !(losses[k] >= 0) && failures.count < 5 { failures.append("loss \(k) not >= 0 for finite x: \(losses[k])") }
    }
    let rb = (c.reduction == .mean && count > 0 ? total / count : total) + 4 * ulpOf(ora.loss, T.self)
    // Documented limit: an element whose own loss exceeds T's range (pos_weight > 1 times a logit
    // near -greatestFiniteMagnitude) makes the reduction +inf, even when the mean would be back in
    // range. A sum of in-range losses past the range still gives the finite mean.
    let elementOverflow = ora.losses.contains { $0.isFinite && T($0) == .infinity }
    let o = elementOverflow && !ora.loss.isNaN ? T.Wide.infinity : ora.loss
    let okLoss = errorRatio(loss, o, budget: rb) <= 1
    if !okLoss { failures.append("reduced loss \(loss) vs \(o)") }
    #expect(failures.isEmpty, "\(T.self) \(c): \(failures.joined(separator: "; "))", sourceLocation: sourceLocation)
  }

  @Test func randomFloat() async { await seededPropertyCheck(count: Self.cases, input: Self.cases(Float.self, adversarial: false)) { c in recordingErrors { try Self.check(c) } } }
  @Test func randomDouble() async { await seededPropertyCheck(count: Self.cases, input: Self.cases(Double.self, adversarial: false)) { c in recordingErrors { try Self.check(c) } } }
  @Test func adversarialFloat() async { await seededPropertyCheck(count: Self.cases, input: Self.cases(Float.self, adversarial: true)) { c in recordingErrors { try Self.check(c) } } }
  @Test func adversarialDouble() async { await seededPropertyCheck(count: Self.cases, input: Self.cases(Double.self, adversarial: true)) { c in recordingErrors { try Self.check(c) } } }

  /// PyTorch's form, loss = (1 - t) x + (1 + (pw - 1) t) (log1p(exp(-|x|)) + max(-x, 0)), evaluated
  /// in Double's oracle type on moderate inputs, equals the kernel's.
  @Test func matchesPyTorchFormula() throws {
    var d = SplitMix(seed: 3)
    for _ in 0..<200 {
      let x = d.next(-30...30), t = d.next(0...1), pw = d.next(0...4)
      let got = try binaryCrossEntropyWithLogits(logits: [x], targets: [t], cols: 1, posWeight: [pw])
      typealias W = Double.Wide
      let X = W(x), T = W(t), P = W(pw)
      let want = (1 - T) * X + (1 + (P - 1) * T) * (W.libmLog1p(W.libmExp(-abs(X))) + max(-X, 0))
      #expect(abs(W(got) - want) <= 8 * W(max(abs(x), 1).ulp), "x \(x) t \(t) pw \(pw): \(got) vs \(want)")
    }
  }

  @Test func stableForExtremeFiniteLogits() throws {
    // (pw = 0.5: with pw > 1 the exact loss at x = -greatestFiniteMagnitude, t = 1 overflows.)
    for x in [Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude, 1e30, -1e30, 100, -100] {
      for t: Float in [0, 0.5, 1] {
        let (l, g) = try binaryCrossEntropyWithLogitsAndGradient(logits: [x], targets: [t], cols: 1, posWeight: [0.5])
        #expect(l.isFinite && l >= 0 && g.allSatisfy(\.isFinite), "x \(x) t \(t): loss \(l) gradient \(g)")
      }
    }
  }
}
