// Class-label cross-entropy without label smoothing on short rows (W1: 8192 x 10), `width` rows at
// a time through the row blocks, as softmax does (`RowBlock`): the same max, exp and compensated
// sum per lane, then per lane L = m + log1p(excess), the loss from x_t, and (when asked for) the
// gradient scale * (p_j (w_t + 2 z L) - [j = t] w_t) written column by column from the exps
// still in registers, g_t included: it is the column holding the label minus scale * w_t in that
// lane only, from its unrounded value (so a 16-bit gradient is rounded once).
//
// Every load precedes every store, so the gradient may be the logits (in place) with the same
// bits. A lane whose row is ignored, holds a NaN or has a max that is not finite is left
// unwritten by the block and done by the row path. Whole blocks add their losses lane-wise;
// the other rows are added one by one (`crossEntropyLabelRows`).

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
}
