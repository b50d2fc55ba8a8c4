extension VectorMath {
  /// Row-wise log-softmax: y_j = (x_j - m) - log(sum_k exp(x_k - m)), m = max_k x_k,
  /// with the log taken as log1p of the sum minus its exact max term (see `expSumMinusOne`).
  ///
  /// Three passes per row: max; compensated sum of exp (nothing stored); shift. `x` and `y` may
  /// be the same memory (in place). Rows with a non-finite max follow `NonFiniteRow`.
  @inlinable
  public static func logSoftmaxRows(_ x: StridedRows<Scalar>, to y: MutableStridedRows<Scalar>) {
    let n = x.cols
    guard n > 0 else { return }
    for r in 0..<x.rows {
      let xr = x.row(r), yr = y.row(r)
      let m = rowMax(xr, count: n)
      guard m.isFinite else {
        nonFiniteLogSoftmax(xr, count: n, max: m, to: yr)
        continue
      }
      let excess = expSumMinusOne(xr, count: n, minus: m, storingTo: nil)
      shift(xr, minus: m, minus: log1p(excess), count: n, to: yr)
    }
  }
}
