internal import SoftmaxKernelsCore

/// Validates a logsumexp call and runs it.
func runLogSumExp<T: SoftmaxScalar>(
  _ input: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int?, output: UnsafeMutableBufferPointer<T.Arithmetic>,
  options: KernelOptions
) throws(SoftmaxError) {
  let shape = try Shape(rows: rows, cols: cols)
  let x = try shape.input(input, stride: stride, argument: "input", strideArgument: "stride")
  let out = try shape.perRow(output, argument: "output")
  try checkDisjoint(x, perRow: out, count: rows, input: "input", output: "output")
  let threads = try options.threadCount(rows: rows, cols: cols)
  if rows == 0 { return }
  if cols == 0 {
    out.update(repeating: -.infinity, count: rows)
    return
  }
  let slices = try options.columnSlices(rows: rows, cols: cols)
  if slices > 1 {
    let table = T._kernels(options.mode)
    for (r, state) in mergedRowStates(x, slices: slices, mode: options.mode).enumerated() {
      out[r] = table.logSumExpOfPartial(state)
    }
    return
  }
  let kernel = T._kernels(options.mode).logSumExp
  forEachRowRange(rows: rows, threads: threads) { kernel(x.rows($0, count: $1), out + $0) }
}

/// Row-wise logsumexp of a `rows x cols` matrix held in a span: one value per row.
///
/// `output[r] = m_r + log(sum_j exp(input[r, j] - m_r))` with `m_r` the row's maximum, computed
/// without overflow.
///
/// ## Edge cases
/// -inf for a row of only -inf (and for `cols == 0`, the empty sum); +inf if the row has a
/// +inf; NaN if it has a NaN.
///
/// - Parameters:
///   - input: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `input`; `cols` when nil.
///   - output: Receives `rows` values (in `T.Arithmetic`: `Float` for `Float16` and ``BFloat16``
///     input); must not overlap `input`.
///   - options: Mode and threads.
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func logSumExp<T: SoftmaxScalar>(
  _ input: Span<T>, rows: Int, cols: Int, stride: Int? = nil, output: inout MutableSpan<T.Arithmetic>,
  options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try input.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
    try output.withUnsafeMutableBufferPointer { (y) throws(SoftmaxError) in
      try runLogSumExp(x, rows: rows, cols: cols, stride: stride, output: y, options: options)
    }
  }
}

/// Row-wise logsumexp, pointer form (see the `Span` form).
///
/// - Parameters:
///   - input: The logits, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `input`; `cols` when nil.
///   - output: Receives `rows` values (in `T.Arithmetic`: `Float` for `Float16` and ``BFloat16``
///     input); must not overlap `input`.
///   - options: Mode and threads.
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func logSumExp<T: SoftmaxScalar>(
  _ input: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  output: UnsafeMutableBufferPointer<T.Arithmetic>, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try runLogSumExp(input, rows: rows, cols: cols, stride: stride, output: output, options: options)
}

/// logsumexp of each row of `cols` elements of an array.
///
/// - Parameters:
///   - input: The logits, rows of `cols` elements one after another.
///   - cols: The row length; `input.count` must be a multiple of it.
///   - options: Mode and threads.
/// - Returns: One value per row.
/// - Throws: ``SoftmaxError`` on a wrong count or option.
public func logSumExp<T: SoftmaxScalar>(
  _ input: [T], cols: Int, options: KernelOptions = .accurate
) throws(SoftmaxError) -> [T.Arithmetic] {
  let shape = try Shape(count: input.count, cols: cols, argument: "input")
  var out = [T.Arithmetic](repeating: 0, count: shape.rows)
  try input.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
    try out.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
      try runLogSumExp(x, rows: shape.rows, cols: cols, stride: nil, output: o, options: options)
    }
  }
  return out
}

/// logsumexp of one vector, `log(sum_j exp(x_j))`, computed without overflow.
///
/// - Parameters:
///   - input: The logits.
///   - options: Mode and threads.
/// - Returns: The logsumexp; -inf for an empty vector.
/// - Throws: ``SoftmaxError/invalidThreadCount(_:)`` for a negative thread count.
public func logSumExp<T: SoftmaxScalar>(_ input: [T], options: KernelOptions = .accurate) throws(SoftmaxError) -> T.Arithmetic {
  var out: T.Arithmetic = -.infinity
  try input.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
    try withUnsafeMutablePointer(to: &out) { (o) throws(SoftmaxError) in
      try runLogSumExp(
        x, rows: 1, cols: input.count, stride: nil, output: UnsafeMutableBufferPointer(start: o, count: 1),
        options: options)
    }
  }
  return out
}
