internal import SoftmaxKernelsCore

// Cross-entropy from logits: class labels and probability targets, forward only or fused with the
// gradient (into a separate buffer or over the logits in place). Every argument is validated before
// the first write. The math of each option is on `CrossEntropyOptions`.
//
// Passes over the logits of a row: max; compensated sum of exp; then (only when a gradient is
// asked for, or label smoothing / probability targets need it) one pass that writes the gradient
// and accumulates the remaining sums from the same loads. Nothing of size rows x cols is allocated.

/// Runs a validated cross-entropy kernel: builds its parameters (with the weights' pointer),
/// scales the gradient by 1/denominator for the mean, runs `kernel(parameters, scale, first, count)`
/// on `threads` row ranges (in parallel when more than one) and reduces the sum of the row losses.
func runCrossEntropy<T: SoftmaxScalar>(
  options: CrossEntropyOptions<T>, rows: Int, cols: Int, threads: Int, weightSum: T, denominator: T,
  gradientScale: T, _ kernel: (CrossEntropyParameters<T>, T, Int, Int) -> LossSum<T>
) -> T {
  let mean = options.reduction == .mean
  let scale = mean ? (denominator == 0 ? 0 : gradientScale / denominator) : gradientScale
  func run(_ w: UnsafePointer<T>?) -> LossSum<T> {
    let p = CrossEntropyParameters(
      ignoreIndex: options.ignoreIndex, weights: w, weightSum: weightSum,
      labelSmoothing: options.labelSmoothing, zLoss: options.zLoss, classes: cols)
    if threads <= 1 { return kernel(p, scale, 0, rows) }
    var total = LossSum<T>()
    for part in mapRowRanges(rows: rows, threads: threads, { kernel(p, scale, $0, $1) }) { total.add(part) }
    return total
  }
  let total = options.classWeights.map { $0.withUnsafeBufferPointer { run($0.baseAddress) } } ?? run(nil)
  return mean ? total.mean(dividedBy: denominator) : total.sum
}

/// Rejects a `losses` buffer that shares an element with the logits, the gradient or the targets.
func checkLossesDisjoint<T>(
  _ losses: UnsafeMutablePointer<T>?, rows: Int, from x: StridedRows<T>, gradient: MutableStridedRows<T>?,
  targets: StridedRows<T>? = nil
) throws(SoftmaxError) {
  guard let losses else { return }
  try checkDisjoint(x, perRow: losses, count: rows, input: "logits", output: "losses")
  if let gradient { try checkDisjoint(gradient.readOnly, perRow: losses, count: rows, input: "gradient", output: "losses") }
  if let targets { try checkDisjoint(targets, perRow: losses, count: rows, input: "targets", output: "losses") }
}

/// Class labels: validates labels, options and `losses`, then runs the kernel.
func labelCrossEntropy<T: SoftmaxScalar>(
  _ x: StridedRows<T>, labels: UnsafeBufferPointer<Int32>, options: CrossEntropyOptions<T>, gradientScale: T,
  gradient: MutableStridedRows<T>?, losses: UnsafeMutableBufferPointer<T>?
) throws(SoftmaxError) -> T {
  let shape = try Shape(rows: x.rows, cols: x.cols)
  let weightSum = try options.validate(cols: x.cols)
  let threads = try KernelOptions(threads: options.threads).threadCount(rows: x.rows, cols: x.cols)
  let denominator: T = try validateLabels(
    labels, rows: x.rows, cols: x.cols, ignoreIndex: options.ignoreIndex, weights: options.classWeights)
  let lossOut = try losses.map { b throws(SoftmaxError) in try shape.perRow(b, argument: "losses") }
  try checkLossesDisjoint(lossOut, rows: x.rows, from: x, gradient: gradient)
  if x.rows == 0 { return 0 }
  let labelBase = labels.baseAddress!
  return runCrossEntropy(
    options: options, rows: x.rows, cols: x.cols, threads: threads, weightSum: weightSum, denominator: denominator,
    gradientScale: gradientScale
  ) { p, scale, first, count in
    T._kernels(options.mode).crossEntropyLabels(
      x.rows(first, count: count), labelBase + first, p, scale, gradient?.rows(first, count: count),
      lossOut.map { $0 + first })
  }
}

