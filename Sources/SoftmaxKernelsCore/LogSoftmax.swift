extension VectorMath {
  /// Row-wise log-softmax: y_j = (x_j - m) - log(sum_k exp(x_k - m)), m = max_k x_k,
  /// with the log taken as log1p of the sum minus its exact max term (see `expSumMinusOne`).
  ///
  /// Pass A (`rowStatistics`) reads the row once; out of place, it uses `y` as scratch for the
  /// exp values, which also brings `y` into cache for pass B (the shift). In place it uses a
  /// stack block. Rows of fewer than 8 vectors go `width` at a time (`RowBlock`). Rows with a
  /// +inf, a NaN or only -inf follow `NonFiniteRow`.
  @inlinable
  package static func logSoftmaxRows(_ x: StridedRows<Storage>, to y: MutableStridedRows<Storage>) {
    let n = x.cols
    guard n > 0 else { return }
    let inPlace = x.base == UnsafePointer(y.base)
    forEachRowBlock(rows: x.rows, count: n, {
      logSoftmaxRowBlock(x.row($0), stride: x.stride, count: n, lanes: $1, to: y.row($0), stride: y.stride, columns: $2)
    }, otherwise: { logSoftmaxRow(x, to: y, $0, inPlace: inPlace) })
  }

  /// Log-softmax of row `r` by the row passes.
  @inlinable @inline(__always)
  static func logSoftmaxRow(_ x: StridedRows<Storage>, to y: MutableStridedRows<Storage>, _ r: Int, inPlace: Bool) {
    let n = x.cols
    let xr = x.row(r), yr = y.row(r)
    switch rowStatistics(xr, count: n, numeratorsTo: inPlace || !storesScalars ? nil : scalars(yr), chunkMax: nil) {
    case .nonFinite:
      nonFiniteLogSoftmax(xr, count: n, to: yr)
    case .finite(let s):
      if s.max == -.infinity {
        fill(yr, count: n, with: -.infinity)
      } else {
        shift(xr, minus: s.max, minus: log1p(excessNearLeastNormal(xr, count: n, max: s.max, excess: s.excess)), count: n, to: yr)
      }
    }
  }
}
