extension VectorMath {
  /// y_i = exp(x_i) for i in 0..<n: the backend's vector exp alone, read one array and write
  /// another, with the same vector width, unrolling and padded tail as the softmax passes. It
  /// uses `expAnyArgument` (any x), which in fast mode costs two lane selects more than the
  /// kernels' x <= 0 exp.
  ///
  /// Not a softmax-family operation: it is the floor that every exp-based kernel sits on, used by
  /// the benchmark report (`VectorExp.exp(_:into:)` in `SoftmaxKernels`). `x` and `y` may be the
  /// same memory.
  @inlinable
  package static func expArray(_ x: UnsafePointer<Storage>, count n: Int, to y: UnsafeMutablePointer<Storage>) {
    let w = width
    var i = 0
    while i &+ 2 &* w <= n {
      let e0 = expAnyArgument(read(x + i))
      let e1 = expAnyArgument(read(x + (i &+ w)))
      write(e0, to: y + i)
      write(e1, to: y + (i &+ w))
      i &+= 2 &* w
    }
    if i &+ w <= n {
      write(expAnyArgument(read(x + i)), to: y + i)
      i &+= w
    }
    if i < n { write(expAnyArgument(read(x + i, count: n &- i, padding: 0)), to: y + i, count: n &- i) }
  }
}
