// Short rows (fewer than `rowBlockLimit` elements: W1's 8192 x 10), `width` rows at a time,
// turned sideways. Lane k of column vector j holds x[r + k][j], so a block of rows is `n` full
// vectors: the row maxima are lane-wise `max`es, the sums lane-wise adds, and one vector exp,
// one log1p and one division serve `width` rows. No horizontal reduction, no padded lanes, no
// per-row branch. Loading a column is `width` scalar loads into lanes, and writing one back
// `width` scalar stores; for rows this short that costs less than the per-row work it replaces.
//
// The arithmetic per lane is the short-row path's: exp with the rounding of x - m corrected
// (`expOfDifference`), the sum of the non-maximal terms kept apart from the exact 1s of the
// maximal ones (`onesWhereEqual`), compensated, so `log1p` and `1 / (1 + excess)` see a sum
// with its relative accuracy. A block where any row's max is not finite (NaN everywhere, a +inf,
// all -inf) is handed back to the per-row path whole; a NaN among finite entries makes its
// lane's sum NaN, and so that row's outputs, as in every other path.

extension VectorMath {
  /// Rows of `n` elements with `1 <= n < rowBlockLimit` go through the row blocks: fewer than
  /// 8 vectors (64 Floats or 32 Doubles with AVX2). Measured on the bench with 1024 rows of 4 to
  /// 100 columns: blocks win below that (W1 Float softmax 3.7-5.2 -> 2.3-2.5 ns/element), the
  /// row path at 100 Doubles.
  @inlinable @inline(__always)
  public static var rowBlockLimit: Int { 8 &* width }

  /// True when rows of `n` elements are taken `width` at a time by the row-block kernels.
  @inlinable @inline(__always)
  public static func usesRowBlocks(_ n: Int) -> Bool { n > 0 && n < rowBlockLimit }

  /// Column `j` of the `width` rows starting at `p` (row k at `p + k * stride`).
  @inlinable @inline(__always)
  public static func loadColumn(_ p: UnsafePointer<Scalar>, stride: Int) -> Vector {
    var v = Vector()
    for k in 0..<Vector.scalarCount { v[k] = p[k &* stride] }
    return v
  }

  /// Writes lane k of `v` to `p + k * stride`.
  @inlinable @inline(__always)
  public static func storeColumn(_ v: Vector, to p: UnsafeMutablePointer<Scalar>, stride: Int) {
    for k in 0..<Vector.scalarCount { p[k &* stride] = v[k] }
  }

  /// Loads the `width` rows of `n` elements at `x` (row stride `stride`) into the column vectors
  /// `c[0..<n]`, leaves exp(x_j - m) in `c[n..<2n]` and returns each row's max (lane k for row
  /// k) and excess = sum_j exp(x_j - m) - 1, or nil when some row's max is not finite.
  ///
  /// The exps run in a loop of their own: SLEEF's exp is a call that clobbers every vector
  /// register, so the sums stay in registers only in a loop without calls.
  @inlinable @inline(__always)
  public static func rowBlockStatistics(
    _ x: UnsafePointer<Scalar>, stride: Int, count n: Int, columns c: UnsafeMutablePointer<Vector>
  ) -> (max: Vector, excess: Vector)? {
    var m = Vector(repeating: -.infinity)
    for j in 0..<n {
      let v = loadColumn(x + j, stride: stride)
      c[j] = v
      m = max(m, v)
    }
    // m - m is 0 in every lane exactly when every max is finite.
    guard horizontalSum(m - m) == 0 else { return nil }
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

  /// `excessNearLeastNormal` for each row of a block.
  @inlinable @inline(__always)
  static func rowBlockExcessNearLeastNormal(
    _ x: UnsafePointer<Scalar>, stride: Int, count n: Int, max m: Vector, excess: Vector
  ) -> Vector {
    var out = excess
    for k in 0..<Vector.scalarCount {
      out[k] = excessNearLeastNormal(x + k &* stride, count: n, max: m[k], excess: excess[k])
    }
    return out
  }

  /// Softmax of the `width` rows at `x` into `y` (either may alias: every load precedes every
  /// store); false, with nothing written, when some row's max is not finite.
  @inlinable @inline(__always)
  public static func softmaxRowBlock(
    _ x: UnsafePointer<Scalar>, stride xs: Int, count n: Int,
    to y: UnsafeMutablePointer<Scalar>, stride ys: Int, columns c: UnsafeMutablePointer<Vector>
  ) -> Bool {
    guard let (_, excess) = rowBlockStatistics(x, stride: xs, count: n, columns: c) else { return false }
    let inverse = 1 / (1 + excess)
    for j in 0..<n { storeColumn(c[n &+ j] * inverse, to: y + j, stride: ys) }
    return true
  }

  /// Log-softmax of the `width` rows at `x` into `y`, as `softmaxRowBlock`.
  @inlinable @inline(__always)
  public static func logSoftmaxRowBlock(
    _ x: UnsafePointer<Scalar>, stride xs: Int, count n: Int,
    to y: UnsafeMutablePointer<Scalar>, stride ys: Int, columns c: UnsafeMutablePointer<Vector>
  ) -> Bool {
    guard let (m, excess) = rowBlockStatistics(x, stride: xs, count: n, columns: c) else { return false }
    let l = log1p(rowBlockExcessNearLeastNormal(x, stride: xs, count: n, max: m, excess: excess))
    for j in 0..<n { storeColumn((c[j] - m) - l, to: y + j, stride: ys) }
    return true
  }

  /// logsumexp of the `width` rows at `x` into `out[0..<width]`, as `softmaxRowBlock`.
  @inlinable @inline(__always)
  public static func logSumExpRowBlock(
    _ x: UnsafePointer<Scalar>, stride xs: Int, count n: Int,
    to out: UnsafeMutablePointer<Scalar>, columns c: UnsafeMutablePointer<Vector>
  ) -> Bool {
    guard let (m, excess) = rowBlockStatistics(x, stride: xs, count: n, columns: c) else { return false }
    store(m + log1p(rowBlockExcessNearLeastNormal(x, stride: xs, count: n, max: m, excess: excess)), to: out)
    return true
  }

  /// Runs `block(r)` for r = 0, width, 2 width, ... while a whole block of rows remains, with
  /// column storage for rows of `n` elements (2n vectors), when `usesRowBlocks(n)`; a block that returns
  /// false goes row by row through `row`. Returns the first row not yet done.
  @inlinable @inline(__always)
  public static func forEachRowBlock(
    rows: Int, count n: Int,
    _ block: (Int, UnsafeMutablePointer<Vector>) -> Bool, otherwise row: (Int) -> Void
  ) -> Int {
    let w = width
    guard usesRowBlocks(n), rows >= w else { return 0 }
    return withUnsafeTemporaryAllocation(of: Vector.self, capacity: 2 &* n) { buffer in
      let c = buffer.baseAddress!
      var r = 0
      while r &+ w <= rows {
        if !block(r, c) { for k in r..<(r &+ w) { row(k) } }
        r &+= w
      }
      return r
    }
  }
}
