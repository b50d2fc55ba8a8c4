// Rows whose max and logsumexp both lie within 2^p of `leastNormalMagnitude` (p = significand
// bits). There ulp(lse) is a handful of subnormal units, while every term exp(x_j - m) that falls
// into the subnormals is rounded to a whole unit: k such terms cost up to k/2 units beside SPEC's
// 4 ulp(max(|x|, |lse|)) (found by FuzzForward: x = 2.2e-308 beside logits near -741 gave 6.5
// units). Such rows get their excess recomputed with every term scaled into the normal range,
// then scaled back with a single rounding. The check costs two compares per row; the
// recomputation is one more read of the row, for rows whose max is within 2^p of leastNormal and
// whose other entries are all below m + ln(2^-(minExponent - p)) (-672 for Double, -71 for Float)
// or masked: in practice a row whose max is exactly 0 and every other entry masked.

extension BinaryFloatingPoint {
  /// leastNormalMagnitude * 2^significandBitCount: below it, a max or a sum excess goes through
  /// the rescaled sums of this file.
  @inlinable @inline(__always)
  package static var nearLeastNormal: Self {
    Self(sign: .plus, exponent: leastNormalMagnitude.exponent + Exponent(significandBitCount), significand: 1)
  }

  /// c = round(ln 2 * |minExponent| / 2) (354 for Double, 44 for Float): e^(x + c) is a normal
  /// number for every x whose e^x lies between the least subnormal and `nearLeastNormal`, and e^-c
  /// is normal too.
  @inlinable @inline(__always)
  package static var subnormalShift: Self {
    (Self(-leastNormalMagnitude.exponent) * Self(0.6931471805599453) / 2).rounded()
  }

  /// ln(leastNormalMagnitude): below it e^x is subnormal (or 0).
  @inlinable @inline(__always)
  package static var logLeastNormal: Self { Self(leastNormalMagnitude.exponent) * Self(0.6931471805599453) }
}

extension VectorMath {
  /// `Scalar.nearLeastNormal`.
  @inlinable @inline(__always)
  package static var nearLeastNormal: Scalar { Scalar.nearLeastNormal }

  /// The `excess` of a row of `n` elements with finite max `m`, recomputed by `rescaledExcess`
  /// when |m| and the excess are both below `nearLeastNormal` (a NaN excess stays NaN).
  @inlinable @inline(__always)
  package static func excessNearLeastNormal(
    _ x: UnsafePointer<Storage>, count n: Int, max m: Scalar, excess: Scalar
  ) -> Scalar {
    abs(m) < nearLeastNormal && excess < nearLeastNormal ? rescaledExcess(x, count: n, max: m) : excess
  }

  /// sum_{j: x_j != m} exp(x_j - m) for a row whose max m and other terms are all below
  /// `nearLeastNormal` (so exactly one entry equals m), evaluated as
  ///   e^-c sum_j e^(x_j + c),   c = round(ln 2 * |minExponent| / 2)  (354 for Double, 44 for Float):
  /// every scaled term is a normal number with its relative accuracy (the rounding of x_j + c is
  /// put back by `expOfDifference`), the compensated sum keeps it, and the product with e^-c
  /// rounds once. Dropping m from the exponent scales each term by e^-m, which differs from 1 by
  /// less than |m| < 2^-(|minExponent| - p).
  @inlinable
  package static func rescaledExcess(_ x: UnsafePointer<Storage>, count n: Int, max m: Scalar) -> Scalar {
    let c = Scalar.subnormalShift
    let w = width
    let mv = Vector(repeating: m), minusC = Vector(repeating: -c)
    var s = CompensatedSum<Vector>()
    var i = 0
    while i &+ w <= n {
      let v = read(x + i)
      s.add(zeroWhereZero(v - mv, else: expOfDifference(v, minusC)))
      i &+= w
    }
    if i < n {
      let v = read(x + i, count: n &- i, padding: m)
      s.add(zeroWhereZero(v - mv, else: expOfDifference(v, minusC)))
    }
    return s.total(merging: CompensatedSum(), using: Self.self) * exp(-c)
  }

  /// exp(y) * s per lane. Lanes where exp(y) is subnormal (y below ln leastNormal) would carry
  /// up to half a subnormal unit of error, which s multiplies: there the product is formed as
  /// (exp(y + c) s) e^-c (`subnormalShift`), rounded once (found by FuzzBackward: log-softmax
  /// backward with y = -101.5 in Float and sum dy = 1.6e12 was 1.7% off). One compare per vector;
  /// the second exp runs only for vectors with such a lane.
  @inlinable @inline(__always)
  package static func expTimes(_ y: Vector, _ s: Vector) -> Vector {
    let plain = exp(y) * s
    let cut = Scalar.logLeastNormal
    // Masked lanes (-inf) give 0 either way and do not count.
    let below = zero(Vector(repeating: cut) - y, whereBelow: y, Vector(repeating: -.greatestFiniteMagnitude))
    guard horizontalMax(below) > 0 else { return plain }
    let c = Scalar.subnormalShift
    let shifted = (expOfDifference(y, Vector(repeating: -c)) * s) * Vector(repeating: exp(-c))
    // Lanes at or above the cut keep the plain product.
    return ifNegative(y - Vector(repeating: cut), shifted, else: plain)
  }
}
