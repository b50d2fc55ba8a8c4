internal import SoftmaxKernelsCore

// Cross-entropy over a vocabulary split in column shards: each shard computes its rows'
// `LogSumExpState`s, the states are merged across shards (in any order), and each shard then
// computes its part of the loss and its columns of the gradient from the merged states.

/// Validates a shard call and runs it: the one path behind every public shard form.
func crossEntropyShardCall<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int?, columnOffset: Int, totalCols: Int,
  labels: UnsafeBufferPointer<L>, states: UnsafeBufferPointer<LogSumExpState<T.Arithmetic>>, gradient: CrossEntropyGradient<T>,
  losses: UnsafeMutableBufferPointer<T.Arithmetic>?, gradientScale: T.Arithmetic, options: CrossEntropyOptions<T>
) throws(SoftmaxError) -> T.Arithmetic {
  let shape = try Shape(rows: rows, cols: cols)
  let logitsName: String
  if case .inPlace = gradient { logitsName = "inPlace" } else { logitsName = "logits" }
  let x = try shape.input(UnsafeBufferPointer(logits), stride: stride, argument: logitsName, strideArgument: "stride")
  guard columnOffset >= 0 else { throw .negativeDimension(argument: "columnOffset", value: columnOffset) }
  guard totalCols >= 0 else { throw .negativeDimension(argument: "totalCols", value: totalCols) }
  guard columnOffset <= totalCols - cols else {
    throw .countMismatch(argument: "totalCols", expected: columnOffset + cols, actual: totalCols)
  }
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
  guard states.count >= rows else { throw .bufferTooSmall(argument: "states", required: rows, actual: states.count) }
  let weightSum = try options.validate(cols: totalCols)
  let threads = try options.kernel.threadCount(rows: rows, cols: cols)
  let mode = options.kernel.mode
  return try withKernelLabels(labels, rows: rows, cols: totalCols, ignoreIndex: options.ignoreIndex) {
    (l) throws(SoftmaxError) in
    let lossOut = try losses.map { (b) throws(SoftmaxError) in try shape.perRow(b, argument: "losses") }
    try checkLossesDisjoint(lossOut, rows: rows, from: x, named: logitsName, gradient: g)
    if rows == 0 { return 0 }
    return states.withMemoryRebound(to: LogSumExpPartial<T.Arithmetic>.self) { s in
      runCrossEntropy(
        options: options, ignoreIndex: l.ignoreIndex, rows: rows, cols: totalCols, threads: threads,
        weightSum: weightSum, denominator: l.denominator(rows: rows, weights: options.classWeights, T.self),
        gradientScale: gradientScale
      ) { p, scale, first, count in
        T._kernels(mode).crossEntropyLabelSlice(
          x.rows(first, count: count), columnOffset, l.base + first, s.baseAddress! + first, p, scale,
          g?.rows(first, count: count), lossOut.map { $0 + first })
      }
    }
  }
}

/// Class-label cross-entropy of one shard of the vocabulary, with spans.
///
/// `logits` holds columns `columnOffset ..< columnOffset + cols` of rows of `totalCols` classes and
/// `states[r]` the merged ``LogSumExpState`` of the whole row r. The shard holding a row's label adds
/// `(1 - eps) w_t (L - x_t) + z L^2`, every shard adds `eps/C sum_{j in shard} w_j (L - x_j)`; summed
/// over shards, the losses equal those of the unsharded ``crossEntropy(_:rows:cols:stride:labels:options:)``
/// within rounding.
///
/// - Parameters:
///   - logits: This shard's logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns of this shard (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - columnOffset: The column of the whole row where this shard starts.
///   - totalCols: The number of classes of the whole row.
///   - labels: One class label per row, in `0 ..< totalCols` or `options.ignoreIndex`.
///   - states: The merged ``LogSumExpState`` of each whole row.
///   - options: The options of the whole problem (class weights have `totalCols` entries).
/// - Returns: This shard's part of the loss, reduced by `options.reduction` (the parts of all shards add up to the loss of `crossEntropy`).
/// - Throws: ``SoftmaxError`` before writing anything, as ``crossEntropy(_:rows:cols:stride:labels:options:)``,
///   and when the shard does not fit in `totalCols`.
public func crossEntropyShard<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, columnOffset: Int, totalCols: Int, labels: Span<L>,
  states: Span<LogSumExpState<T.Arithmetic>>, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try labels.withUnsafeBufferPointer { (l) throws(SoftmaxError) in
      try states.withUnsafeBufferPointer { (s) throws(SoftmaxError) in
        try crossEntropyShardCall(
          x, rows: rows, cols: cols, stride: stride, columnOffset: columnOffset, totalCols: totalCols, labels: l,
          states: s, gradient: .none, losses: nil, gradientScale: 1, options: options)
      }
    }
  }
}

