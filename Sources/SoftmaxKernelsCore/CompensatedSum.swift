// Public: the @inlinable bodies call `softmaxkernels_prefetch` (inlined into each backend).
public import CSleef

/// Compensated running sum, lane by lane (Neumaier's variant, with Knuth's branch-free TwoSum).
///
/// Adding `x` to the running sum `s` does `t = s + x; z = t - s; c += (s - (t - z)) + (x - z);
/// s = t`: the rounding error of every addition is captured exactly and accumulated apart, and
/// the total is `s + c`. Its error stays a few ulps however many terms are added (a plain
/// left-to-right sum of 100k Float terms does not), and unlike Kahan's form no correction is
/// lost when a large term follows small ones (which matters here: the sum starts at -1 and the
/// exact max term 1 may come last).
@frozen
@usableFromInline package struct CompensatedSum<V: SIMD> where V.Scalar: BinaryFloatingPoint {
  @usableFromInline package var sum: V
  @usableFromInline package var compensation: V

  @inlinable @inline(__always)
  package init() {
    sum = V()
    compensation = V()
  }

  /// Adds `x` lane by lane.
  @inlinable @inline(__always)
  package mutating func add(_ x: V) {
    let t = sum + x
    let z = t - sum
    compensation += (sum - (t - z)) + (x - z)
    sum = t
  }

  /// The compensated total of every lane of `self` and `other`: the two merge lane-wise first
  /// (one vector TwoSum), then the lanes fold as a tree, log2(width) steps of a vector TwoSum
  /// between the sums and the sums rotated by half, a quarter, ... of the lanes; every rounding
  /// error is kept in the compensation lanes, which fold plainly (they are already tiny). Lane 0
  /// ends with the exact sum of the lanes as sum + compensation. A lane sum that reached +-inf
  /// makes its error terms NaN (inf - inf); the total is then the plain sum (inf, or NaN for
  /// +inf + -inf).
  ///
  /// Each step's vectors pass through `M.materialized`, so the whole tree runs at full width,
  /// two rotations and one TwoSum per step: since only lane 0 is read at the end, LLVM otherwise
  /// splits the tree into scalar and two-lane pieces (more than twice the instructions at 16
  /// lanes; numbers: docs/performance.md).
  @inlinable @inline(__always)
  package func total<M: VectorMath>(merging other: Self, using _: M.Type) -> V.Scalar where M.Vector == V {
    var merged = self
    merged.add(other.sum)
    var s = merged.sum
    var c = merged.compensation + other.compensation
    @inline(__always) func fold(_ half: Int) {
      guard V.scalarCount > half else { return }
      let b = Self.rotated(s, by: half)
      let t = s + b
      let z = t - s
      c = (c + Self.rotated(c, by: half)) + ((s - (t - z)) + (b - z))
      s = M.materialized(t)
      c = M.materialized(c)
    }
    // Literal distances, so that each rotation specializes to one shuffle (widths up to 64).
    fold(32); fold(16); fold(8); fold(4); fold(2); fold(1)
    let total = s[0] + c[0]
    return total.isNaN ? s[0] : total
  }

  /// `v` with its lanes rotated down by `k`: lane j holds v[(j + k) mod width] (a single shuffle
  /// once specialized).
  @inlinable @inline(__always)
  static func rotated(_ v: V, by k: Int) -> V {
    var r = V()
    for j in 0..<V.scalarCount { r[j] = v[(j &+ k) & (V.scalarCount &- 1)] }
    return r
  }
}

/// A compensated running sum of scalars, the same TwoSum step as `CompensatedSum` (its lanes are
/// combined with it too). An infinite sum stays infinite: the compensation is only updated while
/// the running sum is finite, so it never meets inf - inf.
@frozen
@usableFromInline package struct CompensatedScalarSum<Scalar: BinaryFloatingPoint> {
  /// The running sum.
  @usableFromInline package var sum: Scalar = 0
  /// The accumulated rounding errors of `sum` (added at the end).
  @usableFromInline package var compensation: Scalar = 0

  @inlinable
  package init() {}

  /// Adds `x`.
  @inlinable @inline(__always)
  package mutating func add(_ x: Scalar) {
    let t = sum + x
    if t.isFinite {
      let z = t - sum
      compensation += (sum - (t - z)) + (x - z)
    }
    sum = t
  }

  /// sum + compensation.
  @inlinable @inline(__always)
  package var total: Scalar { sum + compensation }
}

