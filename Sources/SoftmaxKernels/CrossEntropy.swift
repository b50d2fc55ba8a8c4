internal import SoftmaxKernelsCore

// Cross-entropy from logits: class labels and probability targets, forward only or fused with the
// gradient (into a separate buffer or over the logits in place). Every argument is validated before
// the first write. The math of each option is on `CrossEntropyOptions`.
//
// Passes over the logits of a row: max; compensated sum of exp; then (only when a gradient is
// asked for, or label smoothing / probability targets need it) one pass that writes the gradient
// and accumulates the remaining sums from the same loads. Nothing of size rows x cols is allocated.

/// What the logits are compared with: a class label per row, or a row of target probabilities.
enum CrossEntropyTarget<T: SoftmaxScalar, L: ClassLabel> {
  case labels(UnsafeBufferPointer<L>)
  case targets(UnsafeBufferPointer<T>, stride: Int?)
}

/// Where a cross-entropy call writes: nothing but the loss, a gradient matrix, or the gradient
/// over the logits.
enum CrossEntropyGradient<T> {
  case none
  case separate(UnsafeMutableBufferPointer<T>, stride: Int?)
  case inPlace
}

/// Validates every argument of a cross-entropy call, then runs it: the one path behind every
/// public form. `logits` is the (possibly in-place) matrix.
func crossEntropyCall<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int?, _ target: CrossEntropyTarget<T, L>,
  gradient: CrossEntropyGradient<T>, losses: UnsafeMutableBufferPointer<T.Arithmetic>?, gradientScale: T.Arithmetic,
  options: CrossEntropyOptions<T>
) throws(SoftmaxError) -> T.Arithmetic {
  let shape = try Shape(rows: rows, cols: cols)
  let inPlace: Bool
  if case .inPlace = gradient { inPlace = true } else { inPlace = false }
  let logitsName = inPlace ? "inPlace" : "logits"
  let x = try shape.input(UnsafeBufferPointer(logits), stride: stride, argument: logitsName, strideArgument: "stride")
  // A `let`: captured by the kernel closures, a `var` would be boxed on the heap on every call.
  let g: MutableStridedRows<T>?
  switch gradient {
  case .none: g = nil
  case .inPlace: g = try shape.output(logits, stride: stride, argument: logitsName, strideArgument: "stride")
  case .separate(let buffer, let gradientStride):
    let view = try shape.output(buffer, stride: gradientStride, argument: "gradient", strideArgument: "gradientStride")
    try checkNoPartialOverlap(x, view, input: "logits", output: "gradient")
    g = view
  }
  let weightSum = try options.validate(cols: cols)
  let threads = try options.kernel.threadCount(rows: rows, cols: cols)
  let mode = options.kernel.mode
  switch target {
  case .labels(let labels):
    return try withKernelLabels(labels, rows: rows, cols: cols, ignoreIndex: options.ignoreIndex) {
      (l) throws(SoftmaxError) in
      let lossOut = try losses.map { (b) throws(SoftmaxError) in try shape.perRow(b, argument: "losses") }
      try checkLossesDisjoint(lossOut, rows: rows, from: x, named: logitsName, gradient: g)
      if rows == 0 { return 0 }
      return runCrossEntropy(
        options: options, ignoreIndex: l.ignoreIndex, rows: rows, cols: cols, threads: threads, weightSum: weightSum,
        denominator: l.denominator(rows: rows, weights: options.classWeights, T.self), gradientScale: gradientScale
      ) { p, scale, first, count in
        T._kernels(mode).crossEntropyLabels(
          x.rows(first, count: count), l.base + first, p, scale, g?.rows(first, count: count),
          lossOut.map { $0 + first })
      }
    }
  case .targets(let targets, let targetsStride):
    let p = try shape.input(targets, stride: targetsStride, argument: "targets", strideArgument: "targetsStride")
    let lossOut = try losses.map { (b) throws(SoftmaxError) in try shape.perRow(b, argument: "losses") }
    try checkLossesDisjoint(lossOut, rows: rows, from: x, named: logitsName, gradient: g, targets: p)
    if let g { try checkDisjoint(p, g.readOnly, input: "targets", output: inPlace ? "inPlace" : "gradient") }
    if rows == 0 { return 0 }
    if cols == 0 {  // no classes: nothing to predict, every loss 0
      lossOut?.update(repeating: 0, count: rows)
      return 0
    }
    return runCrossEntropy(
      options: options, ignoreIndex: nil, rows: rows, cols: cols, threads: threads, weightSum: weightSum,
      denominator: T.Arithmetic(rows), gradientScale: gradientScale
    ) { q, scale, first, count in
      T._kernels(mode).crossEntropyTargets(
        x.rows(first, count: count), p.rows(first, count: count), q, scale, g?.rows(first, count: count),
        lossOut.map { $0 + first })
    }
  }
}

