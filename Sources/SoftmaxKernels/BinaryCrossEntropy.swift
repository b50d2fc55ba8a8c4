internal import SoftmaxKernelsCore

/// Options of binary cross-entropy with logits, with the meanings of PyTorch's
/// `binary_cross_entropy_with_logits`.
public struct BinaryCrossEntropyOptions<T: SoftmaxScalar>: Sendable {
  /// One weight pw_j >= 0 per column for the positive term, or nil for all 1 (in
  /// `T.Arithmetic`: `Float` for `Float16` and ``BFloat16`` logits).
  public var posWeight: [T.Arithmetic]?
  /// How the elementwise losses are combined into the returned value (default: mean over all
  /// `rows * cols` elements).
  public var reduction: LossReduction
  /// Which exp, and how many threads.
  public var kernel: KernelOptions

  /// Binary cross-entropy options; every argument has PyTorch's default.
  ///
  /// - Parameters:
  ///   - posWeight: One weight per column (>= 0, not NaN), or nil for all 1.
  ///   - reduction: Mean or sum of the elementwise losses.
  ///   - kernel: Mode and threads.
  public init(posWeight: [T.Arithmetic]? = nil, reduction: LossReduction = .mean, kernel: KernelOptions = .accurate) {
    self.posWeight = posWeight
    self.reduction = reduction
    self.kernel = kernel
  }
}

/// Validates a binary cross-entropy call and runs it: the one path behind every public form.
func binaryCrossEntropyCall<T: SoftmaxScalar>(
  _ logits: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int?, targets: UnsafeBufferPointer<T>,
  targetsStride: Int?, gradient: CrossEntropyGradient<T>, losses: UnsafeMutableBufferPointer<T.Arithmetic>?, lossesStride: Int?,
  gradientScale: T.Arithmetic, options: BinaryCrossEntropyOptions<T>
) throws(SoftmaxError) -> T.Arithmetic {
  let shape = try Shape(rows: rows, cols: cols)
  let logitsName: String
  if case .inPlace = gradient { logitsName = "inPlace" } else { logitsName = "logits" }
  let x = try shape.input(UnsafeBufferPointer(logits), stride: stride, argument: logitsName, strideArgument: "stride")
  let t = try shape.input(targets, stride: targetsStride, argument: "targets", strideArgument: "targetsStride")
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
  if let g { try checkDisjoint(t, g.readOnly, input: "targets", output: logitsName == "inPlace" ? "inPlace" : "gradient") }
  let l = try losses.map { (b) throws(SoftmaxError) in
    try shape.output(b, stride: lossesStride, argument: "losses", strideArgument: "lossesStride")
  }
  if let l {
    try checkDisjoint(x, l.readOnly, input: logitsName, output: "losses")
    try checkDisjoint(t, l.readOnly, input: "targets", output: "losses")
    if let g { try checkDisjoint(g.readOnly, l.readOnly, input: "gradient", output: "losses") }
  }
  if let posWeight = options.posWeight { _ = try validateWeights(posWeight, count: cols, argument: "posWeight", T.self) }
  let threads = try options.kernel.threadCount(rows: rows, cols: cols)
  if shape.isEmpty { return 0 }
  let count = T.Arithmetic(rows) * T.Arithmetic(cols)
  let mean = options.reduction == .mean
  let scale = mean ? gradientScale / count : gradientScale
  let kernel = T._kernels(options.kernel.mode).binaryCrossEntropy
  func run(_ pw: UnsafePointer<T.Arithmetic>?) -> LossSum<T.Arithmetic> {
    func part(_ first: Int, _ n: Int) -> LossSum<T.Arithmetic> {
      kernel(
        x.rows(first, count: n), t.rows(first, count: n), pw, scale, l?.rows(first, count: n),
        g?.rows(first, count: n))
    }
    if threads <= 1 { return part(0, rows) }
    var total = LossSum<T.Arithmetic>()
    for p in mapRowRanges(rows: rows, threads: threads, part) { total.add(p) }
    return total
  }
  let total = options.posWeight.map { $0.withUnsafeBufferPointer { run($0.baseAddress) } } ?? run(nil)
  return mean ? total.mean(dividedBy: count) : total.sum
}

