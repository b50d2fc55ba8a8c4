// The fast mode's log1p on [0, 1]: binary cross-entropy's ln(1 + e^-|x|), written on Swift SIMD
// types and inlined into the BCE loop, where SLEEF's out-of-line log1p cost twice its exp.
//
//   u = fl(1 + x) in [1, 2], c = x - (u - 1) exactly (its rounding error: both steps are exact
//   for 0 <= x <= 1), so ln(1 + x) = ln(u + c) = ln u + c / u to well below an ulp (c / u <=
//   ulpOfOne / 2, and the next term is its square). 1 / u is the BCE's sigmoid(|x|) too: the
//   two divisions are the same expression, and LLVM keeps one.
//   ln u = k ln 2 + ln(1 + f): k = 1 and f = u / 2 - 1 where u > sqrt 2, else k = 0 and
//   f = u - 1 (both exact), so f is in [sqrt(1/2) - 1, sqrt 2 - 1].
//   ln(1 + f) = 2 atanh(s) = 2 s + s R(z), s = f / (2 + f), z = s^2 <= 0.0294, evaluated as
//   f - (f^2/2 - s (f^2/2 + R)) (an identity, since f - 2 s = s f): the division's rounding
//   only reaches the small term s (f^2/2 + R). R(z) is a polynomial in z: 3 terms in Float, 7
//   in Double, fitted for least maximum absolute error (`scripts/fit-fast-log1p.py`), whose
//   error reaches the result as half of it, relative: under 0.01 ulpOfOne.
//   ln 2 is split as hi + lo, lo added with the small terms.
//
// Domain: 0 <= x <= 1 (not checked; outside it the reduction is wrong). NaN stays NaN; 0 gives
// exactly 0, a subnormal x gives x. Measured accuracy: FastLog1pTests, and docs/architecture.md
// ("The fast log1p").

extension VectorMath {
  /// ln(1 + x) per lane for 0 <= x <= 1 (not checked), given R(z) (see the file's comment).
  @inlinable @inline(__always)
  static func fastLog1pOnUnitIntervalCore(
    _ x: Vector, sqrt2: Scalar, ln2Hi: Scalar, ln2Lo: Scalar, r: (Vector) -> Vector
  ) -> Vector {
    let one = Vector(repeating: 1), zero = Vector()
    let u = one + x
    let c = x - (u - one)
    let above = Vector(repeating: sqrt2) - u  // < 0 where u > sqrt 2
    let f = ifNegative(above, u * Vector(repeating: 0.5), else: u) - one
    let k = ifNegative(above, one, else: zero)
    let s = f / (Vector(repeating: 2) + f)
    let hfsq = Vector(repeating: 0.5) * f * f
    let small = multiplyAdd(s, hfsq + r(s * s), multiplyAdd(k, Vector(repeating: ln2Lo), c * (one / u)))
    return multiplyAdd(k, Vector(repeating: ln2Hi), f - (hfsq - small))
  }
}

extension VectorMath where Scalar == Float {
  /// ln(1 + x) per lane for 0 <= x <= 1 (not checked), within an ulp, inlined (fast mode's BCE).
  @inlinable @inline(__always)
  package static func fastLog1pOnUnitInterval(_ x: Vector) -> Vector {
    fastLog1pOnUnitIntervalCore(x, sqrt2: 0x1.6a09e6p0, ln2Hi: 0x1.62e430p-1, ln2Lo: -0x1.05c610p-29) { z in
      var p = Vector(repeating: 0x1.31e34ep-2)
      p = multiplyAdd(p, z, Vector(repeating: 0x1.995eb6p-2))
      p = multiplyAdd(p, z, Vector(repeating: 0x1.55557ap-1))
      return p * z
    }
  }
}

extension VectorMath where Scalar == Double {
  /// ln(1 + x) per lane for 0 <= x <= 1 (not checked), within an ulp, inlined (fast mode's BCE).
  @inlinable @inline(__always)
  package static func fastLog1pOnUnitInterval(_ x: Vector) -> Vector {
    fastLog1pOnUnitIntervalCore(
      x, sqrt2: 0x1.6a09e667f3bcdp0, ln2Hi: 0x1.62e42fefa39efp-1, ln2Lo: 0x1.abc9e3b39803fp-56
    ) { z in
      var p = Vector(repeating: 0x1.2f063675a512bp-3)
      p = multiplyAdd(p, z, Vector(repeating: 0x1.39a1a6c1b708ep-3))
      p = multiplyAdd(p, z, Vector(repeating: 0x1.74663fa46fdc1p-3))
      p = multiplyAdd(p, z, Vector(repeating: 0x1.c71c5205fb697p-3))
      p = multiplyAdd(p, z, Vector(repeating: 0x1.24924941f50d5p-2))
      p = multiplyAdd(p, z, Vector(repeating: 0x1.999999997fd76p-2))
      p = multiplyAdd(p, z, Vector(repeating: 0x1.5555555555592p-1))
      return p * z
    }
  }
}