extension KernelLabels {
  /// The mean's denominator: the sum of w[t_r] over the rows not ignored (their count without
  /// class weights).
  func denominator<T: SoftmaxScalar>(rows: Int, weights: [T.Arithmetic]?, _: T.Type) -> T.Arithmetic {
    // No arithmetic in T per row here: this layer runs unspecialized (a witness call and a
    // metadata lookup per generic operation), so the weighted sum goes to the kernel table.
    guard let weights, counted > 0 else { return T.Arithmetic(counted) }
    return weights.withUnsafeBufferPointer { T._kernels(.accurate).labelWeightSum(base, rows, ignoreIndex, $0.baseAddress!) }
  }
}

/// Runs a validated cross-entropy kernel: builds its parameters (with the weights' pointer),
/// scales the gradient by 1/denominator for the mean, runs `kernel(parameters, scale, first, count)`
/// on `threads` row ranges (in parallel when more than one) and reduces the sum of the row losses.
func runCrossEntropy<T: SoftmaxScalar>(
  options: CrossEntropyOptions<T>, ignoreIndex: Int32?, rows: Int, cols: Int, threads: Int, weightSum: T.Arithmetic,
  denominator: T.Arithmetic, gradientScale: T.Arithmetic,
  _ kernel: (CrossEntropyParameters<T.Arithmetic>, T.Arithmetic, Int, Int) -> LossSum<T.Arithmetic>
) -> T.Arithmetic {
  let mean = options.reduction == .mean
  let scale = mean ? (denominator == 0 ? 0 : gradientScale / denominator) : gradientScale
  func run(_ w: UnsafePointer<T.Arithmetic>?) -> LossSum<T.Arithmetic> {
    let p = CrossEntropyParameters(
      ignoreIndex: ignoreIndex, weights: w, weightSum: weightSum,
      labelSmoothing: options.labelSmoothing, zLoss: options.zLoss, classes: cols)
    if threads <= 1 { return kernel(p, scale, 0, rows) }
    var total = LossSum<T.Arithmetic>()
    for part in mapRowRanges(rows: rows, threads: threads, { kernel(p, scale, $0, $1) }) { total.add(part) }
    return total
  }
  let total = options.classWeights.map { $0.withUnsafeBufferPointer { run($0.baseAddress) } } ?? run(nil)
  return mean ? total.mean(dividedBy: denominator) : total.sum
}

/// Rejects a `losses` buffer that shares an element with the logits (named `logitsName`: "logits",
/// or "inPlace" for the in-place forms), the gradient or the targets.
func checkLossesDisjoint<T, A>(
  _ losses: UnsafeMutablePointer<A>?, rows: Int, from x: StridedRows<T>, named logitsName: String,
  gradient: MutableStridedRows<T>?, targets: StridedRows<T>? = nil
) throws(SoftmaxError) {
  guard let losses else { return }
  try checkDisjoint(x, perRow: losses, count: rows, input: logitsName, output: "losses")
  if let gradient { try checkDisjoint(gradient.readOnly, perRow: losses, count: rows, input: "gradient", output: "losses") }
  if let targets { try checkDisjoint(targets, perRow: losses, count: rows, input: "targets", output: "losses") }
}

// Span, array and optional-buffer plumbing of the public forms.

extension Span {
  /// `body` with this span's elements as a mutable buffer that is only ever read (the shared
  /// entry point takes the in-place form's type; the logits of a forward call are never written).
  func withReadBuffer<R>(
    _ body: (UnsafeMutableBufferPointer<Element>) throws(SoftmaxError) -> R
  ) throws(SoftmaxError) -> R {
    try withUnsafeBufferPointer { (b) throws(SoftmaxError) in try body(UnsafeMutableBufferPointer(mutating: b)) }
  }
}

