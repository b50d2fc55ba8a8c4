// The passes over one row that cross-entropy adds to those of RowPasses.swift. Same shape: an
// unrolled vector body and one padded tail vector through the same code, compensated sums, no
// branch per element (0 * inf is cancelled with `zeroWhereZero`, a vector select).

/// The factor f = a + c * l that multiplies exp(x_j - m) in a gradient pass (c * l is the z-loss
/// term 2 z L / S). When f overflows (|L| near the largest finite value) each lane computes
/// e * a + (e * c) * l instead, which overflows only where the true product does and gives 0 where
/// e = 0. That choice is made once per row; the common case is one multiply per element.
@frozen
@usableFromInline package struct ExpFactor<M: VectorMath> {
  @usableFromInline package let a: M.Vector, c: M.Vector, l: M.Vector, f: M.Vector
  @usableFromInline package let overflows: Bool

  @inlinable @inline(__always)
  package init(_ a: M.Scalar, plus c: M.Scalar, times l: M.Scalar) {
    let f = a + c * l
    self.a = M.Vector(repeating: a)
    self.c = M.Vector(repeating: c)
    self.l = M.Vector(repeating: l)
    self.f = M.Vector(repeating: f)
    overflows = !f.isFinite
  }

  /// e * f.
  @inlinable @inline(__always)
  package func times(_ e: M.Vector) -> M.Vector { overflows ? e * a + (e * c) * l : e * f }

  /// e * f for one scalar.
  @inlinable @inline(__always)
  package static func scalar(_ e: M.Scalar, _ a: M.Scalar, plus c: M.Scalar, times l: M.Scalar) -> M.Scalar {
    let f = a + c * l
    return f.isFinite ? e * f : e * a + (e * c) * l
  }
}

/// The compensated sum of a row's gap terms c_j (m - x_j) / 2 (two accumulators, for the two
/// unrolled halves of a pass). When the coefficients of the row sum past 1/2 the exact sum may
/// pass the largest finite value for finite logits, so the terms are also summed times
/// `LossSum.shrink`: the row's scaled loss (a mean stays finite when the exact one is). Rows whose
/// coefficients sum to at most 1/2 (and any row with the flag off) pay one predicted branch per vector.
@frozen
@usableFromInline package struct GapSum<M: VectorMath> {
  @usableFromInline package var first = CompensatedSum<M.Vector>(), second = CompensatedSum<M.Vector>()
  @usableFromInline package var scaled = CompensatedSum<M.Vector>()
  @usableFromInline package let alsoScaled: Bool

  /// `alsoScaled` when the coefficients c_j of the row sum past 1/2.
  @inlinable @inline(__always)
  package init(alsoScaled: Bool) { self.alsoScaled = alsoScaled }

  /// Adds the terms c * d (0 where `zero` is 0, even where d is inf; `zero` defaults to c) to the
  /// first (or the second) accumulator; d is finite or +inf, c * d may overflow where
  /// (c shrink) d does not.
  @inlinable @inline(__always)
  package mutating func add(_ c: M.Vector, times d: M.Vector, zeroWhere zero: M.Vector? = nil, second toSecond: Bool = false) {
    let z = zero ?? c
    let v = M.zeroWhereZero(z, else: c * d)
    if toSecond { second.add(v) } else { first.add(v) }
    if alsoScaled { scaled.add(M.zeroWhereZero(z, else: (c * M.Vector(repeating: LossSum<M.Scalar>.shrink)) * d)) }
  }

  /// The sum, and the sum times `LossSum.shrink` (finite whenever the scaled exact sum is).
  @inlinable @inline(__always)
  package var total: (plain: M.Scalar, scaled: M.Scalar) {
    let plain = first.total(merging: second, using: M.self)
    return (plain, alsoScaled ? scaled.total(merging: CompensatedSum(), using: M.self) : plain * LossSum<M.Scalar>.shrink)
  }
}

extension VectorMath {
  /// y_j = y_j * f in place for the gradient factor `f` (see `ExpFactor`).
  @inlinable @inline(__always)
  package static func scale(_ y: UnsafeMutablePointer<Storage>, by f: ExpFactor<Self>, count n: Int) {
    let w = width
    var i = 0
    while i &+ 2 &* w <= n {
      let v0 = f.times(read(y + i)), v1 = f.times(read(y + (i &+ w)))
      write(v0, to: y + i)
      write(v1, to: y + (i &+ w))
      i &+= 2 &* w
    }
    if i &+ w <= n {
      write(f.times(read(y + i)), to: y + i)
      i &+= w
    }
    if i < n { write(f.times(read(y + i, count: n &- i, padding: 0)), to: y + i, count: n &- i) }
  }

