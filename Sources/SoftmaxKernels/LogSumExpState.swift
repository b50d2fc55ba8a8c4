internal import SoftmaxKernelsCore

/// The mergeable logsumexp of a row over a slice of its columns (a shard of the vocabulary).
///
/// States are in the arithmetic type: `LogSumExpState<Float>` for `Float`, `Float16` and
/// ``BFloat16`` logits, `LogSumExpState<Double>` for `Double`.
///
/// `max` is the slice's maximum and `sum = sum_j exp(x_j - max)`, held as `excess = sum - 1` so
/// that `logSumExp = max + log1p(excess)` stays accurate. Two states merge exactly:
///
///     M = max(m1, m2),   sum = sum1 * exp(m1 - M) + sum2 * exp(m2 - M)
///
/// so shards of a row computed anywhere, merged in any order, give the row's logsumexp within a
/// few ulps. The state carries its excess in two words and rescales with a double-word exp, so
/// the sum (and the softmax that ``crossEntropyShard(_:rows:cols:stride:columnOffset:totalCols:labels:states:options:)``
/// derives from it) stays as accurate after a thousand merges, in any order, as after one.
///
/// ## Edge cases
/// An empty or fully masked slice is ``empty`` (max -inf, sum 0) and is neutral; a slice with k
/// +inf entries has max +inf and sum k; a NaN slice has max NaN and poisons every merge.
public struct LogSumExpState<T: SoftmaxScalar>: Sendable where T.Arithmetic == T {
  // The only stored property: a buffer of states is read by the kernels as a buffer of partials.
  let partial: LogSumExpPartial<T>

  /// The slice's maximum.
  public var max: T { partial.max }
  /// `sum_j exp(x_j - max) - 1`, rounded (the state keeps its rounding error as well).
  public var excess: T { partial.excess }
  /// `sum_j exp(x_j - max)`: 0 for an empty slice, k for k +inf entries.
  public var sum: T { partial.sum }

  init(_ partial: LogSumExpPartial<T>) { self.partial = partial }

  /// A state from its parts.
  ///
  /// - Parameters:
  ///   - max: The slice's maximum.
  ///   - excess: `sum_j exp(x_j - max) - 1`.
  public init(max: T, excess: T) { partial = LogSumExpPartial(max: max, excess: excess) }

  /// The state of no columns: the neutral element of ``merged(with:)``.
  public static var empty: Self { Self(.empty) }

  /// The state of the union of both slices.
  ///
  /// - Parameter other: The state of another slice of the same row.
  /// - Returns: The merged state; merging is commutative and associative up to rounding.
  public func merged(with other: Self) -> Self { Self(T._kernels(.accurate).mergeLogSumExp(partial, other.partial)) }

  /// `log(sum_j exp(x_j))` over the merged slices: `max + log1p(excess)`.
  public var logSumExp: T { T._kernels(.accurate).logSumExpOfPartial(partial) }
}

/// Validates a logsumexp-states call and runs it.
func runLogSumExpStates<T: SoftmaxScalar>(
  _ logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int?,
  states: UnsafeMutableBufferPointer<LogSumExpState<T.Arithmetic>>, options: KernelOptions
) throws(SoftmaxError) {
  let shape = try Shape(rows: rows, cols: cols)
  let x = try shape.input(logits, stride: stride, argument: "logits", strideArgument: "stride")
  let out = try shape.perRow(states, argument: "states")
  let threads = try options.threadCount(rows: rows, cols: cols)
  if rows == 0 { return }
  let kernel = T._kernels(options.mode).logSumExpPartials
  out.withMemoryRebound(to: LogSumExpPartial<T.Arithmetic>.self, capacity: rows) { partials in
    forEachRowRange(rows: rows, threads: threads) { kernel(x.rows($0, count: $1), partials + $0) }
  }
}

/// The logsumexp state of each row of a `rows x cols` slice of logits, with spans (two passes
/// per row).
///
/// - Parameters:
///   - logits: The slice, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns of the slice (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - states: Receives `rows` states.
///   - options: Mode and threads.
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func logSumExpStates<T: SoftmaxScalar>(
  _ logits: Span<T>, rows: Int, cols: Int, stride: Int? = nil, states: inout MutableSpan<LogSumExpState<T.Arithmetic>>,
  options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try logits.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
    try states.withUnsafeMutableBufferPointer { (s) throws(SoftmaxError) in
      try runLogSumExpStates(x, rows: rows, cols: cols, stride: stride, states: s, options: options)
    }
  }
}

/// The logsumexp state of each row of a slice of logits, pointer form (see the `Span` form).
///
/// - Parameters:
///   - logits: The slice, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns of the slice (>= 0).
///   - stride: Elements between the starts of two rows of `logits`; `cols` when nil.
///   - states: Receives `rows` states.
///   - options: Mode and threads.
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func logSumExpStates<T: SoftmaxScalar>(
  _ logits: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  states: UnsafeMutableBufferPointer<LogSumExpState<T.Arithmetic>>, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try runLogSumExpStates(logits, rows: rows, cols: cols, stride: stride, states: states, options: options)
}

/// The logsumexp state of each row of `cols` elements of an array.
///
/// - Parameters:
///   - logits: Rows of `cols` logits one after another.
///   - cols: The row length; the count must be a multiple of it.
///   - options: Mode and threads.
/// - Returns: One state per row.
/// - Throws: ``SoftmaxError`` on a wrong count or option.
public func logSumExpStates<T: SoftmaxScalar>(
  _ logits: [T], cols: Int, options: KernelOptions = .accurate
) throws(SoftmaxError) -> [LogSumExpState<T.Arithmetic>] {
  let shape = try Shape(count: logits.count, cols: cols, argument: "logits")
  var out = [LogSumExpState<T.Arithmetic>](repeating: .empty, count: shape.rows)
  try logits.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
    try out.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
      try runLogSumExpStates(x, rows: shape.rows, cols: cols, stride: nil, states: o, options: options)
    }
  }
  return out
}
