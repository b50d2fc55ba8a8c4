// The mergeable logsumexp state, plainly: (max, sum_j exp(x_j - max) - 1) of a slice, and the merge
// M = max(m1, m2), sum = sum1 exp(m1 - M) + sum2 exp(m2 - M).

/// A reference logsumexp partial: `max` and `excess = sum_j exp(x_j - max) - 1`.
public struct ReferenceLogSumExpState<T: ElementaryScalar>: Sendable {
  /// The slice's max.
  public var max: T
  /// sum_j exp(x_j - max) - 1.
  public var excess: T

  /// A state from its parts.
  ///
  /// - Parameters:
  ///   - max: The slice's maximum.
  ///   - excess: `sum_j exp(x_j - max) - 1`.
  public init(max: T, excess: T) {
    self.max = max
    self.excess = excess
  }

  /// The state of a slice: NaN if it holds a NaN, (-inf, -1) if empty or fully masked,
  /// (+inf, k - 1) with k +inf entries.
  ///
  /// - Parameter slice: The logits of the slice.
  public init<C: Collection<T>>(_ slice: C) {
    switch RowSummary(slice) {
    case .nan: self.init(max: .nan, excess: .nan)
    case .masked: self.init(max: -.infinity, excess: -1)
    case .positiveInfinity(let k): self.init(max: .infinity, excess: T(k - 1))
    case .finite(let m, let e): self.init(max: m, excess: e)
    }
  }

  /// The merged state of two slices.
  ///
  /// - Parameter o: The state of another slice of the same row.
  /// - Returns: The state of both slices: NaN if either is NaN, the other if one is empty, the
  ///   +inf count added if either has +inf entries.
  public func merged(with o: Self) -> Self {
    if max.isNaN || o.max.isNaN || excess.isNaN || o.excess.isNaN { return Self(max: .nan, excess: .nan) }
    if max == -.infinity { return o }
    if o.max == -.infinity { return self }
    if max == .infinity || o.max == .infinity {
      let k = (max == .infinity ? excess + 1 : 0) + (o.max == .infinity ? o.excess + 1 : 0)
      return Self(max: .infinity, excess: k - 1)
    }
    let (hi, lo) = max >= o.max ? (self, o) : (o, self)
    return Self(max: hi.max, excess: hi.excess + (1 + lo.excess) * T.libmExp(lo.max - hi.max))
  }

  /// max + log1p(excess) (or the non-finite max).
  public var logSumExp: T { max.isFinite ? max + T.libmLog1p(excess) : max }
}
