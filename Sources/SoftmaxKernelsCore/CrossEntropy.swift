// Cross-entropy from logits, with class labels or probability targets, forward and fused
// forward+backward. The formulas (PyTorch's `cross_entropy` definitions plus PaLM's z-loss) are in
// `CrossEntropyParameters`. Memory passes over a row: max, then compensated sum of exp (the
// logsumexp partial), then at most one more pass that writes the gradient
// scale * (softmax - target) + z-loss term. Without label smoothing the second pass also stores
// exp(x_j - m) into the gradient row and the third only rescales it (one exp per element, as
// softmax); with smoothing or targets the third pass recomputes exp from x and accumulates the
// smoothing / target sums from the same loads. Forward-only with class labels and no smoothing
// reads just x_t after the first two.

/// The sum of the per-row losses of a call, and the same sum scaled down by
/// `shrink` = 2^-(maxExponent / 2), so that a mean of huge losses (whose plain sum, or a single
/// row's loss, overflows) is still finite whenever the exact mean is representable.
@frozen
@usableFromInline package struct LossSum<Scalar: BinaryFloatingPoint> {
  /// sum_r loss_r.
  @usableFromInline package var plain = CompensatedScalarSum<Scalar>()
  /// sum_r loss_r * shrink, each term scaled before it could overflow.
  @usableFromInline package var scaled = CompensatedScalarSum<Scalar>()
  /// A scaled loss was +-inf or NaN: the loss is not finite mathematically (then the plain sum
  /// is the answer).
  @usableFromInline package var nonFinite = false

  @inlinable
  package init() {}

  /// 2^-(maxExponent / 2): the scale of `scaled`.
  @inlinable
  package static var shrink: Scalar {
    Scalar(sign: .plus, exponent: -(Scalar.greatestFiniteMagnitude.exponent / 2), significand: 1)
  }

  /// Adds a loss that is the rounded exact value (+inf only where it is mathematically infinite).
  @inlinable @inline(__always)
  package mutating func add(_ x: Scalar) {
    add(RowLoss(value: x, scaled: x * Self.shrink))
  }

  /// Adds a loss with its scaled form (`value` may be +inf past the range while `scaled` is finite).
  @inlinable @inline(__always)
  package mutating func add(_ x: RowLoss<Scalar>) {
    plain.add(x.value)
    scaled.add(x.scaled)
    if !x.scaled.isFinite { nonFinite = true }
  }

  /// Adds the losses summed in `other` (another range of rows): its sums and their
  /// compensations, so the total stays compensated.
  @inlinable @inline(__always)
  package mutating func add(_ other: LossSum) {
    plain.add(other.plain.sum)
    plain.add(other.plain.compensation)
    scaled.add(other.scaled.sum)
    scaled.add(other.scaled.compensation)
    if other.nonFinite { nonFinite = true }
  }

  /// sum_r loss_r.
  @inlinable
  package var sum: Scalar { plain.total }

  /// sum_r loss_r / d (0 when d is 0), finite whenever the exact mean is representable.
  @inlinable
  package func mean(dividedBy d: Scalar) -> Scalar {
    if d == 0 { return 0 }
    let m = plain.total / d
    if m.isFinite || nonFinite { return m }
    return (scaled.total / d) / Self.shrink
  }
}

/// One row's loss, built term by term both as is (`value`, rounded: +inf past the range) and times
/// `LossSum.shrink` (`scaled`, finite for any term below 2^(maxExponent / 2) times the range), so a
/// reduction can divide a row loss that overflows back into range.
@frozen
@usableFromInline package struct RowLoss<Scalar: BinaryFloatingPoint> {
  @usableFromInline package var value: Scalar
  @usableFromInline package var scaled: Scalar

  @inlinable @inline(__always)
  package init(value: Scalar = 0, scaled: Scalar = 0) {
    self.value = value
    self.scaled = scaled
  }

  /// A loss that cannot overflow (or is not finite): scaled is value * shrink.
  @inlinable @inline(__always)
  package init(_ value: Scalar) { self.init(value: value, scaled: value * LossSum<Scalar>.shrink) }

  /// Adds a * (2 h) where h is finite whenever the term is at most twice the range.
  @inlinable @inline(__always)
  package mutating func add(_ a: Scalar, timesTwice h: Scalar) {
    value += 2 * (a * h)
    scaled += a * (h * (2 * LossSum<Scalar>.shrink))
  }

  /// Adds 2 h, given h and h * shrink (from a `GapSum`).
  @inlinable @inline(__always)
  package mutating func add(twice h: Scalar, scaledHalf hs: Scalar) {
    value += 2 * h
    scaled += 2 * hs
  }

  /// Adds z L^2 (the z-loss term).
  @inlinable @inline(__always)
  package mutating func add(_ z: Scalar, timesSquareOf l: Scalar) {
    value += z * l * l
    scaled += z * l * (l * LossSum<Scalar>.shrink)
  }

  /// A NaN loss (the row holds a NaN).
  @inlinable
  package static var nan: Self { Self(value: .nan, scaled: .nan) }
}

