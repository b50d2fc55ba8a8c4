// Rows whose maximum is not finite, where `x - max` would be NaN or meaningless. They are rare,
// so they take a plain scalar path chosen once per row, never a branch per element in the
// vector loops.
//
//   any NaN in the row   -> every output of the row is NaN
//   max = +inf, k lanes  -> the limit: the +inf entries share probability 1/k, the rest get 0
//   max = -inf           -> fully masked: probabilities 0, log-probabilities -inf, lse -inf

/// What a row with a non-finite maximum is.
@frozen
public enum NonFiniteRow: Equatable {
  /// The row holds a NaN.
  case nan
  /// `count` entries are +inf (and no NaN).
  case positiveInfinity(count: Int)
  /// Every entry is -inf (fully masked).
  case masked

  /// Classifies a row whose `rowMax` is not finite.
  @inlinable
  public init<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, count n: Int, max m: T) {
    var infinities = 0
    for j in 0..<n {
      if x[j].isNaN { self = .nan; return }
      if x[j] == .infinity { infinities &+= 1 }
    }
    self = m == .infinity ? .positiveInfinity(count: infinities) : .masked
  }
}

extension VectorMath {
  /// Softmax of a row with a non-finite maximum.
  @inlinable
  public static func nonFiniteSoftmax(
    _ x: UnsafePointer<Scalar>, count n: Int, max m: Scalar, to y: UnsafeMutablePointer<Scalar>
  ) {
    switch NonFiniteRow(x, count: n, max: m) {
    case .nan: fill(y, count: n, with: .nan)
    case .masked: fill(y, count: n, with: 0)
    case .positiveInfinity(let k):
      let p = 1 / Scalar(k)
      for j in 0..<n { y[j] = x[j] == .infinity ? p : 0 }
    }
  }

  /// Log-softmax of a row with a non-finite maximum.
  @inlinable
  public static func nonFiniteLogSoftmax(
    _ x: UnsafePointer<Scalar>, count n: Int, max m: Scalar, to y: UnsafeMutablePointer<Scalar>
  ) {
    switch NonFiniteRow(x, count: n, max: m) {
    case .nan: fill(y, count: n, with: .nan)
    case .masked: fill(y, count: n, with: -.infinity)
    case .positiveInfinity(let k):
      let lp = -log(Scalar(k))
      for j in 0..<n { y[j] = x[j] == .infinity ? lp : -.infinity }
    }
  }

  /// Logsumexp of a row with a non-finite maximum: NaN, +inf or -inf.
  @inlinable
  public static func nonFiniteLogSumExp(_ x: UnsafePointer<Scalar>, count n: Int, max m: Scalar) -> Scalar {
    switch NonFiniteRow(x, count: n, max: m) {
    case .nan: return .nan
    case .masked: return -.infinity
    case .positiveInfinity: return .infinity
    }
  }
}
