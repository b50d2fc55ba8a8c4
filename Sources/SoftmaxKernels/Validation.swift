internal import SoftmaxKernelsCore

// Argument checks shared by every entry point. They only read the arguments; the kernels run
// after all of them pass, so a rejected call writes nothing.

/// The matrix shape of a call: `rows x cols`, validated.
struct Shape {
  let rows: Int
  let cols: Int

  init(rows: Int, cols: Int) throws(SoftmaxError) {
    guard rows >= 0 else { throw .negativeDimension(argument: "rows", value: rows) }
    guard cols >= 0 else { throw .negativeDimension(argument: "cols", value: cols) }
    self.rows = rows
    self.cols = cols
  }

  /// The shape of `count` elements as rows of `cols`.
  init(count: Int, cols: Int, argument: String) throws(SoftmaxError) {
    guard cols >= 0 else { throw .negativeDimension(argument: "cols", value: cols) }
    if cols == 0 {
      guard count == 0 else { throw .countNotMultipleOfColumns(argument: argument, count: count, cols: 0) }
      self.rows = 0
    } else {
      guard count % cols == 0 else {
        throw .countNotMultipleOfColumns(argument: argument, count: count, cols: cols)
      }
      self.rows = count / cols
    }
    self.cols = cols
  }

  var isEmpty: Bool { rows == 0 || cols == 0 }

  /// The row stride to use: `stride ?? cols`, checked against `cols`.
  func stride(_ stride: Int?, argument: String) throws(SoftmaxError) -> Int {
    let s = stride ?? cols
    guard s >= 0 else { throw .negativeDimension(argument: argument, value: s) }
    guard s >= cols else { throw .strideTooSmall(argument: argument, stride: s, cols: cols) }
    return s
  }

  /// Elements a buffer needs for this shape with row stride `stride`: (rows - 1) * stride + cols.
  func required(stride: Int, argument: String) throws(SoftmaxError) -> Int {
    if isEmpty { return 0 }
    let (a, o1) = (rows - 1).multipliedReportingOverflow(by: stride)
    let (b, o2) = a.addingReportingOverflow(cols)
    guard !o1, !o2 else { throw .sizeOverflow(argument: argument) }
    return b
  }

  /// Validates a read-only matrix argument and returns its view.
  func input<T>(
    _ buffer: UnsafeBufferPointer<T>, stride: Int?, argument: String, strideArgument: String
  ) throws(SoftmaxError) -> StridedRows<T> {
    let s = try self.stride(stride, argument: strideArgument)
    let need = try required(stride: s, argument: argument)
    guard buffer.count >= need else {
      throw .bufferTooSmall(argument: argument, required: need, actual: buffer.count)
    }
    // An empty buffer may have a nil base; the kernels never dereference it when empty.
    let base = buffer.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<T>.alignment)!
    return StridedRows(base: base, rows: rows, cols: cols, stride: s)
  }

  /// Validates a writable matrix argument and returns its view.
  func output<T>(
    _ buffer: UnsafeMutableBufferPointer<T>, stride: Int?, argument: String, strideArgument: String
  ) throws(SoftmaxError) -> MutableStridedRows<T> {
    let s = try self.stride(stride, argument: strideArgument)
    let need = try required(stride: s, argument: argument)
    guard buffer.count >= need else {
      throw .bufferTooSmall(argument: argument, required: need, actual: buffer.count)
    }
    let base = buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<T>.alignment)!
    return MutableStridedRows(base: base, rows: rows, cols: cols, stride: s)
  }

  /// Validates a buffer of one value per row.
  func perRow<T>(_ buffer: UnsafeMutableBufferPointer<T>, argument: String) throws(SoftmaxError)
    -> UnsafeMutablePointer<T>
  {
    guard buffer.count >= rows else {
      throw .bufferTooSmall(argument: argument, required: rows, actual: buffer.count)
    }
    return buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<T>.alignment)!
  }
}

/// Rejects an input and an output whose element ranges overlap unless they are the very same
/// matrix (same base and stride), which is the in-place case.
func checkNoPartialOverlap<T>(
  _ x: StridedRows<T>, _ y: MutableStridedRows<T>, input: String, output: String
) throws(SoftmaxError) {
  if UnsafeRawPointer(x.base) == UnsafeRawPointer(y.base) && x.stride == y.stride { return }
  try checkDisjoint(x, y.readOnly, input: input, output: output)
}

/// Rejects two matrices that share any element (for an output that must not be its input in
/// any form: the kernels may write several rows' results before reading those rows, and threads
/// run row ranges at once).
func checkDisjoint<T, U>(_ a: StridedRows<T>, _ b: StridedRows<U>, input: String, output: String) throws(SoftmaxError) {
  guard a.rows > 0, a.cols > 0, b.rows > 0, b.cols > 0 else { return }
  let aStart = UnsafeRawPointer(a.base), bStart = UnsafeRawPointer(b.base)
  let aEnd = aStart + ((a.rows - 1) * a.stride + a.cols) * MemoryLayout<T>.stride
  let bEnd = bStart + ((b.rows - 1) * b.stride + b.cols) * MemoryLayout<U>.stride
  if aStart < bEnd && bStart < aEnd { throw .overlappingBuffers(input: input, output: output) }
}

/// Rejects a per-row output (`count` elements at `out`) that shares an element with `x`.
func checkDisjoint<T, U>(_ x: StridedRows<T>, perRow out: UnsafeMutablePointer<U>, count: Int, input: String, output: String)
  throws(SoftmaxError)
{
  try checkDisjoint(x, StridedRows(base: UnsafePointer(out), rows: 1, cols: count, stride: count), input: input, output: output)
}

extension CrossEntropyOptions {
  /// Checks the options against `cols` classes; returns W = sum_j w_j.
  func validate(cols: Int) throws(SoftmaxError) -> T.Arithmetic {
    guard labelSmoothing >= 0 && labelSmoothing <= 1 else {
      throw .invalidOption(argument: "labelSmoothing", value: Double(labelSmoothing), expected: "in [0, 1]")
    }
    guard zLoss >= 0 && zLoss.isFinite else {
      throw .invalidOption(argument: "zLoss", value: Double(zLoss), expected: "finite and >= 0")
    }
    guard let w = classWeights else { return T.Arithmetic(cols) }
    return try validateWeights(w, count: cols, argument: "classWeights", T.self)
  }
}

/// Checks that `w` has `count` entries, none negative or NaN; returns their (compensated) sum.
func validateWeights<T: SoftmaxScalar>(
  _ w: [T.Arithmetic], count: Int, argument: String, _: T.Type
) throws(SoftmaxError) -> T.Arithmetic {
  guard w.count == count else { throw .countMismatch(argument: argument, expected: count, actual: w.count) }
  if count == 0 { return 0 }
  let (sum, invalid) = w.withUnsafeBufferPointer { T._kernels(.accurate).checkedWeightSum($0.baseAddress!, count) }
  guard invalid < 0 else { throw .invalidWeight(argument: argument, index: invalid, value: Double(w[invalid])) }
  return sum
}
