import PropertyBased
import SoftmaxKernels
import SoftmaxReference
import Testing

/// Binary cross-entropy with logits vs the reference and the oracle: random and extreme logits,
/// targets in [0, 1] (0 and 1 often), optional pos_weight, every reduction, 1000 cases each, in
/// both modes (the same bounds); padded strides and in place bit for bit the same, forward only too.
@Suite("Property: binary cross-entropy with logits")
struct BinaryCrossEntropyTests {
  static let cases = 1000

  struct Case<T: ReferenceScalar>: CustomStringConvertible {
    var logits: Matrix<T>
    var targets: [T]
    var posWeight: [T]?
    var reduction: LossReduction
    var scale: T
    var kernel = KernelOptions.accurate
    var description: String {
      "\(logits) targets \(targets.prefix(6)) pw \(posWeight?.prefix(4).description ?? "nil") \(reduction) scale \(scale) "
        + "\(kernel.mode) threads \(kernel.threads)"
    }
    var options: BinaryCrossEntropyOptions<T> { BinaryCrossEntropyOptions(posWeight: posWeight, reduction: reduction, kernel: kernel) }

    /// This case in `mode`.
    func inMode(_ mode: KernelOptions.Mode) -> Self {
      var c = self
      c.kernel.mode = mode
      return c
    }
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
      return Case(logits: m, targets: t, posWeight: pw, reduction: LossReduction.drawn(&d), scale: d.chance(0.5) ? 1 : T(d.double(-2...2)))
    }
  }

  static func check<T: ReferenceScalar>(_ c: Case<T>, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let (rows, cols) = (c.logits.rows, c.logits.cols)
    // The fused call with padded rows (a different stride for each matrix) and in place on the
    // packed logits, which must agree bit for bit, and the forward-only call; each against the oracle.
    let (xs, ts, gs, ls) = (cols + cols % 3, cols + 1, cols + (cols + 2) % 4, cols + cols % 2)
    let sentinel = T(-12345.5)
    func padded(_ v: [T], _ s: Int, fill: T) -> [T] {
      var out = [T](repeating: fill, count: rows * s)
      for r in 0..<rows { for j in 0..<cols { out[r * s + j] = v[r * cols + j] } }
      return out
    }
    let xPad = padded(c.logits.values, xs, fill: sentinel), tPad = padded(c.targets, ts, fill: sentinel)
    var lPad = [T](repeating: sentinel, count: rows * ls), gPad = [T](repeating: sentinel, count: rows * gs)
    let stridedLoss = try xPad.withUnsafeBufferPointer { x in
      try tPad.withUnsafeBufferPointer { t in
        try lPad.withUnsafeMutableBufferPointer { l in
          try gPad.withUnsafeMutableBufferPointer { g in
            try binaryCrossEntropyWithGradient(
              x, rows: rows, cols: cols, stride: xs, targets: t, targetsStride: ts, gradient: g, gradientStride: gs,
              losses: l, lossesStride: ls, gradientScale: c.scale, options: c.options)
          }
        }
      }
    }
    var losses = [T](repeating: 0, count: rows * cols), grad = c.logits.values
    let loss = try c.targets.withUnsafeBufferPointer { t in
      try losses.withUnsafeMutableBufferPointer { l in
        try grad.withUnsafeMutableBufferPointer { g in
          try binaryCrossEntropyWithGradient(
            inPlace: g, rows: rows, cols: cols, targets: t, losses: l, gradientScale: c.scale, options: c.options)
        }
      }
    }
    var forwardLosses = [T](repeating: sentinel, count: rows * cols)
    let forwardLoss = try c.logits.values.withUnsafeBufferPointer { x in
      try c.targets.withUnsafeBufferPointer { t in
        try forwardLosses.withUnsafeMutableBufferPointer { l in
          try binaryCrossEntropy(x, rows: rows, cols: cols, targets: t, losses: l, options: c.options)
        }
      }
    }
    let ref = Reference.binaryCrossEntropyWithLogits(
      logits: c.logits.values, targets: c.targets, rows: rows, cols: cols, posWeight: c.posWeight, reduction: c.reduction, gradientScale: c.scale)
    let ora = Oracle.binaryCrossEntropyWithLogits(
      logits: c.logits.values, targets: c.targets, rows: rows, cols: cols, posWeight: c.posWeight, reduction: c.reduction, gradientScale: c.scale)
    let eps = T.Wide(T.ulpOfOne)
    var failures: [String] = []
    if !identical(stridedLoss, loss) { failures.append("strided loss \(stridedLoss) differs from in place \(loss)") }
    for r in 0..<rows where failures.count < 5 {
      for j in 0..<cols where failures.count < 5 {
        let k = r * cols + j
        if !identical(lPad[r * ls + j], losses[k]) { failures.append("strided loss \(r),\(j) differs: \(lPad[r * ls + j]) vs \(losses[k])") }
        if !identical(gPad[r * gs + j], grad[k]) { failures.append("strided gradient \(r),\(j) differs: \(gPad[r * gs + j]) vs \(grad[k])") }
      }
      if lPad[(r * ls + cols)..<((r + 1) * ls)].contains(where: { $0 != sentinel }) { failures.append("losses stride padding written in row \(r)") }
      if gPad[(r * gs + cols)..<((r + 1) * gs)].contains(where: { $0 != sentinel }) { failures.append("gradient stride padding written in row \(r)") }
    }
    let count = T.Wide(rows * cols)
    let gscale = abs(T.Wide(c.scale)) / (c.reduction == .mean && count > 0 ? count : 1)
    var total: T.Wide = 0
    for k in 0..<(rows * cols) {
      let x = T.Wide(c.logits.values[k]), t = T.Wide(c.targets[k]), pw = T.Wide(c.posWeight?[k % cols] ?? 1)
      let o = ora.losses[k]
      let lb = 8 * ulpOf(o, T.self)
      if o.isFinite { total += lb }
      for (name, v) in [("kernel", losses[k]), ("forward", forwardLosses[k]), ("reference", ref.losses[k])] {
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
      if x.isFinite && !(losses[k] >= 0 && forwardLosses[k] >= 0) && failures.count < 5 {
        failures.append("loss \(k) not >= 0 for finite x: \(losses[k]), forward \(forwardLosses[k])")
      }
    }
    let rb = (c.reduction == .mean && count > 0 ? total / count : total) + 4 * ulpOf(ora.loss, T.self)
    // Documented limit: an element whose own loss exceeds T's range (pos_weight > 1 times a logit
    // near -greatestFiniteMagnitude) makes the reduction +inf, even when the mean would be back in
    // range. A sum of in-range losses past the range still gives the finite mean.
    let elementOverflow = ora.losses.contains { $0.isFinite && T($0) == .infinity }
    let o = elementOverflow && !ora.loss.isNaN ? T.Wide.infinity : ora.loss
    for (name, v) in [("fused", loss), ("forward", forwardLoss)] where !(errorRatio(v, o, budget: rb) <= 1) {
      failures.append("\(name) reduced loss \(v) vs \(o)")
    }
    #expect(failures.isEmpty, "\(T.self) \(c): \(failures.joined(separator: "; "))", sourceLocation: sourceLocation)
  }

  /// Each case in both modes.
  static func checkBothModes<T: ReferenceScalar>(_ c: Case<T>, sourceLocation: SourceLocation = #_sourceLocation) {
    for mode in KernelOptions.Mode.allCases { recordingErrors(sourceLocation: sourceLocation) { try check(c.inMode(mode), sourceLocation: sourceLocation) } }
  }

  @Test func randomFloat() async { await seededPropertyCheck(count: Self.cases, input: Self.cases(Float.self, adversarial: false)) { c in Self.checkBothModes(c) } }
  @Test func randomDouble() async { await seededPropertyCheck(count: Self.cases, input: Self.cases(Double.self, adversarial: false)) { c in Self.checkBothModes(c) } }
  @Test func adversarialFloat() async { await seededPropertyCheck(count: Self.cases, input: Self.cases(Float.self, adversarial: true)) { c in Self.checkBothModes(c) } }
  @Test func adversarialDouble() async { await seededPropertyCheck(count: Self.cases, input: Self.cases(Double.self, adversarial: true)) { c in Self.checkBothModes(c) } }

  /// PyTorch's form, loss = (1 - t) x + (1 + (pw - 1) t) (log1p(exp(-|x|)) + max(-x, 0)), evaluated
  /// in Double's oracle type on moderate inputs, equals the kernel's.
  @Test(arguments: KernelOptions.Mode.allCases)
  func matchesPyTorchFormula(mode: KernelOptions.Mode) throws {
    var d = SplitMix(seed: 3)
    for _ in 0..<200 {
      let x = d.next(-30...30), t = d.next(0...1), pw = d.next(0...4)
      let got = try binaryCrossEntropy([x], cols: 1, targets: [t], options: .init(posWeight: [pw], kernel: KernelOptions(mode: mode)))
      typealias W = Double.Wide
      let X = W(x), T = W(t), P = W(pw)
      let want = (1 - T) * X + (1 + (P - 1) * T) * (W.libmLog1p(W.libmExp(-abs(X))) + max(-X, 0))
      #expect(abs(W(got) - want) <= 8 * W(max(abs(x), 1).ulp), "\(mode) x \(x) t \(t) pw \(pw): \(got) vs \(want)")
    }
  }

  @Test(arguments: KernelOptions.Mode.allCases)
  func stableForExtremeFiniteLogits(mode: KernelOptions.Mode) throws {
    // (pw = 0.5: with pw > 1 the exact loss at x = -greatestFiniteMagnitude, t = 1 overflows.)
    for x in [Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude, 1e30, -1e30, 100, -100] {
      for t: Float in [0, 0.5, 1] {
        var g = [x]
        let l = try binaryCrossEntropyWithGradient(
          inPlace: &g, cols: 1, targets: [t], options: .init(posWeight: [0.5], kernel: KernelOptions(mode: mode)))
        #expect(l.isFinite && l >= 0 && g.allSatisfy(\.isFinite), "\(mode) x \(x) t \(t): loss \(l) gradient \(g)")
      }
    }
  }
}