extension VectorMath {
  /// The class-label row loss without label smoothing: hard (L - x_t) + z L^2, with the hard term
  /// as hard * 2 ((m/2 - x_t/2) + lp/2) so that the half is finite whenever the exact value is
  /// (L = m + lp). 0 terms for hard = 0 or z = 0 (a masked x_t with weight 0 costs nothing).
  @inlinable @inline(__always)
  package static func hardLabelLoss(
    hard: Scalar, max m: Scalar, label xt: Scalar, log1pExcess lp: Scalar, zLoss z: Scalar
  ) -> RowLoss<Scalar> {
    var loss = RowLoss<Scalar>()
    if hard != 0 { loss.add(hard, timesTwice: (m / 2 - xt / 2) + lp / 2) }
    if z != 0 { loss.add(z, timesSquareOf: m + lp) }
    return loss
  }

  /// Adds 2 (gap + rest) to `loss`, with the gap's plain and scaled sums (`GapSum`) and `rest`
  /// scaled likewise; a gap NaN only from an infinite term counts as +inf (`finiteOrInfinite`).
  @inlinable @inline(__always)
  package static func addGap(
    _ gap: (plain: Scalar, scaled: Scalar), plus rest: Scalar, unless witness: Scalar, to loss: inout RowLoss<Scalar>
  ) {
    loss.add(
      twice: finiteOrInfinite(gap.plain, unless: witness) + rest,
      scaledHalf: finiteOrInfinite(gap.scaled, unless: witness) + rest * LossSum<Scalar>.shrink)
  }

  /// A sum of terms >= 0 that came out NaN only because a term was +inf (a masked class with a
  /// nonzero weight, or an overflowing gap) and compensation met inf - inf: it is +inf. `witness`
  /// is NaN when the row really holds a NaN (then NaN stays).
  @inlinable @inline(__always)
  package static func finiteOrInfinite(_ s: Scalar, unless witness: Scalar) -> Scalar {
    s.isNaN && !witness.isNaN ? .infinity : s
  }

  /// The class-label cross-entropy contribution of the columns `offset ..< offset + n` of one row
  /// whose label `t` is not ignored, given the logsumexp partial `s` of the whole row:
  ///   (1 - eps) w_t (L - x_t) + z L^2    if t is in the slice
  ///   + eps/C sum_{j in slice} w_j (L - x_j)
  /// Over all slices of a row these add up to the row's loss. When `g` is not nil it receives
  /// scale * d(loss)/dx_j = scale * (p_j ((1 - eps) w_t + eps W / C + 2 z L) - eps/C w_j
  /// - [j = t] (1 - eps) w_t) for the slice's columns; `g` may be `x` (in place).
  @inlinable
  package static func labelSliceLoss(
    _ x: UnsafePointer<Storage>, count n: Int, offset: Int, label t: Int, state s: LogSumExpPartial<Scalar>,
    _ p: CrossEntropyParameters<Scalar>, sliceWeightSum: Scalar, scale: Scalar,
    gradient g: UnsafeMutablePointer<Storage>?
  ) -> RowLoss<Scalar> {
    let eps = p.labelSmoothing, z = p.zLoss
    let inSlice = t >= offset && t < offset &+ n
    let wt = p.weights.map { $0[t] } ?? 1
    let hard = (1 - eps) * wt  // weight of the one-hot part
    let soft = eps / Scalar(p.classes)  // times w_j: weight of the uniform part
    let sliceWeights = p.weights.map { $0 + offset }
    guard s.max.isFinite else {
      return RowLoss(nonFiniteLabelSlice(x, count: n, offset: offset, label: t, state: s, p, scale: scale, gradient: g))
    }
    let m = s.max, lp = log1p(s.excess), lse = m + lp
    let xt = inSlice ? element(x, t &- offset) : 0  // read before the gradient may overwrite it
    var loss = inSlice ? hardLabelLoss(hard: hard, max: m, label: xt, log1pExcess: lp, zLoss: z) : RowLoss<Scalar>()
    // The gap terms sum to at most f W_slice times the largest finite value.
    let alsoScaled = !(soft * sliceWeightSum <= 0.5)
    var gap: (plain: Scalar, scaled: Scalar) = (0, 0)
    if let g {
      let sum = 1 + s.excess
      let a = scale * (hard + soft * p.weightSum) / sum, c = 2 * z * scale / sum
      let b = scale * soft
      gap = labelGradient(
        x, count: n, minus: m, expTimes: a, plus: c, times: lse, weightsTimes: b, weights: sliceWeights, to: g,
        accumulateGap: eps != 0, gapFactor: soft, alsoScaled: alsoScaled)
      if inSlice {
        g[t &- offset] = narrow((ExpFactor<Self>.scalar(exp(xt - m), a, plus: c, times: lse) - wt * b) - scale * hard)
      }
    } else if eps != 0 {
      gap = weightedGapSum(x, count: n, from: m, weights: sliceWeights, factor: soft, alsoScaled: alsoScaled)
    }
    // gap is half of eps/C sum_j w_j (m - x_j).
    if eps != 0 { addGap(gap, plus: soft * ((lp / 2) * sliceWeightSum), unless: s.excess, to: &loss) }
    // A NaN in the row (the max skips it, the sum does not) makes the loss NaN even when every
    // coefficient is 0.
    return s.excess.isNaN ? .nan : loss
  }

