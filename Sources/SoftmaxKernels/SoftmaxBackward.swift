internal import SoftmaxKernelsCore

// The backward passes of softmax and log-softmax, from the forward output `y` and the upstream
// gradient `dy` (the primary input) to the gradient `dx` with respect to the forward input.

/// The two backward operations of this file.
enum BackwardOperation {
  case softmax, logSoftmax

  func run<T: SoftmaxScalar>(
    _ gradOutput: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int?,
    output: UnsafeBufferPointer<T>, outputStride: Int?,
    gradient: UnsafeMutableBufferPointer<T>, gradientStride: Int?, gradientArgument: String = "gradient",
    options: KernelOptions
  ) throws(SoftmaxError) {
    let shape = try Shape(rows: rows, cols: cols)
    let dyArgument = gradientArgument == "gradient" ? "gradOutput" : gradientArgument
    let dy = try shape.input(gradOutput, stride: stride, argument: dyArgument, strideArgument: "stride")
    let y = try shape.input(output, stride: outputStride, argument: "output", strideArgument: "outputStride")
    let dx = try shape.output(
      gradient, stride: gradientStride, argument: gradientArgument,
      strideArgument: gradientArgument == "gradient" ? "gradientStride" : "stride")
    try checkNoPartialOverlap(y, dx, input: "output", output: gradientArgument)
    try checkNoPartialOverlap(dy, dx, input: dyArgument, output: gradientArgument)
    let threads = try options.threadCount(rows: rows, cols: cols)
    if shape.isEmpty { return }
    // The accurate table always: log-softmax backward takes exp of a caller's y, which need not
    // be <= 0 (the fast exp's domain) when it does not come from logSoftmax.
    let table = T._kernels(.accurate)
    let kernel = self == .softmax ? table.softmaxBackward : table.logSoftmaxBackward
    forEachRowRange(rows: rows, threads: threads) {
      kernel(y.rows($0, count: $1), dy.rows($0, count: $1), dx.rows($0, count: $1))
    }
  }

  func run<T: SoftmaxScalar>(
    _ gradOutput: Span<T>, rows: Int, cols: Int, stride: Int?, output: Span<T>, outputStride: Int?,
    gradient: inout MutableSpan<T>, gradientStride: Int?, options: KernelOptions
  ) throws(SoftmaxError) {
    try gradOutput.withUnsafeBufferPointer { (dy) throws(SoftmaxError) in
      try output.withUnsafeBufferPointer { (y) throws(SoftmaxError) in
        try gradient.withUnsafeMutableBufferPointer { (dx) throws(SoftmaxError) in
          try run(
            dy, rows: rows, cols: cols, stride: stride, output: y, outputStride: outputStride, gradient: dx,
            gradientStride: gradientStride, options: options)
        }
      }
    }
  }

  func runInPlace<T: SoftmaxScalar>(
    _ data: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int?, output: UnsafeBufferPointer<T>,
    outputStride: Int?, options: KernelOptions
  ) throws(SoftmaxError) {
    try run(
      UnsafeBufferPointer(data), rows: rows, cols: cols, stride: stride, output: output, outputStride: outputStride,
      gradient: data, gradientStride: stride, gradientArgument: "inPlace", options: options)
  }

  func runInPlace<T: SoftmaxScalar>(
    _ data: inout MutableSpan<T>, rows: Int, cols: Int, stride: Int?, output: Span<T>, outputStride: Int?,
    options: KernelOptions
  ) throws(SoftmaxError) {
    try output.withUnsafeBufferPointer { (y) throws(SoftmaxError) in
      try data.withUnsafeMutableBufferPointer { (dx) throws(SoftmaxError) in
        try runInPlace(dx, rows: rows, cols: cols, stride: stride, output: y, outputStride: outputStride, options: options)
      }
    }
  }

  func run<T: SoftmaxScalar>(_ gradOutput: [T], cols: Int, output: [T], options: KernelOptions) throws(SoftmaxError) -> [T] {
    let shape = try Shape(count: gradOutput.count, cols: cols, argument: "gradOutput")
    guard output.count == gradOutput.count else {
      throw .countMismatch(argument: "output", expected: gradOutput.count, actual: output.count)
    }
    var dx = gradOutput
    try output.withUnsafeBufferPointer { (y) throws(SoftmaxError) in
      try dx.withUnsafeMutableBufferPointer { (g) throws(SoftmaxError) in
        try runInPlace(g, rows: shape.rows, cols: cols, stride: nil, output: y, outputStride: nil, options: options)
      }
    }
    return dx
  }
}

// MARK: - Softmax backward