/// Class-label cross-entropy of one shard of the vocabulary, with spans, writing the per-row parts.
///
/// - Parameters:
///   - logits: This shard's logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns of this shard (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - columnOffset: The column of the whole row where this shard starts.
///   - totalCols: The number of classes of the whole row.
///   - labels: One class label per row, in `0 ..< totalCols` or `options.ignoreIndex`.
///   - states: The merged ``LogSumExpState`` of each whole row.
///   - losses: Receives this shard's part of each row's loss.
///   - options: The options of the whole problem (class weights have `totalCols` entries).
/// - Returns: This shard's part of the loss, reduced by `options.reduction` (the parts of all shards add up to the loss of `crossEntropy`).
/// - Throws: ``SoftmaxError`` before writing anything, as ``crossEntropy(_:rows:cols:stride:labels:options:)``,
///   and when the shard does not fit in `totalCols`.
public func crossEntropyShard<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, columnOffset: Int, totalCols: Int, labels: Span<L>,
  states: Span<LogSumExpState<T.Arithmetic>>, losses: inout MutableSpan<T.Arithmetic>, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try labels.withUnsafeBufferPointer { (l) throws(SoftmaxError) in
      try states.withUnsafeBufferPointer { (s) throws(SoftmaxError) in
        try losses.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
          try crossEntropyShardCall(
            x, rows: rows, cols: cols, stride: stride, columnOffset: columnOffset, totalCols: totalCols, labels: l,
            states: s, gradient: .none, losses: o, gradientScale: 1, options: options)
        }
      }
    }
  }
}

/// Class-label cross-entropy of one shard with its columns of the gradient, with spans.
/// Summed over shards, the gradient columns are those of `crossEntropyWithGradient`.
///
/// - Parameters:
///   - logits: This shard's logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns of this shard (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - columnOffset: The column of the whole row where this shard starts.
///   - totalCols: The number of classes of the whole row.
///   - labels: One class label per row, in `0 ..< totalCols` or `options.ignoreIndex`.
///   - states: The merged ``LogSumExpState`` of each whole row.
///   - gradient: Receives this shard's columns of `gradientScale * d(loss)/d(logits)`.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - gradientScale: Multiplies the gradient.
///   - options: The options of the whole problem (class weights have `totalCols` entries).
/// - Returns: This shard's part of the loss, reduced by `options.reduction` (the parts of all shards add up to the loss of `crossEntropy`).
/// - Throws: ``SoftmaxError`` before writing anything, as ``crossEntropy(_:rows:cols:stride:labels:options:)``,
///   and when the shard does not fit in `totalCols`.
public func crossEntropyShardWithGradient<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, columnOffset: Int, totalCols: Int, labels: Span<L>,
  states: Span<LogSumExpState<T.Arithmetic>>, gradient: inout MutableSpan<T>, gradientStride: Int? = nil,
  gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try labels.withUnsafeBufferPointer { (l) throws(SoftmaxError) in
      try states.withUnsafeBufferPointer { (s) throws(SoftmaxError) in
        try gradient.withUnsafeMutableBufferPointer { (d) throws(SoftmaxError) in
          try crossEntropyShardCall(
            x, rows: rows, cols: cols, stride: stride, columnOffset: columnOffset, totalCols: totalCols, labels: l,
            states: s, gradient: .separate(d, stride: gradientStride), losses: nil, gradientScale: gradientScale, options: options)
        }
      }
    }
  }
}

