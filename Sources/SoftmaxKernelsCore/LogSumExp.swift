extension VectorMath {
  /// logsumexp of one row: m + log1p(sum_j exp(x_j - m) - 1), m = max_j x_j; -inf for an empty
  /// or fully masked row, +inf with a +inf entry, NaN with a NaN. One read of the row (pass A).
  @inlinable @inline(__always)
  package static func logSumExp(_ x: UnsafePointer<Storage>, count n: Int) -> Scalar {
    switch rowStatistics(x, count: n, numeratorsTo: nil, chunkMax: nil) {
    case .nonFinite:
      return nonFiniteLogSumExp(x, count: n)
    case .finite(let s):
      return s.max == -.infinity ? -.infinity : s.max + log1p(excessNearLeastNormal(x, count: n, max: s.max, excess: s.excess))
    }
  }

  /// Row-wise logsumexp into `out[r]`; rows of fewer than 8 vectors `width` at a time (`RowBlock`).
  @inlinable
  package static func logSumExpRows(_ x: StridedRows<Storage>, to out: UnsafeMutablePointer<Scalar>) {
    let n = x.cols
    forEachRowBlock(rows: x.rows, count: n, {
      logSumExpRowBlock(x.row($0), stride: x.stride, count: n, lanes: $1, to: out + $0, columns: $2)
    }, otherwise: { out[$0] = logSumExp(x.row($0), count: n) })
  }
}