  /// Lanes `0..<count` are 1, the rest 0: the implicit all-ones weights in a row's tail.
  @inlinable @inline(__always)
  package static func tailOnes(_ count: Int) -> Vector {
    var v = Vector()
    for k in 0..<count { v[k] = 1 }
    return v
  }

  /// The weights at `i` (all 1 when `weights` is nil), `count` lanes or a full vector.
  @inlinable @inline(__always)
  static func weightsAt(_ weights: UnsafePointer<Scalar>?, _ i: Int, count: Int? = nil) -> Vector {
    if let count {
      if let weights { return load(weights + i, count: count, padding: 0) }
      return tailOnes(count)
    }
    if let weights { return load(weights + i) }
    return Vector(repeating: 1)
  }

  /// Half of f * sum_j w_j (m - x_j) over `n` elements (w_j = 1 when `weights` is nil), compensated; a
  /// zero weight cancels a masked x_j = -inf. Every term is >= 0 when m is the row max. Halved
  /// (exactly, as m/2 - x_j/2) so that no term overflows for finite x: m - x_j can exceed the
  /// largest finite value while the weighted loss does not; the factor f (eps/C for label
  /// smoothing) is applied per term so that the sum does not overflow before it.
  @inlinable @inline(__always)
  package static func weightedGapSum(
    _ x: UnsafePointer<Storage>, count n: Int, from m: Scalar, weights: UnsafePointer<Scalar>?, factor f: Scalar,
    alsoScaled: Bool
  ) -> (plain: Scalar, scaled: Scalar) {
    let w = width
    let hv = Vector(repeating: m * (f / 2)), half = Vector(repeating: f / 2)
    var s = GapSum<Self>(alsoScaled: alsoScaled)
    var i = 0
    while i &+ 2 &* w <= n {
      let w0 = weightsAt(weights, i), w1 = weightsAt(weights, i &+ w)
      s.add(w0, times: hv - read(x + i) * half)
      s.add(w1, times: hv - read(x + (i &+ w)) * half, second: true)
      i &+= 2 &* w
    }
    if i &+ w <= n {
      let w0 = weightsAt(weights, i)
      s.add(w0, times: hv - read(x + i) * half)
      i &+= w
    }
    if i < n {
      let w0 = weightsAt(weights, i, count: n &- i)
      s.add(w0, times: hv - read(x + i, count: n &- i, padding: m) * half, second: true)
    }
    return s.total
  }

  /// The class-label gradient pass: g_j = exp(x_j - m) * (a + c * l) - w_j * b for `n` elements (`g` may be
  /// `x`: each element is read before it is written). When `accumulateGap`, also returns
  /// half of f * sum_j w_j (m - x_j) as `weightedGapSum` does, from the same loads; otherwise 0.
  @inlinable @inline(__always)
  package static func labelGradient(
    _ x: UnsafePointer<Storage>, count n: Int, minus m: Scalar, expTimes a: Scalar, plus c: Scalar, times l: Scalar,
    weightsTimes b: Scalar,
    weights: UnsafePointer<Scalar>?, to g: UnsafeMutablePointer<Storage>, accumulateGap: Bool, gapFactor f: Scalar,
    alsoScaled: Bool
  ) -> (plain: Scalar, scaled: Scalar) {
    let w = width
    let mv = Vector(repeating: m), bv = Vector(repeating: b)
    let hv = Vector(repeating: m * (f / 2)), half = Vector(repeating: f / 2)
    let ea = ExpFactor<Self>(a, plus: c, times: l)
    var s = GapSum<Self>(alsoScaled: alsoScaled)
    var i = 0
    while i &+ 2 &* w <= n {
      let x0 = read(x + i), x1 = read(x + (i &+ w))
      let w0 = weightsAt(weights, i), w1 = weightsAt(weights, i &+ w)
      write(ea.times(exp(x0 - mv)) - w0 * bv, to: g + i)
      write(ea.times(exp(x1 - mv)) - w1 * bv, to: g + (i &+ w))
      if accumulateGap {
        s.add(w0, times: hv - x0 * half)
        s.add(w1, times: hv - x1 * half, second: true)
      }
      i &+= 2 &* w
    }
    if i &+ w <= n {
      let x0 = read(x + i), w0 = weightsAt(weights, i)
      write(ea.times(exp(x0 - mv)) - w0 * bv, to: g + i)
      if accumulateGap { s.add(w0, times: hv - x0 * half) }
      i &+= w
    }
    if i < n {
      let x0 = read(x + i, count: n &- i, padding: m), w0 = weightsAt(weights, i, count: n &- i)
      write(ea.times(exp(x0 - mv)) - w0 * bv, to: g + i, count: n &- i)
      if accumulateGap { s.add(w0, times: hv - x0 * half, second: true) }
    }
    return accumulateGap ? s.total : (0, 0)
  }

