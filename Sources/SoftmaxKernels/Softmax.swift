internal import SoftmaxKernelsCore

// Softmax and log-softmax: one output matrix the shape of the input, row by row. Every form
// (Span, pointer, array) validates all of its arguments before the first write and then runs
// the same kernel.

/// The two row-wise operations of this file.
enum RowwiseOperation {
  case softmax, logSoftmax

  func kernel<T: SoftmaxScalar>(_: T.Type, _ mode: KernelOptions.Mode)
    -> @Sendable (StridedRows<T>, MutableStridedRows<T>) -> Void
  {
    let table = T._kernels(mode)
    return self == .softmax ? table.softmax : table.logSoftmax
  }

  func run<T: SoftmaxScalar>(
    _ input: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int?,
    output: UnsafeMutableBufferPointer<T>, outputStride: Int?, options: KernelOptions
  ) throws(SoftmaxError) {
    let shape = try Shape(rows: rows, cols: cols)
    let x = try shape.input(input, stride: stride, argument: "input", strideArgument: "stride")
    let y = try shape.output(output, stride: outputStride, argument: "output", strideArgument: "outputStride")
    try checkNoPartialOverlap(x, y, input: "input", output: "output")
    let threads = try options.threadCount(rows: rows, cols: cols)
    if shape.isEmpty { return }
    let kernel = kernel(T.self, options.mode)
    forEachRowRange(rows: rows, threads: threads) { kernel(x.rows($0, count: $1), y.rows($0, count: $1)) }
  }

  func runInPlace<T: SoftmaxScalar>(
    _ data: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int?, options: KernelOptions
  ) throws(SoftmaxError) {
    let shape = try Shape(rows: rows, cols: cols)
    let y = try shape.output(data, stride: stride, argument: "inPlace", strideArgument: "stride")
    let threads = try options.threadCount(rows: rows, cols: cols)
    if shape.isEmpty { return }
    let kernel = kernel(T.self, options.mode)
    forEachRowRange(rows: rows, threads: threads) { y.rows($0, count: $1).withReadOnly(kernel) }
  }

  func run<T: SoftmaxScalar>(_ input: Span<T>, rows: Int, cols: Int, stride: Int?,
    output: inout MutableSpan<T>, outputStride: Int?, options: KernelOptions
  ) throws(SoftmaxError) {
    try input.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
      try output.withUnsafeMutableBufferPointer { (y) throws(SoftmaxError) in
        try run(x, rows: rows, cols: cols, stride: stride, output: y, outputStride: outputStride, options: options)
      }
    }
  }

  func runInPlace<T: SoftmaxScalar>(
    _ data: inout MutableSpan<T>, rows: Int, cols: Int, stride: Int?, options: KernelOptions
  ) throws(SoftmaxError) {
    try data.withUnsafeMutableBufferPointer { (y) throws(SoftmaxError) in
      try runInPlace(y, rows: rows, cols: cols, stride: stride, options: options)
    }
  }

  func runInPlace<T: SoftmaxScalar>(_ data: inout [T], cols: Int, options: KernelOptions) throws(SoftmaxError) {
    let shape = try Shape(count: data.count, cols: cols, argument: "inPlace")
    try data.withUnsafeMutableBufferPointer { (y) throws(SoftmaxError) in
      try runInPlace(y, rows: shape.rows, cols: cols, stride: nil, options: options)
    }
  }

  func run<T: SoftmaxScalar>(_ input: [T], cols: Int, options: KernelOptions) throws(SoftmaxError) -> [T] {
    let shape = try Shape(count: input.count, cols: cols, argument: "input")
    var out = input
    try out.withUnsafeMutableBufferPointer { (y) throws(SoftmaxError) in
      try runInPlace(y, rows: shape.rows, cols: cols, stride: nil, options: options)
    }
    return out
  }
}

// MARK: - Softmax