/// Binary cross-entropy with logits, elementwise over a `rows x cols` matrix, with spans:
///
///     loss = (1 - t) x + (1 + (pw - 1) t) (log1p(exp(-|x|)) + max(-x, 0))
///
/// with `pw = options.posWeight[j]` per column (all 1 when nil), evaluated as
/// `(1 - t) max(x, 0) + pw t max(-x, 0) + (1 + (pw - 1) t) log1p(exp(-|x|))`, the same value
/// with no cancellation, so it is accurate for any finite logit.
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - targets: A `rows x cols` matrix of targets (usually in [0, 1]).
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - options: Positive weights, reduction, mode and threads.
/// - Returns: The elementwise losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a negative or NaN `posWeight` entry, or a
///   wrong size, stride or buffer.
public func binaryCrossEntropy<T: SoftmaxScalar>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, targets: Span<T>, targetsStride: Int? = nil,
  options: BinaryCrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try targets.withUnsafeBufferPointer { (t) throws(SoftmaxError) in
      try binaryCrossEntropyCall(
        x, rows: rows, cols: cols, stride: stride, targets: t, targetsStride: targetsStride, gradient: .none,
        losses: nil, lossesStride: nil, gradientScale: 1, options: options)
    }
  }
}

/// Binary cross-entropy with logits, elementwise over a `rows x cols` matrix, with spans, writing the elementwise losses.
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - targets: A `rows x cols` matrix of targets (usually in [0, 1]).
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - losses: Receives the elementwise losses, a `rows x cols` matrix.
///   - lossesStride: Elements between the starts of two rows of `losses`; `cols` when nil.
///   - options: Positive weights, reduction, mode and threads.
/// - Returns: The elementwise losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a negative or NaN `posWeight` entry, or a
///   wrong size, stride or buffer.
public func binaryCrossEntropy<T: SoftmaxScalar>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, targets: Span<T>, targetsStride: Int? = nil,
  losses: inout MutableSpan<T.Arithmetic>, lossesStride: Int? = nil,
  options: BinaryCrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try targets.withUnsafeBufferPointer { (t) throws(SoftmaxError) in
      try losses.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
        try binaryCrossEntropyCall(
          x, rows: rows, cols: cols, stride: stride, targets: t, targetsStride: targetsStride, gradient: .none,
          losses: o, lossesStride: lossesStride, gradientScale: 1, options: options)
      }
    }
  }
}

/// Binary cross-entropy with logits and its gradient, with spans: returns the reduced loss and writes
/// `gradientScale * d(loss)/d(logits)`, with `d loss_ij / dx = (1 - t) sigmoid(x) - pw t sigmoid(-x)`.
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - targets: A `rows x cols` matrix of targets (usually in [0, 1]).
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - gradient: Receives `gradientScale * d(loss)/d(logits)`.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - gradientScale: Multiplies the gradient.
///   - options: Positive weights, reduction, mode and threads.
/// - Returns: The elementwise losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a negative or NaN `posWeight` entry, or a
///   wrong size, stride or buffer.
public func binaryCrossEntropyWithGradient<T: SoftmaxScalar>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, targets: Span<T>, targetsStride: Int? = nil,
  gradient: inout MutableSpan<T>, gradientStride: Int? = nil,
  gradientScale: T.Arithmetic = 1, options: BinaryCrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try targets.withUnsafeBufferPointer { (t) throws(SoftmaxError) in
      try gradient.withUnsafeMutableBufferPointer { (d) throws(SoftmaxError) in
        try binaryCrossEntropyCall(
          x, rows: rows, cols: cols, stride: stride, targets: t, targetsStride: targetsStride, gradient: .separate(d, stride: gradientStride),
          losses: nil, lossesStride: nil, gradientScale: gradientScale, options: options)
      }
    }
  }
}

/// Binary cross-entropy with logits and its gradient, with spans: returns the reduced loss and writes
/// `gradientScale * d(loss)/d(logits)`, with `d loss_ij / dx = (1 - t) sigmoid(x) - pw t sigmoid(-x)`, and the elementwise losses.
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - targets: A `rows x cols` matrix of targets (usually in [0, 1]).
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - gradient: Receives `gradientScale * d(loss)/d(logits)`.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - losses: Receives the elementwise losses, a `rows x cols` matrix.
///   - lossesStride: Elements between the starts of two rows of `losses`; `cols` when nil.
///   - gradientScale: Multiplies the gradient.
///   - options: Positive weights, reduction, mode and threads.
/// - Returns: The elementwise losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a negative or NaN `posWeight` entry, or a
///   wrong size, stride or buffer.
public func binaryCrossEntropyWithGradient<T: SoftmaxScalar>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, targets: Span<T>, targetsStride: Int? = nil,
  gradient: inout MutableSpan<T>, gradientStride: Int? = nil, losses: inout MutableSpan<T.Arithmetic>, lossesStride: Int? = nil,
  gradientScale: T.Arithmetic = 1, options: BinaryCrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try targets.withUnsafeBufferPointer { (t) throws(SoftmaxError) in
      try gradient.withUnsafeMutableBufferPointer { (d) throws(SoftmaxError) in
        try losses.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
          try binaryCrossEntropyCall(
            x, rows: rows, cols: cols, stride: stride, targets: t, targetsStride: targetsStride, gradient: .separate(d, stride: gradientStride),
            losses: o, lossesStride: lossesStride, gradientScale: gradientScale, options: options)
        }
      }
    }
  }
}