/// Class-label cross-entropy of one shard with its columns of the gradient, with spans, writing the per-row parts.
/// Summed over shards, the gradient columns are those of `crossEntropyWithGradient`.
///
/// - Parameters:
///   - logits: This shard's logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns of this shard (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - columnOffset: The column of the whole row where this shard starts.
///   - totalCols: The number of classes of the whole row.
///   - labels: One class label per row, in `0 ..< totalCols` or `options.ignoreIndex`.
///   - states: The merged ``LogSumExpState`` of each whole row.
///   - gradient: Receives this shard's columns of `gradientScale * d(loss)/d(logits)`.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - losses: Receives this shard's part of each row's loss.
///   - gradientScale: Multiplies the gradient.
///   - options: The options of the whole problem (class weights have `totalCols` entries).
/// - Returns: This shard's part of the loss, reduced by `options.reduction` (the parts of all shards add up to the loss of `crossEntropy`).
/// - Throws: ``SoftmaxError`` before writing anything, as ``crossEntropy(_:rows:cols:stride:labels:options:)``,
///   and when the shard does not fit in `totalCols`.
public func crossEntropyShardWithGradient<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, columnOffset: Int, totalCols: Int, labels: Span<L>,
  states: Span<LogSumExpState<T.Arithmetic>>, gradient: inout MutableSpan<T>, gradientStride: Int? = nil, losses: inout MutableSpan<T.Arithmetic>,
  gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try logits.withReadBuffer { (x) throws(SoftmaxError) in
    try labels.withUnsafeBufferPointer { (l) throws(SoftmaxError) in
      try states.withUnsafeBufferPointer { (s) throws(SoftmaxError) in
        try gradient.withUnsafeMutableBufferPointer { (d) throws(SoftmaxError) in
          try losses.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
            try crossEntropyShardCall(
              x, rows: rows, cols: cols, stride: stride, columnOffset: columnOffset, totalCols: totalCols, labels: l,
              states: s, gradient: .separate(d, stride: gradientStride), losses: o, gradientScale: gradientScale, options: options)
          }
        }
      }
    }
  }
}

/// Class-label cross-entropy of one shard with its gradient written over its logits, with spans.
///
/// - Parameters:
///   - logits: (`inPlace:`) This shard's logits on entry, its columns of the gradient on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns of this shard (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - columnOffset: The column of the whole row where this shard starts.
///   - totalCols: The number of classes of the whole row.
///   - labels: One class label per row, in `0 ..< totalCols` or `options.ignoreIndex`.
///   - states: The merged ``LogSumExpState`` of each whole row.
///   - gradientScale: Multiplies the gradient.
///   - options: The options of the whole problem (class weights have `totalCols` entries).
/// - Returns: This shard's part of the loss, reduced by `options.reduction` (the parts of all shards add up to the loss of `crossEntropy`).
/// - Throws: ``SoftmaxError`` before writing anything, as ``crossEntropy(_:rows:cols:stride:labels:options:)``,
///   and when the shard does not fit in `totalCols`.
public func crossEntropyShardWithGradient<T: SoftmaxScalar, L: ClassLabel>(
  inPlace logits: inout MutableSpan<T>, rows: Int, cols: Int, stride: Int? = nil, columnOffset: Int, totalCols: Int,
  labels: Span<L>, states: Span<LogSumExpState<T.Arithmetic>>, gradientScale: T.Arithmetic = 1,
  options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try labels.withUnsafeBufferPointer { (l) throws(SoftmaxError) in
    try states.withUnsafeBufferPointer { (s) throws(SoftmaxError) in
      try logits.withUnsafeMutableBufferPointer { (x) throws(SoftmaxError) in
        try crossEntropyShardCall(
          x, rows: rows, cols: cols, stride: stride, columnOffset: columnOffset, totalCols: totalCols, labels: l,
          states: s, gradient: .inPlace, losses: nil, gradientScale: gradientScale, options: options)
      }
    }
  }
}

