// Cross-entropy on short rows (W1: 8192 x 10), `width` rows at a time through the row blocks, as
// softmax does (`RowBlock`): the same max, exp and compensated sum per lane, then per lane
// L = m + log1p(excess) and the loss, and (when asked for) the gradient written column by column
// from the exps still in the scratch.
//
// - Class labels without label smoothing (`labelRowBlock`): the loss from x_t, and the gradient
//   scale * (p_j (w_t + 2 z L) - [j = t] w_t), g_t included: it is the column holding the label
//   minus scale * w_t in that lane only, from its unrounded value (so a 16-bit gradient is
//   rounded once).
// - Probability targets, any smoothing (`targetRowBlock`): one more pass over the target columns
//   for Q = sum_j c_j and the gap sum_j c_j (m - x_j) / 2, and the gradient
//   scale * (p_j (Q + 2 z L) - c_j), c_j recomputed from the target column.
//
// Every load of the logits precedes every store, so the gradient may be the logits (in place) with
// the same bits. A lane whose row is ignored, whose logits hold a NaN or whose max is not finite is
// left unwritten by the block and done by the row path (NaN targets the block does itself). Whole blocks add their losses lane-wise;
// the other rows are added one by one (`sumRowBlockLosses`).

extension ExpFactor {
  /// The factor a + c l per lane (rows of a block, each with its own coefficients).
  @inlinable @inline(__always)
  package init(lanes a: M.Vector, plus c: M.Vector, times l: M.Vector) {
    let f = a + c * l
    self.a = a
    self.c = c
    self.l = l
    self.f = f
    overflows = !(M.horizontalSum(f - f) == 0)
  }

  /// e * f per lane, each lane as `scalar` computes it (so a lane whose factor overflows does not
  /// change the others).
  @inlinable @inline(__always)
  package func timesPerLane(_ e: M.Vector) -> M.Vector {
    guard overflows else { return e * f }
    var out = e
    for k in 0..<M.Vector.scalarCount { out[k] = Self.scalar(e[k], a[k], plus: c[k], times: l[k]) }
    return out
  }
}

extension VectorMath {
  /// Cross-entropy of the `lanes` rows at `x` (labels `labels[0..<lanes]`, no label smoothing):
  /// each handled row's loss (as `hardLabelLoss`, lane by lane: the loss and its scaled form),
  /// and its gradient (when `g` is not nil) into row k of `g`. The returned maxima are NaN in the
  /// lanes it did not handle (ignored label, NaN in the row, max not finite): those rows are not
  /// written and their losses are meaningless.
  @inlinable @inline(__always)
  package static func labelRowBlock(
    _ x: UnsafePointer<Storage>, stride xs: Int, count n: Int, lanes: Int, labels: UnsafePointer<Int32>,
    _ p: CrossEntropyParameters<Scalar>, scale: Scalar, gradient g: UnsafeMutablePointer<Storage>?, stride gs: Int,
    columns c: UnsafeMutablePointer<Vector>
  ) -> (max: Vector, loss: Vector, scaledLoss: Vector) {
    let (m0, raw) = rowBlockStatistics(x, stride: xs, count: n, lanes: lanes, columns: c)
    let excess = rowBlockExcessNearLeastNormal(x, stride: xs, count: n, lanes: lanes, max: m0, excess: raw)
    let lp = log1p(excess), lse = m0 + lp
    // Per lane: the label (as a Scalar, -1 where not handled), w_t and x_t.
    var m = m0, hard = Vector(), label = Vector(repeating: -1), xt = Vector()
    let handled = horizontalSum((m0 - m0) + (excess - excess)) == 0  // every lane finite, no NaN
    for k in 0..<lanes {
      let t = labels[k]
      if let ignore = p.ignoreIndex, t == ignore {
        m[k] = .nan
        continue
      }
      if !handled && !(m0[k] - m0[k] == 0 && excess[k] == excess[k]) {
        m[k] = .nan
        continue
      }
      hard[k] = p.weights.map { $0[Int(t)] } ?? 1
      label[k] = Scalar(t)
      xt[k] = c[Int(t)][k]
    }
    // hardLabelLoss per lane: hard * 2 ((m/2 - x_t/2) + lp/2) (0 where hard is 0) + z L^2.
    let half = (m0 * 0.5 - xt * 0.5) + lp * 0.5
    var loss = Vector() + zeroWhereZero(hard, else: 2 * (hard * half))
    var scaledLoss = Vector() + zeroWhereZero(hard, else: hard * (half * (2 * LossSum<Scalar>.shrink)))
    if p.zLoss != 0 {
      let zl = p.zLoss * lse
      loss += zl * lse
      scaledLoss += zl * (lse * LossSum<Scalar>.shrink)
    }
    guard let g else { return (m, loss, scaledLoss) }
    let sum = 1 + excess, s = Vector(repeating: scale)
    let f = ExpFactor<Self>(lanes: s * hard / sum, plus: Vector(repeating: 2 * p.zLoss * scale) / sum, times: lse)
    let sh = s * hard, e = c + n
    storeRowBlock(count: n, lanes: lanes, max: m, to: g, stride: gs) { j in
      let v = f.timesPerLane(e[j])
      return ifNegative(-onesWhereEqual(label, Vector(repeating: Scalar(j))), v - sh, else: v)
    }
    return (m, loss, scaledLoss)
  }

