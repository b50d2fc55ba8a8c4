#if canImport(Glibc)
import Glibc
#endif
import SoftmaxKernels
import SoftmaxReference

/// Stops the run with a message when the contract is broken; libFuzzer saves the input.
@inlinable
public func require(_ condition: Bool, _ message: @autoclosure () -> String) {
  if condition { return }
  var text = "CONTRACT VIOLATION: \(message())\n"
  text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
  abort()
}

/// Same bits (so NaN equals the same NaN, and -0 differs from 0).
@inlinable
public func sameBits<T: FuzzScalar>(_ a: [T], _ b: [T]) -> Bool {
  a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.elementsEqual(y) } }
}

/// A bit pattern no kernel writes by accident: fills stride padding and unused slack, which must
/// be unchanged after every call.
@inlinable
public func sentinel<T: FuzzScalar>(_: T.Type) -> T { T(-12345.625) }

/// A row-major matrix with a row stride, stored with its padding and `slack` extra elements.
public struct PaddedMatrix<T: FuzzScalar> {
  public var storage: [T]
  public let rows: Int
  public let cols: Int
  public let stride: Int

  /// Elements the API requires: (rows - 1) * stride + cols, 0 when empty.
  @inlinable
  public static func required(rows: Int, cols: Int, stride: Int) -> Int {
    rows == 0 || cols == 0 ? 0 : (rows - 1) * stride + cols
  }

  /// The matrix with `values` (rows x cols, packed) at its elements and the sentinel elsewhere.
  @inlinable
  public init(_ values: [T], rows: Int, cols: Int, stride: Int, slack: Int = 0) {
    self.rows = rows; self.cols = cols; self.stride = stride
    storage = [T](repeating: sentinel(T.self), count: Self.required(rows: rows, cols: cols, stride: stride) + slack)
    for r in 0..<rows { for c in 0..<cols { storage[r * stride + c] = values[r * cols + c] } }
  }

  /// A matrix of sentinels: an output buffer.
  @inlinable
  public init(rows: Int, cols: Int, stride: Int, slack: Int = 0) {
    self.init([T](repeating: sentinel(T.self), count: rows * cols), rows: rows, cols: cols, stride: stride, slack: slack)
  }

  @inlinable
  public func row(_ r: Int) -> [T] { cols == 0 ? [] : Array(storage[(r * stride)..<(r * stride + cols)]) }

  /// True when every element outside the matrix (stride padding and slack) is still the sentinel.
  @inlinable
  public func paddingIsUntouched() -> Bool {
    let s = sentinel(T.self).bits
    for (k, v) in storage.enumerated() where !(k / Swift.max(stride, 1) < rows && k % Swift.max(stride, 1) < cols) {
      if v.bits != s { return false }
    }
    return true
  }
}

/// One deliberately bad argument, so that exactly one check of the API must fire.
public enum Defect: CaseIterable, Sendable {
  case negativeRows, negativeCols, strideTooSmall, inputTooSmall, outputTooSmall, overlap, badThreads
  /// Cross-entropy arguments: a label outside 0..<cols, a negative or NaN class weight, label
  /// smoothing or z-loss out of range, an array of the wrong length.
  case badLabel, badWeight, badOption, countMismatch

  /// Usually nil (a valid call); otherwise one of `allowed`, applicable to the drawn shape.
  public static func draw(_ input: inout FuzzInput, allowed: [Defect], rows: Int, cols: Int) -> Defect? {
    guard input.chance(24) else { return nil }
    let d = allowed[input.int(0...(allowed.count - 1))]
    switch d {
    case .strideTooSmall: return cols > 0 ? d : nil
    case .inputTooSmall, .outputTooSmall, .badLabel: return rows > 0 && cols > 0 ? d : nil
    case .badWeight: return cols > 0 ? d : nil
    case .overlap: return rows > 0 && cols > 0 && rows * cols > 1 ? d : nil  // one element past a 1x1 input is disjoint
    default: return d
    }
  }

  /// Whether `error` is the one this defect must raise.
  public func matches(_ error: SoftmaxError) -> Bool {
    switch (self, error) {
    case (.negativeRows, .negativeDimension(let a, _)): return a == "rows"
    case (.negativeCols, .negativeDimension(let a, _)): return a == "cols"
    case (.strideTooSmall, .strideTooSmall): return true
    case (.inputTooSmall, .bufferTooSmall), (.outputTooSmall, .bufferTooSmall): return true
    case (.overlap, .overlappingBuffers): return true
    case (.badThreads, .invalidThreadCount): return true
    case (.badLabel, .labelOutOfRange), (.badWeight, .invalidWeight), (.badOption, .invalidOption): return true
    case (.countMismatch, .countMismatch), (.countMismatch, .countNotMultipleOfColumns): return true
    default: return false
    }
  }
}

/// Runs `call`, and checks the outcome against `defect`: a valid call must succeed; a bad one
/// must throw the matching typed error with every buffer in `buffers` bit-for-bit unchanged.
/// Returns true when the call ran (so the caller checks the results).
@inlinable
public func expectOutcome<T: FuzzScalar>(
  _ defect: Defect?, buffers: () -> [[T]], _ what: String, _ call: () throws(SoftmaxError) -> Void
) -> Bool {
  let before = buffers()
  do {
    try call()
  } catch {
    require(defect != nil, "\(what): a valid call threw \(error)")
    require(defect!.matches(error), "\(what): defect \(defect!) answered by \(error)")
    let after = buffers()
    require(zip(before, after).allSatisfy { sameBits($0, $1) }, "\(what): buffers changed by a rejected call (\(error))")
    return false
  }
  require(defect == nil, "\(what): defect \(defect!) was accepted")
  return true
}

extension Collection where Element: FloatingPoint {
  @inlinable
  public var hasNaN: Bool { contains { $0.isNaN } }
}

/// Runs `body` on the optional array's buffer (nil when there is no array).
public func withOptional<T, R>(_ a: inout [T]?, _ body: (UnsafeMutableBufferPointer<T>?) throws(SoftmaxError) -> R) throws(SoftmaxError) -> R {
  guard a != nil else { return try body(nil) }
  return try a!.withUnsafeMutableBufferPointer { (b) throws(SoftmaxError) in try body(b) }
}