extension Array {
  /// As `Span.withReadBuffer`.
  func withReadBuffer<R>(
    _ body: (UnsafeMutableBufferPointer<Element>) throws(SoftmaxError) -> R
  ) throws(SoftmaxError) -> R {
    try withUnsafeBufferPointer { (b) throws(SoftmaxError) in try body(UnsafeMutableBufferPointer(mutating: b)) }
  }
}

// MARK: - Class labels

/// Cross-entropy of each row of logits with its class label, with spans: `loss_r = L_r - x[r, t_r]` with `L_r = logsumexp_j x[r, j]`, plus the terms of the options.
///
/// ## Edge cases
/// A label on a masked class (-inf logit) gives +inf; a fully masked row gives +inf; a NaN in
/// a row gives NaN for that row only. Ignored rows have loss 0 and do not count in the mean.
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - labels: One class label per row, in `0 ..< cols` or `options.ignoreIndex`.
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropy<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, labels: Span<L>,
  options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try labels.withUnsafeBufferPointer { (l) throws(SoftmaxError) in
      try crossEntropyCall(
        x, rows: rows, cols: cols, stride: stride, .labels(l), gradient: .none, losses: nil, gradientScale: 1,
        options: options)
    }
  }
}

/// Cross-entropy of each row of logits with its class label, with spans, writing the per-row losses.
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - labels: One class label per row, in `0 ..< cols` or `options.ignoreIndex`.
///   - losses: Receives the per-row losses (`rows` values; 0 for ignored rows).
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropy<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, labels: Span<L>,
  losses: inout MutableSpan<T.Arithmetic>,
  options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try labels.withUnsafeBufferPointer { (l) throws(SoftmaxError) in
      try losses.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
        try crossEntropyCall(
          x, rows: rows, cols: cols, stride: stride, .labels(l), gradient: .none, losses: o, gradientScale: 1,
          options: options)
      }
    }
  }
}

/// Fused cross-entropy forward and backward, with spans: returns the reduced loss (as `crossEntropy`)
/// and writes `gradientScale * d(loss)/d(logits)`; ignored and fully masked rows get 0.
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - labels: One class label per row, in `0 ..< cols` or `options.ignoreIndex`.
///   - gradient: Receives `gradientScale * d(loss)/d(logits)`; must not overlap the other buffers.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - gradientScale: Multiplies the gradient (the upstream gradient of the loss).
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropyWithGradient<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, labels: Span<L>,
  gradient: inout MutableSpan<T>, gradientStride: Int? = nil,
  gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try labels.withUnsafeBufferPointer { (l) throws(SoftmaxError) in
      try gradient.withUnsafeMutableBufferPointer { (d) throws(SoftmaxError) in
        try crossEntropyCall(
          x, rows: rows, cols: cols, stride: stride, .labels(l),
          gradient: .separate(d, stride: gradientStride), losses: nil, gradientScale: gradientScale, options: options)
      }
    }
  }
}

/// Fused cross-entropy forward and backward, with spans: returns the reduced loss (as `crossEntropy`)
/// and writes `gradientScale * d(loss)/d(logits)` and the per-row losses.
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - labels: One class label per row, in `0 ..< cols` or `options.ignoreIndex`.
///   - gradient: Receives `gradientScale * d(loss)/d(logits)`; must not overlap the other buffers.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - losses: Receives the per-row losses (`rows` values; 0 for ignored rows).
///   - gradientScale: Multiplies the gradient (the upstream gradient of the loss).
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropyWithGradient<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, labels: Span<L>,
  gradient: inout MutableSpan<T>, gradientStride: Int? = nil, losses: inout MutableSpan<T.Arithmetic>,
  gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try labels.withUnsafeBufferPointer { (l) throws(SoftmaxError) in
      try gradient.withUnsafeMutableBufferPointer { (d) throws(SoftmaxError) in
        try losses.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
          try crossEntropyCall(
            x, rows: rows, cols: cols, stride: stride, .labels(l),
            gradient: .separate(d, stride: gradientStride), losses: o, gradientScale: gradientScale, options: options)
        }
      }
    }
  }
}

