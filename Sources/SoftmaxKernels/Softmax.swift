/// Row-wise softmax of a row-major `rows x cols` matrix:
/// `y[r, j] = exp(x[r, j] - m_r) / sum_k exp(x[r, k] - m_r)` with `m_r = max_k x[r, k]`.
///
/// -inf entries get probability 0; a row of only -inf gets all 0; +inf entries share the row's
/// probability equally; a NaN anywhere in a row makes that row NaN. Strides default to `cols`.
/// Throws before writing anything if a size, stride or buffer is wrong.
public func softmax<T: SoftmaxScalar>(
  _ input: UnsafeBufferPointer<T>, rows: Int, cols: Int, inputStride: Int? = nil,
  into output: UnsafeMutableBufferPointer<T>, outputStride: Int? = nil,
  options: KernelOptions = .accurate
) throws(SoftmaxError) {
  let shape = try Shape(rows: rows, cols: cols)
  let x = try shape.input(input, stride: inputStride, argument: "input", strideArgument: "inputStride")
  let y = try shape.output(output, stride: outputStride, argument: "output", strideArgument: "outputStride")
  try checkNoPartialOverlap(x, y, input: "input", output: "output")
  let threads = try options.threadCount(rows: rows, cols: cols)
  if shape.isEmpty { return }
  let kernel = T._kernels(options.mode).softmax
  forEachRowRange(rows: rows, threads: threads) { kernel(x.rows($0, count: $1), y.rows($0, count: $1)) }
}

/// Row-wise softmax in place: `data` holds the logits on entry and the probabilities on return.
public func softmax<T: SoftmaxScalar>(
  inPlace data: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  options: KernelOptions = .accurate
) throws(SoftmaxError) {
  let shape = try Shape(rows: rows, cols: cols)
  let y = try shape.output(data, stride: stride, argument: "data", strideArgument: "stride")
  let threads = try options.threadCount(rows: rows, cols: cols)
  if shape.isEmpty { return }
  let kernel = T._kernels(options.mode).softmax
  forEachRowRange(rows: rows, threads: threads) { y.rows($0, count: $1).withReadOnly(kernel) }
}

/// Softmax of each row of `cols` elements of `logits` (`logits.count` must be a multiple of
/// `cols`); returns a new array.
public func softmax<T: SoftmaxScalar>(
  _ logits: [T], cols: Int, options: KernelOptions = .accurate
) throws(SoftmaxError) -> [T] {
  var out = logits
  try softmax(inPlace: &out, cols: cols, options: options)
  return out
}

/// Softmax of each row of `cols` elements of `data`, in place.
public func softmax<T: SoftmaxScalar>(
  inPlace data: inout [T], cols: Int, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  let shape = try Shape(count: data.count, cols: cols, argument: "data")
  try data.withUnsafeMutableBufferPointer { (b) throws(SoftmaxError) in
    try softmax(inPlace: b, rows: shape.rows, cols: cols, options: options)
  }
}

/// Softmax of one vector of logits.
public func softmax<T: SoftmaxScalar>(_ logits: [T], options: KernelOptions = .accurate) -> [T] {
  // One row of `count` columns is always a valid shape.
  (try? softmax(logits, cols: logits.count, options: options)) ?? []
}