/// Probability targets: validates targets, options and `losses`, then runs the kernel.
func targetCrossEntropy<T: SoftmaxScalar>(
  _ x: StridedRows<T>, targets: UnsafeBufferPointer<T>, targetsStride: Int?, options: CrossEntropyOptions<T>,
  gradientScale: T, gradient: MutableStridedRows<T>?, losses: UnsafeMutableBufferPointer<T>?
) throws(SoftmaxError) -> T {
  let shape = try Shape(rows: x.rows, cols: x.cols)
  let weightSum = try options.validate(cols: x.cols)
  let threads = try KernelOptions(threads: options.threads).threadCount(rows: x.rows, cols: x.cols)
  let p = try shape.input(targets, stride: targetsStride, argument: "targets", strideArgument: "targetsStride")
  let lossOut = try losses.map { b throws(SoftmaxError) in try shape.perRow(b, argument: "losses") }
  try checkLossesDisjoint(lossOut, rows: x.rows, from: x, gradient: gradient, targets: p)
  if let gradient { try checkDisjoint(p, gradient.readOnly, input: "targets", output: "gradient") }
  if x.rows == 0 { return 0 }
  if x.cols == 0 {  // no classes: nothing to predict, every loss 0
    lossOut?.update(repeating: 0, count: x.rows)
    return 0
  }
  return runCrossEntropy(
    options: options, rows: x.rows, cols: x.cols, threads: threads, weightSum: weightSum, denominator: T(x.rows),
    gradientScale: gradientScale
  ) { q, scale, first, count in
    T._kernels(options.mode).crossEntropyTargets(
      x.rows(first, count: count), p.rows(first, count: count), q, scale,
      gradient?.rows(first, count: count), lossOut.map { $0 + first })
  }
}

// MARK: - Class labels

/// Cross-entropy of each row of `rows x cols` logits with its class label `labels[r]`:
/// `loss_r = L_r - x[r, t_r]`, `L_r = logsumexp_j x[r, j]`, with the options of `options`
/// (ignore index, class weights, label smoothing, z-loss; see `CrossEntropyOptions`).
///
/// Writes the per-row losses to `losses` (`rows` values, 0 for ignored rows) when given, and
/// returns them reduced by `options.reduction`. A label on a masked class (-inf logit) gives +inf;
/// a fully masked row gives +inf; a NaN in a row gives NaN for that row only. Throws, before
/// writing anything, on a label outside `0..<cols` that is not the ignore index, a negative or NaN
/// weight, a smoothing outside [0, 1], or a buffer too small.
public func crossEntropy<T: SoftmaxScalar>(
  logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, logitsStride: Int? = nil,
  labels: UnsafeBufferPointer<Int32>, options: CrossEntropyOptions<T> = .init(),
  losses: UnsafeMutableBufferPointer<T>? = nil
) throws(SoftmaxError) -> T {
  let shape = try Shape(rows: rows, cols: cols)
  let x = try shape.input(logits, stride: logitsStride, argument: "logits", strideArgument: "logitsStride")
  return try labelCrossEntropy(x, labels: labels, options: options, gradientScale: 1, gradient: nil, losses: losses)
}

/// Fused cross-entropy forward and backward with class labels: returns the reduced loss (as
/// `crossEntropy`) and writes `gradient[r, j] = gradientScale * d(loss)/d(x[r, j])`, which is
/// `gradientScale * (softmax(x)_j - onehot(t)_j) / denominator` for the plain mean (see
/// `CrossEntropyOptions` for the terms of each option). Ignored and fully masked rows get 0.
///
/// Three passes over each row of logits: max, sum of exp, and one pass writing the gradient.
public func crossEntropyWithGradient<T: SoftmaxScalar>(
  logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, logitsStride: Int? = nil,
  labels: UnsafeBufferPointer<Int32>, options: CrossEntropyOptions<T> = .init(), gradientScale: T = 1,
  gradient: UnsafeMutableBufferPointer<T>, gradientStride: Int? = nil,
  losses: UnsafeMutableBufferPointer<T>? = nil
) throws(SoftmaxError) -> T {
  let shape = try Shape(rows: rows, cols: cols)
  let x = try shape.input(logits, stride: logitsStride, argument: "logits", strideArgument: "logitsStride")
  let g = try shape.output(gradient, stride: gradientStride, argument: "gradient", strideArgument: "gradientStride")
  try checkNoPartialOverlap(x, g, input: "logits", output: "gradient")
  return try labelCrossEntropy(x, labels: labels, options: options, gradientScale: gradientScale, gradient: g, losses: losses)
}