  /// Probability-target cross-entropy of the `lanes` rows at `x` (targets at `t`, any label
  /// smoothing): each handled row's loss (as `targetRow`, lane by lane: the loss and its scaled
  /// form) and its gradient (when `g` is not nil) into row k of `g`. The returned maxima are NaN
  /// in the lanes it did not handle (NaN in the row, max not finite): those rows are not written
  /// and their losses are meaningless. The targets may not alias `g` (validation rejects it).
  @inlinable @inline(__always)
  package static func targetRowBlock(
    _ x: UnsafePointer<Storage>, stride xs: Int, targets t: UnsafePointer<Storage>, stride ts: Int, count n: Int,
    lanes: Int, _ p: CrossEntropyParameters<Scalar>, scale: Scalar, gradient g: UnsafeMutablePointer<Storage>?,
    stride gs: Int, columns c: UnsafeMutablePointer<Vector>
  ) -> (max: Vector, loss: Vector, scaledLoss: Vector) {
    let (m0, raw) = rowBlockStatistics(x, stride: xs, count: n, lanes: lanes, columns: c)
    let excess = rowBlockExcessNearLeastNormal(x, stride: xs, count: n, lanes: lanes, max: m0, excess: raw)
    let m = m0 + (excess - excess)  // NaN where the row holds a NaN
    let keep = Vector(repeating: 1 - p.labelSmoothing), floor = Vector(repeating: p.labelSmoothing / Scalar(p.classes))
    let shrink = Vector(repeating: LossSum<Scalar>.shrink), halfMax = m0 * 0.5
    // c_j = w_j (keep p_j + floor), exactly 0 only where w_j is 0 or (without smoothing) p_j is
    // 0, as in `targetPass`: then its term is 0 even where x_j = -inf.
    let byTarget = p.labelSmoothing == 0
    @inline(__always) func coefficient(_ j: Int) -> (c: Vector, zero: Vector) {
      let pv = readColumn(t + j, stride: ts, lanes: lanes), wv = Vector(repeating: p.weights.map { $0[j] } ?? 1)
      return (wv * (pv * keep + floor), byTarget ? min(wv, pv) : wv)
    }
    // Q = sum_j c_j, and half of sum_j c_j (m - x_j), plain and times `shrink` (as `GapSum`).
    var mass = CompensatedSum<Vector>(), gap = CompensatedSum<Vector>(), gapScaled = CompensatedSum<Vector>()
    for j in 0..<n {
      let (cj, zero) = coefficient(j), d = halfMax - c[j] * 0.5
      mass.add(cj)
      gap.add(zeroWhereZero(zero, else: cj * d))
      gapScaled.add(zeroWhereZero(zero, else: (cj * shrink) * d))
    }
    var q = mass.sum + mass.compensation
    if !(horizontalSum(q - q) == 0) {
      // `CompensatedSum.total`'s guard per lane: a mass that overflows has a NaN compensation
      // (inf - inf); its sum (+inf) is the answer. A NaN target keeps the sum NaN.
      for k in 0..<lanes where q[k].isNaN { q[k] = mass.sum[k] }
    }
    var half = gap.sum + gap.compensation, halfScaled = gapScaled.sum + gapScaled.compensation
    if !(horizontalSum((half - half) + (halfScaled - halfScaled)) == 0) {
      // `finiteOrInfinite` per lane: a NaN only from an infinite term (a masked class with target
      // mass) is +inf, unless the row or its targets hold a NaN.
      let witness = excess + q
      for k in 0..<lanes {
        half[k] = finiteOrInfinite(half[k], unless: witness[k])
        halfScaled[k] = finiteOrInfinite(halfScaled[k], unless: witness[k])
      }
    }
    let lp = log1p(excess), lse = m0 + lp, rest = (lp * 0.5) * q
    var loss = 2 * (half + rest), scaledLoss = 2 * (halfScaled + rest * shrink)
    if p.zLoss != 0 {
      let zl = p.zLoss * lse
      loss += zl * lse
      scaledLoss += zl * (lse * shrink)
    }
    guard let g else { return (m, loss, scaledLoss) }
    let s = Vector(repeating: scale), sum = 1 + excess
    let f = ExpFactor<Self>(lanes: s * q / sum, plus: Vector(repeating: 2 * p.zLoss * scale) / sum, times: lse)
    let e = c + n
    storeRowBlock(count: n, lanes: lanes, max: m, to: g, stride: gs) { j in
      f.timesPerLane(e[j]) - coefficient(j).c * s
    }
    return (m, loss, scaledLoss)
  }

