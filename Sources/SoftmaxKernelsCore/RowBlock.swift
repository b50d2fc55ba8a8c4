// Short rows (fewer than `rowBlockLimit` elements: W1's 8192 x 10), `width` rows at a time,
// turned sideways. Lane k of column vector j holds x[r + k][j], so a block of rows is `n` full
// vectors: the row maxima are lane-wise `max`es, the sums lane-wise adds, and one vector exp,
// one log1p and one division serve `width` rows. No horizontal reduction, no padded lanes, no
// per-row branch. Loading a column is `width` scalar loads into lanes, and writing one back
// `width` scalar stores; for rows this short that costs less than the per-row work it replaces
// (transposing whole tiles with shuffles measured slower).
//
// Every row shorter than the limit with a finite max goes through this same arithmetic, wherever
// it sits: a last block of fewer than `width` rows fills the missing lanes with zeros and writes
// only its own rows, and a row whose max is not finite (a +inf, or only NaN and -inf) is left
// unwritten by the block and done by the row path, whose results for such rows (NaN, the +inf
// limit, all masked) do not depend on the arithmetic. So a row's bits do not depend on its
// neighbours or on how the rows are split over threads.
//
// Per lane: exp with the rounding of x - m corrected (`expOfDifference`), and the sum of the
// terms below 1 kept apart from the count of terms equal to 1 (`onesWhereEqual`), compensated, so
// `log1p` and `1 / (1 + excess)` see a sum with its relative accuracy. A NaN among finite entries
// makes its lane's sum NaN, and so that row's outputs.

extension VectorMath {
  /// Rows of `n` elements with `1 <= n < rowBlockLimit` go through the row blocks: fewer than
  /// 8 vectors (64 Floats or 32 Doubles with AVX2). On the bench (rows of 4 to 100 columns) the
  /// blocks won below this limit and the row path above it (numbers: docs/performance.md).
  @inlinable @inline(__always)
  package static var rowBlockLimit: Int { 8 &* width }

  /// True when rows of `n` elements are taken `width` at a time by the row-block kernels.
  @inlinable @inline(__always)
  package static func usesRowBlocks(_ n: Int) -> Bool { n > 0 && n < rowBlockLimit }

  /// True in the lanes whose row max is finite.
  @inlinable @inline(__always)
  static func isFinite(_ m: Vector, lane k: Int) -> Bool { m[k] - m[k] == 0 }

  /// Loads the `lanes` rows of `n` elements at `x` (row stride `stride`) into the column vectors
  /// `c[0..<n]`, leaves exp(x_j - m) in `c[n..<2n]` and returns each row's max (lane k for row
  /// k) and excess = sum_j exp(x_j - m) - 1. Lanes whose max is not finite hold meaningless
  /// values.
  ///
  /// The exps run in a loop of their own: SLEEF's exp is a call that clobbers every vector
  /// register, so the sums stay in registers only in a loop without calls.
  @inlinable @inline(__always)
  package static func rowBlockStatistics(
    _ x: UnsafePointer<Storage>, stride: Int, count n: Int, lanes: Int, columns c: UnsafeMutablePointer<Vector>
  ) -> (max: Vector, excess: Vector) {
    var m = Vector(repeating: -.infinity)
    for j in 0..<n {
      let v = readColumn(x + j, stride: stride, lanes: lanes)
      c[j] = v
      m = max(m, v)
    }
    let e = c + n
    for j in 0..<n { e[j] = expOfDifference(c[j], m) }
    // A term that rounds to exactly 1 goes to the count of ones whether or not its x_j is the
    // max: (1 - 1) + 1 is the same sum as 1 + 0, and the maximal entries are among them.
    var d = CompensatedSum<Vector>()
    var ones = Vector()
    let one = Vector(repeating: 1)
    for j in 0..<n {
      let o = onesWhereEqual(e[j], one)
      d.add(e[j] - o)
      ones += o
    }
    return (m, (d.sum + d.compensation) + (ones - 1))
  }

  /// `excessNearLeastNormal` for each of the `lanes` rows of a block.
  @inlinable @inline(__always)
  static func rowBlockExcessNearLeastNormal(
    _ x: UnsafePointer<Storage>, stride: Int, count n: Int, lanes: Int, max m: Vector, excess: Vector
  ) -> Vector {
    var out = excess
    for k in 0..<lanes {
      out[k] = excessNearLeastNormal(x + k &* stride, count: n, max: m[k], excess: excess[k])
    }
    return out
  }

  /// Writes the columns `column(0..<n)` as the `lanes` rows of `n` elements at `y`, skipping
  /// the rows whose max (`m`) is not finite.
  @inlinable @inline(__always)
  static func storeRowBlock(
    count n: Int, lanes: Int, max m: Vector, to y: UnsafeMutablePointer<Storage>, stride: Int,
    _ column: (Int) -> Vector
  ) {
    if lanes == width && horizontalSum(m - m) == 0 {  // the usual case: every lane
      for j in 0..<n {
        let v = column(j)
        for k in 0..<Vector.scalarCount { y[k &* stride &+ j] = narrow(v[k]) }
      }
    } else {
      for j in 0..<n {
        let v = column(j)
        for k in 0..<lanes where isFinite(m, lane: k) { y[k &* stride &+ j] = narrow(v[k]) }
      }
    }
  }

