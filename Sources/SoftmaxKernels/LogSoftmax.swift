/// Row-wise log-softmax of a row-major `rows x cols` matrix:
/// `y[r, j] = (x[r, j] - m_r) - log(sum_k exp(x[r, k] - m_r))` with `m_r = max_k x[r, k]`.
///
/// Every output is <= 0; -inf entries stay -inf; a row of only -inf is all -inf; with +inf
/// entries, those get `-log(count of +inf)` and the rest -inf; a NaN makes its row NaN.
/// Throws before writing anything if a size, stride or buffer is wrong.
public func logSoftmax<T: SoftmaxScalar>(
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
  let kernel = T._kernels(options.mode).logSoftmax
  forEachRowRange(rows: rows, threads: threads) { kernel(x.rows($0, count: $1), y.rows($0, count: $1)) }
}

/// Row-wise log-softmax in place.
public func logSoftmax<T: SoftmaxScalar>(
  inPlace data: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  options: KernelOptions = .accurate
) throws(SoftmaxError) {
  let shape = try Shape(rows: rows, cols: cols)
  let y = try shape.output(data, stride: stride, argument: "data", strideArgument: "stride")
  let threads = try options.threadCount(rows: rows, cols: cols)
  if shape.isEmpty { return }
  let kernel = T._kernels(options.mode).logSoftmax
  forEachRowRange(rows: rows, threads: threads) { y.rows($0, count: $1).withReadOnly(kernel) }
}

/// Log-softmax of each row of `cols` elements of `logits`; returns a new array.
public func logSoftmax<T: SoftmaxScalar>(
  _ logits: [T], cols: Int, options: KernelOptions = .accurate
) throws(SoftmaxError) -> [T] {
  var out = logits
  try logSoftmax(inPlace: &out, cols: cols, options: options)
  return out
}

/// Log-softmax of each row of `cols` elements of `data`, in place.
public func logSoftmax<T: SoftmaxScalar>(
  inPlace data: inout [T], cols: Int, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  let shape = try Shape(count: data.count, cols: cols, argument: "data")
  try data.withUnsafeMutableBufferPointer { (b) throws(SoftmaxError) in
    try logSoftmax(inPlace: b, rows: shape.rows, cols: cols, options: options)
  }
}

/// Log-softmax of one vector of logits.
public func logSoftmax<T: SoftmaxScalar>(_ logits: [T], options: KernelOptions = .accurate) -> [T] {
  (try? logSoftmax(logits, cols: logits.count, options: options)) ?? []
}
