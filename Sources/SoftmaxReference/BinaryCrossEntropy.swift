public import SoftmaxKernels

// Binary cross-entropy with logits, one element at a time:
//   loss = (1 - t) max(x, 0) + pw t max(-x, 0) + (1 + (pw - 1) t) log1p(exp(-|x|))
// (equal to PyTorch's (1 - t) x + (1 + (pw - 1) t) (log1p(exp(-|x|)) + max(-x, 0)), without its
// cancellation), gradient (1 - t) sigmoid(x) - pw t sigmoid(-x).

enum ScalarBinaryCrossEntropy {
  static func sigmoid<T: ElementaryScalar>(_ x: T) -> T {
    let e = T.libmExp(-abs(x))
    return x < 0 ? e / (1 + e) : 1 / (1 + e)
  }

  static func element<T: ElementaryScalar>(_ x: T, _ t: T, _ pw: T) -> (loss: T, gradient: T) {
    let neg = 1 - t, pos = pw * t
    // pw t max(-x, 0) is 0 only when pw or t is (pw t alone may underflow), formed as
    // pw (t max(-x, 0)) for t <= 1 so that a subnormal t keeps its relative accuracy.
    let nx = Swift.max(-x, 0)
    let posTerm: T = pw == 0 || t == 0 ? 0 : (t <= 1 ? pw * (t * nx) : pos * nx)
    let loss = ScalarCrossEntropy.term(neg, Swift.max(x, 0)) + posTerm
      + (neg + pos) * T.libmLog1p(T.libmExp(-abs(x)))
    return (x.isNaN ? .nan : loss, neg * sigmoid(x) - pos * sigmoid(-x))
  }
}

extension Reference {
  /// Elementwise BCE with logits over packed `rows x cols`, `posWeight` per column (nil: all 1).
  ///
  /// - Parameters:
  ///   - x: `rows * cols` logits, packed row-major.
  ///   - t: The targets, packed like `x`.
  ///   - rows: The number of rows.
  ///   - cols: The number of columns.
  ///   - posWeight: One weight per column for the positive term, or nil for all 1.
  ///   - reduction: Sum, or mean over all `rows * cols` elements.
  ///   - gradientScale: Multiplies the gradient.
  /// - Returns: The elementwise losses, the reduced loss and the gradient, in `T`.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func binaryCrossEntropyWithLogits<T: ElementaryScalar>(
    logits x: [T], targets t: [T], rows: Int, cols: Int, posWeight: [T]?, reduction: LossReduction, gradientScale: T = 1
  ) -> LossResult<T> {
    precondition(x.count == rows * cols && t.count == rows * cols)
    let count = T(rows * cols)
    let scale = reduction == .mean && count > 0 ? gradientScale / count : gradientScale
    var losses = [T](), gradient = [T](), total = KahanSum<T>()
    for i in 0..<x.count {
      let (l, g) = ScalarBinaryCrossEntropy.element(x[i], t[i], posWeight?[i % cols] ?? 1)
      losses.append(l)
      gradient.append(scale * g)
      // The mean adds l / count, so a sum of losses past the range gives a finite mean when the
      // exact one is representable.
      total.add(reduction == .mean ? l / count : l)
    }
    let loss = total.sum
    return LossResult(losses: losses, loss: loss, gradient: gradient)
  }
}

extension Oracle {
  /// BCE with logits in the wider precision.
  ///
  /// - Parameters:
  ///   - x: `rows * cols` logits, packed row-major.
  ///   - t: The targets, packed like `x`.
  ///   - rows: The number of rows.
  ///   - cols: The number of columns.
  ///   - posWeight: One weight per column for the positive term, or nil for all 1.
  ///   - reduction: Sum, or mean over all `rows * cols` elements.
  ///   - gradientScale: Multiplies the gradient.
  /// - Returns: The elementwise losses, the reduced loss and the gradient, in `T.Wide`.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func binaryCrossEntropyWithLogits<T: ReferenceScalar>(
    logits x: [T], targets t: [T], rows: Int, cols: Int, posWeight: [T]?, reduction: LossReduction, gradientScale: T = 1
  ) -> LossResult<T.Wide> {
    Reference.binaryCrossEntropyWithLogits(
      logits: x.map { T.Wide($0) }, targets: t.map { T.Wide($0) }, rows: rows, cols: cols,
      posWeight: posWeight?.map { T.Wide($0) }, reduction: reduction, gradientScale: T.Wide(gradientScale))
  }
}
