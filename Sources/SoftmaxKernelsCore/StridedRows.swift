/// A read-only row-major matrix view: `rows x cols` elements, row `r` starting at
/// `base + r * stride`. Built by the public API after validation; the kernels trust it.
@frozen
@usableFromInline package struct StridedRows<Element> {
  @usableFromInline package let base: UnsafePointer<Element>
  @usableFromInline package let rows: Int
  @usableFromInline package let cols: Int
  @usableFromInline package let stride: Int

  @inlinable
  package init(base: UnsafePointer<Element>, rows: Int, cols: Int, stride: Int) {
    self.base = base
    self.rows = rows
    self.cols = cols
    self.stride = stride
  }

  /// The first element of row `r`.
  @inlinable @inline(__always)
  package func row(_ r: Int) -> UnsafePointer<Element> { base + r &* stride }

  /// Rows `first ..< first + count` as a view of their own.
  @inlinable
  package func rows(_ first: Int, count: Int) -> StridedRows {
    StridedRows(base: row(first), rows: count, cols: cols, stride: stride)
  }
}

/// A writable row-major matrix view, as `StridedRows`.
@frozen
@usableFromInline package struct MutableStridedRows<Element> {
  @usableFromInline package let base: UnsafeMutablePointer<Element>
  @usableFromInline package let rows: Int
  @usableFromInline package let cols: Int
  @usableFromInline package let stride: Int

  @inlinable
  package init(base: UnsafeMutablePointer<Element>, rows: Int, cols: Int, stride: Int) {
    self.base = base
    self.rows = rows
    self.cols = cols
    self.stride = stride
  }

  /// The first element of row `r`.
  @inlinable @inline(__always)
  package func row(_ r: Int) -> UnsafeMutablePointer<Element> { base + r &* stride }

  /// Rows `first ..< first + count` as a view of their own.
  @inlinable
  package func rows(_ first: Int, count: Int) -> MutableStridedRows {
    MutableStridedRows(base: row(first), rows: count, cols: cols, stride: stride)
  }

  /// Calls `body(self as read-only, self)`: the in-place form of an out-of-place kernel.
  @inlinable
  package func withReadOnly(_ body: (StridedRows<Element>, MutableStridedRows<Element>) -> Void) {
    body(readOnly, self)
  }

  /// The same memory, read-only (for in-place calls).
  @inlinable
  package var readOnly: StridedRows<Element> {
    StridedRows(base: UnsafePointer(base), rows: rows, cols: cols, stride: stride)
  }
}

extension StridedRows {
  /// The same rows as elements of another type with the same layout (`KernelTable.reinterpreted`).
  @inlinable @inline(__always)
  package func reinterpreted<Other>() -> StridedRows<Other> {
    StridedRows<Other>(base: UnsafeRawPointer(base).assumingMemoryBound(to: Other.self), rows: rows, cols: cols, stride: stride)
  }
}

extension MutableStridedRows {
  /// The same rows as elements of another type with the same layout (`KernelTable.reinterpreted`).
  @inlinable @inline(__always)
  package func reinterpreted<Other>() -> MutableStridedRows<Other> {
    MutableStridedRows<Other>(
      base: UnsafeMutableRawPointer(base).assumingMemoryBound(to: Other.self), rows: rows, cols: cols, stride: stride)
  }
}

extension StridedRows {
  /// Columns `first ..< first + count` of every row, as a view of their own.
  @inlinable @inline(__always)
  package func columns(_ first: Int, count: Int) -> StridedRows {
    StridedRows(base: base + first, rows: rows, cols: count, stride: stride)
  }
}