  /// Softmax of the `lanes` rows at `x` into `y` (either may alias: every load precedes every
  /// store). Returns the row maxima; rows whose max is not finite are not written.
  @inlinable @inline(__always)
  package static func softmaxRowBlock(
    _ x: UnsafePointer<Storage>, stride xs: Int, count n: Int, lanes: Int,
    to y: UnsafeMutablePointer<Storage>, stride ys: Int, columns c: UnsafeMutablePointer<Vector>
  ) -> Vector {
    let (m, excess) = rowBlockStatistics(x, stride: xs, count: n, lanes: lanes, columns: c)
    let inverse = 1 / (1 + excess), e = c + n
    storeRowBlock(count: n, lanes: lanes, max: m, to: y, stride: ys) { e[$0] * inverse }
    return m
  }

  /// Log-softmax of the `lanes` rows at `x` into `y`, as `softmaxRowBlock`.
  @inlinable @inline(__always)
  package static func logSoftmaxRowBlock(
    _ x: UnsafePointer<Storage>, stride xs: Int, count n: Int, lanes: Int,
    to y: UnsafeMutablePointer<Storage>, stride ys: Int, columns c: UnsafeMutablePointer<Vector>
  ) -> Vector {
    let (m, excess) = rowBlockStatistics(x, stride: xs, count: n, lanes: lanes, columns: c)
    let l = log1p(rowBlockExcessNearLeastNormal(x, stride: xs, count: n, lanes: lanes, max: m, excess: excess))
    storeRowBlock(count: n, lanes: lanes, max: m, to: y, stride: ys) { (c[$0] - m) - l }
    return m
  }

  /// logsumexp of the `lanes` rows at `x` into `out[0..<lanes]`, as `softmaxRowBlock` (rows
  /// whose max is not finite get meaningless values, for the row path to overwrite).
  @inlinable @inline(__always)
  package static func logSumExpRowBlock(
    _ x: UnsafePointer<Storage>, stride xs: Int, count n: Int, lanes: Int,
    to out: UnsafeMutablePointer<Scalar>, columns c: UnsafeMutablePointer<Vector>
  ) -> Vector {
    let (m, excess) = rowBlockStatistics(x, stride: xs, count: n, lanes: lanes, columns: c)
    let lse = m + log1p(rowBlockExcessNearLeastNormal(x, stride: xs, count: n, lanes: lanes, max: m, excess: excess))
    if lanes == width { store(lse, to: out) } else { store(lse, to: out, count: lanes) }
    return m
  }

  /// Runs every row of `rows` (of `n` elements each): when `usesRowBlocks(n)`, `block(r, lanes,
  /// columns)` for r = 0, width, 2 width, ... (`lanes` = the rows left, at most `width`), then
  /// `row(r + k)` for each lane k whose max (returned by the block) is not finite; otherwise
  /// `row(r)` for every row.
  @inlinable @inline(__always)
  package static func forEachRowBlock(
    rows: Int, count n: Int,
    _ block: (Int, Int, UnsafeMutablePointer<Vector>) -> Vector, otherwise row: (Int) -> Void
  ) {
    guard usesRowBlocks(n) else {
      for r in 0..<rows { row(r) }
      return
    }
    let w = width
    // The blocks' scratch, 2n vectors (up to 16 KiB with AVX-512), on the stack:
    // `withUnsafeTemporaryAllocation` goes to the heap past 1 KiB on Linux, which made every
    // short-row call allocate with AVX-512 (20 x 64 bytes at W1) and with AVX2 past 16 columns.
    precondition(2 &* n <= 256, "row blocks are for rows of fewer than 8 vectors of at most 16 lanes")
    var scratch = InlineArray<256, Vector>(repeating: Vector())
    var span = scratch.mutableSpan
    span.withUnsafeMutableBufferPointer { buffer in
      let c = buffer.baseAddress!
      var r = 0
      while r < rows {
        // A constant `width` in the usual case, so its loops over lanes unroll.
        let m = r &+ w <= rows ? block(r, w, c) : block(r, rows &- r, c)
        if horizontalSum(m - m) != 0 {
          for k in 0..<Swift.min(w, rows &- r) where !isFinite(m, lane: k) { row(r &+ k) }
        }
        r &+= w
      }
    }
  }

  /// The sum of the lanes as a balanced tree.
  @inlinable @inline(__always)
  package static func horizontalSum(_ v: Vector) -> Scalar {
    var lanes = Vector.scalarCount, acc = v
    while lanes > 1 {
      lanes /= 2
      for k in 0..<lanes { acc[k] = acc[k] + acc[k &+ lanes] }
    }
    return acc[0]
  }
}
