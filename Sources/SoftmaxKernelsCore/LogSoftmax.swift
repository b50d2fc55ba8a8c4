extension VectorMath {
  /// Row-wise log-softmax: y_j = (x_j - m) - log(sum_k exp(x_k - m)), m = max_k x_k,
  /// with the log taken as log1p of the sum minus its exact max term (see `expSumMinusOne`).
  ///
  /// Pass A (`rowStatistics`) reads the row once; out of place, it uses `y` as scratch for the
  /// exp values, which also brings `y` into cache for pass B (the shift). In place it uses a
  /// stack block. Rows of fewer than 8 vectors go `width` at a time (`RowBlock`), leftover rows
  /// of one to four vectors through `ShortRow`. Rows with a +inf, a NaN or only -inf follow
  /// `NonFiniteRow`.
  @inlinable
  public static func logSoftmaxRows(_ x: StridedRows<Scalar>, to y: MutableStridedRows<Scalar>) {
    let n = x.cols
    guard n > 0 else { return }
    let inPlace = x.base == UnsafePointer(y.base)
    let first = forEachRowBlock(rows: x.rows, count: n, {
      logSoftmaxRowBlock(x.row($0), stride: x.stride, count: n, to: y.row($0), stride: y.stride, columns: $1)
    }, otherwise: { logSoftmaxRow(x, to: y, $0, inPlace: inPlace) })
    for r in first..<x.rows { logSoftmaxRow(x, to: y, r, inPlace: inPlace) }
  }

  /// Log-softmax of row `r`.
  @inlinable @inline(__always)
  static func logSoftmaxRow(_ x: StridedRows<Scalar>, to y: MutableStridedRows<Scalar>, _ r: Int, inPlace: Bool) {
    let n = x.cols
    let xr = x.row(r), yr = y.row(r)
    if isShortRow(n) {
      let (v, m) = shortRowMax(xr, count: n)
      if m.isFinite {
        let excess = excessNearLeastNormal(xr, count: n, max: m, excess: shortRowExp(v, max: m, count: n).excess)
        let mv = Vector(repeating: m), lv = Vector(repeating: log1p(excess))
        storeShort(((v.0 - mv) - lv, (v.1 - mv) - lv, (v.2 - mv) - lv, (v.3 - mv) - lv), to: yr, count: n)
        return
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