/// Fused cross-entropy forward and backward with class labels, in place: `logits` holds the
/// logits on entry and `gradientScale * d(loss)/d(logits)` on return. No second matrix is needed.
public func crossEntropyWithGradient<T: SoftmaxScalar>(
  logitsInPlace logits: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  labels: UnsafeBufferPointer<Int32>, options: CrossEntropyOptions<T> = .init(), gradientScale: T = 1,
  losses: UnsafeMutableBufferPointer<T>? = nil
) throws(SoftmaxError) -> T {
  let shape = try Shape(rows: rows, cols: cols)
  let g = try shape.output(logits, stride: stride, argument: "logits", strideArgument: "stride")
  return try labelCrossEntropy(
    g.readOnly, labels: labels, options: options, gradientScale: gradientScale, gradient: g, losses: losses)
}

/// Cross-entropy of rows of `cols` logits with `Int` class labels (one per row), reduced by
/// `options.reduction`.
public func crossEntropy<T: SoftmaxScalar>(
  logits: [T], labels: [Int], cols: Int, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T {
  let shape = try Shape(count: logits.count, cols: cols, argument: "logits")
  guard labels.count == shape.rows else { throw .countMismatch(argument: "labels", expected: shape.rows, actual: labels.count) }
  let l = try int32Labels(labels, cols: cols)
  return try logits.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
    try l.withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
      try crossEntropy(logits: x, rows: shape.rows, cols: cols, labels: lb, options: options)
    }
  }
}

/// The per-row cross-entropy losses (`options.reduction` is not applied).
public func crossEntropyLosses<T: SoftmaxScalar>(
  logits: [T], labels: [Int], cols: Int, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> [T] {
  let shape = try Shape(count: logits.count, cols: cols, argument: "logits")
  guard labels.count == shape.rows else { throw .countMismatch(argument: "labels", expected: shape.rows, actual: labels.count) }
  let l = try int32Labels(labels, cols: cols)
  var out = [T](repeating: 0, count: shape.rows)
  try logits.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
    try l.withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
      try out.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
        _ = try crossEntropy(logits: x, rows: shape.rows, cols: cols, labels: lb, options: options, losses: o)
      }
    }
  }
  return out
}

/// Fused forward and backward with `Int` labels: returns the reduced loss and replaces `logits`
/// by `gradientScale * d(loss)/d(logits)`.
public func crossEntropyWithGradient<T: SoftmaxScalar>(
  logits: inout [T], labels: [Int], cols: Int, options: CrossEntropyOptions<T> = .init(), gradientScale: T = 1
) throws(SoftmaxError) -> T {
  let shape = try Shape(count: logits.count, cols: cols, argument: "logits")
  guard labels.count == shape.rows else { throw .countMismatch(argument: "labels", expected: shape.rows, actual: labels.count) }
  let l = try int32Labels(labels, cols: cols)
  return try logits.withUnsafeMutableBufferPointer { (x) throws(SoftmaxError) in
    try l.withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
      try crossEntropyWithGradient(
        logitsInPlace: x, rows: shape.rows, cols: cols, labels: lb, options: options, gradientScale: gradientScale)
    }
  }
}

// MARK: - Probability targets

