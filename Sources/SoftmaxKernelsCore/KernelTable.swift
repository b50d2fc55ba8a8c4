/// The compiled kernels of one backend for one scalar type.
///
/// A backend module builds it from its `VectorMath` type (`KernelTable(SleefAVX2Float.self)`), which
/// specializes every `@inlinable` row algorithm inside that module, with that module's target
/// flags. The public API picks one table per process from the CPU features.
public struct KernelTable<Scalar>: Sendable {
  /// Row-wise softmax (out of place or in place when both views share memory).
  public let softmax: @Sendable (StridedRows<Scalar>, MutableStridedRows<Scalar>) -> Void
  /// Row-wise log-softmax.
  public let logSoftmax: @Sendable (StridedRows<Scalar>, MutableStridedRows<Scalar>) -> Void
  /// Row-wise logsumexp into a buffer of `rows` values.
  public let logSumExp: @Sendable (StridedRows<Scalar>, UnsafeMutablePointer<Scalar>) -> Void
  /// `y[i] = exp(x[i])` for `count` elements: the backend's vector exp alone (the exp floor).
  public let exp: @Sendable (UnsafePointer<Scalar>, Int, UnsafeMutablePointer<Scalar>) -> Void

  /// Specializes every kernel for the vector math `M`.
  @inlinable
  public init<M: VectorMath>(_: M.Type) where M.Scalar == Scalar {
    softmax = { M.softmaxRows($0, to: $1) }
    logSoftmax = { M.logSoftmaxRows($0, to: $1) }
    logSumExp = { M.logSumExpRows($0, to: $1) }
    exp = { M.expArray($0, count: $1, to: $2) }
  }
}