  /// The fused class-label row without label smoothing (the common case), with one exp per
  /// element: max; exp(x_j - m) stored into the gradient row while summing (as softmax does);
  /// then one pass scaling it by scale * (w_t + 2 z L) / sum, and g_t -= scale * w_t. Same three
  /// passes over memory as `labelSliceLoss`, no weights read per element. `g` may be `x` (x_t is
  /// read first). Returns nil, having written nothing, for a row whose max is not finite or whose
  /// |max| is below `nearLeastNormal` (0 included): `excessNearLeastNormal` may need to read the
  /// logits again after the sum has overwritten them in place, and the in-place and separate
  /// calls must give the same bits. The caller takes the general path (two exps per element).
  @inlinable @inline(__always)
  package static func labelGradientWithoutSmoothing(
    _ x: UnsafePointer<Storage>, count n: Int, label t: Int, _ p: CrossEntropyParameters<Scalar>, scale: Scalar,
    gradient g: UnsafeMutablePointer<Storage>
  ) -> RowLoss<Scalar>? {
    let m = rowMax(x, count: n)
    guard m.isFinite, abs(m) >= nearLeastNormal else { return nil }
    let xt = element(x, t)
    let excess = expSumMinusOne(x, count: n, minus: m, storingTo: storesScalars ? scalars(g) : nil, rowLength: n)
    guard !excess.isNaN else {  // a NaN in the row
      fill(g, count: n, with: .nan)
      return .nan
    }
    let z = p.zLoss, hard = p.weights.map { $0[t] } ?? 1
    let lp = log1p(excess), lse = m + lp, sum = 1 + excess
    let f = ExpFactor<Self>(scale * hard / sum, plus: 2 * z * scale / sum, times: lse)
    if storesScalars {
      Self.scale(g, by: f, count: n)
      g[t] = narrow(widen(g[t]) - scale * hard)
    } else {
      // 16-bit storage: the numerators were not kept; recompute them (`numerator`, same bits)
      // and round each gradient once, g_t from its Float value.
      numeratorsScaled(x, count: n, minus: m, by: { f.times($0) }, to: g)
      let mv = Vector(repeating: m)
      g[t] = narrow(f.times(numerator(Vector(repeating: xt), mv, grouped: abs(m) >= 4))[0] - scale * hard)
    }
    return hardLabelLoss(hard: hard, max: m, label: xt, log1pExcess: lp, zLoss: z)
  }