/// Softmax backward from the forward output, with spans:
/// `gradient[r, j] = y[r, j] * (gradOutput[r, j] - sum_k gradOutput[r, k] y[r, k])` with
/// `y = softmax(x)` the forward output and `gradOutput` the gradient of the loss with respect to
/// `y`. Two passes per row.
///
/// - Parameters:
///   - gradOutput: dL/dy, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `gradOutput`; `cols` when nil.
///   - output: The forward output `y = softmax(x)`.
///   - outputStride: Elements between the starts of two rows of `output`; `cols` when nil.
///   - gradient: Receives dL/dx; must not overlap the inputs.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - options: Threads (backward passes always run in accurate mode).
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func softmaxBackward<T: SoftmaxScalar>(
  _ gradOutput: Span<T>, rows: Int, cols: Int, stride: Int? = nil, output: Span<T>, outputStride: Int? = nil,
  gradient: inout MutableSpan<T>, gradientStride: Int? = nil, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try BackwardOperation.softmax.run(
    gradOutput, rows: rows, cols: cols, stride: stride, output: output, outputStride: outputStride,
    gradient: &gradient, gradientStride: gradientStride, options: options)
}

/// Softmax backward in place: `inPlace` holds dL/dy on entry and dL/dx on return.
///
/// - Parameters:
///   - gradOutput: (`inPlace:`) The upstream gradient on entry, the gradient with respect to the input on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - output: The forward output `y = softmax(x)`; must not overlap `inPlace`.
///   - outputStride: Elements between the starts of two rows of `output`; `cols` when nil.
///   - options: Threads.
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func softmaxBackward<T: SoftmaxScalar>(
  inPlace gradOutput: inout MutableSpan<T>, rows: Int, cols: Int, stride: Int? = nil, output: Span<T>,
  outputStride: Int? = nil, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try BackwardOperation.softmax.runInPlace(
    &gradOutput, rows: rows, cols: cols, stride: stride, output: output, outputStride: outputStride, options: options)
}

/// Softmax backward, pointer form (see the `Span` form).
///
/// - Parameters:
///   - gradOutput: dL/dy, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `gradOutput`; `cols` when nil.
///   - output: The forward output `y = softmax(x)`.
///   - outputStride: Elements between the starts of two rows of `output`; `cols` when nil.
///   - gradient: Receives dL/dx; it may be the very same memory as `gradOutput` or `output` with
///     the same stride, but must not partly overlap either.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - options: Threads.
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func softmaxBackward<T: SoftmaxScalar>(
  _ gradOutput: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  output: UnsafeBufferPointer<T>, outputStride: Int? = nil,
  gradient: UnsafeMutableBufferPointer<T>, gradientStride: Int? = nil, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try BackwardOperation.softmax.run(
    gradOutput, rows: rows, cols: cols, stride: stride, output: output, outputStride: outputStride,
    gradient: gradient, gradientStride: gradientStride, options: options)
}

/// Softmax backward in place, pointer form: `inPlace` holds dL/dy on entry and dL/dx on return.
///
/// - Parameters:
///   - gradOutput: (`inPlace:`) The upstream gradient on entry, the gradient with respect to the input on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - output: The forward output `y = softmax(x)`.
///   - outputStride: Elements between the starts of two rows of `output`; `cols` when nil.
///   - options: Threads.
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func softmaxBackward<T: SoftmaxScalar>(
  inPlace gradOutput: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  output: UnsafeBufferPointer<T>, outputStride: Int? = nil, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try BackwardOperation.softmax.runInPlace(
    gradOutput, rows: rows, cols: cols, stride: stride, output: output, outputStride: outputStride, options: options)
}

/// Softmax backward on arrays of rows of `cols`.
///
/// - Parameters:
///   - gradOutput: dL/dy.
///   - cols: The row length; the counts must be a multiple of it.
///   - output: The forward output `y = softmax(x)`, the shape of `gradOutput`.
///   - options: Threads.
/// - Returns: dL/dx, the shape of `gradOutput`.
/// - Throws: ``SoftmaxError`` on a wrong count or option.
public func softmaxBackward<T: SoftmaxScalar>(
  _ gradOutput: [T], cols: Int, output: [T], options: KernelOptions = .accurate
) throws(SoftmaxError) -> [T] {
  try BackwardOperation.softmax.run(gradOutput, cols: cols, output: output, options: options)
}

// MARK: - Log-softmax backward

