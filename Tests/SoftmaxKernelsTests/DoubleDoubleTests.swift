import SoftmaxKernels
import SoftmaxReference
import Testing

/// `DoubleDouble`, Double's oracle type where Float80 does not exist (arm64, and the portable
/// configuration): its exp, log and log1p against values computed to 70 digits, its arithmetic,
/// exponent range and conversions, and (on x86-64 with Float80) against Float80 and the Float80
/// oracle.
@Suite("Double-double oracle")
struct DoubleDoubleTests {
  typealias DD = DoubleDouble

  /// |computed - exact| / |exact|, with exact given as three Doubles.
  static func relativeError(_ v: DD, _ r: DoubleDoubleFixtures.Row) -> Double {
    let exact = DD(sign: .plus, exponent: r.5, significand: DD(hi: r.2, lo: r.3) + DD(r.4))
    return abs(((v - exact) / exact).hi)
  }

  /// Accurate to 2^-100 (7.9e-31) relative against the 70-digit values: the arguments cover exp
  /// on [-669, 709] and at +-745, +-1000 and +-11000 (results far past Double's range), log from
  /// 2^-1074 to 2^1024 and near 1, log1p from 2^-1000 to 2^1000 and down to -0.9999, with and
  /// without a low word.
  @Test("exp, log and log1p within 2^-100 relative of 70-digit values")
  func againstHighPrecision() {
    func worst(_ rows: [DoubleDoubleFixtures.Row], _ f: (DD) -> DD) -> (Double, Double) {
      var worst = 0.0, at = 0.0
      for r in rows {
        let e = Self.relativeError(f(DD(hi: r.0, lo: r.1)), r)
        if !(e <= worst) { (worst, at) = (e, r.0) }
      }
      return (worst, at)
    }
    let exp = worst(DoubleDoubleFixtures.exp, { DD.exp($0) })
    let log = worst(DoubleDoubleFixtures.log, { DD.log($0) })
    let log1p = worst(DoubleDoubleFixtures.log1p, { DD.log(onePlus: $0) })
    print("DoubleDouble worst relative error against 70 digits: exp \(exp.0) (at \(exp.1)), log \(log.0) (at \(log.1)), log1p \(log1p.0) (at \(log1p.1))")
    let bound = 0x1p-100
    #expect(exp.0 <= bound, "exp: \(exp.0) at \(exp.1)")
    #expect(log.0 <= bound, "log: \(log.0) at \(log.1)")
    #expect(log1p.0 <= bound, "log1p: \(log1p.0) at \(log1p.1)")
  }

  /// exp(log x) = x and log(exp x) = x over wide ranges, to 2^-96 (relative; absolute for
  /// log(exp x) near 0), and exp(a) exp(-a) = 1, for |a| <= 669 (results above 2^-969).
  @Test("exp and log invert each other to 2^-96")
  func identities() {
    var g = SplitMix(seed: 19)
    var worst = (expLog: 0.0, logExp: 0.0, product: 0.0)
    for k in 0..<4000 {
      let x = DD(hi: g.next(-669...669), lo: g.next(-1...1) * 0x1p-60)  // e^x above 2^-969
      let y = DD.log(DD.exp(x))
      worst.logExp = max(worst.logExp, abs((y - x).hi) / max(abs(x.hi), 1))
      let p = DD.exp(x) * DD.exp(-x)
      worst.product = max(worst.product, abs((p - 1).hi))
      let z = DD(hi: Double(sign: .plus, exponent: k % 2000 - 1000, significand: 1 + g.next(0...1)), lo: 0)
      worst.expLog = max(worst.expLog, abs((DD.exp(DD.log(z)) - z).hi) / z.hi)
    }
    print("DoubleDouble identities: |exp(log z) - z| / z \(worst.expLog), |log(exp x) - x| \(worst.logExp), |exp(x) exp(-x) - 1| \(worst.product)")
    // exp(log z) amplifies log's absolute error by |log z| <= 710.
    #expect(worst.expLog <= 0x1p-90)
    #expect(worst.logExp <= 0x1p-96)
    #expect(worst.product <= 0x1p-96)
  }

