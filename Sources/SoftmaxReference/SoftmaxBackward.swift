// Softmax and log-softmax backward from the forward outputs, one element at a time.

extension Reference {
  /// Softmax backward: dx_j = y_j (dy_j - sum_k dy_k y_k) per row of packed `rows x cols`
  /// matrices, with `y = softmax(x)`.
  ///
  /// - Parameters:
  ///   - y: The forward output, `rows * cols` values packed row-major.
  ///   - dy: The upstream gradient d(loss)/dy, packed like `y`.
  ///   - rows: The number of rows.
  ///   - cols: The number of columns.
  /// - Returns: dx = d(loss)/dx, packed like `y`.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func softmaxBackward<T: ElementaryScalar>(output y: [T], gradOutput dy: [T], rows: Int, cols: Int) -> [T] {
    precondition(y.count == rows * cols && dy.count == rows * cols)
    var dx = [T](repeating: 0, count: y.count)
    for r in 0..<rows {
      var s = KahanSum<T>()
      for j in 0..<cols { s.add(dy[r * cols + j] * y[r * cols + j]) }
      for j in 0..<cols { dx[r * cols + j] = y[r * cols + j] * (dy[r * cols + j] - s.sum) }
    }
    return dx
  }

  /// Log-softmax backward: dx_j = dy_j - exp(y_j) sum_k dy_k per row, with `y = logSoftmax(x)`.
  ///
  /// - Parameters:
  ///   - y: The forward output, `rows * cols` values packed row-major.
  ///   - dy: The upstream gradient d(loss)/dy, packed like `y`.
  ///   - rows: The number of rows.
  ///   - cols: The number of columns.
  /// - Returns: dx = d(loss)/dx, packed like `y`.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func logSoftmaxBackward<T: ElementaryScalar>(output y: [T], gradOutput dy: [T], rows: Int, cols: Int) -> [T] {
    precondition(y.count == rows * cols && dy.count == rows * cols)
    var dx = [T](repeating: 0, count: y.count)
    for r in 0..<rows {
      var s = KahanSum<T>()
      for j in 0..<cols { s.add(dy[r * cols + j]) }
      for j in 0..<cols { dx[r * cols + j] = dy[r * cols + j] - T.libmExp(y[r * cols + j]) * s.sum }
    }
    return dx
  }
}

extension Oracle {
  /// Softmax backward in the wider precision.
  ///
  /// - Parameters:
  ///   - y: The forward output, `rows * cols` values packed row-major.
  ///   - dy: The upstream gradient d(loss)/dy, packed like `y`.
  ///   - rows: The number of rows.
  ///   - cols: The number of columns.
  /// - Returns: dx in `T.Wide`, packed like `y`.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func softmaxBackward<T: ReferenceScalar>(output y: [T], gradOutput dy: [T], rows: Int, cols: Int) -> [T.Wide] {
    Reference.softmaxBackward(output: y.map { T.Wide($0) }, gradOutput: dy.map { T.Wide($0) }, rows: rows, cols: cols)
  }

  /// Log-softmax backward in the wider precision.
  ///
  /// - Parameters:
  ///   - y: The forward output, `rows * cols` values packed row-major.
  ///   - dy: The upstream gradient d(loss)/dy, packed like `y`.
  ///   - rows: The number of rows.
  ///   - cols: The number of columns.
  /// - Returns: dx in `T.Wide`, packed like `y`.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func logSoftmaxBackward<T: ReferenceScalar>(output y: [T], gradOutput dy: [T], rows: Int, cols: Int) -> [T.Wide] {
    Reference.logSoftmaxBackward(output: y.map { T.Wide($0) }, gradOutput: dy.map { T.Wide($0) }, rows: rows, cols: cols)
  }
}
