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
  /// mean (`LossSum`): one lane-wise compensated sum over every row (element j of a row in lane
  /// j mod width, whatever the strides), folded once at the end; a fold per row cost more than
  /// the row's elements at W1's 10 columns.
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
    var s = CompensatedSum<Vector>(), scaled = CompensatedSum<Vector>(), part = Vector()
    for r in 0..<x.rows {
      let xr = x.row(r), tr = t.row(r), lr = losses?.row(r), gr = gradient?.row(r)
      var i = 0
      while i &+ w <= n {
        let (l, g) = element(read(xr + i), read(tr + i), weightsAt(posWeight, i))
        if let lr { store(l, to: lr + i) }
        if let gr { write(g, to: gr + i) }
        s.add(l)
        part += l * shrink
        i &+= w
        if i & (256 &* w &- 1) == 0 {  // (w is a power of two)
          scaled.add(part)
          part = Vector()
        }
      }
      if i < n {
        let c = n &- i
        let pw = posWeight.map { load($0 + i, count: c, padding: 1) } ?? one
        let (l, g) = element(read(xr + i, count: c, padding: 0), read(tr + i, count: c, padding: 0), pw)
        if let lr { store(l, to: lr + i, count: c) }
        if let gr { write(g, to: gr + i, count: c) }
        // Padded lanes (x = 0, t = 0) have loss log 2: mask them out of the sum.
        let lm = zeroWhereZero(tailOnes(c), else: l)
        s.add(lm)
        part += lm * shrink
      }
      scaled.add(part)
      part = Vector()
    }
    let scaledTotal = scaled.total(merging: CompensatedSum(), using: Self.self)
    total.add(RowLoss(value: finiteOrInfinite(s.total(merging: CompensatedSum(), using: Self.self), unless: scaledTotal), scaled: scaledTotal))
    return total
  }
}
