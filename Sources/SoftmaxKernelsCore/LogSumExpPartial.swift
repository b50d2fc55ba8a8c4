/// The logsumexp of a row (or of a slice of its columns) in a form that merges exactly:
/// `lse = max + log1p(excess)` with `excess = sum_j exp(x_j - max) - 1`.
///
/// Keeping the sum minus its max term (rather than the sum) keeps `log1p` accurate to a few ulps
/// when one term dominates. The excess is carried as a double word (`excess + compensation`), so
/// that merging many partials (the chunks of a long row, the shards of a vocabulary) rounds the
/// running sum once per merge into the low word instead of into the sum. Conventions for the
/// non-finite cases:
///   max = -inf            empty or fully masked slice (excess = -1, the empty sum)
///   max = +inf            k entries are +inf, excess = k - 1
///   max = NaN             the slice holds a NaN (excess NaN)
@frozen
@usableFromInline package struct LogSumExpPartial<Scalar: BinaryFloatingPoint> {
  /// The slice's max.
  @usableFromInline package var max: Scalar
  /// sum_j exp(x_j - max) - 1, rounded.
  @usableFromInline package var excess: Scalar
  /// The rounding error of `excess` (0 unless the partial comes from merges): the excess is
  /// `excess + compensation`.
  @usableFromInline package var compensation: Scalar

  @inlinable @inline(__always)
  package init(max: Scalar, excess: Scalar, compensation: Scalar = 0) {
    self.max = max
    self.excess = excess
    self.compensation = compensation
  }

  /// The state of an empty slice: max = -inf, sum = 0.
  @inlinable
  package static var empty: Self { Self(max: -.infinity, excess: -1) }

  /// sum_j exp(x_j - max) (the empty sum is 0).
  @inlinable
  package var sum: Scalar { max.isFinite ? 1 + excess : (max == .infinity ? excess + 1 : (max.isNaN ? .nan : 0)) }

  /// The same partial with `excess` the correctly rounded excess + compensation (and the rest in
  /// `compensation`), for readers that use `excess` alone.
  @inlinable @inline(__always)
  package var normalized: Self {
    let t = DoubleWord.twoSum(excess, compensation)
    return Self(max: max, excess: t.hi, compensation: t.lo)
  }

  /// The sum 1 + excess + compensation as a double word (for a finite max).
  @inlinable @inline(__always)
  package var sumDoubleWord: DoubleWord<Scalar> {
    var s = DoubleWord.twoSum(1, excess)
    s.lo += compensation
    return s
  }

  /// The state of the union of both slices: with M = max(a, b) and b the smaller,
  /// excess = excess_a + (1 + excess_b) * exp(b - M), with exp(b - M) as a double word
  /// (`DoubleWord.exp`), so the merge adds no error beyond one rounding of each partial's excess
  /// into the low word. Any number of partials merged in any order then give the sum to within a
  /// few ulps. Empty and fully masked states are neutral; +inf counts add; NaN wins. Commutative.
  @inlinable
  package func merged<M: VectorMath>(with other: Self, using m: M.Type) -> Self where M.Scalar == Scalar {
    combined(with: other, using: m, exactFor: { _ in true })
  }

  /// `merged(with: chunk)` for the running state of a row read chunk by chunk (`rowStatistics`):
  /// when the chunk's max is below the running max, its own term is rescaled with the backend's
  /// exp (`expOfDifference`, a few ulps once per chunk, like every exp of the row); when it is
  /// above, the running sum is rescaled with the double-word exp, so that a max rising from chunk
  /// to chunk does not compound an exp error per chunk.
  @inlinable @inline(__always)
  package func adding<M: VectorMath>(chunk: Self, using m: M.Type) -> Self where M.Scalar == Scalar {
    // The usual case past the first chunks: a finite chunk whose max is not above the running
    // one, away from the subnormal edge. Its term carries its own exp and product roundings (a
    // relative error per chunk, which does not add up); only the addition to the running sum
    // needs its error kept. The low word then runs unnormalized: `rowStatistics` normalizes once.
    if chunk.max <= max && abs(max) >= Scalar.nearLeastNormal && !chunk.excess.isNaN && max.isFinite {
      let s = DoubleWord.twoSum(excess, (1 + chunk.excess) * M.expOfDifference(chunk.max, max))
      return Self(max: max, excess: s.hi, compensation: compensation + s.lo)
    }
    return combined(with: chunk, using: m, exactFor: { $0 == 0 })
  }

  /// The merge; `exactFor(side)` tells whether the lower state (0: `self`, 1: `other`) is
  /// rescaled by the double-word exp rather than by `expOfDifference`. Not inlined: it is the
  /// rare path of `adding(chunk:)`, whose inlined fast path stays small in the row loop.
  @inlinable @inline(never)
  func combined<M: VectorMath>(with other: Self, using m: M.Type, exactFor: (Int) -> Bool) -> Self where M.Scalar == Scalar {
    let expOfDifference = M.expOfDifference as (Scalar, Scalar) -> Scalar
    if max.isNaN || other.max.isNaN || excess.isNaN || other.excess.isNaN { return Self(max: .nan, excess: .nan) }
    if max == -.infinity { return other }
    if other.max == -.infinity { return self }
    if max == .infinity || other.max == .infinity {
      let k = (max == .infinity ? excess + 1 : 0) + (other.max == .infinity ? other.excess + 1 : 0)
      return Self(max: .infinity, excess: k - 1)
    }
    // Both finite: rescale the smaller one. Ties pick the same order either way round.
    let selfIsHigher = max > other.max || (max == other.max && excess >= other.excess)
    let (hi, lo) = selfIsHigher ? (self, other) : (other, self)
    if abs(hi.max) < Scalar.nearLeastNormal && expOfDifference(lo.max, hi.max) < Scalar.leastNormalMagnitude {
      // A subnormal scale carries up to half a unit of error, which 1 + lo.excess multiplies
      // (found by FuzzShard: [0, -103 x 21] in Float split after 3 columns, 5.8 units where SPEC
      // allows 4). With hi.max that small, exp(lo.max - hi.max) = exp(lo.max) to within
      // |hi.max|, so the term is formed as ((1 + lo.excess) e^(lo.max + c)) e^-c, rounded once
      // (as in `rescaledExcess`).
      let c = Scalar.subnormalShift
      let term = ((1 + lo.excess) * expOfDifference(lo.max, -c)) * expOfDifference(-c, 0)
      return Self(max: hi.max, excess: hi.excess + term, compensation: hi.compensation)
    }
    // e^(lo.max - hi.max), the difference rounded and its error (`expOfDifference` puts the
    // error back too: the merge must not cost more accuracy than a single pass).
    let scale: DoubleWord<Scalar>
    if exactFor(selfIsHigher ? 1 : 0) {
      let d = DoubleWord.twoSum(lo.max, -hi.max)
      scale = DoubleWord.exp(d.hi, low: d.lo, using: m)
    } else {
      scale = DoubleWord(expOfDifference(lo.max, hi.max))
    }
    // hi.excess + (1 + lo.excess) * scale, every product and sum error kept in the low word.
    let p = DoubleWord.twoProduct(lo.excess, scale.hi)
    let s1 = DoubleWord.twoSum(hi.excess, scale.hi)
    let s2 = DoubleWord.twoSum(s1.hi, p.hi)
    let low = hi.compensation + s1.lo + s2.lo + p.lo + scale.lo + lo.excess * scale.lo + lo.compensation * scale.hi
    let total = DoubleWord.twoSum(s2.hi, low)
    return Self(max: hi.max, excess: total.hi, compensation: total.lo)
  }
}