  @Test("special values")
  func specialValues() {
    #expect(DD.exp(0) == 1 && DD.exp(-.infinity) == 0 && DD.exp(.infinity) == .infinity && DD.exp(.nan).isNaN)
    // The exponent range reaches far past Double's: e^710 and e^-746 are finite and nonzero,
    // and round to Double's infinity and zero.
    #expect(DD.exp(710).isFinite && Double(DD.exp(710)) == .infinity && DD.exp(-746) > 0 && Double(DD.exp(-746)) == 0)
    #expect(abs((DD.log(DD.exp(-2000)) + 2000).hi) <= 0x1p-90 && DD.exp(1e12) == .infinity && DD.exp(-1e12) == 0)
    #expect(DD.log(1) == 0 && DD.log(0) == -.infinity && DD.log(-1).isNaN && DD.log(.infinity) == .infinity)
    #expect(DD.log(onePlus: 0) == 0 && DD.log(onePlus: -1) == -.infinity && DD.log(onePlus: -2).isNaN)
    #expect(DD.expMinusOne(0) == 0 && DD.expMinusOne(-.infinity) == -1)
    let tiny = DD(0x1p-1000)
    #expect(DD.log(onePlus: tiny) == tiny && DD.expMinusOne(tiny) == tiny)
  }

  @Test("arithmetic, conversions and rounding")
  func arithmetic() {
    let third = DD(1) / DD(3)
    #expect(abs((third * 3 - 1).hi) <= 0x1p-104)
    #expect(abs((DD(2).squareRoot() * DD(2).squareRoot() - 2).hi) <= 0x1p-103)
    // Double(x) rounds hi + lo correctly (hi is that rounding); Float by way of Double.
    let x = DD(hi: 1, lo: 0x1p-60)
    #expect(Double(x) == 1 && Float(x) == 1 && x > 1 && x.nextUp > x && x.nextDown < x)
    #expect(DD(Int.max) == DD(hi: 0x1p63, lo: -1) && DD(Int.min) == DD(-0x1p63) && DD(UInt64.max) == DD(hi: 0x1p64, lo: -1))
    #expect(DD(exactly: UInt64.max) != nil && DD(exactly: 7 as Int8) == 7)
    #expect(Int(DD(123_456)) == 123_456 && DD(hi: 2.5, lo: 0x1p-60).rounded() == 3 && DD(hi: 2.5, lo: -0x1p-60).rounded() == 2)
    #expect(DD(hi: 0x1p60, lo: -0.5).rounded(.down) == DD(hi: 0x1p60, lo: -1) && DD(hi: 0x1p60, lo: 0.25).rounded(.up) == DD(hi: 0x1p60, lo: 1))
    #expect(DD(-0.0).sign == .minus && (DD(-0.0) + DD(-0.0)).sign == .minus && DD(0) == DD(-0.0))
    #expect(DD(hi: 1, lo: -0x1p-60).exponent == -1 && DD(hi: 1, lo: 0x1p-60).exponent == 0 && DD(6).exponent == 2)
    #expect(DD.ulpOfOne == DD(0x1p-104) && DD(1).ulp == DD(0x1p-104))
    #expect(DD.greatestFiniteMagnitude > DD(Double.greatestFiniteMagnitude) && Double(DD.greatestFiniteMagnitude) == .infinity)
    // Double(x) rounds correctly below the normal range too (the second word decides a tie).
    let half = DD(Double.leastNonzeroMagnitude) / 2
    #expect(Double(half) == 0 && Double(half + DD(sign: .plus, exponent: -1100, significand: 1)) == .leastNonzeroMagnitude && Double(half * 3) == 2 * .leastNonzeroMagnitude)
    #expect((DD.greatestFiniteMagnitude * 2).isInfinite && (DD(1) / 0) == .infinity && (DD(1) / .infinity) == 0 && (DD(0) / 0).isNaN)
    #expect(Set([DD(0), DD(-0.0), DD(1)]).count == 2)
    #expect("\(DD(hi: 0.5, lo: -0x1p-60))" == "0.5-\(0x1p-60)")
  }

