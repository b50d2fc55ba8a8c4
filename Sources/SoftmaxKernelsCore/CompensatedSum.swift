/// Compensated running sum (Neumaier's variant of Kahan's), lane by lane.
///
/// With `s` the running sum and `c` the accumulated rounding errors, adding `x` does
/// `t = s + x; c += (s - t) + x; s = t`; the total is `s + c`. The error of the total stays a few
/// ulps however many terms are added, which a plain left-to-right sum of 100k Float terms does not.
/// Unlike Kahan's form (which feeds `c` back into the next term), a tiny term added while the sum
/// is -1 survives the later arrival of the +1 term: the sums started at -1 rely on that.
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
    let t = sum + x
    compensation += (sum - t) + x
    sum = t
  }

  /// The compensated total of every lane of `self` and `other`.
  @inlinable @inline(__always)
  public func total(merging other: Self) -> V.Scalar {
    var s = V.Scalar.zero, c = V.Scalar.zero
    @inline(__always) func add(_ x: V.Scalar) {
      let t = s + x
      c += abs(s) >= abs(x) ? (s - t) + x : (x - t) + s
      s = t
    }
    for k in 0..<V.scalarCount {
      add(sum[k]); add(other.sum[k])
      add(compensation[k]); add(other.compensation[k])
    }
    return s + c
  }
}