/// Log-softmax backward from the forward output, with spans:
/// `gradient[r, j] = gradOutput[r, j] - exp(y[r, j]) * sum_k gradOutput[r, k]` with
/// `y = logSoftmax(x)`. Two passes per row.
///
/// - Parameters:
///   - gradOutput: dL/dy, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `gradOutput`; `cols` when nil.
///   - output: The forward output `y = logSoftmax(x)`.
///   - outputStride: Elements between the starts of two rows of `output`; `cols` when nil.
///   - gradient: Receives dL/dx; must not overlap the inputs.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - options: Threads (backward passes always run in accurate mode).
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func logSoftmaxBackward<T: SoftmaxScalar>(
  _ gradOutput: Span<T>, rows: Int, cols: Int, stride: Int? = nil, output: Span<T>, outputStride: Int? = nil,
  gradient: inout MutableSpan<T>, gradientStride: Int? = nil, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try BackwardOperation.logSoftmax.run(
    gradOutput, rows: rows, cols: cols, stride: stride, output: output, outputStride: outputStride,
    gradient: &gradient, gradientStride: gradientStride, options: options)
}

/// Log-softmax backward in place: `inPlace` holds dL/dy on entry and dL/dx on return.
///
/// - Parameters:
///   - gradOutput: (`inPlace:`) The upstream gradient on entry, the gradient with respect to the input on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - output: The forward output `y = logSoftmax(x)`; must not overlap `inPlace`.
///   - outputStride: Elements between the starts of two rows of `output`; `cols` when nil.
///   - options: Threads (backward passes always run in accurate mode).
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func logSoftmaxBackward<T: SoftmaxScalar>(
  inPlace gradOutput: inout MutableSpan<T>, rows: Int, cols: Int, stride: Int? = nil, output: Span<T>,
  outputStride: Int? = nil, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try BackwardOperation.logSoftmax.runInPlace(
    &gradOutput, rows: rows, cols: cols, stride: stride, output: output, outputStride: outputStride, options: options)
}

/// Log-softmax backward, pointer form (see the `Span` form).
///
/// - Parameters:
///   - gradOutput: dL/dy, row-major; row `r` starts at `r * stride`.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `gradOutput`; `cols` when nil.
///   - output: The forward output `y = logSoftmax(x)`.
///   - outputStride: Elements between the starts of two rows of `output`; `cols` when nil.
///   - gradient: Receives dL/dx; it may be the very same memory as `gradOutput` or `output` with
///     the same stride, but must not partly overlap either.
///   - gradientStride: Elements between the starts of two rows of `gradient`; `cols` when nil.
///   - options: Threads (backward passes always run in accurate mode).
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func logSoftmaxBackward<T: SoftmaxScalar>(
  _ gradOutput: UnsafeBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  output: UnsafeBufferPointer<T>, outputStride: Int? = nil,
  gradient: UnsafeMutableBufferPointer<T>, gradientStride: Int? = nil, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try BackwardOperation.logSoftmax.run(
    gradOutput, rows: rows, cols: cols, stride: stride, output: output, outputStride: outputStride,
    gradient: gradient, gradientStride: gradientStride, options: options)
}

/// Log-softmax backward in place, pointer form: `inPlace` holds dL/dy on entry and dL/dx on return.
///
/// - Parameters:
///   - gradOutput: (`inPlace:`) The upstream gradient on entry, the gradient with respect to the input on return.
///   - rows: The number of rows (>= 0).
///   - cols: The number of columns (>= 0).
///   - stride: Elements between the starts of two rows of `inPlace`; `cols` when nil.
///   - output: The forward output `y = logSoftmax(x)`.
///   - outputStride: Elements between the starts of two rows of `output`; `cols` when nil.
///   - options: Threads (backward passes always run in accurate mode).
/// - Throws: ``SoftmaxError`` before writing anything when a size, stride or buffer is wrong.
public func logSoftmaxBackward<T: SoftmaxScalar>(
  inPlace gradOutput: UnsafeMutableBufferPointer<T>, rows: Int, cols: Int, stride: Int? = nil,
  output: UnsafeBufferPointer<T>, outputStride: Int? = nil, options: KernelOptions = .accurate
) throws(SoftmaxError) {
  try BackwardOperation.logSoftmax.runInPlace(
    gradOutput, rows: rows, cols: cols, stride: stride, output: output, outputStride: outputStride, options: options)
}

/// Log-softmax backward on arrays of rows of `cols`.
///
/// - Parameters:
///   - gradOutput: dL/dy.
///   - cols: The row length; the counts must be a multiple of it.
///   - output: The forward output `y = logSoftmax(x)`, the shape of `gradOutput`.
///   - options: Threads (backward passes always run in accurate mode).
/// - Returns: dL/dx, the shape of `gradOutput`.
/// - Throws: ``SoftmaxError`` on a wrong count or option.
public func logSoftmaxBackward<T: SoftmaxScalar>(
  _ gradOutput: [T], cols: Int, output: [T], options: KernelOptions = .accurate
) throws(SoftmaxError) -> [T] {
  try BackwardOperation.logSoftmax.run(gradOutput, cols: cols, output: output, options: options)
}
