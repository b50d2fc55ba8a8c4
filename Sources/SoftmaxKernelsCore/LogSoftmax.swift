extension VectorMath {
  /// Row-wise log-softmax: y_j = (x_j - m) - log(sum_k exp(x_k - m)), m = max_k x_k,
  /// with the log taken as log1p of the sum minus its exact max term (see `expSumMinusOne`).
  ///
  /// Pass A (`rowStatistics`) reads the row once; out of place, it uses `y` as scratch for the
  /// exp values, which also brings `y` into cache for pass B (the shift). In place it uses a
  /// stack block. Rows with a +inf, a NaN or only -inf follow `NonFiniteRow`.
  @inlinable
  public static func logSoftmaxRows(_ x: StridedRows<Scalar>, to y: MutableStridedRows<Scalar>) {
    let n = x.cols
    guard n > 0 else { return }
    let inPlace = x.base == UnsafePointer(y.base)
    for r in 0..<x.rows {
      let xr = x.row(r), yr = y.row(r)
      if isShortRow(n) {
        let (v, m) = shortRowMax(xr, count: n)
        if m.isFinite {
          let excess = excessNearLeastNormal(xr, count: n, max: m, excess: shortRowExp(v, max: m, count: n).excess)
          let mv = Vector(repeating: m), lv = Vector(repeating: log1p(excess))
          storeShort(((v.0 - mv) - lv, (v.1 - mv) - lv, (v.2 - mv) - lv, (v.3 - mv) - lv), to: yr, count: n)
          continue
        }
      }
      switch rowStatistics(xr, count: n, numeratorsTo: inPlace ? nil : yr, chunkMax: nil) {
      case .nonFinite:
        nonFiniteLogSoftmax(xr, count: n, to: yr)
      case .finite(let m, let excess):
        if m == -.infinity {
          fill(yr, count: n, with: -.infinity)
        } else {
          shift(xr, minus: m, minus: log1p(excessNearLeastNormal(xr, count: n, max: m, excess: excess)), count: n, to: yr)
        }
      }
    }
  }
}
