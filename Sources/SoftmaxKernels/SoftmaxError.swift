/// Why a call was rejected. Every check runs before the first write, so after any of these no
/// output buffer (and no in-place input) has been touched.
public enum SoftmaxError: Error, Hashable, Sendable, CustomStringConvertible {
  /// A dimension (`rows`, `cols`, `columnOffset`, `totalCols`) or a stride was negative:
  /// `argument` names it and `value` is what was passed.
  case negativeDimension(argument: String, value: Int)
  /// A row stride smaller than the number of columns: `argument` names the stride (`stride`,
  /// `outputStride`, ...), `stride` is its value and `cols` the row length.
  case strideTooSmall(argument: String, stride: Int, cols: Int)
  /// A buffer holds fewer elements than the shape and stride need: `argument` names the buffer,
  /// `required` is the count the call needs and `actual` the buffer's count.
  case bufferTooSmall(argument: String, required: Int, actual: Int)
  /// The element count of the matrix `argument` names does not fit in `Int`.
  case sizeOverflow(argument: String)
  /// An array's length is not a whole number of rows: `argument` names the array, `count` is its
  /// length and `cols` the row length.
  case countNotMultipleOfColumns(argument: String, count: Int, cols: Int)
  /// Input and output overlap without being the same matrix (use the in-place call instead):
  /// `input` and `output` name the two arguments.
  case overlappingBuffers(input: String, output: String)
  /// ``KernelOptions/threads`` was negative; the associated value is the thread count.
  case invalidThreadCount(Int)
  /// A class label outside `0 ..< cols` that is not the ignore index: `argument` names the
  /// labels, `row` is the row, `value` the label and `cols` the number of classes.
  case labelOutOfRange(argument: String, row: Int, value: Int, cols: Int)
  /// A class weight (or `posWeight` entry) that is negative or NaN: `argument` names the weights,
  /// `index` is the class (or column) and `value` the weight.
  case invalidWeight(argument: String, index: Int, value: Double)
  /// An option outside its allowed range (`labelSmoothing` in [0, 1], `zLoss` finite and >= 0):
  /// `argument` names the option, `value` is its value and `expected` says what it must be.
  case invalidOption(argument: String, value: Double, expected: String)
  /// An array whose length does not match the shape (weights vs cols, labels vs rows, ...):
  /// `argument` names the array, `expected` is the count the shape needs and `actual` its count.
  case countMismatch(argument: String, expected: Int, actual: Int)

  /// A one-line message that names the argument and the value, for logs; for example
  /// `SoftmaxError: 'labels' row 1 has label 7, outside 0..<3 and not the ignore index`.
  public var description: String {
    switch self {
    case .negativeDimension(let a, let v):
      return "SoftmaxError: '\(a)' must be >= 0, got \(v)"
    case .strideTooSmall(let a, let s, let c):
      return "SoftmaxError: row stride '\(a)' = \(s) is smaller than cols = \(c)"
    case .bufferTooSmall(let a, let r, let n):
      return "SoftmaxError: buffer '\(a)' holds \(n) elements, the shape needs \(r)"
    case .sizeOverflow(let a):
      return "SoftmaxError: the size of '\(a)' overflows Int"
    case .countNotMultipleOfColumns(let a, let n, let c):
      return "SoftmaxError: '\(a)' has \(n) elements, not a multiple of cols = \(c)"
    case .overlappingBuffers(let i, let o):
      return "SoftmaxError: '\(i)' and '\(o)' overlap but are not the same matrix"
    case .invalidThreadCount(let t):
      return "SoftmaxError: 'threads' must be >= 0 (0 = all processors), got \(t)"
    case .labelOutOfRange(let a, let r, let v, let c):
      return "SoftmaxError: '\(a)' row \(r) has label \(v), outside 0..<\(c) and not the ignore index"
    case .invalidWeight(let a, let i, let v):
      return "SoftmaxError: '\(a)'[\(i)] = \(v) must be >= 0 and not NaN"
    case .invalidOption(let a, let v, let e):
      return "SoftmaxError: '\(a)' = \(v) must be \(e)"
    case .countMismatch(let a, let e, let n):
      return "SoftmaxError: '\(a)' has \(n) elements, expected \(e)"
    }
  }
}
