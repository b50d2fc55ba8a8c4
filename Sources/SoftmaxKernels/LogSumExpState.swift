internal import SoftmaxKernelsCore

/// The mergeable logsumexp of a row over a slice of its columns (a shard of the vocabulary):
/// `max` = the slice's max and `sum = sum_j exp(x_j - max)`, held as `excess = sum - 1` so that
/// `logSumExp = max + log1p(excess)` stays accurate. Two states merge exactly:
///
///     M = max(m1, m2),   sum = sum1 * exp(m1 - M) + sum2 * exp(m2 - M)
///
/// so shards of a row computed anywhere, merged in any order, give the row's logsumexp within a few
/// ulps. The state carries its excess in two words and rescales with a double-word exp, so the sum
/// (and the softmax that `crossEntropyShard` derives from it) stays as accurate after a thousand
/// merges, in any order, as after one. An empty or fully masked slice is `.empty` (max -inf,
/// sum 0) and is neutral; a slice with k +inf entries has max +inf and sum k; a NaN slice has max
/// NaN and poisons every merge.
public struct LogSumExpState<T: SoftmaxScalar>: Sendable {
  var partial: LogSumExpPartial<T>

  /// The slice's maximum.
  public var max: T { partial.max }
  /// sum_j exp(x_j - max) - 1 (rounded; the state keeps its rounding error as well).
  public var excess: T { partial.excess }
  /// sum_j exp(x_j - max) (0 for an empty slice, k for k +inf entries).
  public var sum: T { partial.sum }

  init(_ partial: LogSumExpPartial<T>) { self.partial = partial }

  /// A state from its parts (`excess = sum - 1`).
  public init(max: T, excess: T) { partial = LogSumExpPartial(max: max, excess: excess) }

  /// The state of no columns: the neutral element of `merged(with:)`.
  public static var empty: Self { Self(.empty) }

  /// The state of the union of both slices.
  public func merged(with other: Self) -> Self { Self(T._kernels(.accurate).mergeLogSumExp(partial, other.partial)) }

  /// log(sum_j exp(x_j)) over the merged slices: max + log1p(excess).
  public var logSumExp: T { T._kernels(.accurate).logSumExpOfPartial(partial) }
}

/// The logsumexp state of each row of a `rows x cols` slice of logits (two passes per row).
public func logSumExpStates<T: SoftmaxScalar>(
  _ logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  into states: UnsafeMutableBufferPointer<LogSumExpState<T>>
) throws(SoftmaxError) {
  let shape = try Shape(rows: rows, cols: cols)
  let x = try shape.input(logits, stride: stride, argument: "logits", strideArgument: "stride")
  let out = try shape.perRow(states, argument: "states")
  if rows == 0 { return }
  out.withMemoryRebound(to: LogSumExpPartial<T>.self, capacity: rows) { T._kernels(.accurate).logSumExpPartials(x, $0) }
}

/// The logsumexp state of each row of `cols` elements of `logits`.
public func logSumExpStates<T: SoftmaxScalar>(_ logits: [T], cols: Int) throws(SoftmaxError) -> [LogSumExpState<T>] {
  let shape = try Shape(count: logits.count, cols: cols, argument: "logits")
  var out = [LogSumExpState<T>](repeating: .empty, count: shape.rows)
  try logits.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
    try out.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
      try logSumExpStates(x, rows: shape.rows, cols: cols, into: o)
    }
  }
  return out
}

/// Class-label cross-entropy of one shard of the vocabulary: `logits` holds columns
/// `columnOffset ..< columnOffset + cols` of rows of `totalCols` classes, `states[r]` the merged
/// `LogSumExpState` of the whole row r, `labels` and `options` those of the whole problem
/// (class weights have `totalCols` entries).
///
/// Returns this shard's part of the reduced loss and writes its per-row parts to `losses` and its
/// columns of `gradientScale * d(loss)/d(logits)` to `gradient` (which may be `logits`). The shard
/// holding a row's label adds (1 - eps) w_t (L - x_t) + z L^2, every shard adds
/// eps/C sum_{j in shard} w_j (L - x_j); summed over shards, losses and the returned value equal
/// those of the unsharded `crossEntropy` (within rounding), and the gradient columns are those of
/// `crossEntropyWithGradient`.
public func crossEntropyShard<T: SoftmaxScalar>(
  logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil, columnOffset: Int, totalCols: Int,
  labels: UnsafeBufferPointer<Int32>, states: UnsafeBufferPointer<LogSumExpState<T>>,
  options: CrossEntropyOptions<T> = .init(), gradientScale: T = 1,
  gradient: UnsafeMutableBufferPointer<T>? = nil, gradientStride: Int? = nil,
  losses: UnsafeMutableBufferPointer<T>? = nil
) throws(SoftmaxError) -> T {
  let shape = try Shape(rows: rows, cols: cols)
  let x = try shape.input(logits, stride: stride, argument: "logits", strideArgument: "stride")
  guard columnOffset >= 0 else { throw .negativeDimension(argument: "columnOffset", value: columnOffset) }
  guard totalCols >= 0 else { throw .negativeDimension(argument: "totalCols", value: totalCols) }
  guard columnOffset <= totalCols - cols else {
    throw .countMismatch(argument: "totalCols", expected: columnOffset + cols, actual: totalCols)
  }
  let g = try gradient.map { (b) throws(SoftmaxError) in
    try shape.output(b, stride: gradientStride, argument: "gradient", strideArgument: "gradientStride")
  }
  if let g { try checkNoPartialOverlap(x, g, input: "logits", output: "gradient") }
  guard states.count >= rows else { throw .bufferTooSmall(argument: "states", required: rows, actual: states.count) }
  let weightSum = try options.validate(cols: totalCols)
  let threads = try KernelOptions(threads: options.threads).threadCount(rows: rows, cols: cols)
  let denominator: T = try validateLabels(
    labels, rows: rows, cols: totalCols, ignoreIndex: options.ignoreIndex, weights: options.classWeights)
  let lossOut = try losses.map { b throws(SoftmaxError) in try shape.perRow(b, argument: "losses") }
  try checkLossesDisjoint(lossOut, rows: rows, from: x, gradient: g)
  if rows == 0 { return 0 }
  let labelBase = labels.baseAddress!
  return states.withMemoryRebound(to: LogSumExpPartial<T>.self) { s in
    runCrossEntropy(
      options: options, rows: rows, cols: totalCols, threads: threads, weightSum: weightSum,
      denominator: denominator, gradientScale: gradientScale
    ) { p, scale, first, count in
      T._kernels(options.mode).crossEntropyLabelSlice(
        x.rows(first, count: count), columnOffset, labelBase + first, s.baseAddress! + first, p, scale,
        g?.rows(first, count: count), lossOut.map { $0 + first })
    }
  }
}