/// Cross-entropy of each row of logits with a row of target probabilities:
/// `loss_r = sum_j p[r, j] (L_r - x[r, j])` (a term with p = 0 counts as 0 even where x = -inf),
/// with class weights, label smoothing and z-loss from `options` (`ignoreIndex` does not apply).
/// `targets` is a `rows x cols` matrix. The mean divides by `rows`.
public func crossEntropy<T: SoftmaxScalar>(
  logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, logitsStride: Int? = nil,
  targets: UnsafeBufferPointer<T>, targetsStride: Int? = nil, options: CrossEntropyOptions<T> = .init(),
  losses: UnsafeMutableBufferPointer<T>? = nil
) throws(SoftmaxError) -> T {
  let shape = try Shape(rows: rows, cols: cols)
  let x = try shape.input(logits, stride: logitsStride, argument: "logits", strideArgument: "logitsStride")
  return try targetCrossEntropy(
    x, targets: targets, targetsStride: targetsStride, options: options, gradientScale: 1, gradient: nil, losses: losses)
}

/// Fused forward and backward with probability targets: returns the reduced loss and writes
/// `gradient = gradientScale * (softmax(x) * (Q + 2 z L) - c) / denominator` with c_j the weighted,
/// smoothed target and Q = sum_j c_j (`softmax - target` for plain targets summing to 1).
public func crossEntropyWithGradient<T: SoftmaxScalar>(
  logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, logitsStride: Int? = nil,
  targets: UnsafeBufferPointer<T>, targetsStride: Int? = nil, options: CrossEntropyOptions<T> = .init(),
  gradientScale: T = 1, gradient: UnsafeMutableBufferPointer<T>, gradientStride: Int? = nil,
  losses: UnsafeMutableBufferPointer<T>? = nil
) throws(SoftmaxError) -> T {
  let shape = try Shape(rows: rows, cols: cols)
  let x = try shape.input(logits, stride: logitsStride, argument: "logits", strideArgument: "logitsStride")
  let g = try shape.output(gradient, stride: gradientStride, argument: "gradient", strideArgument: "gradientStride")
  try checkNoPartialOverlap(x, g, input: "logits", output: "gradient")
  return try targetCrossEntropy(
    x, targets: targets, targetsStride: targetsStride, options: options, gradientScale: gradientScale, gradient: g,
    losses: losses)
}

/// Fused forward and backward with probability targets, the gradient written over the logits.
public func crossEntropyWithGradient<T: SoftmaxScalar>(
  logitsInPlace logits: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  targets: UnsafeBufferPointer<T>, targetsStride: Int? = nil, options: CrossEntropyOptions<T> = .init(),
  gradientScale: T = 1, losses: UnsafeMutableBufferPointer<T>? = nil
) throws(SoftmaxError) -> T {
  let shape = try Shape(rows: rows, cols: cols)
  let g = try shape.output(logits, stride: stride, argument: "logits", strideArgument: "stride")
  return try targetCrossEntropy(
    g.readOnly, targets: targets, targetsStride: targetsStride, options: options, gradientScale: gradientScale,
    gradient: g, losses: losses)
}

/// Cross-entropy with probability targets on arrays (`targets.count == logits.count`).
public func crossEntropy<T: SoftmaxScalar>(
  logits: [T], targets: [T], cols: Int, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T {
  let shape = try Shape(count: logits.count, cols: cols, argument: "logits")
  guard targets.count == logits.count else {
    throw .countMismatch(argument: "targets", expected: logits.count, actual: targets.count)
  }
  return try logits.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
    try targets.withUnsafeBufferPointer { (p) throws(SoftmaxError) in
      try crossEntropy(logits: x, rows: shape.rows, cols: cols, targets: p, options: options)
    }
  }
}

/// Fused forward and backward with probability targets on arrays: `logits` is replaced by the
/// gradient.
public func crossEntropyWithGradient<T: SoftmaxScalar>(
  logits: inout [T], targets: [T], cols: Int, options: CrossEntropyOptions<T> = .init(), gradientScale: T = 1
) throws(SoftmaxError) -> T {
  let shape = try Shape(count: logits.count, cols: cols, argument: "logits")
  guard targets.count == logits.count else {
    throw .countMismatch(argument: "targets", expected: logits.count, actual: targets.count)
  }
  return try logits.withUnsafeMutableBufferPointer { (x) throws(SoftmaxError) in
    try targets.withUnsafeBufferPointer { (p) throws(SoftmaxError) in
      try crossEntropyWithGradient(
        logitsInPlace: x, rows: shape.rows, cols: cols, targets: p, options: options, gradientScale: gradientScale)
    }
  }
}
