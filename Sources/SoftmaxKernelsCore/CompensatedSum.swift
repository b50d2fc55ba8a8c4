/// Kahan-compensated running sum, lane by lane.
///
/// With `s` the running sum and `c` the running compensation, adding `x` does
/// `y = x - c; t = s + y; c = (t - s) - y; s = t`. The error of the total stays a few ulps however
/// many terms are added, which a plain left-to-right sum of 100k Float terms does not.
@frozen
public struct CompensatedSum<V: SIMD> where V.Scalar: BinaryFloatingPoint {
  public var sum: V
  public var compensation: V

  @inlinable @inline(__always)
  public init() {
    sum = V()
    compensation = V()
  }

  /// Adds `x` lane by lane.
  @inlinable @inline(__always)
  public mutating func add(_ x: V) {
    let y = x - compensation
    let t = sum + y
    compensation = (t - sum) - y
    sum = t
  }

  /// The compensated total of every lane of `self` and `other`.
  @inlinable @inline(__always)
  public func total(merging other: Self) -> V.Scalar {
    var s = V.Scalar.zero, c = V.Scalar.zero
    @inline(__always) func add(_ x: V.Scalar) {
      let y = x - c
      let t = s + y
      c = (t - s) - y
      s = t
    }
    for k in 0..<V.scalarCount {
      add(sum[k]); add(other.sum[k])
      add(-compensation[k]); add(-other.compensation[k])
    }
    return s
  }
}

/// The sum of exp values over a row, fed block by block from memory, started at -1.
///
/// Groups of 8 vectors are added as a balanced tree (depth 3, so at most 3 roundings per lane,
/// whatever the row length), and each group's vector is added to one of two Kahan-compensated
/// accumulators. The compensation then costs 4 operations per 8 vectors instead of per vector,
/// and its 12-cycle dependency chain is spread over 16 vectors. The error does not grow with
/// the row length.
@frozen
public struct BlockSums<V: SIMD> where V.Scalar: BinaryFloatingPoint {
  public var a = CompensatedSum<V>(), b = CompensatedSum<V>()

  @inlinable @inline(__always)
  public init() { a.sum[0] = -1 }

  /// Adds `n` values at `p` (the tail padded with zeros).
  @inlinable @inline(__always)
  public mutating func add(_ p: UnsafePointer<V.Scalar>, count n: Int) {
    let w = V.scalarCount
    @inline(__always) func v(_ k: Int) -> V { UnsafeRawPointer(p + k).loadUnaligned(as: V.self) }
    var i = 0
    while i &+ 16 &* w <= n {
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

  /// The compensated total of all lanes, minus one (the starting value).
  @inlinable @inline(__always)
  public var totalMinusOne: V.Scalar { a.total(merging: b) }
}