  #if !(os(Windows) || os(Android)) && (arch(x86_64) || arch(i386)) && !SOFTMAXKERNELS_PORTABLE
  /// `d` in Float80 (rounded to 64 bits), over the whole range.
  static func float80(_ d: DD) -> Float80 {
    guard d.isFinite, d != 0 else { return Float80(d.hi) }
    let m = d.significand
    return Float80(sign: d.sign, exponent: d.exponent, significand: Float80(m.hi) + Float80(m.lo))
  }

  /// On x86 both oracles exist: the double-double exp, log and log1p agree with Float80's
  /// `expl`, `logl` and `log1pl` to Float80's own accuracy (a few of its ulps, 2^-63 relative
  /// each) on 100000 arguments each, and Float80 converts to and from DoubleDouble exactly.
  @Test("exp, log and log1p agree with Float80's to 2^-60")
  func againstFloat80() {
    var g = SplitMix(seed: 80)
    func rel(_ d: DD, _ f: Float80) -> Double { Double(abs(Self.float80(d) - f) / abs(f)) }
    var worst = (exp: 0.0, log: 0.0, log1p: 0.0)
    for _ in 0..<100_000 {
      // Float80's whole range, far past Double's.
      let x = g.next(-11_000...11_000)
      worst.exp = max(worst.exp, rel(DD.exp(DD(x)), Float80.libmExp(Float80(x))))
      let z = Float80(sign: .plus, exponent: Int(g.next(-16_000...16_000)), significand: 1 + Float80(g.next(0...1)))
      if z != 1 { worst.log = max(worst.log, rel(DD.log(DD(z)), Float80.libmLog(z))) }
      let t = g.next(0...1) < 0.5 ? g.next(-0.9...2) : g.next(-1...1) * Double(sign: .plus, exponent: Int(g.next(-300...0)), significand: 1)
      if t != 0 { worst.log1p = max(worst.log1p, rel(DD.log(onePlus: DD(t)), Float80.libmLog1p(Float80(t)))) }
    }
    print("DoubleDouble vs Float80, worst relative difference: exp \(worst.exp), log \(worst.log), log1p \(worst.log1p)")
    #expect(worst.exp <= 0x1p-60 && worst.log <= 0x1p-60 && worst.log1p <= 0x1p-60)
    for _ in 0..<1000 {
      let f = Float80(g.next(-1e6...1e6)) * Float80(g.next(0...1)) / 3
      #expect(Self.float80(DD(f)) == f && DD(exactly: f) != nil)
    }
  }

