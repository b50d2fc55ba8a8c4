/// Row-wise logsumexp: `out[r] = m_r + log(sum_j exp(x[r, j] - m_r))`, `m_r = max_j x[r, j]`.
///
/// -inf for a row of only -inf (and for `cols == 0`, the empty sum); +inf if the row has a +inf;
/// NaN if it has a NaN. `output` needs `rows` elements and must not overlap `input`.
public func logSumExp<T: SoftmaxScalar>(
  _ input: UnsafeBufferPointer<T>, rows: Int, cols: Int, inputStride: Int? = nil,
  into output: UnsafeMutableBufferPointer<T>, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  let shape = try Shape(rows: rows, cols: cols)
  let x = try shape.input(input, stride: inputStride, argument: "input", strideArgument: "inputStride")
  let out = try shape.perRow(output, argument: "output")
  try checkDisjoint(x, perRow: out, count: rows, input: "input", output: "output")
  let threads = try options.threadCount(rows: rows, cols: cols)
  if rows == 0 { return }
  if cols == 0 {
    out.update(repeating: -.infinity, count: rows)
    return
  }
  let kernel = T._kernels(options.mode).logSumExp
  forEachRowRange(rows: rows, threads: threads) { kernel(x.rows($0, count: $1), out + $0) }
}

/// logsumexp of each row of `cols` elements of `logits`: one value per row.
public func logSumExp<T: SoftmaxScalar>(
  _ logits: [T], cols: Int, options: KernelOptions = .accurate
) throws(SoftmaxError) -> [T] {
  let shape = try Shape(count: logits.count, cols: cols, argument: "logits")
  var out = [T](repeating: 0, count: shape.rows)
  try logits.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
    try out.withUnsafeMutableBufferPointer { (o) throws(SoftmaxError) in
      try logSumExp(x, rows: shape.rows, cols: cols, into: o, options: options)
    }
  }
  return out
}

/// logsumexp of one vector: `log(sum_j exp(x_j))`, computed without overflow.
public func logSumExp<T: SoftmaxScalar>(_ logits: [T], options: KernelOptions = .accurate) -> T {
  if logits.isEmpty { return -.infinity }
  return (try? logSumExp(logits, cols: logits.count, options: options))?.first ?? .nan
}
