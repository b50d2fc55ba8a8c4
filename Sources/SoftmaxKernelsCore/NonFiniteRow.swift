// Rows holding a +inf or a NaN, or only -inf, where `x - max` would be NaN or meaningless. They
// are rare, so they take a plain scalar path chosen once per row, never a branch per element in
// the vector loops.
//
//   any NaN in the row   -> every output of the row is NaN
//   k entries +inf       -> the limit: the +inf entries share probability 1/k, the rest get 0
//   only -inf            -> fully masked: probabilities 0, log-probabilities -inf, lse -inf

/// What a row (or the part of a row still unread) with non-finite entries is.
@frozen
@usableFromInline package enum NonFiniteRow: Equatable {
  /// The row holds a NaN.
  case nan
  /// `count` entries are +inf (and no NaN).
  case positiveInfinity(count: Int)
  /// No NaN and no +inf: every entry that matters is -inf (fully masked).
  case masked
}

extension VectorMath {
  /// Classifies `n` elements. A method of the backend rather than a generic initializer on
  /// purpose: a specialization generic over the scalar alone gets the same symbol in every
  /// backend module, the linker keeps one of them, and the baseline kernels could then run the
  /// AVX2 or AVX-512 copy (`scripts/check-backend-symbols` guards against that).
  @inlinable
  package static func classifyNonFinite(_ x: UnsafePointer<Storage>, count n: Int) -> NonFiniteRow {
    var infinities = 0
    for j in 0..<n {
      let xj = widen(x[j])
      if xj.isNaN { return .nan }
      if xj == .infinity { infinities &+= 1 }
    }
    return infinities > 0 ? .positiveInfinity(count: infinities) : .masked
  }

  /// Softmax outputs of a classified row (x and y may be the same memory).
  @inlinable
  package static func nonFiniteSoftmax(
    _ kind: NonFiniteRow, _ x: UnsafePointer<Storage>, count n: Int, to y: UnsafeMutablePointer<Storage>
  ) {
    switch kind {
    case .nan: fill(y, count: n, with: .nan)
    case .masked: fill(y, count: n, with: 0)
    case .positiveInfinity(let k):
      let p = 1 / Scalar(k)
      for j in 0..<n { y[j] = narrow(widen(x[j]) == .infinity ? p : 0) }
    }
  }

  /// Log-softmax of a row with a +inf or a NaN (x and y may be the same memory).
  @inlinable
  package static func nonFiniteLogSoftmax(
    _ x: UnsafePointer<Storage>, count n: Int, to y: UnsafeMutablePointer<Storage>
  ) {
    switch classifyNonFinite(x, count: n) {
    case .nan: fill(y, count: n, with: .nan)
    case .masked: fill(y, count: n, with: -.infinity)
    case .positiveInfinity(let k):
      let lp = -log(Scalar(k))
      for j in 0..<n { y[j] = narrow(widen(x[j]) == .infinity ? lp : -.infinity) }
    }
  }

  /// Logsumexp of a row with a +inf or a NaN: NaN or +inf.
  @inlinable
  package static func nonFiniteLogSumExp(_ x: UnsafePointer<Storage>, count n: Int) -> Scalar {
    switch classifyNonFinite(x, count: n) {
    case .nan: return .nan
    case .masked: return -.infinity
    case .positiveInfinity: return .infinity
    }
  }
}