extension VectorMath {
  /// The logsumexp partial of `n` elements: one read of the slice (`rowStatistics`).
  @inlinable @inline(__always)
  package static func logSumExpPartial(_ x: UnsafePointer<Storage>, count n: Int) -> LogSumExpPartial<Scalar> {
    switch rowStatistics(x, count: n, numeratorsTo: nil, chunkMax: nil) {
    case .nonFinite:
      switch classifyNonFinite(x, count: n) {
      case .nan: return LogSumExpPartial(max: .nan, excess: .nan)
      case .masked: return .empty
      case .positiveInfinity(let k): return LogSumExpPartial(max: .infinity, excess: Scalar(k - 1))
      }
    case .finite(let s):
      if s.max == -.infinity { return .empty }
      // rowMax skips NaN, the sum does not: a NaN slice is marked in `max` so that no merge hides it.
      if s.excess.isNaN { return LogSumExpPartial(max: .nan, excess: .nan) }
      let excess = excessNearLeastNormal(x, count: n, max: s.max, excess: s.excess)
      return excess == s.excess ? s : LogSumExpPartial(max: s.max, excess: excess)
    }
  }

  /// logsumexp from a partial: max + log1p(excess); -inf, +inf or NaN for the non-finite states.
  @inlinable @inline(__always)
  package static func logSumExp(_ s: LogSumExpPartial<Scalar>) -> Scalar {
    s.max.isFinite ? s.max + log1p(s.excess) : (s.max.isNaN ? .nan : s.max)
  }

