/// Why a call was rejected. Every check runs before the first write, so after any of these no
/// output buffer (and no in-place input) has been touched.
public enum SoftmaxError: Error, Hashable, Sendable, CustomStringConvertible {
  /// A dimension (`rows`, `cols`) or a stride was negative.
  case negativeDimension(argument: String, value: Int)
  /// A row stride smaller than the number of columns.
  case strideTooSmall(argument: String, stride: Int, cols: Int)
  /// A buffer holds fewer elements than the shape and stride need.
  case bufferTooSmall(argument: String, required: Int, actual: Int)
  /// The shape's element count does not fit in `Int`.
  case sizeOverflow(argument: String)
  /// An array's length is not `rows * cols` for the given `cols`.
  case countNotMultipleOfColumns(argument: String, count: Int, cols: Int)
  /// Input and output overlap without being the same matrix (use the in-place call instead).
  case overlappingBuffers(input: String, output: String)
  /// `KernelOptions.threads` was negative.
  case invalidThreadCount(Int)

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
    }
  }
}