/// Fused cross-entropy forward and backward in place, with spans: `inPlace` holds the logits on
/// entry and `gradientScale * d(loss)/d(logits)` on return. No second matrix is needed.
///
/// - Parameters:
///   - logits: (`inPlace:`) The logits on entry, the gradient on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - labels: One class label per row, in `0 ..< cols` or `options.ignoreIndex`.
///   - gradientScale: Multiplies the gradient (the upstream gradient of the loss).
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropyWithGradient<T: SoftmaxScalar, L: ClassLabel>(
  inPlace logits: inout MutableSpan<T>, rows: Int, cols: Int, stride: Int? = nil, labels: Span<L>,
  gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try labels.withUnsafeBufferPointer { (l) throws(SoftmaxError) in
    try logits.withUnsafeMutableBufferPointer { (x) throws(SoftmaxError) in
      try crossEntropyCall(
        x, rows: rows, cols: cols, stride: stride, .labels(l), gradient: .inPlace,
        losses: nil, gradientScale: gradientScale, options: options)
    }
  }
}

/// Fused cross-entropy forward and backward in place, with spans: `inPlace` holds the logits on
/// entry and `gradientScale * d(loss)/d(logits)` on return, and `losses` receives the per-row losses.
///
/// - Parameters:
///   - logits: (`inPlace:`) The logits on entry, the gradient on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - labels: One class label per row, in `0 ..< cols` or `options.ignoreIndex`.
///   - losses: Receives the per-row losses (`rows` values; 0 for ignored rows).
///   - gradientScale: Multiplies the gradient (the upstream gradient of the loss).
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropyWithGradient<T: SoftmaxScalar, L: ClassLabel>(
  inPlace logits: inout MutableSpan<T>, rows: Int, cols: Int, stride: Int? = nil, labels: Span<L>,
  losses: inout MutableSpan<T.Arithmetic>,
  gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try labels.withUnsafeBufferPointer { (l) throws(SoftmaxError) in
    try logits.withUnsafeMutableBufferPointer { (x) throws(SoftmaxError) in
      try losses.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
        try crossEntropyCall(
          x, rows: rows, cols: cols, stride: stride, .labels(l), gradient: .inPlace,
          losses: o, gradientScale: gradientScale, options: options)
      }
    }
  }
}

/// Cross-entropy of each row of logits with its class label, pointer form (see the `Span` form).
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - labels: One class label per row, in `0 ..< cols` or `options.ignoreIndex`.
///   - losses: Receives the per-row losses (`rows` values; 0 for ignored rows) when not nil.
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropy<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil, labels: UnsafeBufferPointer<L>,
  losses: UnsafeMutableBufferPointer<T.Arithmetic>? = nil, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try crossEntropyCall(
    UnsafeMutableBufferPointer(mutating: logits), rows: rows, cols: cols, stride: stride, .labels(labels),
    gradient: .none, losses: losses, gradientScale: 1, options: options)
}

/// Fused cross-entropy forward and backward, pointer form (see the `Span` form).
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - labels: One class label per row, in `0 ..< cols` or `options.ignoreIndex`.
///   - gradient: Receives `gradientScale * d(loss)/d(logits)`; it may be the very same memory as `logits`
///     with the same stride, but must not partly overlap it.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - losses: Receives the per-row losses when not nil.
///   - gradientScale: Multiplies the gradient (the upstream gradient of the loss).
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropyWithGradient<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil, labels: UnsafeBufferPointer<L>,
  gradient: UnsafeMutableBufferPointer<T>, gradientStride: Int? = nil, losses: UnsafeMutableBufferPointer<T.Arithmetic>? = nil,
  gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try crossEntropyCall(
    UnsafeMutableBufferPointer(mutating: logits), rows: rows, cols: cols, stride: stride, .labels(labels),
    gradient: .separate(gradient, stride: gradientStride), losses: losses, gradientScale: gradientScale,
    options: options)
}

