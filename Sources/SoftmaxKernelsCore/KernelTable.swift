/// The compiled kernels of one backend for one storage type and its arithmetic type.
///
/// A backend module builds it from its `VectorMath` type (`KernelTable(SleefAVX2Float.self)`), which
/// specializes every `@inlinable` row algorithm inside that module, with that module's target
/// flags. The public API picks one table per process from the CPU features. Rows (logits,
/// targets, outputs, gradients) are `Storage`; weights, losses, logsumexp values and partials are
/// `Scalar` (the same type for Float and Double, Float for the 16-bit storage types).
@usableFromInline package struct KernelTable<Storage: SendableMetatype, Scalar: BinaryFloatingPoint & SendableMetatype>: Sendable {
  /// Row-wise softmax (out of place or in place when both views share memory).
  @usableFromInline package let softmax: @Sendable (StridedRows<Storage>, MutableStridedRows<Storage>) -> Void
  /// Row-wise log-softmax.
  @usableFromInline package let logSoftmax: @Sendable (StridedRows<Storage>, MutableStridedRows<Storage>) -> Void
  /// Row-wise logsumexp into a buffer of `rows` values.
  @usableFromInline package let logSumExp: @Sendable (StridedRows<Storage>, UnsafeMutablePointer<Scalar>) -> Void
  /// `y[i] = exp(x[i])` for `count` elements: the backend's vector exp alone (the exp floor).
  @usableFromInline package let exp: @Sendable (UnsafePointer<Storage>, Int, UnsafeMutablePointer<Storage>) -> Void
  /// Softmax backward (y, dy) -> dx.
  @usableFromInline package let softmaxBackward: @Sendable (StridedRows<Storage>, StridedRows<Storage>, MutableStridedRows<Storage>) -> Void
  /// Log-softmax backward (y, dy) -> dx.
  @usableFromInline package let logSoftmaxBackward: @Sendable (StridedRows<Storage>, StridedRows<Storage>, MutableStridedRows<Storage>) -> Void
  /// Class-label cross-entropy (logits, labels, parameters, gradient scale, gradient?, losses?) -> sum.
  @usableFromInline package let crossEntropyLabels: @Sendable (
    StridedRows<Storage>, UnsafePointer<Int32>, CrossEntropyParameters<Scalar>, Scalar,
    MutableStridedRows<Storage>?, UnsafeMutablePointer<Scalar>?
  ) -> LossSum<Scalar>
  /// Probability-target cross-entropy (logits, targets, parameters, scale, gradient?, losses?) -> sum.
  @usableFromInline package let crossEntropyTargets: @Sendable (
    StridedRows<Storage>, StridedRows<Storage>, CrossEntropyParameters<Scalar>, Scalar,
    MutableStridedRows<Storage>?, UnsafeMutablePointer<Scalar>?
  ) -> LossSum<Scalar>
  /// Binary cross-entropy with logits (logits, targets, posWeight?, scale, losses?, gradient?) -> sum.
  @usableFromInline package let binaryCrossEntropy: @Sendable (
    StridedRows<Storage>, StridedRows<Storage>, UnsafePointer<Scalar>?, Scalar,
    MutableStridedRows<Scalar>?, MutableStridedRows<Storage>?
  ) -> LossSum<Scalar>
  /// Row-wise logsumexp partials.
  @usableFromInline package let logSumExpPartials: @Sendable (StridedRows<Storage>, UnsafeMutablePointer<LogSumExpPartial<Scalar>>) -> Void
  /// Merge of two partials.
  @usableFromInline package let mergeLogSumExp: @Sendable (LogSumExpPartial<Scalar>, LogSumExpPartial<Scalar>) -> LogSumExpPartial<Scalar>
  /// logsumexp of a partial.
  @usableFromInline package let logSumExpOfPartial: @Sendable (LogSumExpPartial<Scalar>) -> Scalar
  /// Class-label cross-entropy of a column slice given merged partials
  /// (slice, offset, labels, states, parameters, scale, gradient?, losses?) -> sum.
  @usableFromInline package let crossEntropyLabelSlice: @Sendable (
    StridedRows<Storage>, Int, UnsafePointer<Int32>, UnsafePointer<LogSumExpPartial<Scalar>>,
    CrossEntropyParameters<Scalar>, Scalar, MutableStridedRows<Storage>?, UnsafeMutablePointer<Scalar>?
  ) -> LossSum<Scalar>

  /// Sum of weights and the index of the first negative or NaN one (-1 if none).
  @usableFromInline package let checkedWeightSum: @Sendable (UnsafePointer<Scalar>, Int) -> (sum: Scalar, firstInvalid: Int)
  /// sum of w[t_r] over the rows whose (valid) label is not the ignore index
  /// (labels, rows, ignore index, weights).
  @usableFromInline package let labelWeightSum: @Sendable (UnsafePointer<Int32>, Int, Int32?, UnsafePointer<Scalar>) -> Scalar

  /// Specializes every kernel for the vector math `M`.
  @inlinable
  package init<M: VectorMath>(_: M.Type) where M.Storage == Storage, M.Scalar == Scalar {
    softmax = { M.softmaxRows($0, to: $1) }
    logSoftmax = { M.logSoftmaxRows($0, to: $1) }
    logSumExp = { M.logSumExpRows($0, to: $1) }
    exp = { M.expArray($0, count: $1, to: $2) }
    softmaxBackward = { M.softmaxBackwardRows($0, $1, to: $2) }
    logSoftmaxBackward = { M.logSoftmaxBackwardRows($0, $1, to: $2) }
    crossEntropyLabels = { M.crossEntropyLabelRows($0, labels: $1, $2, scale: $3, gradient: $4, losses: $5) }
    crossEntropyTargets = { M.crossEntropyTargetRows($0, targets: $1, $2, scale: $3, gradient: $4, losses: $5) }
    binaryCrossEntropy = {
      M.binaryCrossEntropyRows($0, targets: $1, posWeight: $2, scale: $3, losses: $4, gradient: $5)
    }
    logSumExpPartials = { M.logSumExpPartialRows($0, to: $1) }
    checkedWeightSum = { M.checkedWeightSum($0, count: $1) }
    labelWeightSum = { M.labelWeightSum($0, rows: $1, ignoring: $2, weights: $3) }
    mergeLogSumExp = { M.merge($0, $1) }
    logSumExpOfPartial = { M.logSumExp($0) }
    crossEntropyLabelSlice = {
      M.crossEntropyLabelSliceRows(
        $0, offset: $1, labels: $2, states: $3, $4, scale: $5, gradient: $6, losses: $7)
    }
  }

  /// The same kernels for another element type with the same memory layout (the public
  /// `BFloat16` and `Float16` over the backends' `UInt16` storage): every view is passed on as a
  /// view of `Storage`. One more indirect call per kernel call.
  package func reinterpreted<Other: SendableMetatype>(as _: Other.Type) -> KernelTable<Other, Scalar> {
    precondition(
      MemoryLayout<Other>.size == MemoryLayout<Storage>.size && MemoryLayout<Other>.stride == MemoryLayout<Storage>.stride
        && MemoryLayout<Other>.alignment == MemoryLayout<Storage>.alignment)
    return KernelTable<Other, Scalar>(reinterpreting: self)
  }

  init<Source: SendableMetatype>(reinterpreting t: KernelTable<Source, Scalar>) {
    softmax = { t.softmax($0.reinterpreted(), $1.reinterpreted()) }
    logSoftmax = { t.logSoftmax($0.reinterpreted(), $1.reinterpreted()) }
    logSumExp = { t.logSumExp($0.reinterpreted(), $1) }
    exp = {
      t.exp(UnsafeRawPointer($0).assumingMemoryBound(to: Source.self), $1,
            UnsafeMutableRawPointer($2).assumingMemoryBound(to: Source.self))
    }
    softmaxBackward = { t.softmaxBackward($0.reinterpreted(), $1.reinterpreted(), $2.reinterpreted()) }
    logSoftmaxBackward = { t.logSoftmaxBackward($0.reinterpreted(), $1.reinterpreted(), $2.reinterpreted()) }
    crossEntropyLabels = { t.crossEntropyLabels($0.reinterpreted(), $1, $2, $3, $4?.reinterpreted(), $5) }
    crossEntropyTargets = { t.crossEntropyTargets($0.reinterpreted(), $1.reinterpreted(), $2, $3, $4?.reinterpreted(), $5) }
    binaryCrossEntropy = { t.binaryCrossEntropy($0.reinterpreted(), $1.reinterpreted(), $2, $3, $4, $5?.reinterpreted()) }
    logSumExpPartials = { t.logSumExpPartials($0.reinterpreted(), $1) }
    mergeLogSumExp = t.mergeLogSumExp
    logSumExpOfPartial = t.logSumExpOfPartial
    crossEntropyLabelSlice = { t.crossEntropyLabelSlice($0.reinterpreted(), $1, $2, $3, $4, $5, $6?.reinterpreted(), $7) }
    checkedWeightSum = t.checkedWeightSum
    labelWeightSum = t.labelWeightSum
  }
}