/// Row-wise softmax of a `rows x cols` matrix held in a span.
///
/// `output[r, j] = exp(input[r, j] - m_r) / sum_k exp(input[r, k] - m_r)` with `m_r` the row's
/// maximum.
///
/// ```swift
/// var probabilities = [Float](repeating: 0, count: logits.count)
/// var output = probabilities.mutableSpan
/// try softmax(logits.span, rows: 2, cols: 4, output: &output)
/// ```
///
/// ## Edge cases
/// A -inf entry gets probability 0 and a row of only -inf is all 0; +inf entries share the
/// row's probability equally; a NaN anywhere in a row makes that row NaN and leaves the others.
///
/// - Parameters:
///   - input: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `input`; `cols` when nil.
///   - output: Receives the probabilities; must not overlap `input`.
///   - outputStride: Elements between the starts of two rows of `output`; `cols` when nil.
///   - options: Mode and threads.
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func softmax<T: SoftmaxScalar>(
  _ input: Span<T>, rows: Int, cols: Int, stride: Int? = nil,
  output: inout MutableSpan<T>, outputStride: Int? = nil, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try RowwiseOperation.softmax.run(
    input, rows: rows, cols: cols, stride: stride, output: &output, outputStride: outputStride, options: options)
}

/// Row-wise softmax in place: `inPlace` holds the logits on entry and the probabilities on return.
///
/// - Parameters:
///   - data: (`inPlace:`) The `rows x cols` matrix, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows; `cols` when nil.
///   - options: Mode and threads.
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func softmax<T: SoftmaxScalar>(
  inPlace data: inout MutableSpan<T>, rows: Int, cols: Int, stride: Int? = nil, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try RowwiseOperation.softmax.runInPlace(&data, rows: rows, cols: cols, stride: stride, options: options)
}

/// Row-wise softmax of a `rows x cols` matrix, pointer form (see the `Span` form).
///
/// - Parameters:
///   - input: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `input`; `cols` when nil.
///   - output: Receives the probabilities; it may be the very same memory as `input` with the
///     same stride, but must not partly overlap it.
///   - outputStride: Elements between the starts of two rows of `output`; `cols` when nil.
///   - options: Mode and threads.
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func softmax<T: SoftmaxScalar>(
  _ input: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  output: UnsafeMutableBufferPointer<T>, outputStride: Int? = nil, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try RowwiseOperation.softmax.run(
    input, rows: rows, cols: cols, stride: stride, output: output, outputStride: outputStride, options: options)
}

/// Row-wise softmax in place, pointer form.
///
/// - Parameters:
///   - data: (`inPlace:`) The `rows x cols` matrix: logits on entry, probabilities on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows; `cols` when nil.
///   - options: Mode and threads.
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func softmax<T: SoftmaxScalar>(
  inPlace data: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try RowwiseOperation.softmax.runInPlace(data, rows: rows, cols: cols, stride: stride, options: options)
}

/// Softmax of each row of `cols` elements of an array.
///
/// - Parameters:
///   - input: The logits, rows of `cols` elements one after another.
///   - cols: The row length; `input.count` must be a multiple of it.
///   - options: Mode and threads.
/// - Returns: The probabilities, the shape of `input`.
/// - Throws: ``SoftmaxError/countNotMultipleOfColumns(argument:count:cols:)`` and the other
///   argument errors.
public func softmax<T: SoftmaxScalar>(
  _ input: [T], cols: Int, options: KernelOptions = .accurate
) throws(SoftmaxError) -> [T] {
  try RowwiseOperation.softmax.run(input, cols: cols, options: options)
}

/// Softmax of each row of `cols` elements of an array, in place.
///
/// - Parameters:
///   - data: (`inPlace:`) Rows of `cols` logits on entry, their probabilities on return.
///   - cols: The row length; the count must be a multiple of it.
///   - options: Mode and threads.
/// - Throws: ``SoftmaxError`` before writing anything on a wrong count or option.
public func softmax<T: SoftmaxScalar>(
  inPlace data: inout [T], cols: Int, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try RowwiseOperation.softmax.runInPlace(&data, cols: cols, options: options)
}

/// Softmax of one vector of logits.
///
/// - Parameters:
///   - input: The logits.
///   - options: Mode and threads.
/// - Returns: The probabilities (an empty array for an empty input).
/// - Throws: ``SoftmaxError/invalidThreadCount(_:)`` for a negative thread count.
public func softmax<T: SoftmaxScalar>(_ input: [T], options: KernelOptions = .accurate) throws(SoftmaxError) -> [T] {
  try RowwiseOperation.softmax.run(input, cols: input.count, options: options)
}

// MARK: - Log-softmax