/// Fused cross-entropy forward and backward in place, pointer form: `inPlace` holds the logits on
/// entry and `gradientScale * d(loss)/d(logits)` on return.
///
/// - Parameters:
///   - logits: (`inPlace:`) The logits on entry, the gradient on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - labels: One class label per row, in `0 ..< cols` or `options.ignoreIndex`.
///   - losses: Receives the per-row losses when not nil.
///   - gradientScale: Multiplies the gradient (the upstream gradient of the loss).
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropyWithGradient<T: SoftmaxScalar, L: ClassLabel>(
  inPlace logits: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil, labels: UnsafeBufferPointer<L>,
  losses: UnsafeMutableBufferPointer<T.Arithmetic>? = nil, gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try crossEntropyCall(
    logits, rows: rows, cols: cols, stride: stride, .labels(labels), gradient: .inPlace, losses: losses,
    gradientScale: gradientScale, options: options)
}

/// Cross-entropy of each row of logits with its class label, on arrays.
///
/// - Parameters:
///   - logits: The logits, rows of `cols` classes one after another.
///   - cols: The number of classes; the count must be a multiple of it.
///   - labels: One class label per row, in `0 ..< cols` or `options.ignoreIndex`.
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything, as the buffer forms.
public func crossEntropy<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: [T], cols: Int, labels: [L], options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  let rows = try arrayRows(logits, cols: cols, labels: labels.count, argument: "logits")
  return try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try labels.withUnsafeBufferPointer { (l) throws(SoftmaxError) in
      try crossEntropyCall(x, rows: rows, cols: cols, stride: nil, .labels(l), gradient: .none, losses: nil, gradientScale: 1, options: options)
    }
  }
}

/// The per-row losses of `crossEntropy` on arrays (`options.reduction` is not applied).
///
/// - Parameters:
///   - logits: The logits, rows of `cols` classes one after another.
///   - cols: The number of classes; the count must be a multiple of it.
///   - labels: One class label per row, in `0 ..< cols` or `options.ignoreIndex`.
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: One loss per row (0 for ignored rows).
/// - Throws: ``SoftmaxError`` before writing anything, as the buffer forms.
public func crossEntropyLosses<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: [T], cols: Int, labels: [L], options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> [T.Arithmetic] {
  let rows = try arrayRows(logits, cols: cols, labels: labels.count, argument: "logits")
  var losses = [T.Arithmetic](repeating: 0, count: rows)
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try labels.withUnsafeBufferPointer { (l) throws(SoftmaxError) in
      try losses.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
        _ = try crossEntropyCall(x, rows: rows, cols: cols, stride: nil, .labels(l), gradient: .none, losses: o, gradientScale: 1, options: options)
      }
    }
  }
  return losses
}

/// Fused cross-entropy forward and backward on arrays, in place: returns the reduced loss and
/// replaces the logits by `gradientScale * d(loss)/d(logits)`.
///
/// - Parameters:
///   - logits: (`inPlace:`) The logits on entry, the gradient on return.
///   - cols: The number of classes; the count must be a multiple of it.
///   - labels: One class label per row, in `0 ..< cols` or `options.ignoreIndex`.
///   - gradientScale: Multiplies the gradient.
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything, as the buffer forms.
public func crossEntropyWithGradient<T: SoftmaxScalar, L: ClassLabel>(
  inPlace logits: inout [T], cols: Int, labels: [L], gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  let rows = try arrayRows(logits, cols: cols, labels: labels.count, argument: "inPlace")
  return try labels.withUnsafeBufferPointer { (l) throws(SoftmaxError) in
    try logits.withUnsafeMutableBufferPointer { (x) throws(SoftmaxError) in
      try crossEntropyCall(x, rows: rows, cols: cols, stride: nil, .labels(l), gradient: .inPlace, losses: nil, gradientScale: gradientScale, options: options)
    }
  }
}

// MARK: - Probability targets

/// Cross-entropy of each row of logits with a row of target probabilities, with spans: `loss_r = sum_j p[r, j] (L_r - x[r, j])` (a term with p = 0 counts as 0 even where x = -inf), plus the terms of the options; `ignoreIndex` does not apply and the mean divides by `rows`.
///
/// ## Edge cases
/// A fully masked row with target mass gives +inf; a NaN in a row gives NaN for that row only.
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - targets: A `rows x cols` matrix of target probabilities.
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropy<T: SoftmaxScalar>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, targets: Span<T>, targetsStride: Int? = nil,
  options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try targets.withUnsafeBufferPointer { (p) throws(SoftmaxError) in
      try crossEntropyCall(
        x, rows: rows, cols: cols, stride: stride, CrossEntropyTarget<T, Int32>.targets(p, stride: targetsStride), gradient: .none, losses: nil, gradientScale: 1,
        options: options)
    }
  }
}

