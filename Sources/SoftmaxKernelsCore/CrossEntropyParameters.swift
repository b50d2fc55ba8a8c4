/// The options of a cross-entropy call as the kernels take them (validated by the public API).
///
/// Per row with label t (or target row p), logsumexp L, C classes, weights w (all 1 when `weights`
/// is nil), W = sum_j w_j, smoothing eps and z-loss coefficient z:
///   labels:  loss = (1 - eps) w_t (L - x_t) + eps/C sum_j w_j (L - x_j) + z L^2
///   targets: loss = sum_j w_j q_j (L - x_j) + z L^2,  q_j = (1 - eps) p_j + eps/C
@frozen
@usableFromInline package struct CrossEntropyParameters<Scalar: BinaryFloatingPoint> {
  /// Rows whose label equals this get loss 0 and gradient 0 (labels only).
  @usableFromInline package var ignoreIndex: Int32?
  /// `classes` weights, or nil for all 1.
  @usableFromInline package var weights: UnsafePointer<Scalar>?
  /// W = sum_j w_j over all classes (C without weights).
  @usableFromInline package var weightSum: Scalar
  /// eps in [0, 1].
  @usableFromInline package var labelSmoothing: Scalar
  /// z >= 0.
  @usableFromInline package var zLoss: Scalar
  /// C, the number of classes of the whole row (also when a kernel sees one slice of it).
  @usableFromInline package var classes: Int

  @inlinable
  package init(
    ignoreIndex: Int32?, weights: UnsafePointer<Scalar>?, weightSum: Scalar, labelSmoothing: Scalar,
    zLoss: Scalar, classes: Int
  ) {
    self.ignoreIndex = ignoreIndex
    self.weights = weights
    self.weightSum = weightSum
    self.labelSmoothing = labelSmoothing
    self.zLoss = zLoss
    self.classes = classes
  }
}

extension VectorMath {
  /// The compensated sum of `n` weights and the index of the first one that is negative or NaN
  /// (-1 if none): argument validation, specialized like the kernels so that checking a 128k-class
  /// weight vector costs about a nanosecond per class.
  @inlinable
  package static func checkedWeightSum(_ w: UnsafePointer<Scalar>, count n: Int) -> (sum: Scalar, firstInvalid: Int) {
    var sum = CompensatedScalarSum<Scalar>()
    for i in 0..<n {
      let v = w[i]
      guard v >= 0 else { return (.nan, i) }
      sum.add(v)
    }
    return (sum.total, -1)
  }

  /// sum_r w[t_r] over the rows whose label t_r is not `ignore` (labels already checked to be
  /// in range), compensated: the mean's denominator with class weights.
  @inlinable
  package static func labelWeightSum(
    _ labels: UnsafePointer<Int32>, rows: Int, ignoring ignore: Int32?, weights w: UnsafePointer<Scalar>
  ) -> Scalar {
    var sum = CompensatedScalarSum<Scalar>()
    for r in 0..<rows where labels[r] != ignore { sum.add(w[Int(labels[r])]) }
    return sum.total
  }
}
