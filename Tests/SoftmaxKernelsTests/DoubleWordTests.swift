import SoftmaxKernelsCore
import SoftmaxReference
import Testing

/// The double-word steps that keep a long row's chunk sums and merged shard states accurate
/// (`DoubleWord`): the exp that rescales a running sum must be far more accurate than one rounding
/// of the working type, or a max that rises in every chunk compounds its error.
@Suite("Double-word arithmetic")
struct DoubleWordTests {
  /// hi + lo against the wide oracle's exp: relative error below 2^-60 for Double (checked in
  /// Float80, whose own exp is good to about 2^-63) and 2^-36 for Float (checked in Double), for
  /// x from 0 down to where the low word is subnormal; 0 below the range.
  @Test("exp(x) for x <= 0 as a double word", arguments: [false, true])
  func expDoubleWord(withLowWord: Bool) {
    func check<T: ReferenceScalar, M: VectorMath>(_: T.Type, _: M.Type, bits: Int) where M.Scalar == T {
      var g = LongRow.Generator(state: withLowWord ? 7 : 3)
      var worst = 0.0, worstX: T = 0
      // Down to where the low word itself is still a normal number (e^x 2^-2p >= leastNormal).
      let lowest = Double(Int(T.leastNormalMagnitude.exponent) + 2 * T.significandBitCount + 2) * 0.6931471805599453
      for k in 0..<20000 {
        // Mostly small differences (the merges' usual case), and the whole normal range.
        // With a low word only small x: Float80 cannot hold x + xLow exactly for large x.
        let x = T(k % 2 == 0 || withLowWord ? -g.uniform() * 8 : g.uniform() * lowest)
        let xl = withLowWord ? x.ulp * T(g.uniform() - 0.5) : 0
        let e = DoubleWord<T>.exp(x, low: xl, using: M.self)
        let o = T.Wide.libmExp(T.Wide(x) + T.Wide(xl))
        let rel = Double(abs((T.Wide(e.hi) + T.Wide(e.lo)) - o) / o)
        if rel > worst { (worst, worstX) = (rel, x) }
        #expect(abs(e.lo) <= e.hi.ulp, "\(T.self) exp(\(x)): lo \(e.lo) not below ulp(hi)")
      }
      #expect(worst <= Double(sign: .plus, exponent: -bits, significand: 1), "\(T.self): worst relative error \(worst) at \(worstX)")
      print("DoubleWord<\(T.self)>.exp, low word \(withLowWord): worst relative error 2^\(worst > 0 ? Double(worst.exponent) : -.infinity)")
      #expect(DoubleWord<T>.exp(0, using: M.self).hi == 1 && DoubleWord<T>.exp(0, using: M.self).lo == 0)
      #expect(DoubleWord<T>.exp(-T.greatestFiniteMagnitude, using: M.self).hi == 0)
      #expect(DoubleWord<T>.exp(T(Double(T.leastNonzeroMagnitude.exponent - 3) * 0.6931471805599453), using: M.self).hi == 0)
    }
    check(Float.self, FastFloat4.self, bits: 36)
    check(Double.self, FastDouble2.self, bits: 60)
  }

  /// reciprocal and dividing against the wide quotient: within about half an ulp (0.51).
  @Test("1 / (hi + lo) and n / (hi + lo)")
  func division() {
    func check<T: ReferenceScalar>(_: T.Type) {
      var g = LongRow.Generator(state: 5)
      for _ in 0..<20000 {
        let hi = T(1 + g.uniform() * 1e5)
        let lo = hi.ulp * T(g.uniform() - 0.5)
        let n = T(g.uniform())
        let d = DoubleWord(hi, lo)
        let w = T.Wide(hi) + T.Wide(lo)
        let r = d.reciprocal, q = d.dividing(n)
        let ro = 1 / w, qo = T.Wide(n) / w
        #expect(abs(T.Wide(r) - ro) <= 0.51 * T.Wide(T(ro).ulp), "\(T.self) 1 / (\(hi) + \(lo)) = \(r), oracle \(ro)")
        #expect(abs(T.Wide(q) - qo) <= 0.51 * T.Wide(T(qo).ulp), "\(T.self) \(n) / (\(hi) + \(lo)) = \(q), oracle \(qo)")
      }
    }
    check(Float.self)
    check(Double.self)
  }
}
