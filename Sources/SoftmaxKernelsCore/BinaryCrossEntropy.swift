// Binary cross-entropy with logits, elementwise. PyTorch's
//   loss = (1 - t) x + (1 + (pw - 1) t) (log1p(exp(-|x|)) + max(-x, 0))
// is evaluated in the equal form (x = max(x, 0) - max(-x, 0))
//   loss = (1 - t) max(x, 0) + pw t max(-x, 0) + (1 + (pw - 1) t) log1p(exp(-|x|))
// whose terms are all >= 0 for t in [0, 1], so nothing cancels for any finite x (and a zero
// coefficient times an infinite x counts as 0); 1 + (pw - 1) t is formed as (1 - t) + pw t, which
// does not cancel either. The gradient is
//   d loss / dx = (1 - t) sigmoid(x) - pw t sigmoid(-x),
// with sigmoid(|x|) = 1 / (1 + e) and sigmoid(-|x|) = e / (1 + e), e = exp(-|x|): one exp per element.

extension VectorMath {
  /// Row-wise BCE with logits over `rows x cols` (`posWeight` has `cols` entries or is nil for
  /// all 1): elementwise losses to `losses`, scale * gradient to `gradient` (either may be nil;
  /// `gradient` may be the logits), returns the sum of the losses with its scaled form for the
  /// mean (`LossSum`): one lane-wise compensated sum over the whole matrix taken as one stream
  /// (element k of the stream in lane k mod width, whatever the strides), folded once at the end.
  @inlinable
  package static func binaryCrossEntropyRows(
    _ x: StridedRows<Storage>, targets t: StridedRows<Storage>, posWeight: UnsafePointer<Scalar>?, scale: Scalar,
    losses: MutableStridedRows<Scalar>?, gradient: MutableStridedRows<Storage>?
  ) -> LossSum<Scalar> {
    let n = x.cols, w = width
    var total = LossSum<Scalar>()
    guard n > 0 else { return total }
    let one = Vector(repeating: 1), zero = Vector(), sv = Vector(repeating: scale)
    let shrink = Vector(repeating: LossSum<Scalar>.shrink)
    @inline(__always) func element(_ xv: Vector, _ tv: Vector, _ pw: Vector) -> (loss: Vector, grad: Vector) {
      let ax = max(xv, -xv)
      let e = exp(-ax)
      let hi = 1 / (1 + e), lo = e * hi  // sigmoid(|x|), sigmoid(-|x|)
      let negCoef = one - tv, posCoef = pw * tv
      // pw (t max(-x, 0)), not (pw t) max(-x, 0), for t <= 1: a subnormal t (1e-45 in Float)
      // makes pw t subnormal, rounded by up to half a unit, which max(-x, 0) = 4.6e22 multiplies
      // (found by FuzzBinaryCrossEntropy: 4% off). A target above 1 keeps (pw t) first, so that
      // t max(-x, 0) cannot overflow alone.
      let nx = max(-xv, zero)
      let posTerm = ifNegative(one - tv, posCoef * nx, else: pw * (tv * nx))
      // The positive term is 0 only where pw or t is (pw t may underflow to 0 from a nonzero
      // product: t = 5e-324 and pw = 0.34 against x = -1e30, FuzzBinaryCrossEntropy).
      let l = zeroWhereZero(negCoef, else: negCoef * max(xv, zero))
        + zeroWhereZero(pw, else: zeroWhereZero(tv, else: posTerm))
        + (negCoef + posCoef) * log1pOnUnitInterval(e)
      let g = negCoef * ifNegative(xv, lo, else: hi) - posCoef * ifNegative(xv, hi, else: lo)
      return (l, g * sv)
    }
    // `scaled` = sum of loss * shrink: the sum for a mean when the plain sum overflows, and a
    // witness: every loss is >= 0, so if the plain sum is NaN while the scaled one is not, a term
    // (or the sum) was past the range (compensation met inf - inf). It runs plainly over at most
    // 256 vectors (`part`), then into a compensated sum.
    //
    // The matrix is one stream of rows * cols elements, taken w at a time: element k (row k / cols,
    // column k % cols) is always in lane k mod w, so a row of 10 does not leave 6 of 16 lanes idle,
    // and the sum's bits depend on the shape only, never on the strides. A vector inside one row,
    // or anywhere when every matrix is gap-free (stride == cols), is read and written in place;
    // one that spans rows of a padded matrix goes lane by lane, and so do the weights of a vector
    // that spans rows.
    var s = CompensatedSum<Vector>(), scaled = CompensatedSum<Vector>(), part = Vector()
    let count = x.rows &* n
    let gapFree = x.stride == n && t.stride == n && (losses?.stride ?? n) == n && (gradient?.stride ?? n) == n
    // body(lane, row, column) for lanes 0..<c of the stream from row r, column j.
    @inline(__always) func forEachLane(_ r: Int, _ j: Int, _ c: Int, _ body: (Int, Int, Int) -> Void) {
      var rr = r, jj = j
      for lane in 0..<c {
        body(lane, rr, jj)
        jj &+= 1
        if jj == n { jj = 0; rr &+= 1 }
      }
    }
    // Lanes 0..<c of the stream from row r, column j; 0 past c.
    @inline(__always) func gather(_ m: StridedRows<Storage>, _ r: Int, _ j: Int, _ c: Int) -> Vector {
      var v = Vector()
      forEachLane(r, j, c) { v[$0] = widen(m.row($1)[$2]) }
      return v
    }
    var k = 0, r = 0, j = 0, vectors = 0
    while k < count {
      let c = Swift.min(w, count &- k)
      let full = c == w, inRow = j &+ c <= n, direct = inRow || gapFree
      let pw: Vector
      if let posWeight {
        if inRow {
          pw = full ? load(posWeight + j) : load(posWeight + j, count: c, padding: 1)
        } else {
          var v = one
          forEachLane(r, j, c) { v[$0] = posWeight[$2] }
          pw = v
        }
      } else {
        pw = one
      }
      var (l, g): (Vector, Vector)
      if direct {
        let xp = x.row(r) + j, tp = t.row(r) + j
        (l, g) = full ? element(read(xp), read(tp), pw) : element(read(xp, count: c, padding: 0), read(tp, count: c, padding: 0), pw)
        if let losses {
          if full { store(l, to: losses.row(r) + j) } else { store(l, to: losses.row(r) + j, count: c) }
        }
        if let gradient {
          if full { write(g, to: gradient.row(r) + j) } else { write(g, to: gradient.row(r) + j, count: c) }
        }
      } else {
        (l, g) = element(gather(x, r, j, c), gather(t, r, j, c), pw)
        forEachLane(r, j, c) { lane, row, column in
          losses?.row(row)[column] = l[lane]
          gradient?.row(row)[column] = narrow(g[lane])
        }
      }
      // Padded lanes (x = 0, t = 0) have loss log 2: mask them out of the sum.
      if !full { l = zeroWhereZero(tailOnes(c), else: l) }
      s.add(l)
      part += l * shrink
      vectors &+= 1
      if vectors & 255 == 0 {
        scaled.add(part)
        part = Vector()
      }
      k &+= c
      j &+= c
      while j >= n { j &-= n; r &+= 1 }
    }
    scaled.add(part)
    let scaledTotal = scaled.total(merging: CompensatedSum(), using: Self.self)
    total.add(RowLoss(value: finiteOrInfinite(s.total(merging: CompensatedSum(), using: Self.self), unless: scaledTotal), scaled: scaledTotal))
    return total
  }
}
