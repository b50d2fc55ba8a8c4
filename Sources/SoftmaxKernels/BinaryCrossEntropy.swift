internal import SoftmaxKernelsCore

/// Binary cross-entropy with logits, elementwise over a packed `rows x cols` matrix (PyTorch's
/// `binary_cross_entropy_with_logits`):
///
///     loss = (1 - t) x + (1 + (pw - 1) t) (log1p(exp(-|x|)) + max(-x, 0))
///     d loss / dx = (1 - t) sigmoid(x) - pw t sigmoid(-x)
///
/// with `pw = posWeight[j]` per column (all 1 when nil). It is evaluated as
/// `(1 - t) max(x, 0) + pw t max(-x, 0) + (1 + (pw - 1) t) log1p(exp(-|x|))`, the same value with no
/// cancellation, so it is accurate for any finite logit. Returns the losses reduced by `reduction`
/// (mean over all `rows * cols` elements); writes the elementwise losses to `losses` and
/// `gradientScale * d(reduced loss)/dx` to `gradient` when given (`gradient` may be `logits`).
/// Throws, before writing anything, on wrong sizes or a negative or NaN `posWeight`.
public func binaryCrossEntropyWithLogits<T: SoftmaxScalar>(
  logits: UnsafeBufferPointer<T>, targets: UnsafeBufferPointer<T>, rows: Int, cols: Int,
  posWeight: [T]? = nil, reduction: LossReduction = .mean, gradientScale: T = 1,
  losses: UnsafeMutableBufferPointer<T>? = nil, gradient: UnsafeMutableBufferPointer<T>? = nil
) throws(SoftmaxError) -> T {
  let shape = try Shape(rows: rows, cols: cols)
  let x = try shape.input(logits, stride: nil, argument: "logits", strideArgument: "cols")
  let t = try shape.input(targets, stride: nil, argument: "targets", strideArgument: "cols")
  if let posWeight { _ = try validateWeights(posWeight, count: cols, argument: "posWeight") }
  let l = try losses.map { (b) throws(SoftmaxError) in try shape.output(b, stride: nil, argument: "losses", strideArgument: "cols") }
  let g = try gradient.map { (b) throws(SoftmaxError) in try shape.output(b, stride: nil, argument: "gradient", strideArgument: "cols") }
  if let g { try checkNoPartialOverlap(x, g, input: "logits", output: "gradient") }
  if shape.isEmpty { return 0 }
  let count = T(rows) * T(cols)
  let mean = reduction == .mean
  let scale = mean ? gradientScale / count : gradientScale
  let total = posWeight.map { pw in
    pw.withUnsafeBufferPointer { T._kernels(.accurate).binaryCrossEntropy(x, t, $0.baseAddress, scale, l, g) }
  } ?? T._kernels(.accurate).binaryCrossEntropy(x, t, nil, scale, l, g)
  return mean ? total.mean(dividedBy: count) : total.sum
}

/// Binary cross-entropy with logits on arrays of rows of `cols` (`targets.count == logits.count`),
/// reduced by `reduction`.
public func binaryCrossEntropyWithLogits<T: SoftmaxScalar>(
  logits: [T], targets: [T], cols: Int, posWeight: [T]? = nil, reduction: LossReduction = .mean
) throws(SoftmaxError) -> T {
  let shape = try Shape(count: logits.count, cols: cols, argument: "logits")
  guard targets.count == logits.count else {
    throw .countMismatch(argument: "targets", expected: logits.count, actual: targets.count)
  }
  return try logits.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
    try targets.withUnsafeBufferPointer { (t) throws(SoftmaxError) in
      try binaryCrossEntropyWithLogits(
        logits: x, targets: t, rows: shape.rows, cols: cols, posWeight: posWeight, reduction: reduction)
    }
  }
}

/// Binary cross-entropy with logits and its gradient on arrays: returns the reduced loss and
/// `gradientScale * d(loss)/d(logits)`.
public func binaryCrossEntropyWithLogitsAndGradient<T: SoftmaxScalar>(
  logits: [T], targets: [T], cols: Int, posWeight: [T]? = nil, reduction: LossReduction = .mean,
  gradientScale: T = 1
) throws(SoftmaxError) -> (loss: T, gradient: [T]) {
  let shape = try Shape(count: logits.count, cols: cols, argument: "logits")
  guard targets.count == logits.count else {
    throw .countMismatch(argument: "targets", expected: logits.count, actual: targets.count)
  }
  var grad = [T](repeating: 0, count: logits.count)
  let loss = try logits.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
    try targets.withUnsafeBufferPointer { (t) throws(SoftmaxError) in
      try grad.withUnsafeMutableBufferPointer { (g) throws(SoftmaxError) in
        try binaryCrossEntropyWithLogits(
          logits: x, targets: t, rows: shape.rows, cols: cols, posWeight: posWeight, reduction: reduction,
          gradientScale: gradientScale, gradient: g)
      }
    }
  }
  return (loss, grad)
}
