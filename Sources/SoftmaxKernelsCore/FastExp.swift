// The fast mode's exp: written on Swift SIMD types and inlined into the kernels, so the exp-sum
// loops keep everything in registers instead of calling into libsleef for every vector.
//
//   e^x = 2^n * e^r,  n = round(x / ln 2),  r = x - n ln 2 (Cody-Waite: ln 2 = hi + lo, two FMAs;
//   one FMA with fl(ln 2) in the fast Float kernels' grouped exp-sum, see `fastExpReduced`)
//   Float:  e^r by a degree-6 polynomial (Horner, 6 FMAs; minimax relative fit), |r| <= ln2 / 2
//   Double: e^r by a degree-11 polynomial (Horner, 11 FMAs; minimax relative fit)
//   n is rounded by adding 1.5 * 2^p (p = 23 or 52); 2^n is then built from the same bits, as
//   2^(n + k) * 2^-k (k = 64 or 512), so that results below the normal range underflow gradually
//   (one rounding, like a correctly rounded exp) instead of flushing to 0.
//
// Domain of `fastExp`: x <= 43 (Float) / 354 (Double), where 2^(n + k) stays a normal number; it
// does not clamp (one operation fewer in the kernels, which only call it on x - max <= 0 or -|x|),
// so it is wrong above that. `fastExpAnyArgument` (VectorExp's fast mode) builds 2^n as
// 2^(n - k) * 2^k on lanes x >= 0 instead, so it is right up to the overflow threshold and +inf
// past it, at the cost of two lane selects. Below ln of the least subnormal it is exactly 0 (exactly 0 for -inf, so
// masked classes stay exactly 0). NaN stays NaN. exp(0) is exactly 1.
// Its measured accuracy is in docs/architecture.md ("The fast exp"); FastExpTests checks it.

extension VectorMath where Scalar == Float {
  /// e^x per lane for x <= 43 (not checked), about 1 ulp, inlined (fast mode's kernels).
  /// `oneStepReduction`: see `fastExpReduced`.
  @inlinable @inline(__always)
  package static func fastExp(_ x: Vector, oneStepReduction: Bool = false) -> Vector {
    fastExpCore(
      x, clampedTo: nil, bias: Vector(repeating: 64), unbias: Vector(repeating: 0x1p-64),
      oneStepReduction: oneStepReduction)
  }

  /// e^x per lane for any x: +inf past ln(greatestFiniteMagnitude), about 1 ulp below.
  @inlinable @inline(__always)
  package static func fastExpAnyArgument(_ x: Vector) -> Vector {
    let bias = ifNegative(x, Vector(repeating: 64), else: Vector(repeating: -64))
    let unbias = ifNegative(x, Vector(repeating: 0x1p-64), else: Vector(repeating: 0x1p64))
    return fastExpCore(x, clampedTo: 89, bias: bias, unbias: unbias)
  }

  /// e^r * 2^(n + bias) * unbias with x = n ln 2 + r, x clamped to `clampedTo` if given (2^(n + bias)
  /// must stay a normal number), 0 below ln of the least subnormal.
  @inlinable @inline(__always)
  static func fastExpCore(
    _ x: Vector, clampedTo hi: Float?, bias: Vector, unbias: Vector, oneStepReduction: Bool = false
  ) -> Vector {
    let lo = Vector(repeating: -104)  // below ln(2^-150): 0
    // Lanes below `lo` (and -inf) compute garbage that `zero` then clears to 0.
    let xc = hi.map { min(x, Vector(repeating: $0)) } ?? x
    let (t, _, er) = fastExpReduced(xc, oneStepReduction: oneStepReduction)
    let scaled = (er * twoToThe(t + bias)) * unbias
    return zero(scaled, whereBelow: x, lo)
  }

  /// The argument reduction and polynomial of the fast exp, for a finite `xc` in its range:
  /// x = n ln 2 + r with n = round(x / ln 2) (|r| <= ln 2 / 2), returned as t = n + magic (the
  /// bits `twoToThe` reads), n itself, and e^r. The backend then applies 2^n.
  ///
  /// r takes two FMAs with ln 2 split as hi + lo (Cody-Waite), so it is exact to a few units of
  /// its own last place. With `oneStepReduction` it takes one, r = x - n fl(ln 2): fl(ln 2) is
  /// 1.9e-9 above ln 2, so e^x gains a relative error of up to |n| 1.9e-9 <= (|x| + ln2/2)
  /// 2.75e-9 (0.023 |x| ulp(1) + 0.008), one FMA fewer in a loop bound by FMAs
  /// (`VectorMath.expOneStepReduced`).
  @inlinable @inline(__always)
  package static func fastExpReduced(_ xc: Vector, oneStepReduction: Bool = false) -> (t: Vector, n: Vector, er: Vector) {
    let magic = Vector(repeating: 12_582_912)  // 1.5 * 2^23
    let t = multiplyAdd(xc, Vector(repeating: 1.442_695_04), magic)
    let n = t - magic
    var r: Vector
    if oneStepReduction {
      r = multiplyAdd(n, Vector(repeating: -0.693_147_18), xc)
    } else {
      r = multiplyAdd(n, Vector(repeating: -0.693_359_375), xc)
      r = multiplyAdd(n, Vector(repeating: 2.121_944_4e-4), r)
    }
    // e^r = 1 + r (1 + r (c2 + r (c3 + r (c4 + r (c5 + r c6))))), Horner with one FMA per
    // degree: coefficients fitted for least maximum relative error on |r| <= ln 2 / 2 (3.1e-9
    // before rounding them to Float; `scripts/fit-fast-exp.py float` refits and checks them).
    var p = Vector(repeating: 0x1.6a2430p-10)
    p = multiplyAdd(p, r, Vector(repeating: 0x1.1239e4p-7))
    p = multiplyAdd(p, r, Vector(repeating: 0x1.5558f2p-5))
    p = multiplyAdd(p, r, Vector(repeating: 0x1.555492p-3))
    p = multiplyAdd(p, r, Vector(repeating: 0x1.fffffcp-2))
    p = multiplyAdd(p, r, Vector(repeating: 1))
    let er = multiplyAdd(p, r, Vector(repeating: 1))
    return (t, n, er)
  }
}