/// Class-label cross-entropy of one shard with its gradient written over its logits, with spans, writing the per-row parts.
///
/// - Parameters:
///   - logits: (`inPlace:`) This shard's logits on entry, its columns of the gradient on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns of this shard (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - columnOffset: The column of the whole row where this shard starts.
///   - totalCols: The number of classes of the whole row.
///   - labels: One class label per row, in `0 ..< totalCols` or `options.ignoreIndex`.
///   - states: The merged ``LogSumExpState`` of each whole row.
///   - losses: Receives this shard's part of each row's loss.
///   - gradientScale: Multiplies the gradient.
///   - options: The options of the whole problem (class weights have `totalCols` entries).
/// - Returns: This shard's part of the loss, reduced by `options.reduction` (the parts of all shards add up to the loss of `crossEntropy`).
/// - Throws: ``SoftmaxError`` before writing anything, as ``crossEntropy(_:rows:cols:stride:labels:options:)``,
///   and when the shard does not fit in `totalCols`.
public func crossEntropyShardWithGradient<T: SoftmaxScalar, L: ClassLabel>(
  inPlace logits: inout MutableSpan<T>, rows: Int, cols: Int, stride: Int? = nil, columnOffset: Int, totalCols: Int,
  labels: Span<L>, states: Span<LogSumExpState<T.Arithmetic>>, losses: inout MutableSpan<T.Arithmetic>, gradientScale: T.Arithmetic = 1,
  options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try labels.withUnsafeBufferPointer { (l) throws(SoftmaxError) in
    try states.withUnsafeBufferPointer { (s) throws(SoftmaxError) in
      try logits.withUnsafeMutableBufferPointer { (x) throws(SoftmaxError) in
        try losses.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
          try crossEntropyShardCall(
            x, rows: rows, cols: cols, stride: stride, columnOffset: columnOffset, totalCols: totalCols, labels: l,
            states: s, gradient: .inPlace, losses: o, gradientScale: gradientScale, options: options)
        }
      }
    }
  }
}

/// Class-label cross-entropy of one shard of the vocabulary, pointer form (see the `Span` form).
///
/// - Parameters:
///   - logits: This shard's logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns of this shard (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - columnOffset: The column of the whole row where this shard starts.
///   - totalCols: The number of classes of the whole row.
///   - labels: One class label per row, in `0 ..< totalCols` or `options.ignoreIndex`.
///   - states: The merged ``LogSumExpState`` of each whole row.
///   - losses: Receives this shard's part of each row's loss when not nil.
///   - options: The options of the whole problem (class weights have `totalCols` entries).
/// - Returns: This shard's part of the loss, reduced by `options.reduction` (the parts of all shards add up to the loss of `crossEntropy`).
/// - Throws: ``SoftmaxError`` before writing anything, as ``crossEntropy(_:rows:cols:stride:labels:options:)``,
///   and when the shard does not fit in `totalCols`.
public func crossEntropyShard<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil, columnOffset: Int, totalCols: Int,
  labels: UnsafeBufferPointer<L>, states: UnsafeBufferPointer<LogSumExpState<T.Arithmetic>>,
  losses: UnsafeMutableBufferPointer<T.Arithmetic>? = nil, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try crossEntropyShardCall(
    UnsafeMutableBufferPointer(mutating: logits), rows: rows, cols: cols, stride: stride, columnOffset: columnOffset, totalCols: totalCols,
    labels: labels, states: states, gradient: .none, losses: losses, gradientScale: 1, options: options)
}