  /// `labelSliceLoss` for a row whose max is not finite (scalar; rare):
  /// NaN row -> NaN loss and gradient; fully masked -> +inf loss (from the slice holding the
  /// label), gradient 0; k entries +inf -> the limit: p_j = 1/k on them, L - x_j = log k there
  /// and +inf elsewhere, and the z-loss term +inf.
  @inlinable
  package static func nonFiniteLabelSlice(
    _ x: UnsafePointer<Storage>, count n: Int, offset: Int, label t: Int, state s: LogSumExpPartial<Scalar>,
    _ p: CrossEntropyParameters<Scalar>, scale: Scalar, gradient g: UnsafeMutablePointer<Storage>?
  ) -> Scalar {
    let inSlice = t >= offset && t < offset &+ n
    if s.max.isNaN {
      if let g { fill(g, count: n, with: .nan) }
      return .nan
    }
    if s.max == -.infinity {
      if let g { fill(g, count: n, with: 0) }
      return inSlice ? .infinity : 0
    }
    let eps = p.labelSmoothing, z = p.zLoss
    let wt = p.weights.map { $0[t] } ?? 1
    let hard = (1 - eps) * wt, soft = eps / Scalar(p.classes)
    let k = s.excess + 1, logk = log(k)
    var loss: Scalar = 0
    if inSlice {
      if hard != 0 { loss += hard * (element(x, t &- offset) == .infinity ? logk : .infinity) }
      if z != 0 { loss += .infinity }
    }
    let a = hard + soft * p.weightSum
    for j in 0..<n {
      let xj = element(x, j), wj = p.weights.map { $0[offset &+ j] } ?? 1
      if soft != 0 && wj != 0 { loss += soft * wj * (xj == .infinity ? logk : .infinity) }
      if let g {
        let pj: Scalar = xj == .infinity ? 1 / k : 0
        var gj = pj * a - soft * wj - (offset &+ j == t ? hard : 0)
        if z != 0 && pj > 0 { gj = .infinity }
        g[j] = narrow(scale == 0 ? 0 : scale * gj)
      }
    }
    return loss
  }

  /// Row-wise class-label cross-entropy: per-row losses to `losses` (0 for ignored rows) when not
  /// nil, the gradient (times `scale`) to `gradient` when not nil (may be the logits, in place);
  /// returns the sum of the per-row losses (compensated; its rounding depends only on the rows
  /// and their split over threads). Labels are valid (checked by the caller). Without label
  /// smoothing, rows shorter than `rowBlockLimit` go `width` at a time (`labelRowBlock`); the
  /// rows a block leaves, and all others, go one at a time (`labelRow`).
  @inlinable
  package static func crossEntropyLabelRows(
    _ x: StridedRows<Storage>, labels: UnsafePointer<Int32>, _ p: CrossEntropyParameters<Scalar>,
    scale: Scalar, gradient: MutableStridedRows<Storage>?, losses: UnsafeMutablePointer<Scalar>?
  ) -> LossSum<Scalar> {
    let n = x.cols
    guard p.labelSmoothing == 0, usesRowBlocks(n) else {
      var total = LossSum<Scalar>()
      for r in 0..<x.rows {
        let loss = labelRow(x, labels: labels, p, scale: scale, gradient: gradient, row: r)
        losses?[r] = loss.value
        total.add(loss)
      }
      return total
    }
    return sumRowBlockLosses(rows: x.rows, count: n, losses: losses) { r, lanes, c in
      labelRowBlock(
        x.row(r), stride: x.stride, count: n, lanes: lanes, labels: labels + r, p, scale: scale,
        gradient: gradient?.row(r), stride: gradient?.stride ?? 0, columns: c)
    } otherwise: { r in
      labelRow(x, labels: labels, p, scale: scale, gradient: gradient, row: r)
    }
  }

  /// The class-label cross-entropy of row `r` (see `crossEntropyLabelRows`).
  @inlinable @inline(__always)
  package static func labelRow(
    _ x: StridedRows<Storage>, labels: UnsafePointer<Int32>, _ p: CrossEntropyParameters<Scalar>,
    scale: Scalar, gradient: MutableStridedRows<Storage>?, row r: Int
  ) -> RowLoss<Scalar> {
    let n = x.cols, t = labels[r]
    if let ignore = p.ignoreIndex, t == ignore {
      if let gradient { fill(gradient.row(r), count: n, with: 0) }
      return RowLoss()
    }
    let xr = x.row(r)
    if let g = gradient?.row(r), p.labelSmoothing == 0, n > 0,
      let loss = labelGradientWithoutSmoothing(xr, count: n, label: Int(t), p, scale: scale, gradient: g)
    {
      return loss
    }
    let s = logSumExpPartial(xr, count: n)
    return labelSliceLoss(
      xr, count: n, offset: 0, label: Int(t), state: s, p, sliceWeightSum: p.weightSum, scale: scale,
      gradient: gradient?.row(r))
  }

