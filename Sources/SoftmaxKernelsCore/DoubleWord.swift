// Double-word arithmetic (a value held as hi + lo, |lo| <= ulp(hi) / 2) for the few scalar steps
// whose rounding would otherwise accumulate: the sum of a row's chunk partials, and the merge of
// logsumexp states. Error-free transformations: TwoSum (Knuth, branch free) and TwoProduct (one
// fused multiply-add).

/// hi + lo, an unevaluated sum of two `Scalar`s.
@frozen
@usableFromInline package struct DoubleWord<Scalar: BinaryFloatingPoint> {
  @usableFromInline package var hi: Scalar
  @usableFromInline package var lo: Scalar

  @inlinable @inline(__always)
  package init(_ hi: Scalar, _ lo: Scalar = 0) {
    self.hi = hi
    self.lo = lo
  }

  /// a + b exactly, as the rounded sum and its error.
  @inlinable @inline(__always)
  package static func twoSum(_ a: Scalar, _ b: Scalar) -> Self {
    let s = a + b
    let z = s - a
    return Self(s, (a - (s - z)) + (b - z))
  }

  /// a * b exactly, as the rounded product and its error (one fused multiply-add).
  @inlinable @inline(__always)
  package static func twoProduct(_ a: Scalar, _ b: Scalar) -> Self {
    let p = a * b
    return Self(p, (-p).addingProduct(a, b))
  }

  /// hi + lo rounded to one `Scalar`.
  @inlinable @inline(__always)
  package var value: Scalar { hi + lo }

  /// 1 / (hi + lo), within about half an ulp: 1 / hi corrected to first order by the exact
  /// residual 1 - q hi and the rest of the divisor (`hi` positive and normal).
  @inlinable @inline(__always)
  package var reciprocal: Scalar {
    let q = 1 / hi
    return q + (Scalar(1).addingProduct(-q, hi) - q * lo) * q
  }

  /// n / (hi + lo), within about half an ulp: the quotient by `hi`, corrected to first order by
  /// the exact residual n - q hi (one fused multiply-add) and the rest of the divisor (`hi`
  /// positive and normal).
  @inlinable @inline(__always)
  package func dividing(_ n: Scalar) -> Scalar {
    let q = n / hi
    return q + (n.addingProduct(-q, hi) - q * lo) / hi
  }
}

extension DoubleWord {
  /// e^(x + xLow) for x <= 0 as a double word, with a relative error of about 2^-38 for Float and
  /// below 2^-62 for Double (`DoubleWordTests`; a Float80 oracle sees no further): far below one
  /// rounding of `Scalar`, so that rescaling a running sum by it any number of times does not add
  /// up to a visible error. Where e^x is so small that the low word is subnormal, the pair keeps
  /// only what fits; 0 below the range.
  ///
  /// x + xLow = k ln2 + r with ln2 in two words, |r| <= ln2/2 + tiny; e^(r/16) - 1 by its Taylor
  /// series (the square term exact, the rest in `Scalar`), squared back four times as
  /// e^2u - 1 = 2(e^u - 1) + (e^u - 1)^2 in double words, then scaled by 2^k. Scalar code, about
  /// 70 operations: for merges of partials, never per element.
  ///
  /// `M` only names the backend: the specialization's symbol must be the backend's own (see
  /// `scripts/check-backend-symbols`), and 2^k comes from its `twoToThe`.
  @inlinable
  package static func exp<M: VectorMath>(_ x: Scalar, low xLow: Scalar = 0, using _: M.Type) -> Self where M.Scalar == Scalar {
    let ln2Hi = Scalar(0x1.62e42fefa39efp-1)
    let ln2Lo = Scalar((0x1.62e42fefa39efp-1 - Double(ln2Hi)) + 0x1.abc9e3b39803fp-56)
    // Below ln(leastNonzero) - 1 the result is 0.
    let floor = Scalar(Scalar.leastNonzeroMagnitude.exponent - 2) * ln2Hi
    if x < floor { return Self(0, 0) }
    let k = (x / ln2Hi).rounded()
    // r = x + xLow - k ln2, in two words.
    let kl = twoProduct(k, ln2Hi)
    let d = twoSum(x, -kl.hi)
    var r = twoSum(d.hi, (d.lo - kl.lo) - (k * ln2Lo - xLow))
    // u = r / 16: |u| <= 0.022.
    r.hi *= 0.0625
    r.lo *= 0.0625
    let t = r.hi
    let sq = twoProduct(t, t)
    // e^u - 1 = u + u^2/2 + u^3 (1/6 + u/24 + ... + u^7/10!) with u = t + r.lo.
    var poly = Scalar(1) / 3_628_800
    poly = poly * t + Scalar(1) / 362_880
    poly = poly * t + Scalar(1) / 40320
    poly = poly * t + Scalar(1) / 5040
    poly = poly * t + Scalar(1) / 720
    poly = poly * t + Scalar(1) / 120
    poly = poly * t + Scalar(1) / 24
    poly = poly * t + Scalar(1) / 6
    let rest = (sq.lo * 0.5 + r.lo + t * r.lo) + sq.hi * t * poly
    var m = twoSum(t, sq.hi * 0.5)
    m = twoSum(m.hi, m.lo + rest)
    // e^(2u) - 1 = 2 (e^u - 1) + (e^u - 1)^2, four times.
    for _ in 0..<4 {
      let p = twoProduct(m.hi, m.hi)
      let s = twoSum(2 * m.hi, p.hi)
      m = twoSum(s.hi, s.lo + p.lo + 2 * m.lo + 2 * (m.hi * m.lo))
    }
    // 1 + m, then times 2^k in two normal steps 2^k1 2^k2 (2^k alone may be below the range when
    // the result is not), each built by the backend's `twoToThe` from k_i + 1.5 * 2^p.
    var e = twoSum(1, m.hi)
    e.lo += m.lo
    let k1 = (k * 0.5).rounded(.towardZero), k2 = k - k1
    let magic = Scalar(sign: .plus, exponent: Scalar.Exponent(Scalar.significandBitCount), significand: 1.5)
    let s1 = M.twoToThe(M.Vector(repeating: k1 + magic))[0]
    let s2 = M.twoToThe(M.Vector(repeating: k2 + magic))[0]
    return Self((e.hi * s1) * s2, (e.lo * s1) * s2)
  }
}