/// Class-label cross-entropy of one shard with its columns of the gradient, pointer form.
///
/// - Parameters:
///   - logits: This shard's logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns of this shard (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - columnOffset: The column of the whole row where this shard starts.
///   - totalCols: The number of classes of the whole row.
///   - labels: One class label per row, in `0 ..< totalCols` or `options.ignoreIndex`.
///   - states: The merged ``LogSumExpState`` of each whole row.
///   - gradient: Receives this shard's columns of `gradientScale * d(loss)/d(logits)`; it may be the very
///     same memory as `logits` with the same stride, but must not partly overlap it.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - losses: Receives this shard's part of each row's loss when not nil.
///   - gradientScale: Multiplies the gradient.
///   - options: The options of the whole problem (class weights have `totalCols` entries).
/// - Returns: This shard's part of the loss, reduced by `options.reduction` (the parts of all shards add up to the loss of `crossEntropy`).
/// - Throws: ``SoftmaxError`` before writing anything, as ``crossEntropy(_:rows:cols:stride:labels:options:)``,
///   and when the shard does not fit in `totalCols`.
public func crossEntropyShardWithGradient<T: SoftmaxScalar, L: ClassLabel>(
  _ logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil, columnOffset: Int, totalCols: Int,
  labels: UnsafeBufferPointer<L>, states: UnsafeBufferPointer<LogSumExpState<T.Arithmetic>>,
  gradient: UnsafeMutableBufferPointer<T>, gradientStride: Int? = nil, losses: UnsafeMutableBufferPointer<T.Arithmetic>? = nil,
  gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try crossEntropyShardCall(
    UnsafeMutableBufferPointer(mutating: logits), rows: rows, cols: cols, stride: stride, columnOffset: columnOffset, totalCols: totalCols,
    labels: labels, states: states, gradient: .separate(gradient, stride: gradientStride), losses: losses, gradientScale: gradientScale, options: options)
}

/// Class-label cross-entropy of one shard with its gradient written over its logits, pointer form.
///
/// - Parameters:
///   - logits: (`inPlace:`) This shard's logits on entry, its columns of the gradient on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns of this shard (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - columnOffset: The column of the whole row where this shard starts.
///   - totalCols: The number of classes of the whole row.
///   - labels: One class label per row, in `0 ..< totalCols` or `options.ignoreIndex`.
///   - states: The merged ``LogSumExpState`` of each whole row.
///   - losses: Receives this shard's part of each row's loss when not nil.
///   - gradientScale: Multiplies the gradient.
///   - options: The options of the whole problem (class weights have `totalCols` entries).
/// - Returns: This shard's part of the loss, reduced by `options.reduction` (the parts of all shards add up to the loss of `crossEntropy`).
/// - Throws: ``SoftmaxError`` before writing anything, as ``crossEntropy(_:rows:cols:stride:labels:options:)``,
///   and when the shard does not fit in `totalCols`.
public func crossEntropyShardWithGradient<T: SoftmaxScalar, L: ClassLabel>(
  inPlace logits: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil, columnOffset: Int,
  totalCols: Int, labels: UnsafeBufferPointer<L>, states: UnsafeBufferPointer<LogSumExpState<T.Arithmetic>>,
  losses: UnsafeMutableBufferPointer<T.Arithmetic>? = nil, gradientScale: T.Arithmetic = 1, options: CrossEntropyOptions<T> = .init()
) throws(SoftmaxError) -> T.Arithmetic {
  try crossEntropyShardCall(
    logits, rows: rows, cols: cols, stride: stride, columnOffset: columnOffset, totalCols: totalCols,
    labels: labels, states: states, gradient: .inPlace, losses: losses, gradientScale: gradientScale, options: options)
}