  /// Row-wise probability-target cross-entropy: loss_r = sum_j c_j (L - x_j) + z L^2 with
  /// c_j = w_j ((1 - eps) p_j + eps/C) (a term with c_j = 0 is 0 even where x_j = -inf), and the
  /// gradient scale * (p_j (Q + 2 z L) - c_j), Q = sum_j c_j. Returns the sum of the row losses.
  /// Rows shorter than `rowBlockLimit` go `width` at a time (`targetRowBlock`); the rows a block
  /// leaves, and all others, go one at a time (`targetRow`).
  @inlinable
  package static func crossEntropyTargetRows(
    _ x: StridedRows<Storage>, targets: StridedRows<Storage>, _ p: CrossEntropyParameters<Scalar>,
    scale: Scalar, gradient: MutableStridedRows<Storage>?, losses: UnsafeMutablePointer<Scalar>?
  ) -> LossSum<Scalar> {
    let n = x.cols
    guard usesRowBlocks(n) else {
      var total = LossSum<Scalar>()
      for r in 0..<x.rows {
        let loss = targetRow(x, targets: targets, p, scale: scale, gradient: gradient, row: r)
        losses?[r] = loss.value
        total.add(loss)
      }
      return total
    }
    return sumRowBlockLosses(rows: x.rows, count: n, losses: losses) { r, lanes, c in
      targetRowBlock(
        x.row(r), stride: x.stride, targets: targets.row(r), stride: targets.stride, count: n, lanes: lanes, p,
        scale: scale, gradient: gradient?.row(r), stride: gradient?.stride ?? 0, columns: c)
    } otherwise: { r in
      targetRow(x, targets: targets, p, scale: scale, gradient: gradient, row: r)
    }
  }

  /// The probability-target cross-entropy of row `r` (see `crossEntropyTargetRows`).
  @inlinable @inline(__always)
  package static func targetRow(
    _ x: StridedRows<Storage>, targets: StridedRows<Storage>, _ p: CrossEntropyParameters<Scalar>,
    scale: Scalar, gradient: MutableStridedRows<Storage>?, row r: Int
  ) -> RowLoss<Scalar> {
    let n = x.cols
    let keep = 1 - p.labelSmoothing, floor = p.labelSmoothing / Scalar(p.classes), z = p.zLoss
    let xr = x.row(r), pr = targets.row(r), gr = gradient?.row(r)
    let s = logSumExpPartial(xr, count: n)
    let q = targetMass(pr, count: n, keep: keep, floor: floor, weights: p.weights)
    guard s.max.isFinite else {
      return RowLoss(nonFiniteTargetRow(xr, pr, count: n, state: s, keep: keep, floor: floor, mass: q, p, scale: scale, gradient: gr))
    }
    var loss = RowLoss<Scalar>()
    let m = s.max, lp = log1p(s.excess), lse = m + lp
    let sum = 1 + s.excess
    let gap = targetPass(
      xr, pr, count: n, minus: m, keep: keep, floor: floor, smoothed: p.labelSmoothing != 0, weights: p.weights,
      expTimes: scale * q / sum,
      plus: 2 * z * scale / sum, times: lse, scale: scale, to: gr, alsoScaled: !(q <= 0.5))
    // gap is half of sum_j c_j (m - x_j).
    addGap(gap, plus: (lp / 2) * q, unless: s.excess + q, to: &loss)
    if z != 0 { loss.add(z, timesSquareOf: lse) }
    return loss
  }

  /// A probability-target row whose max is not finite (scalar; rare): NaN -> NaN; fully masked ->
  /// +inf loss, gradient 0; k entries +inf -> the limit (p_j = 1/k on them).
  @inlinable
  package static func nonFiniteTargetRow(
    _ x: UnsafePointer<Storage>, _ t: UnsafePointer<Storage>, count n: Int, state s: LogSumExpPartial<Scalar>,
    keep: Scalar, floor: Scalar, mass q: Scalar, _ p: CrossEntropyParameters<Scalar>, scale: Scalar,
    gradient g: UnsafeMutablePointer<Storage>?
  ) -> Scalar {
    if s.max.isNaN {
      if let g { fill(g, count: n, with: .nan) }
      return .nan
    }
    if s.max == -.infinity {
      if let g { fill(g, count: n, with: 0) }
      return .infinity
    }
    let k = s.excess + 1, logk = log(k)
    var loss: Scalar = p.zLoss != 0 ? .infinity : 0
    for j in 0..<n {
      let xj = element(x, j), tj = element(t, j), wj = p.weights.map { $0[j] } ?? 1, c = wj * (keep * tj + floor)
      // Zero only when the exact coefficient is (not when w_j t_j or eps / C underflows).
      if wj != 0 && (p.labelSmoothing != 0 || tj != 0) { loss += xj == .infinity ? c * logk : .infinity }
      if let g {
        let pj: Scalar = xj == .infinity ? 1 / k : 0
        g[j] = narrow(scale == 0 ? 0 : (p.zLoss != 0 && pj > 0 ? scale * .infinity : scale * (pj * q - c)))
      }
    }
    return loss
  }
}