/// Row-wise log-softmax of a `rows x cols` matrix held in a span.
///
/// `output[r, j] = (input[r, j] - m_r) - log(sum_k exp(input[r, k] - m_r))` with `m_r` the row's
/// maximum.
///
/// ## Edge cases
/// Every output is <= 0. A -inf entry stays -inf and a row of only -inf is all -inf; with +inf
/// entries, those get `-log(count of +inf)` and the rest -inf; a NaN makes its row NaN.
///
/// - Parameters:
///   - input: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `input`; `cols` when nil.
///   - output: Receives the log-probabilities; must not overlap `input`.
///   - outputStride: Elements between the starts of two rows of `output`; `cols` when nil.
///   - options: Mode and threads.
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func logSoftmax<T: SoftmaxScalar>(
  _ input: Span<T>, rows: Int, cols: Int, stride: Int? = nil,
  output: inout MutableSpan<T>, outputStride: Int? = nil, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try RowwiseOperation.logSoftmax.run(
    input, rows: rows, cols: cols, stride: stride, output: &output, outputStride: outputStride, options: options)
}

/// Row-wise log-softmax in place: `inPlace` holds the logits on entry and the log-probabilities
/// on return.
///
/// - Parameters:
///   - data: (`inPlace:`) The `rows x cols` matrix, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows; `cols` when nil.
///   - options: Mode and threads.
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func logSoftmax<T: SoftmaxScalar>(
  inPlace data: inout MutableSpan<T>, rows: Int, cols: Int, stride: Int? = nil, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try RowwiseOperation.logSoftmax.runInPlace(&data, rows: rows, cols: cols, stride: stride, options: options)
}

/// Row-wise log-softmax, pointer form (see the `Span` form).
///
/// - Parameters:
///   - input: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `input`; `cols` when nil.
///   - output: Receives the log-probabilities; it may be the very same memory as `input` with the
///     same stride, but must not partly overlap it.
///   - outputStride: Elements between the starts of two rows of `output`; `cols` when nil.
///   - options: Mode and threads.
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func logSoftmax<T: SoftmaxScalar>(
  _ input: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  output: UnsafeMutableBufferPointer<T>, outputStride: Int? = nil, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try RowwiseOperation.logSoftmax.run(
    input, rows: rows, cols: cols, stride: stride, output: output, outputStride: outputStride, options: options)
}

/// Row-wise log-softmax in place, pointer form.
///
/// - Parameters:
///   - data: (`inPlace:`) The `rows x cols` matrix: logits on entry, log-probabilities on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows; `cols` when nil.
///   - options: Mode and threads.
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func logSoftmax<T: SoftmaxScalar>(
  inPlace data: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try RowwiseOperation.logSoftmax.runInPlace(data, rows: rows, cols: cols, stride: stride, options: options)
}

/// Log-softmax of each row of `cols` elements of an array.
///
/// - Parameters:
///   - input: The logits, rows of `cols` elements one after another.
///   - cols: The row length; `input.count` must be a multiple of it.
///   - options: Mode and threads.
/// - Returns: The log-probabilities, the shape of `input`.
/// - Throws: ``SoftmaxError`` on a wrong count or option.
public func logSoftmax<T: SoftmaxScalar>(
  _ input: [T], cols: Int, options: KernelOptions = .accurate
) throws(SoftmaxError) -> [T] {
  try RowwiseOperation.logSoftmax.run(input, cols: cols, options: options)
}

/// Log-softmax of each row of `cols` elements of an array, in place.
///
/// - Parameters:
///   - data: (`inPlace:`) Rows of `cols` logits on entry, their log-probabilities on return.
///   - cols: The row length; the count must be a multiple of it.
///   - options: Mode and threads.
/// - Throws: ``SoftmaxError`` before writing anything on a wrong count or option.
public func logSoftmax<T: SoftmaxScalar>(
  inPlace data: inout [T], cols: Int, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try RowwiseOperation.logSoftmax.runInPlace(&data, cols: cols, options: options)
}

/// Log-softmax of one vector of logits.
///
/// - Parameters:
///   - input: The logits.
///   - options: Mode and threads.
/// - Returns: The log-probabilities (an empty array for an empty input).
/// - Throws: ``SoftmaxError/invalidThreadCount(_:)`` for a negative thread count.
public func logSoftmax<T: SoftmaxScalar>(_ input: [T], options: KernelOptions = .accurate) throws(SoftmaxError) -> [T] {
  try RowwiseOperation.logSoftmax.run(input, cols: input.count, options: options)
}
