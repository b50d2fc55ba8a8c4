extension VectorMath {
  /// Row-wise softmax: y_j = exp(x_j - m) / sum_k exp(x_k - m), m = max_k x_k.
  ///
  /// Three passes per row: max; exp, store and compensated sum; scale by 1/sum. `x` and `y` may be
  /// the same memory (in place). Rows with a non-finite max follow `NonFiniteRow`.
  @inlinable
  public static func softmaxRows(_ x: StridedRows<Scalar>, to y: MutableStridedRows<Scalar>) {
    let n = x.cols
    guard n > 0 else { return }
    for r in 0..<x.rows {
      let xr = x.row(r), yr = y.row(r)
      let m = rowMax(xr, count: n)
      guard m.isFinite else {
        nonFiniteSoftmax(xr, count: n, max: m, to: yr)
        continue
      }
      let excess = expSumMinusOne(xr, count: n, minus: m, storingTo: yr)
      scale(yr, by: 1 / (1 + excess), count: n, to: yr)
    }
  }
}
