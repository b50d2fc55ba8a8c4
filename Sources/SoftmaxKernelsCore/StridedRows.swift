/// A read-only row-major matrix view: `rows x cols` elements, row `r` starting at
/// `base + r * stride`. Built by the public API after validation; the kernels trust it.
@frozen
@usableFromInline package struct StridedRows<Scalar> {
  @usableFromInline package let base: UnsafePointer<Scalar>
  @usableFromInline package let rows: Int
  @usableFromInline package let cols: Int
  @usableFromInline package let stride: Int

  @inlinable
  package init(base: UnsafePointer<Scalar>, rows: Int, cols: Int, stride: Int) {
    self.base = base
    self.rows = rows
    self.cols = cols
    self.stride = stride
  }

  /// The first element of row `r`.
  @inlinable @inline(__always)
  package func row(_ r: Int) -> UnsafePointer<Scalar> { base + r &* stride }

  /// Rows `first ..< first + count` as a view of their own.
  @inlinable
  package func rows(_ first: Int, count: Int) -> StridedRows {
    StridedRows(base: row(first), rows: count, cols: cols, stride: stride)
  }
}

/// A writable row-major matrix view, as `StridedRows`.
@frozen
@usableFromInline package struct MutableStridedRows<Scalar> {
  @usableFromInline package let base: UnsafeMutablePointer<Scalar>
  @usableFromInline package let rows: Int
  @usableFromInline package let cols: Int
  @usableFromInline package let stride: Int

  @inlinable
  package init(base: UnsafeMutablePointer<Scalar>, rows: Int, cols: Int, stride: Int) {
    self.base = base
    self.rows = rows
    self.cols = cols
    self.stride = stride
  }

  /// The first element of row `r`.
  @inlinable @inline(__always)
  package func row(_ r: Int) -> UnsafeMutablePointer<Scalar> { base + r &* stride }

  /// Rows `first ..< first + count` as a view of their own.
  @inlinable
  package func rows(_ first: Int, count: Int) -> MutableStridedRows {
    MutableStridedRows(base: row(first), rows: count, cols: cols, stride: stride)
  }

  /// Calls `body(self as read-only, self)`: the in-place form of an out-of-place kernel.
  @inlinable
  package func withReadOnly(_ body: (StridedRows<Scalar>, MutableStridedRows<Scalar>) -> Void) {
    body(readOnly, self)
  }

  /// The same memory, read-only (for in-place calls).
  @inlinable
  package var readOnly: StridedRows<Scalar> {
    StridedRows(base: UnsafePointer(base), rows: rows, cols: cols, stride: stride)
  }
}
