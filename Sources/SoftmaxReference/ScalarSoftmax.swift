// The softmax family written plainly, one element at a time, in any `ElementaryScalar`.
// `Reference` runs it in the kernels' precision; `Oracle` runs the same code in the wider type.
// It states the numerical contract of SPEC.md directly, with no vector tricks:
//   NaN in a row         -> NaN row
//   max = +inf           -> +inf entries share 1/k, others 0
//   max = -inf (masked)  -> probabilities 0, log-probabilities -inf, lse -inf
//   otherwise            -> max-subtracted exp, compensated sum started at -1, log1p

/// How the scalar code sees one row.
enum RowSummary<T: ElementaryScalar> {
  case nan
  case positiveInfinity(count: Int)
  case masked
  /// Finite max `m` and `excess = (sum_j exp(x_j - m)) - 1`, the sum without one exact max term,
  /// so that `log1p(excess)` keeps its relative accuracy when the sum is close to 1.
  case finite(max: T, excess: T)

  init<C: Collection<T>>(_ row: C) {
    var m = -T.infinity, hasNaN = false, infinities = 0
    for v in row {
      if v.isNaN { hasNaN = true }
      if v == .infinity { infinities += 1 }
      if v > m { m = v }
    }
    if hasNaN { self = .nan; return }
    if m == .infinity { self = .positiveInfinity(count: infinities); return }
    if m == -.infinity { self = .masked; return }
    // Neumaier/TwoSum compensated sum started at -1 (so the exact max term cancels it).
    var s = T(-1), c = T.zero
    for v in row {
      let x = T.libmExp(v - m)
      let t = s + x
      let z = t - s
      c += (s - (t - z)) + (x - z)
      s = t
    }
    let excess = s + c
    self = .finite(max: m, excess: excess < 0 ? 0 : excess)  // the true excess is >= 0
  }
}

enum ScalarSoftmax {
  static func softmaxRow<T: ElementaryScalar>(_ row: ArraySlice<T>) -> [T] {
    switch RowSummary(row) {
    case .nan: return row.map { _ in .nan }
    case .masked: return row.map { _ in 0 }
    case .positiveInfinity(let k): return row.map { $0 == .infinity ? 1 / T(k) : 0 }
    case .finite(let m, let e): return row.map { T.libmExp($0 - m) / (1 + e) }
    }
  }

  static func logSoftmaxRow<T: ElementaryScalar>(_ row: ArraySlice<T>) -> [T] {
    switch RowSummary(row) {
    case .nan: return row.map { _ in .nan }
    case .masked: return row.map { _ in -.infinity }
    case .positiveInfinity(let k): return row.map { $0 == .infinity ? -T.libmLog(T(k)) : -.infinity }
    case .finite(let m, let e):
      let l = T.libmLog1p(e)
      return row.map { ($0 - m) - l }
    }
  }

  static func logSumExpRow<T: ElementaryScalar>(_ row: ArraySlice<T>) -> T {
    switch RowSummary(row) {
    case .nan: return .nan
    case .masked: return -.infinity
    case .positiveInfinity: return .infinity
    case .finite(let m, let e): return m + T.libmLog1p(e)
    }
  }

  /// Applies `f` to each row of `cols` elements of `x` (`rows * cols` elements, packed).
  static func rowwise<T, R>(_ x: [T], rows: Int, cols: Int, _ f: (ArraySlice<T>) -> R) -> [R] {
    precondition(rows >= 0 && cols >= 0 && x.count == rows * cols, "x must hold rows * cols elements")
    return (0..<rows).map { f(x[($0 * cols)..<(($0 + 1) * cols)]) }
  }
}

/// The scalar reference implementations, in the working precision `T`. Packed row-major
/// `rows x cols` arrays (`x.count == rows * cols`); same semantics as the kernels.
///
/// `Reference` and `Oracle` are pre-specialized for `Float` and `Double`
/// (`@_specialize(exported: true)`): called from another module (the tests, `scripts/bench`, a
/// user), generic code would otherwise run unspecialized, through witness tables, an order of
/// magnitude slower, which made the benchmark's "speed-up over the scalar reference" meaningless
/// (numbers: docs/performance.md).
public enum Reference {
  /// Row-wise softmax, one element at a time.
  ///
  /// - Parameters:
  ///   - x: `rows * cols` logits, packed row-major.
  ///   - rows: The number of rows.
  ///   - cols: The number of columns.
  /// - Returns: The probabilities, packed like `x`.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func softmax<T: ElementaryScalar>(_ x: [T], rows: Int, cols: Int) -> [T] {
    ScalarSoftmax.rowwise(x, rows: rows, cols: cols, ScalarSoftmax.softmaxRow).flatMap { $0 }
  }

  /// Row-wise log-softmax, one element at a time.
  ///
  /// - Parameters:
  ///   - x: `rows * cols` logits, packed row-major.
  ///   - rows: The number of rows.
  ///   - cols: The number of columns.
  /// - Returns: The log-probabilities, packed like `x`.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func logSoftmax<T: ElementaryScalar>(_ x: [T], rows: Int, cols: Int) -> [T] {
    ScalarSoftmax.rowwise(x, rows: rows, cols: cols, ScalarSoftmax.logSoftmaxRow).flatMap { $0 }
  }

  /// Row-wise logsumexp, one value per row.
  ///
  /// - Parameters:
  ///   - x: `rows * cols` logits, packed row-major.
  ///   - rows: The number of rows.
  ///   - cols: The number of columns.
  /// - Returns: One logsumexp per row.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func logSumExp<T: ElementaryScalar>(_ x: [T], rows: Int, cols: Int) -> [T] {
    ScalarSoftmax.rowwise(x, rows: rows, cols: cols, ScalarSoftmax.logSumExpRow)
  }
}

/// The same operations computed in `T.Wide` (Double for Float; Float80 or DoubleDouble for Double,
/// see `ReferenceScalar`): the yardstick
/// the kernels' and the reference's errors are measured against.
public enum Oracle {
  /// Row-wise softmax in the wider precision.
  ///
  /// - Parameters:
  ///   - x: `rows * cols` logits, packed row-major.
  ///   - rows: The number of rows.
  ///   - cols: The number of columns.
  /// - Returns: The probabilities in `T.Wide`, packed like `x`.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func softmax<T: ReferenceScalar>(_ x: [T], rows: Int, cols: Int) -> [T.Wide] {
    Reference.softmax(x.map { T.Wide($0) }, rows: rows, cols: cols)
  }

  /// Row-wise log-softmax in the wider precision.
  ///
  /// - Parameters:
  ///   - x: `rows * cols` logits, packed row-major.
  ///   - rows: The number of rows.
  ///   - cols: The number of columns.
  /// - Returns: The log-probabilities in `T.Wide`, packed like `x`.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func logSoftmax<T: ReferenceScalar>(_ x: [T], rows: Int, cols: Int) -> [T.Wide] {
    Reference.logSoftmax(x.map { T.Wide($0) }, rows: rows, cols: cols)
  }

  /// Row-wise logsumexp in the wider precision.
  ///
  /// - Parameters:
  ///   - x: `rows * cols` logits, packed row-major.
  ///   - rows: The number of rows.
  ///   - cols: The number of columns.
  /// - Returns: One logsumexp per row, in `T.Wide`.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func logSumExp<T: ReferenceScalar>(_ x: [T], rows: Int, cols: Int) -> [T.Wide] {
    Reference.logSumExp(x.map { T.Wide($0) }, rows: rows, cols: cols)
  }
}