/// Binary cross-entropy with logits and its gradient in place, with spans: `inPlace` holds the logits
/// on entry and `gradientScale * d(loss)/d(logits)` on return.
///
/// - Parameters:
///   - logits: (`inPlace:`) The logits on entry, the gradient on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - targets: A `rows x cols` matrix of targets (usually in [0, 1]).
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - gradientScale: Multiplies the gradient.
///   - options: Positive weights, reduction, mode and threads.
/// - Returns: The elementwise losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a negative or NaN `posWeight` entry, or a
///   wrong size, stride or buffer.
public func binaryCrossEntropyWithGradient<T: SoftmaxScalar>(
  inPlace logits: inout MutableSpan<T>, rows: Int, cols: Int, stride: Int? = nil, targets: Span<T>,
  targetsStride: Int? = nil, gradientScale: T.Arithmetic = 1,
  options: BinaryCrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try targets.withUnsafeBufferPointer { (t) throws(SoftmaxError) in
    try logits.withUnsafeMutableBufferPointer { (x) throws(SoftmaxError) in
      try binaryCrossEntropyCall(
        x, rows: rows, cols: cols, stride: stride, targets: t, targetsStride: targetsStride, gradient: .inPlace,
        losses: nil, lossesStride: nil, gradientScale: gradientScale, options: options)
    }
  }
}

/// Binary cross-entropy with logits and its gradient in place, with spans: `inPlace` holds the logits
/// on entry and `gradientScale * d(loss)/d(logits)` on return, and `losses` receives the elementwise losses.
///
/// - Parameters:
///   - logits: (`inPlace:`) The logits on entry, the gradient on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - targets: A `rows x cols` matrix of targets (usually in [0, 1]).
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - losses: Receives the elementwise losses, a `rows x cols` matrix.
///   - lossesStride: Elements between the starts of two rows of `losses`; `cols` when nil.
///   - gradientScale: Multiplies the gradient.
///   - options: Positive weights, reduction, mode and threads.
/// - Returns: The elementwise losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a negative or NaN `posWeight` entry, or a
///   wrong size, stride or buffer.
public func binaryCrossEntropyWithGradient<T: SoftmaxScalar>(
  inPlace logits: inout MutableSpan<T>, rows: Int, cols: Int, stride: Int? = nil, targets: Span<T>,
  targetsStride: Int? = nil, losses: inout MutableSpan<T.Arithmetic>, lossesStride: Int? = nil, gradientScale: T.Arithmetic = 1,
  options: BinaryCrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try targets.withUnsafeBufferPointer { (t) throws(SoftmaxError) in
    try logits.withUnsafeMutableBufferPointer { (x) throws(SoftmaxError) in
      try losses.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
        try binaryCrossEntropyCall(
          x, rows: rows, cols: cols, stride: stride, targets: t, targetsStride: targetsStride, gradient: .inPlace,
          losses: o, lossesStride: lossesStride, gradientScale: gradientScale, options: options)
      }
    }
  }
}

/// Binary cross-entropy with logits, pointer form (see the `Span` form).
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - targets: A `rows x cols` matrix of targets (usually in [0, 1]).
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - losses: Receives the elementwise losses when not nil.
///   - lossesStride: Elements between the starts of two rows of `losses`; `cols` when nil.
///   - options: Positive weights, reduction, mode and threads.
/// - Returns: The elementwise losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a negative or NaN `posWeight` entry, or a
///   wrong size, stride or buffer.
public func binaryCrossEntropy<T: SoftmaxScalar>(
  _ logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil, targets: UnsafeBufferPointer<T>,
  targetsStride: Int? = nil, losses: UnsafeMutableBufferPointer<T.Arithmetic>? = nil, lossesStride: Int? = nil,
  options: BinaryCrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try binaryCrossEntropyCall(
    UnsafeMutableBufferPointer(mutating: logits), rows: rows, cols: cols, stride: stride, targets: targets, targetsStride: targetsStride,
    gradient: .none, losses: losses, lossesStride: lossesStride, gradientScale: 1, options: options)
}