/// Cross-entropy of each row of logits with a row of target probabilities, with spans, writing the per-row losses.
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - targets: A `rows x cols` matrix of target probabilities.
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - losses: Receives the per-row losses (`rows` values; 0 for ignored rows).
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropy<T: SoftmaxScalar>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, targets: Span<T>, targetsStride: Int? = nil,
  losses: inout MutableSpan<T.Arithmetic>,
  options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try targets.withUnsafeBufferPointer { (p) throws(SoftmaxError) in
      try losses.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
        try crossEntropyCall(
          x, rows: rows, cols: cols, stride: stride, CrossEntropyTarget<T, Int32>.targets(p, stride: targetsStride), gradient: .none, losses: o, gradientScale: 1,
          options: options)
      }
    }
  }
}

/// Fused cross-entropy forward and backward, with spans: returns the reduced loss (as `crossEntropy`)
/// and writes `gradientScale * d(loss)/d(logits)`; ignored and fully masked rows get 0.
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - targets: A `rows x cols` matrix of target probabilities.
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - gradient: Receives `gradientScale * d(loss)/d(logits)`; must not overlap the other buffers.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - gradientScale: Multiplies the gradient (the upstream gradient of the loss).
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropyWithGradient<T: SoftmaxScalar>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, targets: Span<T>, targetsStride: Int? = nil,
  gradient: inout MutableSpan<T>, gradientStride: Int? = nil,
  gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try targets.withUnsafeBufferPointer { (p) throws(SoftmaxError) in
      try gradient.withUnsafeMutableBufferPointer { (d) throws(SoftmaxError) in
        try crossEntropyCall(
          x, rows: rows, cols: cols, stride: stride, CrossEntropyTarget<T, Int32>.targets(p, stride: targetsStride),
          gradient: .separate(d, stride: gradientStride), losses: nil, gradientScale: gradientScale, options: options)
      }
    }
  }
}

/// Fused cross-entropy forward and backward, with spans: returns the reduced loss (as `crossEntropy`)
/// and writes `gradientScale * d(loss)/d(logits)` and the per-row losses.
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - targets: A `rows x cols` matrix of target probabilities.
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - gradient: Receives `gradientScale * d(loss)/d(logits)`; must not overlap the other buffers.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - losses: Receives the per-row losses (`rows` values; 0 for ignored rows).
///   - gradientScale: Multiplies the gradient (the upstream gradient of the loss).
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropyWithGradient<T: SoftmaxScalar>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, targets: Span<T>, targetsStride: Int? = nil,
  gradient: inout MutableSpan<T>, gradientStride: Int? = nil, losses: inout MutableSpan<T.Arithmetic>,
  gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try targets.withUnsafeBufferPointer { (p) throws(SoftmaxError) in
      try gradient.withUnsafeMutableBufferPointer { (d) throws(SoftmaxError) in
        try losses.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
          try crossEntropyCall(
            x, rows: rows, cols: cols, stride: stride, CrossEntropyTarget<T, Int32>.targets(p, stride: targetsStride),
            gradient: .separate(d, stride: gradientStride), losses: o, gradientScale: gradientScale, options: options)
        }
      }
    }
  }
}

/// Fused cross-entropy forward and backward in place, with spans: `inPlace` holds the logits on
/// entry and `gradientScale * d(loss)/d(logits)` on return. No second matrix is needed.
///
/// - Parameters:
///   - logits: (`inPlace:`) The logits on entry, the gradient on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - targets: A `rows x cols` matrix of target probabilities.
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - gradientScale: Multiplies the gradient (the upstream gradient of the loss).
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropyWithGradient<T: SoftmaxScalar>(
  inPlace logits: inout MutableSpan<T>, rows: Int, cols: Int, stride: Int? = nil, targets: Span<T>, targetsStride: Int? = nil,
  gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try targets.withUnsafeBufferPointer { (p) throws(SoftmaxError) in
    try logits.withUnsafeMutableBufferPointer { (x) throws(SoftmaxError) in
      try crossEntropyCall(
        x, rows: rows, cols: cols, stride: stride, CrossEntropyTarget<T, Int32>.targets(p, stride: targetsStride), gradient: .inPlace,
        losses: nil, gradientScale: gradientScale, options: options)
    }
  }
}