  /// Q = sum_j w_j q_j with q_j = keep * p_j + floor (the label-smoothed target), compensated.
  @inlinable @inline(__always)
  package static func targetMass(
    _ p: UnsafePointer<Storage>, count n: Int, keep: Scalar, floor: Scalar, weights: UnsafePointer<Scalar>?
  ) -> Scalar {
    let w = width
    let kv = Vector(repeating: keep), fv = Vector(repeating: floor)
    var s0 = CompensatedSum<Vector>()
    var i = 0
    while i &+ w <= n {
      s0.add(weightsAt(weights, i) * (read(p + i) * kv + fv))
      i &+= w
    }
    if i < n {
      s0.add(weightsAt(weights, i, count: n &- i) * (read(p + i, count: n &- i, padding: 0) * kv + fv))
    }
    return s0.total(merging: CompensatedSum(), using: Self.self)
  }

  /// The probability-target pass, with c_j = w_j (keep * p_j + floor): returns half of
  /// sum_j c_j (m - x_j) (0 where the exact c_j is 0, so a masked class with no target mass adds
  /// nothing; `smoothed` says whether label smoothing is on, i.e. every c_j with w_j != 0 is
  /// nonzero even when eps / C rounds to 0), plain and scaled as `GapSum` says,
  /// and, when `g` is not nil, writes g_j = exp(x_j - m) * (a + c * l) - c_j * scale (`g` may be `x`).
  @inlinable @inline(__always)
  package static func targetPass(
    _ x: UnsafePointer<Storage>, _ p: UnsafePointer<Storage>, count n: Int, minus m: Scalar,
    keep: Scalar, floor: Scalar, smoothed: Bool, weights: UnsafePointer<Scalar>?,
    expTimes a: Scalar, plus c: Scalar, times l: Scalar, scale: Scalar, to g: UnsafeMutablePointer<Storage>?,
    alsoScaled: Bool
  ) -> (plain: Scalar, scaled: Scalar) {
    let w = width
    let mv = Vector(repeating: m), sv = Vector(repeating: scale)
    let hv = Vector(repeating: m / 2), half = Vector(repeating: 0.5)
    let kv = Vector(repeating: keep), fv = Vector(repeating: floor)
    let ea = ExpFactor<Self>(a, plus: c, times: l)
    var s0 = GapSum<Self>(alsoScaled: alsoScaled)
    // c_j is exactly 0 only where w_j is 0, or (without smoothing) p_j is 0: a product that
    // underflows (w 0.3 times a target 5e-324, found by FuzzCrossEntropy) is not a zero, and
    // neither is a smoothing term eps / C that rounds to 0, so a masked class there still costs
    // +inf.
    let byTarget = !smoothed
    @inline(__always) func zero(_ wv: Vector, _ pv: Vector) -> Vector { byTarget ? min(wv, pv) : wv }
    var i = 0
    while i &+ w <= n {
      let x0 = read(x + i), wv = weightsAt(weights, i), pv = read(p + i)
      let c = wv * (pv * kv + fv)
      if let g { write(ea.times(exp(x0 - mv)) - c * sv, to: g + i) }
      s0.add(c, times: hv - x0 * half, zeroWhere: zero(wv, pv))
      i &+= w
    }
    if i < n {
      let x0 = read(x + i, count: n &- i, padding: m)
      let wv = weightsAt(weights, i, count: n &- i), pv = read(p + i, count: n &- i, padding: 0)
      let c = wv * (pv * kv + fv)
      if let g { write(ea.times(exp(x0 - mv)) - c * sv, to: g + i, count: n &- i) }
      s0.add(c, times: hv - x0 * half, zeroWhere: zero(wv, pv))
    }
    return s0.total
  }
}
