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
public func sameBits<T: FuzzStorable>(_ a: [T], _ b: [T]) -> Bool {
  a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.elementsEqual(y) } }
}

/// A bit pattern no kernel writes by accident: fills stride padding and unused slack, which must
/// be unchanged after every call.
@inlinable
public func sentinel<T: FuzzStorable>(_: T.Type) -> T { T(-12345.625) }

/// A row-major matrix with a row stride, stored with its padding and `slack` extra elements.
public struct PaddedMatrix<T: FuzzStorable> {
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

  /// The matrix with this storage (padding, slack, or a storage shortened for a defect, as it is).
  @inlinable
  public init(storage: [T], rows: Int, cols: Int, stride: Int) {
    self.storage = storage; self.rows = rows; self.cols = cols; self.stride = stride
  }

  /// Whether storage index `k` is an element of the matrix (not padding or slack).
  @inlinable
  public func isElement(_ k: Int) -> Bool { k / Swift.max(stride, 1) < rows && k % Swift.max(stride, 1) < cols }

  @inlinable
  public func row(_ r: Int) -> [T] { cols == 0 ? [] : Array(storage[(r * stride)..<(r * stride + cols)]) }

  /// True when every element outside the matrix (stride padding and slack) is still the sentinel.
  @inlinable
  public func paddingIsUntouched() -> Bool {
    let s = sentinel(T.self).bits
    for (k, v) in storage.enumerated() where !isElement(k) {
      if v.bits != s { return false }
    }
    return true
  }
}

extension PaddedMatrix where T: FuzzHalf {
  /// The same matrix in Float: each element widened, padding and slack the Float sentinel; the
  /// same storage length (also when a defect shortened it).
  public func widened() -> PaddedMatrix<Float> {
    PaddedMatrix<Float>(
      storage: storage.indices.map { isElement($0) ? Float(storage[$0]) : sentinel(Float.self) }, rows: rows, cols: cols,
      stride: stride)
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
public func expectOutcome<T: FuzzStorable>(
  _ defect: Defect?, buffers: () -> [[T]], _ what: String, _ call: () throws(SoftmaxError) -> Void
) -> Bool {
  expectOutcome(defect, snapshot: buffers, same: { zip($0, $1).allSatisfy { sameBits($0, $1) } }, what, call)
}

/// `expectOutcome` with buffers of two types (16-bit rows and Float states or losses).
@inlinable
public func expectOutcome<T: FuzzStorable, U: FuzzStorable>(
  _ defect: Defect?, buffers: () -> ([[T]], [[U]]), _ what: String, _ call: () throws(SoftmaxError) -> Void
) -> Bool {
  expectOutcome(
    defect, snapshot: buffers,
    same: { a, b in zip(a.0, b.0).allSatisfy { sameBits($0, $1) } && zip(a.1, b.1).allSatisfy { sameBits($0, $1) } }, what, call)
}

@inlinable
func expectOutcome<Snapshot>(
  _ defect: Defect?, snapshot buffers: () -> Snapshot, same: (Snapshot, Snapshot) -> Bool, _ what: String,
  _ call: () throws(SoftmaxError) -> Void
) -> Bool {
  let before = buffers()
  do {
    try call()
  } catch {
    require(defect != nil, "\(what): a valid call threw \(error)")
    require(defect!.matches(error), "\(what): defect \(defect!) answered by \(error)")
    let after = buffers()
    require(same(before, after), "\(what): buffers changed by a rejected call (\(error))")
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

// MARK: - 16-bit rows against the Float kernel

/// `h` is `f` rounded once to `H`: the same bits as `H(f)`, NaN for NaN (any payload).
@inlinable
public func roundedOnce<H: FuzzHalf>(_ h: H, _ f: Float) -> Bool {
  f.isNaN ? h.isNaN : h.bitPattern == H(f).bitPattern
}

/// Every element of `half` is the same element of `float` rounded once.
@inlinable
public func requireRounded<H: FuzzHalf>(_ half: [H], _ float: [Float], _ what: String) {
  require(half.count == float.count, "\(what): \(half.count) 16-bit values, \(float.count) Float ones")
  for i in half.indices where !roundedOnce(half[i], float[i]) {
    require(false, "\(what) [\(i)]: \(H.self) \(half[i]) (bits \(String(half[i].bitPattern, radix: 16))), but the Float kernel gives \(float[i]) -> \(H(float[i]))")
  }
}

/// The same Float results: the same bits, or both NaN.
@inlinable
public func requireSame(_ a: [Float], _ b: [Float], _ what: String) {
  require(a.count == b.count, "\(what): \(a.count) values from the 16-bit call, \(b.count) from the Float one")
  for i in a.indices where !(a[i].bitPattern == b[i].bitPattern || a[i].isNaN && b[i].isNaN) {
    require(false, "\(what) [\(i)]: \(a[i]) from the 16-bit call, \(b[i]) from the Float one")
  }
}

/// The 16-bit call and the Float call on the widened rows were both rejected with the same error, or both ran.
@inlinable
public func requireSameOutcome(_ half: SoftmaxError?, _ float: SoftmaxError?, _ what: String) {
  require(half.map { "\($0)" } == float.map { "\($0)" },
          "\(what): the 16-bit call \(half.map { "threw \($0)" } ?? "ran"), the Float one \(float.map { "threw \($0)" } ?? "ran")")
}