  /// The cross-entropy of `rows` rows of `n` elements (`usesRowBlocks(n)`), `width` at a time:
  /// `block(r, lanes, columns)` for r = 0, width, 2 width, ... (`lanes` = the rows left, at most
  /// `width`; it returns each row's max, loss and scaled loss, the max not finite in the lanes it
  /// left), then `row(r + k)` for each lane it left. Stores each row's loss to `losses` when not
  /// nil and returns their sum: whole blocks whose rows are all handled add their losses
  /// lane-wise (the plain and the scaled sums, and NaN in `check` once a scaled loss is not
  /// finite), folded once per call; the other rows are added one by one.
  @inlinable @inline(__always)
  package static func sumRowBlockLosses(
    rows: Int, count n: Int, losses: UnsafeMutablePointer<Scalar>?,
    _ block: (_ r: Int, _ lanes: Int, _ columns: UnsafeMutablePointer<Vector>) -> (max: Vector, loss: Vector, scaledLoss: Vector),
    otherwise row: (_ r: Int) -> RowLoss<Scalar>
  ) -> LossSum<Scalar> {
    let w = width
    // The block's columns (2n vectors) on the stack, as `forEachRowBlock`.
    precondition(2 &* n <= 256, "row blocks are for rows of fewer than 8 vectors of at most 16 lanes")
    var scratch = InlineArray<256, Vector>(repeating: Vector())
    var columns = scratch.mutableSpan
    // The sums stay locals of the closure (in registers), not captured variables.
    return columns.withUnsafeMutableBufferPointer { columns in
      let c = columns.baseAddress!
      var total = LossSum<Scalar>()
      var plain = CompensatedSum<Vector>(), scaled = CompensatedSum<Vector>(), check = Vector()
      var r = 0
      while r < rows {
        let lanes = Swift.min(w, rows &- r)
        // A constant `width` in the usual case, so its loops over lanes unroll.
        let b = lanes == w ? block(r, w, c) : block(r, lanes, c)
        if lanes == w && horizontalSum(b.max - b.max) == 0 {
          if let losses { store(b.loss, to: losses + r) }
          plain.add(b.loss)
          scaled.add(b.scaledLoss)
          check += b.scaledLoss - b.scaledLoss
          r &+= w
          continue
        }
        for k in 0..<lanes {
          let loss = isFinite(b.max, lane: k) ? RowLoss(value: b.loss[k], scaled: b.scaledLoss[k]) : row(r &+ k)
          losses?[r &+ k] = loss.value
          total.add(loss)
        }
        r &+= w
      }
      var lanewise = LossSum<Scalar>()
      lanewise.plain.add(plain.total(merging: CompensatedSum(), using: Self.self))
      lanewise.scaled.add(scaled.total(merging: CompensatedSum(), using: Self.self))
      lanewise.nonFinite = !(horizontalSum(check) == 0)
      total.add(lanewise)
      return total
    }
  }
}