  /// Both Double oracles on the same rows: softmax, log-softmax, logsumexp and cross-entropy
  /// (labels and probability targets, with weights, smoothing and z-loss) computed in Float80
  /// and in DoubleDouble. Their differences, in units of the kernels' error bounds (SPEC,
  /// "Accuracy"), must be far below 1: at most 2^-10 here, 2^-6 for cross-entropy (Float80's
  /// own rounding, 2^-64 relative, is 2^-11 of Double's ulp).
  @Test("the Float80 and double-double oracles agree far below the kernels' bounds")
  func oraclesAgree() {
    var g = SplitMix(seed: 21)
    var worst = (softmax: 0.0, logSoftmax: 0.0, lse: 0.0, ce: 0.0)
    func diff(_ a: Float80, _ b: DD) -> Float80 {
      if a.isNaN && b.isNaN { return 0 }
      if a.isInfinite || b.isInfinite { return Self.float80(b) == a ? 0 : .infinity }
      return abs(a - Self.float80(b))
    }
    for k in 0..<300 {
      let rows = 3, cols = [1, 2, 7, 64, 257, 1000][k % 6]
      let scale = [0.1, 1, 10, 100, 1e4, 1e300][k % 6 == 0 ? 5 : Int(g.next(0...4.99))]
      var x = (0..<(rows * cols)).map { _ in g.next(-1...1) * scale }
      if k % 5 == 0 { x[g.int(0...(rows * cols - 1))] = -.infinity }
      let wx = x.map { DD($0) }
      let f80 = (sm: Oracle.softmax(x, rows: rows, cols: cols), ls: Oracle.logSoftmax(x, rows: rows, cols: cols),
                 lse: Oracle.logSumExp(x, rows: rows, cols: cols))
      let dd = (sm: Reference.softmax(wx, rows: rows, cols: cols), ls: Reference.logSoftmax(wx, rows: rows, cols: cols),
                lse: Reference.logSumExp(wx, rows: rows, cols: cols))
      for r in 0..<rows {
        let row = x[(r * cols)..<((r + 1) * cols)], m = row.max()!
        let lse = f80.lse[r]
        worst.lse = max(worst.lse, Double(diff(lse, dd.lse[r]) / Accuracy.logScaleUnit(x: m, lse: lse) / 4))
        for j in 0..<cols {
          let i = r * cols + j
          let o = f80.sm[i]
          let unit = o < Float80(Double.leastNormalMagnitude)
            ? 2 * Float80(Double.leastNormalMagnitude) : o * Float80(Double.ulpOfOne) * (abs(Float80(x[i]) - Float80(m)) + 4)
          worst.softmax = max(worst.softmax, Double(diff(o, dd.sm[i]) / unit))
          worst.logSoftmax = max(worst.logSoftmax, Double(diff(f80.ls[i], dd.ls[i]) / Accuracy.logScaleUnit(x: x[i], lse: lse) / 4))
        }
      }
      // Cross-entropy with options, labels and targets.
      let labels = (0..<rows).map { _ in g.int(0...(cols - 1)) }
      var targets = (0..<(rows * cols)).map { _ in g.next(0...1) }
      for r in 0..<rows {
        let s = targets[(r * cols)..<((r + 1) * cols)].reduce(0, +)
        for j in 0..<cols { targets[r * cols + j] /= s }
      }
      let weights = (0..<cols).map { _ in g.next(0.1...2) }
      let settings = CrossEntropySettings<Double>(
        ignoreIndex: nil, classWeights: k % 2 == 0 ? weights : nil, labelSmoothing: k % 3 == 0 ? 0.1 : 0,
        zLoss: k % 4 == 0 && scale <= 1e4 ? 1e-4 : 0, reduction: .sum)  // z L^2 past Double's range is +inf in DoubleDouble only
      let a = Oracle.crossEntropy(logits: x, rows: rows, cols: cols, labels: labels, settings: settings)
      let b = Reference.crossEntropy(logits: wx, rows: rows, cols: cols, labels: labels, settings: settings.converted(to: DD.self))
      let c = Oracle.crossEntropy(logits: x, rows: rows, cols: cols, targets: targets, settings: settings)
      let d = Reference.crossEntropy(
        logits: wx, rows: rows, cols: cols, targets: targets.map { DD($0) }, settings: settings.converted(to: DD.self))
      for r in 0..<rows {
        let lse = f80.lse[r]
        worst.ce = max(worst.ce, Double(diff(a.losses[r], b.losses[r]) / Accuracy.logScaleUnit(x: x[r * cols + labels[r]], lse: lse) / 4))
        worst.ce = max(worst.ce, Double(diff(c.losses[r], d.losses[r]) / Accuracy.logScaleUnit(x: x[(r * cols)..<((r + 1) * cols)].max()!, lse: lse) / 4))
      }
    }
    print("Float80 vs double-double oracle, worst difference / kernel bound: softmax \(worst.softmax), log-softmax \(worst.logSoftmax), logsumexp \(worst.lse), cross-entropy \(worst.ce)")
    // Cross-entropy sums up to 1000 terms of size |L - x_j| ~ 1e300 per row, each rounded by
    // Float80 at 2^-64: its differences reach 2^-8 of the bound, the others stay near 2^-12.
    #expect(worst.softmax <= 0x1p-10 && worst.logSoftmax <= 0x1p-10 && worst.lse <= 0x1p-10 && worst.ce <= 0x1p-6)
  }
  #endif
}