  /// Row-wise partials into `out[r]`.
  @inlinable
  package static func logSumExpPartialRows(_ x: StridedRows<Storage>, to out: UnsafeMutablePointer<LogSumExpPartial<Scalar>>) {
    for r in 0..<x.rows { out[r] = logSumExpPartial(x.row(r), count: x.cols) }
  }

  /// e^(x - m) for scalars (`expOfDifference` on one lane).
  @inlinable @inline(__always)
  package static func expOfDifference(_ x: Scalar, _ m: Scalar) -> Scalar {
    expOfDifference(Vector(repeating: x), Vector(repeating: m))[0]
  }

  /// `a` merged with `b` (`LogSumExpPartial.merged`), with this backend's exp.
  @inlinable @inline(__always)
  package static func merge(_ a: LogSumExpPartial<Scalar>, _ b: LogSumExpPartial<Scalar>) -> LogSumExpPartial<Scalar> {
    a.merged(with: b, using: Self.self)
  }

  /// The running state of a row with one more chunk (`LogSumExpPartial.adding(chunk:)`).
  @inlinable @inline(__always)
  package static func add(chunk c: LogSumExpPartial<Scalar>, to running: LogSumExpPartial<Scalar>) -> LogSumExpPartial<Scalar> {
    running.adding(chunk: c, using: Self.self)
  }
}

extension VectorMath {
  /// Class-label cross-entropy of one slice of columns of every row (`x` holds the slice:
  /// columns `offset ..< offset + x.cols` of rows of `p.classes` columns), given each row's merged
  /// partial `states[r]` over all columns. Per-row contributions go to `losses`, the slice of the
  /// gradient to `gradient` (may be `x`); returns their sum. Summed over the slices of a row, the
  /// contributions equal the unsharded row loss (see `labelSliceLoss`).
  @inlinable
  package static func crossEntropyLabelSliceRows(
    _ x: StridedRows<Storage>, offset: Int, labels: UnsafePointer<Int32>,
    states: UnsafePointer<LogSumExpPartial<Scalar>>, _ p: CrossEntropyParameters<Scalar>, scale: Scalar,
    gradient: MutableStridedRows<Storage>?, losses: UnsafeMutablePointer<Scalar>?
  ) -> LossSum<Scalar> {
    let n = x.cols
    var sliceWeightSum = CompensatedScalarSum<Scalar>()
    for j in 0..<n { sliceWeightSum.add(p.weights.map { $0[offset &+ j] } ?? 1) }
    var total = LossSum<Scalar>()
    for r in 0..<x.rows {
      let t = labels[r]
      if let ignore = p.ignoreIndex, t == ignore {
        losses?[r] = 0
        if let gradient { fill(gradient.row(r), count: n, with: 0) }
        continue
      }
      let loss = labelSliceLoss(
        x.row(r), count: n, offset: offset, label: Int(t), state: states[r], p,
        sliceWeightSum: sliceWeightSum.total, scale: scale, gradient: gradient?.row(r))
      losses?[r] = loss.value
      total.add(loss)
    }
    return total
  }
}

extension LogSumExpPartial: Sendable where Scalar: Sendable {}