extension VectorMath where Scalar == Double {
  /// e^x per lane for x <= 354 (not checked), about 1 ulp, inlined (fast mode's kernels).
  @inlinable @inline(__always)
  package static func fastExp(_ x: Vector) -> Vector {
    fastExpCore(x, clampedTo: nil, bias: Vector(repeating: 512), unbias: Vector(repeating: 0x1p-512))
  }

  /// e^x per lane for any x: +inf past ln(greatestFiniteMagnitude), about 1 ulp below.
  @inlinable @inline(__always)
  package static func fastExpAnyArgument(_ x: Vector) -> Vector {
    let bias = ifNegative(x, Vector(repeating: 512), else: Vector(repeating: -512))
    let unbias = ifNegative(x, Vector(repeating: 0x1p-512), else: Vector(repeating: 0x1p512))
    return fastExpCore(x, clampedTo: 710, bias: bias, unbias: unbias)
  }

  /// e^r * 2^(n + bias) * unbias with x = n ln 2 + r, x clamped to `clampedTo` if given (2^(n + bias)
  /// must stay a normal number), 0 below ln of the least subnormal.
  @inlinable @inline(__always)
  static func fastExpCore(_ x: Vector, clampedTo hi: Double?, bias: Vector, unbias: Vector) -> Vector {
    let lo = Vector(repeating: -746)  // below ln(2^-1075): 0
    // Lanes below `lo` (and -inf) compute garbage that `zero` then clears to 0.
    let xc = hi.map { min(x, Vector(repeating: $0)) } ?? x
    let (t, _, er) = fastExpReduced(xc)
    let scaled = (er * twoToThe(t + bias)) * unbias
    return zero(scaled, whereBelow: x, lo)
  }

  /// The argument reduction and polynomial of the fast exp, for a finite `xc` in its range:
  /// x = n ln 2 + r with n = round(x / ln 2) (|r| <= ln 2 / 2), returned as t = n + magic (the
  /// bits `twoToThe` reads), n itself, and e^r. The backend then applies 2^n.
  @inlinable @inline(__always)
  package static func fastExpReduced(_ xc: Vector) -> (t: Vector, n: Vector, er: Vector) {
    let magic = Vector(repeating: 6_755_399_441_055_744)  // 1.5 * 2^52
    let t = multiplyAdd(xc, Vector(repeating: 1.442_695_040_888_963_4), magic)
    let n = t - magic
    var r = multiplyAdd(n, Vector(repeating: -0.693_145_751_953_125), xc)
    r = multiplyAdd(n, Vector(repeating: -1.428_606_820_309_417_232_1e-6), r)
    // e^r = 1 + r (1 + r (c2 + r (c3 + ... + r c11))), Horner with one FMA per degree:
    // coefficients fitted for least maximum relative error on |r| <= ln 2 / 2 (3.6e-18 before
    // rounding them to Double; `scripts/fit-fast-exp.py double` refits and checks them).
    var p = Vector(repeating: 0x1.ad7f77c80b6cbp-26)
    p = multiplyAdd(p, r, Vector(repeating: 0x1.28ad73a272d85p-22))
    p = multiplyAdd(p, r, Vector(repeating: 0x1.71df254e1e4b0p-19))
    p = multiplyAdd(p, r, Vector(repeating: 0x1.a0199a0b67a21p-16))
    p = multiplyAdd(p, r, Vector(repeating: 0x1.a01a012a58a75p-13))
    p = multiplyAdd(p, r, Vector(repeating: 0x1.6c16c1842a7b5p-10))
    p = multiplyAdd(p, r, Vector(repeating: 0x1.1111111127be6p-7))
    p = multiplyAdd(p, r, Vector(repeating: 0x1.555555555087ap-5))
    p = multiplyAdd(p, r, Vector(repeating: 0x1.55555555554fap-3))
    p = multiplyAdd(p, r, Vector(repeating: 0x1.000000000000ap-1))
    p = multiplyAdd(p, r, Vector(repeating: 1))
    let er = multiplyAdd(p, r, Vector(repeating: 1))
    return (t, n, er)
  }
}
