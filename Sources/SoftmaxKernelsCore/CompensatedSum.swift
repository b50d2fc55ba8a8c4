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
