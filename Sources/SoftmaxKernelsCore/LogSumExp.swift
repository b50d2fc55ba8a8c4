extension VectorMath {
  /// logsumexp of one row: m + log(sum_j exp(x_j - m)), m = max_j x_j; -inf for an empty row.
  @inlinable @inline(__always)
  public static func logSumExp(_ x: UnsafePointer<Scalar>, count n: Int) -> Scalar {
    let m = rowMax(x, count: n)
    guard m.isFinite else { return nonFiniteLogSumExp(x, count: n, max: m) }
    return m + log1p(expSumMinusOne(x, count: n, minus: m, storingTo: nil))
  }

  /// Row-wise logsumexp into `out[r]`, two passes per row (max, then compensated sum of exp).
  @inlinable
  public static func logSumExpRows(_ x: StridedRows<Scalar>, to out: UnsafeMutablePointer<Scalar>) {
    for r in 0..<x.rows { out[r] = logSumExp(x.row(r), count: x.cols) }
  }
}