/// Fused cross-entropy forward and backward in place, with spans: `inPlace` holds the logits on
/// entry and `gradientScale * d(loss)/d(logits)` on return, and `losses` receives the per-row losses.
///
/// - Parameters:
///   - logits: (`inPlace:`) The logits on entry, the gradient on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - targets: A `rows x cols` matrix of target probabilities.
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - losses: Receives the per-row losses (`rows` values; 0 for ignored rows).
///   - gradientScale: Multiplies the gradient (the upstream gradient of the loss).
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropyWithGradient<T: SoftmaxScalar>(
  inPlace logits: inout MutableSpan<T>, rows: Int, cols: Int, stride: Int? = nil, targets: Span<T>, targetsStride: Int? = nil,
  losses: inout MutableSpan<T.Arithmetic>,
  gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try targets.withUnsafeBufferPointer { (p) throws(SoftmaxError) in
    try logits.withUnsafeMutableBufferPointer { (x) throws(SoftmaxError) in
      try losses.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
        try crossEntropyCall(
          x, rows: rows, cols: cols, stride: stride, CrossEntropyTarget<T, Int32>.targets(p, stride: targetsStride), gradient: .inPlace,
          losses: o, gradientScale: gradientScale, options: options)
      }
    }
  }
}

/// Cross-entropy of each row of logits with a row of target probabilities, pointer form (see the `Span` form).
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - targets: A `rows x cols` matrix of target probabilities.
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - losses: Receives the per-row losses (`rows` values; 0 for ignored rows) when not nil.
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropy<T: SoftmaxScalar>(
  _ logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil, targets: UnsafeBufferPointer<T>, targetsStride: Int? = nil,
  losses: UnsafeMutableBufferPointer<T.Arithmetic>? = nil, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try crossEntropyCall(
    UnsafeMutableBufferPointer(mutating: logits), rows: rows, cols: cols, stride: stride, CrossEntropyTarget<T, Int32>.targets(targets, stride: targetsStride),
    gradient: .none, losses: losses, gradientScale: 1, options: options)
}

/// Fused cross-entropy forward and backward, pointer form (see the `Span` form).
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - targets: A `rows x cols` matrix of target probabilities.
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - gradient: Receives `gradientScale * d(loss)/d(logits)`; it may be the very same memory as `logits`
///     with the same stride, but must not partly overlap it.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - losses: Receives the per-row losses when not nil.
///   - gradientScale: Multiplies the gradient (the upstream gradient of the loss).
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropyWithGradient<T: SoftmaxScalar>(
  _ logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil, targets: UnsafeBufferPointer<T>, targetsStride: Int? = nil,
  gradient: UnsafeMutableBufferPointer<T>, gradientStride: Int? = nil, losses: UnsafeMutableBufferPointer<T.Arithmetic>? = nil,
  gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try crossEntropyCall(
    UnsafeMutableBufferPointer(mutating: logits), rows: rows, cols: cols, stride: stride, CrossEntropyTarget<T, Int32>.targets(targets, stride: targetsStride),
    gradient: .separate(gradient, stride: gradientStride), losses: losses, gradientScale: gradientScale,
    options: options)
}

/// Fused cross-entropy forward and backward in place, pointer form: `inPlace` holds the logits on
/// entry and `gradientScale * d(loss)/d(logits)` on return.
///
/// - Parameters:
///   - logits: (`inPlace:`) The logits on entry, the gradient on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of classes (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - targets: A `rows x cols` matrix of target probabilities.
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - losses: Receives the per-row losses when not nil.
///   - gradientScale: Multiplies the gradient (the upstream gradient of the loss).
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a label outside `0 ..< cols` that is not
///   the ignore index, a negative or NaN weight, an option out of range, or a wrong size, stride or
///   buffer.
public func crossEntropyWithGradient<T: SoftmaxScalar>(
  inPlace logits: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil, targets: UnsafeBufferPointer<T>, targetsStride: Int? = nil,
  losses: UnsafeMutableBufferPointer<T.Arithmetic>? = nil, gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try crossEntropyCall(
    logits, rows: rows, cols: cols, stride: stride, CrossEntropyTarget<T, Int32>.targets(targets, stride: targetsStride), gradient: .inPlace, losses: losses,
    gradientScale: gradientScale, options: options)
}