/// The sum of exp values over a row, fed block by block from memory, started at -1.
///
/// Groups of 8 vectors are added as a balanced tree (depth 3, so at most 3 roundings per lane,
/// whatever the row length), and each group's vector is added to one of two compensated accumulators
/// (`CompensatedSum`). The compensation then costs 6 operations per 8 vectors instead of per
/// vector. The error does not grow with
/// the row length.
@frozen
@usableFromInline package struct BlockSums<V: SIMD> where V.Scalar: BinaryFloatingPoint {
  @usableFromInline package var a = CompensatedSum<V>(), b = CompensatedSum<V>()

  @inlinable @inline(__always)
  package init() { a.sum[0] = -1 }

  /// Adds `n` values at `p` (the tail padded with zeros). `grouped` pre-adds groups of 8
  /// vectors as a tree before each compensated add (faster); otherwise every vector goes
  /// through the compensated add (see `expSumMinusOne` for when that matters).
  @inlinable @inline(__always)
  package mutating func add(_ p: UnsafePointer<V.Scalar>, count n: Int, grouped: Bool = true) {
    let w = V.scalarCount
    @inline(__always) func v(_ k: Int) -> V { UnsafeRawPointer(p + k).loadUnaligned(as: V.self) }
    var i = 0
    while grouped && i &+ 16 &* w <= n {
      let g0 = ((v(i) + v(i &+ w)) + (v(i &+ 2 &* w) + v(i &+ 3 &* w)))
        + ((v(i &+ 4 &* w) + v(i &+ 5 &* w)) + (v(i &+ 6 &* w) + v(i &+ 7 &* w)))
      let j = i &+ 8 &* w
      let g1 = ((v(j) + v(j &+ w)) + (v(j &+ 2 &* w) + v(j &+ 3 &* w)))
        + ((v(j &+ 4 &* w) + v(j &+ 5 &* w)) + (v(j &+ 6 &* w) + v(j &+ 7 &* w)))
      a.add(g0)
      b.add(g1)
      i &+= 16 &* w
    }
    while i &+ w <= n {
      a.add(v(i))
      i &+= w
    }
    if i < n {
      var t = V()
      for k in 0..<(n &- i) { t[k] = p[i &+ k] }
      b.add(t)
    }
  }

  /// Adds exp(x_j - m) for `n` elements, computing each group of 8 vectors in registers (for an
  /// inlined exp; when `grouped`, a tree of depth 3 then one compensated add, as `add` does, and
  /// one group of 4 before the single vectors; otherwise each vector is added compensated and
  /// its exp corrects the rounding of x - m), and stores the values to `y` when given. Grouped,
  /// the exp is `M.expOneStepReduced`. The grouped loop prefetches `x` `ahead` bytes on
  /// (`VectorMath.prefetchDistance`).
  @inlinable @inline(__always)
  package mutating func addExp<M: VectorMath>(
    of x: UnsafePointer<M.Storage>, count n: Int, minus m: V.Scalar,
    storingTo y: UnsafeMutablePointer<V.Scalar>?, grouped: Bool = true, prefetchingAhead ahead: Int,
    using _: M.Type
  ) where M.Vector == V {
    let w = V.scalarCount
    let mv = V(repeating: m)
    @inline(__always) func e(_ k: Int) -> V {
      let v = grouped ? M.expOneStepReduced(M.read(x + k) - mv) : M.expOfDifference(M.read(x + k), mv)
      if let y { M.store(v, to: y + k) }
      return v
    }
    var i = 0
    while grouped && i &+ 8 &* w <= n {
      // Bring the lines `ahead` bytes on in while this group computes (the max pass of a chunk
      // to come then hits cache).
      let next = UnsafeRawPointer(x + i) + ahead * MemoryLayout<M.Storage>.stride / MemoryLayout<V.Scalar>.stride
      for k in stride(from: 0, to: 8 &* w &* MemoryLayout<M.Storage>.stride, by: 64) {
        softmaxkernels_prefetch(next + k)
      }
      let g0 = (e(i) + e(i &+ w)) + (e(i &+ 2 &* w) + e(i &+ 3 &* w))
      let g1 = (e(i &+ 4 &* w) + e(i &+ 5 &* w)) + (e(i &+ 6 &* w) + e(i &+ 7 &* w))
      a.add(g0 + g1)
      i &+= 8 &* w
    }
    if grouped && i &+ 4 &* w <= n {
      b.add((e(i) + e(i &+ w)) + (e(i &+ 2 &* w) + e(i &+ 3 &* w)))
      i &+= 4 &* w
    }
    while i &+ w <= n {
      a.add(e(i))
      i &+= w
    }
    if i < n {
      let tail = M.read(x + i, count: n &- i, padding: -.infinity)
      let v = grouped ? M.expOneStepReduced(tail - mv) : M.expOfDifference(tail, mv)
      if let y { M.store(v, to: y + i, count: n &- i) }
      b.add(v)
    }
  }

  /// The compensated total of all lanes, minus one (the starting value).
  @inlinable @inline(__always)
  package func totalMinusOne<M: VectorMath>(using m: M.Type) -> V.Scalar where M.Vector == V {
    a.total(merging: b, using: m)
  }
}