/// Binary cross-entropy with logits and its gradient, pointer form (see the `Span` form).
///
/// - Parameters:
///   - logits: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - targets: A `rows x cols` matrix of targets (usually in [0, 1]).
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - gradient: Receives `gradientScale * d(loss)/d(logits)`; it may be the very same memory as `logits`
///     with the same stride, but must not partly overlap it.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - losses: Receives the elementwise losses when not nil.
///   - lossesStride: Elements between the starts of two rows of `losses`; `cols` when nil.
///   - gradientScale: Multiplies the gradient.
///   - options: Positive weights, reduction, mode and threads.
/// - Returns: The elementwise losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a negative or NaN `posWeight` entry, or a
///   wrong size, stride or buffer.
public func binaryCrossEntropyWithGradient<T: SoftmaxScalar>(
  _ logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil, targets: UnsafeBufferPointer<T>,
  targetsStride: Int? = nil, gradient: UnsafeMutableBufferPointer<T>, gradientStride: Int? = nil,
  losses: UnsafeMutableBufferPointer<T.Arithmetic>? = nil, lossesStride: Int? = nil, gradientScale: T.Arithmetic = 1,
  options: BinaryCrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try binaryCrossEntropyCall(
    UnsafeMutableBufferPointer(mutating: logits), rows: rows, cols: cols, stride: stride, targets: targets, targetsStride: targetsStride,
    gradient: .separate(gradient, stride: gradientStride), losses: losses, lossesStride: lossesStride, gradientScale: gradientScale, options: options)
}

/// Binary cross-entropy with logits and its gradient in place, pointer form.
///
/// - Parameters:
///   - logits: (`inPlace:`) The logits on entry, the gradient on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - targets: A `rows x cols` matrix of targets (usually in [0, 1]).
///   - targetsStride: Elements between the starts of two rows of `targets`; `cols` when nil.
///   - losses: Receives the elementwise losses when not nil.
///   - lossesStride: Elements between the starts of two rows of `losses`; `cols` when nil.
///   - gradientScale: Multiplies the gradient.
///   - options: Positive weights, reduction, mode and threads.
/// - Returns: The elementwise losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError`` before writing anything: a negative or NaN `posWeight` entry, or a
///   wrong size, stride or buffer.
public func binaryCrossEntropyWithGradient<T: SoftmaxScalar>(
  inPlace logits: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  targets: UnsafeBufferPointer<T>, targetsStride: Int? = nil, losses: UnsafeMutableBufferPointer<T.Arithmetic>? = nil,
  lossesStride: Int? = nil, gradientScale: T.Arithmetic = 1, options: BinaryCrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try binaryCrossEntropyCall(
    logits, rows: rows, cols: cols, stride: stride, targets: targets, targetsStride: targetsStride,
    gradient: .inPlace, losses: losses, lossesStride: lossesStride, gradientScale: gradientScale, options: options)
}

/// Binary cross-entropy with logits on arrays of rows of `cols`.
///
/// - Parameters:
///   - logits: Rows of `cols` logits one after another.
///   - cols: The row length; the count must be a multiple of it.
///   - targets: The targets, the shape of `logits`.
///   - options: Positive weights, reduction, mode and threads.
/// - Returns: The elementwise losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError``, as the buffer forms.
public func binaryCrossEntropy<T: SoftmaxScalar>(
  _ logits: [T], cols: Int, targets: [T], options: BinaryCrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  let rows = try arrayRows(logits, cols: cols, targets: targets.count, argument: "logits")
  return try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try targets.withUnsafeBufferPointer { (t) throws(SoftmaxError) in
      try binaryCrossEntropyCall(
        x, rows: rows, cols: cols, stride: nil, targets: t, targetsStride: nil, gradient: .none, losses: nil,
        lossesStride: nil, gradientScale: 1, options: options)
    }
  }
}

/// Binary cross-entropy with logits and its gradient on arrays, in place: returns the reduced loss
/// and replaces the logits by `gradientScale * d(loss)/d(logits)`.
///
/// - Parameters:
///   - logits: (`inPlace:`) The logits on entry, the gradient on return.
///   - cols: The row length; the count must be a multiple of it.
///   - targets: The targets, the shape of `inPlace`.
///   - gradientScale: Multiplies the gradient.
///   - options: Positive weights, reduction, mode and threads.
/// - Returns: The elementwise losses reduced by `options.reduction`.
/// - Throws: ``SoftmaxError``, as the buffer forms.
public func binaryCrossEntropyWithGradient<T: SoftmaxScalar>(
  inPlace logits: inout [T], cols: Int, targets: [T], gradientScale: T.Arithmetic = 1,
  options: BinaryCrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  let rows = try arrayRows(logits, cols: cols, targets: targets.count, argument: "inPlace")
  return try targets.withUnsafeBufferPointer { (t) throws(SoftmaxError) in
    try logits.withUnsafeMutableBufferPointer { (x) throws(SoftmaxError) in
      try binaryCrossEntropyCall(
        x, rows: rows, cols: cols, stride: nil, targets: t, targetsStride: nil, gradient: .inPlace, losses: nil,
        lossesStride: nil, gradientScale: gradientScale, options: options)
    }
  }
}
