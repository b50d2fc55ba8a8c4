internal import SoftmaxKernelsCore

/// Checks the three matrices of a backward call and returns their views. `dx` may be exactly
/// `y` or `dy` (in place) but must not partly overlap either.
func backwardViews<T>(
  _ y: UnsafeBufferPointer<T>, _ dy: UnsafeBufferPointer<T>, _ dx: UnsafeMutableBufferPointer<T>,
  rows: Int, cols: Int, strides: (Int?, Int?, Int?)
) throws(SoftmaxError) -> (StridedRows<T>, StridedRows<T>, MutableStridedRows<T>)? {
  let shape = try Shape(rows: rows, cols: cols)
  let yv = try shape.input(y, stride: strides.0, argument: "output", strideArgument: "outputStride")
  let dyv = try shape.input(dy, stride: strides.1, argument: "gradOutput", strideArgument: "gradOutputStride")
  let dxv = try shape.output(dx, stride: strides.2, argument: "gradInput", strideArgument: "gradInputStride")
  try checkNoPartialOverlap(yv, dxv, input: "output", output: "gradInput")
  try checkNoPartialOverlap(dyv, dxv, input: "gradOutput", output: "gradInput")
  return shape.isEmpty ? nil : (yv, dyv, dxv)
}

/// Softmax backward from the forward output: `dx[r, j] = y[r, j] * (dy[r, j] - sum_k dy[r, k] y[r, k])`
/// with `y = softmax(x)` and `dy` the gradient of the loss with respect to `y`. `gradInput` may be
/// the same memory as `gradOutput` (in place). Two passes per row.
public func softmaxBackward<T: SoftmaxScalar>(
  output: UnsafeBufferPointer<T>, gradOutput: UnsafeBufferPointer<T>, rows: Int, cols: Int,
  outputStride: Int? = nil, gradOutputStride: Int? = nil,
  into gradInput: UnsafeMutableBufferPointer<T>, gradInputStride: Int? = nil
) throws(SoftmaxError) {
  guard let (y, dy, dx) = try backwardViews(
    output, gradOutput, gradInput, rows: rows, cols: cols, strides: (outputStride, gradOutputStride, gradInputStride))
  else { return }
  T._kernels(.accurate).softmaxBackward(y, dy, dx)
}

/// Log-softmax backward from the forward output: `dx[r, j] = dy[r, j] - exp(y[r, j]) * sum_k dy[r, k]`
/// with `y = logSoftmax(x)`. `gradInput` may be the same memory as `gradOutput`. Two passes per row.
public func logSoftmaxBackward<T: SoftmaxScalar>(
  output: UnsafeBufferPointer<T>, gradOutput: UnsafeBufferPointer<T>, rows: Int, cols: Int,
  outputStride: Int? = nil, gradOutputStride: Int? = nil,
  into gradInput: UnsafeMutableBufferPointer<T>, gradInputStride: Int? = nil
) throws(SoftmaxError) {
  guard let (y, dy, dx) = try backwardViews(
    output, gradOutput, gradInput, rows: rows, cols: cols, strides: (outputStride, gradOutputStride, gradInputStride))
  else { return }
  T._kernels(.accurate).logSoftmaxBackward(y, dy, dx)
}

/// Softmax backward on arrays of rows of `cols`: returns dx = y * (dy - sum(dy * y)) per row.
public func softmaxBackward<T: SoftmaxScalar>(output: [T], gradOutput: [T], cols: Int) throws(SoftmaxError) -> [T] {
  try backwardArrays(output, gradOutput, cols: cols) { (y, dy, dx, rows) throws(SoftmaxError) in
    try softmaxBackward(output: y, gradOutput: dy, rows: rows, cols: cols, into: dx)
  }
}

/// Log-softmax backward on arrays of rows of `cols`: returns dx = dy - exp(y) * sum(dy) per row.
public func logSoftmaxBackward<T: SoftmaxScalar>(output: [T], gradOutput: [T], cols: Int) throws(SoftmaxError) -> [T] {
  try backwardArrays(output, gradOutput, cols: cols) { (y, dy, dx, rows) throws(SoftmaxError) in
    try logSoftmaxBackward(output: y, gradOutput: dy, rows: rows, cols: cols, into: dx)
  }
}

func backwardArrays<T: SoftmaxScalar>(
  _ y: [T], _ dy: [T], cols: Int,
  _ body: (UnsafeBufferPointer<T>, UnsafeBufferPointer<T>, UnsafeMutableBufferPointer<T>, Int) throws(SoftmaxError) -> Void
) throws(SoftmaxError) -> [T] {
  let shape = try Shape(count: y.count, cols: cols, argument: "output")
  guard dy.count == y.count else { throw .countMismatch(argument: "gradOutput", expected: y.count, actual: dy.count) }
  var dx = [T](repeating: 0, count: y.count)
  try y.withUnsafeBufferPointer { (yb) throws(SoftmaxError) in
    try dy.withUnsafeBufferPointer { (dyb) throws(SoftmaxError) in
      try dx.withUnsafeMutableBufferPointer { (dxb) throws(SoftmaxError) in
        try body(yb, dyb, dxb, shape.rows)
      }
    }
  }
  return dx
}