/// Cross-entropy of each row of logits with a row of target probabilities, on arrays.
///
/// - Parameters:
///   - logits: The logits, rows of `cols` classes one after another.
///   - cols: The number of classes; the count must be a multiple of it.
///   - targets: Target probabilities, the shape of `logits`.
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything, as the buffer forms.
public func crossEntropy<T: SoftmaxScalar>(
  _ logits: [T], cols: Int, targets: [T], options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  let rows = try arrayRows(logits, cols: cols, targets: targets.count, argument: "logits")
  return try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try targets.withUnsafeBufferPointer { (p) throws(SoftmaxError) in
      try crossEntropyCall(x, rows: rows, cols: cols, stride: nil, CrossEntropyTarget<T, Int32>.targets(p, stride: nil), gradient: .none, losses: nil, gradientScale: 1, options: options)
    }
  }
}

/// The per-row losses of `crossEntropy` on arrays (`options.reduction` is not applied).
///
/// - Parameters:
///   - logits: The logits, rows of `cols` classes one after another.
///   - cols: The number of classes; the count must be a multiple of it.
///   - targets: Target probabilities, the shape of `logits`.
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: One loss per row (0 for ignored rows).
/// - Throws: ``SoftmaxError`` before writing anything, as the buffer forms.
public func crossEntropyLosses<T: SoftmaxScalar>(
  _ logits: [T], cols: Int, targets: [T], options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> [T.Arithmetic] {
  let rows = try arrayRows(logits, cols: cols, targets: targets.count, argument: "logits")
  var losses = [T.Arithmetic](repeating: 0, count: rows)
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try targets.withUnsafeBufferPointer { (p) throws(SoftmaxError) in
      try losses.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
        _ = try crossEntropyCall(x, rows: rows, cols: cols, stride: nil, CrossEntropyTarget<T, Int32>.targets(p, stride: nil), gradient: .none, losses: o, gradientScale: 1, options: options)
      }
    }
  }
  return losses
}

/// Fused cross-entropy forward and backward on arrays, in place: returns the reduced loss and
/// replaces the logits by `gradientScale * d(loss)/d(logits)`.
///
/// - Parameters:
///   - logits: (`inPlace:`) The logits on entry, the gradient on return.
///   - cols: The number of classes; the count must be a multiple of it.
///   - targets: Target probabilities, the shape of `logits`.
///   - gradientScale: Multiplies the gradient.
///   - options: Ignore index, class weights, smoothing, z-loss, reduction, mode and threads.
/// - Returns: The losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything, as the buffer forms.
public func crossEntropyWithGradient<T: SoftmaxScalar>(
  inPlace logits: inout [T], cols: Int, targets: [T], gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  let rows = try arrayRows(logits, cols: cols, targets: targets.count, argument: "inPlace")
  return try targets.withUnsafeBufferPointer { (p) throws(SoftmaxError) in
    try logits.withUnsafeMutableBufferPointer { (x) throws(SoftmaxError) in
      try crossEntropyCall(x, rows: rows, cols: cols, stride: nil, CrossEntropyTarget<T, Int32>.targets(p, stride: nil), gradient: .inPlace, losses: nil, gradientScale: gradientScale, options: options)
    }
  }
}

/// The rows of an array of logits of `cols` columns, checked against the count of its labels (one
/// per row) or of its targets (one per logit).
func arrayRows<T>(_ logits: [T], cols: Int, labels: Int, argument: String) throws(SoftmaxError) -> Int {
  let shape = try Shape(count: logits.count, cols: cols, argument: argument)
  guard labels == shape.rows else { throw .countMismatch(argument: "labels", expected: shape.rows, actual: labels) }
  return shape.rows
}

/// As above, for targets the shape of the logits.
func arrayRows<T>(_ logits: [T], cols: Int, targets: Int, argument: String) throws(SoftmaxError) -> Int {
  let shape = try Shape(count: logits.count, cols: cols, argument: argument)
  guard targets == logits.count else { throw .countMismatch(argument: "targets", expected: logits.count, actual: targets) }
  return shape.rows
}
