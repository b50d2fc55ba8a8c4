// How the row algorithms reach memory. Rows (logits, targets, outputs, gradients) are read and
// written through `read` / `write` / `widen` / `narrow` in the backend's `Storage` type; weights,
// losses, logsumexp partials and scratch blocks are `Scalar` and use `load` / `store`. When
// `Storage` is `Scalar` (Float and Double) the two are the same instructions. For 16-bit
// storage (`HalfStorage`) a read widens to `Scalar` lanes and a write rounds each lane once, so
// every intermediate value stays in `Scalar`: a kernel never stores an intermediate in an output
// row of 16-bit storage and reads it back (see `storesScalars`).

extension VectorMath where Storage == Scalar {
  @inlinable @inline(__always)
  package static func read(_ p: UnsafePointer<Scalar>) -> Vector { load(p) }
  @inlinable @inline(__always)
  package static func read(_ p: UnsafePointer<Scalar>, count: Int, padding: Scalar) -> Vector {
    load(p, count: count, padding: padding)
  }
  @inlinable @inline(__always)
  package static func write(_ v: Vector, to p: UnsafeMutablePointer<Scalar>) { store(v, to: p) }
  @inlinable @inline(__always)
  package static func write(_ v: Vector, to p: UnsafeMutablePointer<Scalar>, count: Int) { store(v, to: p, count: count) }
  @inlinable @inline(__always)
  package static func widen(_ s: Scalar) -> Scalar { s }
  @inlinable @inline(__always)
  package static func narrow(_ x: Scalar) -> Scalar { x }
}

extension VectorMath {
  /// True when rows are stored as `Scalar`: an output row can then hold intermediate values
  /// (the softmax numerators of pass A) without rounding them. A constant per specialization.
  @inlinable @inline(__always)
  package static var storesScalars: Bool { Storage.self == Scalar.self }

  /// `p` as a pointer to `Scalar`, for the `storesScalars` case only.
  @inlinable @inline(__always)
  package static func scalars(_ p: UnsafeMutablePointer<Storage>) -> UnsafeMutablePointer<Scalar> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Scalar.self)
  }

  /// Column `j` of the `lanes` rows starting at `p` (row k at `p + k * stride`), widened; 0 in
  /// the lanes past `lanes`.
  @inlinable @inline(__always)
  package static func readColumn(_ p: UnsafePointer<Storage>, stride: Int, lanes: Int) -> Vector {
    var v = Vector()
    for k in 0..<lanes { v[k] = widen(p[k &* stride]) }
    return v
  }

  /// Element `j` of a stored row, widened.
  @inlinable @inline(__always)
  package static func element(_ p: UnsafePointer<Storage>, _ j: Int) -> Scalar { widen(p[j]) }
}
