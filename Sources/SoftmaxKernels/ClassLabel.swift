/// An integer type that class labels can be passed in: `Int32`, `Int64` and `Int`.
///
/// The cross-entropy functions take labels as buffers of any of these; PyTorch's labels are
/// 64-bit. A label must be in `0 ..< cols` or equal to ``CrossEntropyOptions/ignoreIndex``.
///
/// `Int32` labels are read in place. 64-bit labels are checked and converted to 32 bits into a
/// temporary buffer of one label per row, on the stack up to 256 rows and on the heap above:
/// pass `Int32` labels where a training step must not allocate.
/// Types outside this package cannot conform: the requirement's type has no public initializer.
public protocol ClassLabel: BinaryInteger, Sendable {
  /// How the kernels read a buffer of this type. An implementation detail.
  static var _classLabelLayout: _ClassLabelLayout { get }
}

/// How the kernels read a buffer of labels: 32-bit labels as they are, 64-bit ones converted.
/// An implementation detail of ``ClassLabel``, with no public initializer.
public struct _ClassLabelLayout: Sendable {
  let bits: Int
}

extension Int32: ClassLabel {
  /// 32-bit labels, read as they are.
  public static var _classLabelLayout: _ClassLabelLayout { _ClassLabelLayout(bits: 32) }
}

extension Int64: ClassLabel {
  /// 64-bit labels, converted to 32 bits after validation.
  public static var _classLabelLayout: _ClassLabelLayout { _ClassLabelLayout(bits: 64) }
}

extension Int: ClassLabel {
  /// `Int` labels, read as `Int64` (or `Int32` where `Int` has 32 bits).
  public static var _classLabelLayout: _ClassLabelLayout { _ClassLabelLayout(bits: Int.bitWidth) }
}

/// Validated labels as the kernels read them: 32-bit, with the ignore index the kernels compare
/// against, and the number of rows not ignored.
struct KernelLabels {
  let base: UnsafePointer<Int32>
  let ignoreIndex: Int32?
  let counted: Int
}

/// Checks `rows` labels (each in `0 ..< cols` or the ignore index) and calls `body` with them as
/// 32-bit labels: in place for `Int32`, converted into a temporary buffer of `rows` values for
/// 64-bit labels (an ignored row gets the ignore index when it fits in 32 bits, `Int32.min`
/// otherwise, which no valid label equals). Nothing is written before `body` runs.
func withKernelLabels<L: ClassLabel, R>(
  _ labels: UnsafeBufferPointer<L>, rows: Int, cols: Int, ignoreIndex: Int?,
  _ body: (KernelLabels) throws(SoftmaxError) -> R
) throws(SoftmaxError) -> R {
  guard labels.count >= rows else { throw .bufferTooSmall(argument: "labels", required: rows, actual: labels.count) }
  guard rows > 0, let start = labels.baseAddress else {
    return try body(KernelLabels(base: UnsafePointer(bitPattern: 4)!, ignoreIndex: nil, counted: 0))
  }
  let raw = UnsafeRawPointer(start)
  if L._classLabelLayout.bits == 32 {
    let l = raw.assumingMemoryBound(to: Int32.self)
    let ignore = ignoreIndex.flatMap { Int32(exactly: $0) }
    var counted = 0
    for r in 0..<rows {
      let t = l[r]
      if t == ignore { continue }
      guard t >= 0 && Int(t) < cols else { throw .labelOutOfRange(argument: "labels", row: r, value: Int(t), cols: cols) }
      counted += 1
    }
    return try body(KernelLabels(base: l, ignoreIndex: ignore, counted: counted))
  }
  let l = raw.assumingMemoryBound(to: Int64.self)
  let ignore64 = ignoreIndex.map { Int64($0) }
  let sentinel = ignoreIndex.flatMap { Int32(exactly: $0) } ?? .min
  return try withUnsafeTemporaryAllocation(of: Int32.self, capacity: rows) { (out) throws(SoftmaxError) in
    var counted = 0
    for r in 0..<rows {
      let t = l[r]
      if t == ignore64 {
        out[r] = sentinel
        continue
      }
      guard t >= 0 && t < Int64(cols), let v = Int32(exactly: t) else {
        throw .labelOutOfRange(argument: "labels", row: r, value: Int(clamping: t), cols: cols)
      }
      out[r] = v
      counted += 1
    }
    return try body(KernelLabels(base: out.baseAddress!, ignoreIndex: ignoreIndex == nil ? nil : sentinel, counted: counted))
  }
}
