/// One element's measured error and the package's bound for it, both in ulps of the working type.
/// The element passes when `error <= bound`. Outputs that are not finite must match the oracle
/// exactly: `error` is 0 if they do and infinity if they do not.
public struct ElementError: Sendable, Comparable {
  /// The measured error, in the unit of the bound (ulps of 1 for softmax, ulps of
  /// `max(|x_j|, |lse|)` for the log-scale results, least normal magnitudes below the normal range).
  public var error: Double
  /// The largest error the bound allows, in the same unit (0 for a non-finite result, which must
  /// be exact).
  public var bound: Double
  /// `error / bound`: at most 1 passes.
  public var ratio: Double { bound > 0 ? error / bound : (error == 0 ? 0 : .infinity) }
  /// Whether the element meets its bound: `error <= bound`.
  public var passes: Bool { error <= bound }

  /// An element's error and its bound.
  ///
  /// - Parameters:
  ///   - error: The measured error, in the unit of the bound.
  ///   - bound: The largest error allowed, in the same unit.
  public init(error: Double, bound: Double) {
    self.error = error
    self.bound = bound
  }

  /// Orders by ``ratio``, so the maximum of a collection is the element closest to (or furthest
  /// past) its bound.
  ///
  /// - Parameters:
  ///   - a: One element's error.
  ///   - b: Another element's error.
  /// - Returns: Whether `a` uses a smaller fraction of its bound than `b`.
  public static func < (a: Self, b: Self) -> Bool { a.ratio < b.ratio }
}

/// The package's accuracy bounds (see the `SoftmaxKernels` article "Accuracy"), shared by the
/// tests and the benchmark report.
public enum Accuracy {
  /// Softmax: relative error <= (|x_j - m| + 4) * ulpOfOne, in units of `ulpOfOne`; for a
  /// true value below the normal range, absolute error <= 2 * leastNormalMagnitude instead.
  ///
  /// - Parameters:
  ///   - y: The probability to check.
  ///   - o: The oracle's probability for the same element, in the wider type.
  ///   - x: The element's logit x_j.
  ///   - m: The row's maximum logit.
  /// - Returns: The element's error and bound; a non-finite `y` or oracle must match exactly.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func softmax<T: ReferenceScalar>(_ y: T, oracle o: T.Wide, x: T, max m: T) -> ElementError {
    if let exact = nonFinite(y, o) { return exact }
    let eps = T.Wide(T.ulpOfOne)
    let diff = abs(T.Wide(y) - o)
    if o < T.Wide(T.leastNormalMagnitude) {
      let tiny = T.Wide(T.leastNormalMagnitude)
      return ElementError(error: Double(diff / tiny), bound: 2)
    }
    // Rows with +inf entries have the exact answer 1/k or 0: no shift term.
    let shift = m.isFinite ? abs(T.Wide(x) - T.Wide(m)) : 0
    return ElementError(error: Double(diff / o / eps), bound: Double(shift) + 4)
  }

  /// Log-softmax, logsumexp and cross-entropy: absolute error <= 4 ulp(max(|x_j|, |lse|)), in
  /// units of that ulp. `x` is x_j for log-softmax, x_t for cross-entropy, the row max for lse.
  /// A true value beyond `T`'s range must come out as the infinity it rounds to.
  ///
  /// - Parameters:
  ///   - y: The value to check.
  ///   - o: The oracle's value, in the wider type.
  ///   - x: x_j (log-softmax), x_t (cross-entropy) or the row's maximum (logsumexp).
  ///   - lse: The row's logsumexp from the oracle.
  /// - Returns: The element's error and bound; a non-finite `y` or oracle must match exactly.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func logScale<T: ReferenceScalar>(_ y: T, oracle o: T.Wide, x: T, lse: T.Wide) -> ElementError {
    if let exact = nonFinite(y, T.Wide(T(o))) { return exact }
    return ElementError(error: Double(abs(T.Wide(y) - o) / logScaleUnit(x: x, lse: lse)), bound: 4)
  }

  /// The unit of `logScale`: ulp(max(|x|, |lse|)) in `T` (greatestFinite's ulp past the range,
  /// at least the least nonzero magnitude).
  ///
  /// - Parameters:
  ///   - x: x_j, x_t or the row's maximum, as for `logScale`.
  ///   - lse: The row's logsumexp from the oracle.
  /// - Returns: The unit, in the wider type.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func logScaleUnit<T: ReferenceScalar>(x: T, lse: T.Wide) -> T.Wide {
    let scale = Swift.max(abs(x), abs(T(lse)))
    let ulp = T.Wide(scale.isFinite ? scale.ulp : T.greatestFiniteMagnitude.ulp)
    return Swift.max(ulp, T.Wide(T.leastNonzeroMagnitude))
  }

  /// Exact comparison for non-finite results (NaN must meet NaN, inf the same inf).
  static func nonFinite<T: BinaryFloatingPoint, W: BinaryFloatingPoint>(_ y: T, _ o: W) -> ElementError? {
    if o.isNaN || y.isNaN {
      return ElementError(error: o.isNaN && y.isNaN ? 0 : .infinity, bound: 0)
    }
    if o.isInfinite || y.isInfinite {
      return ElementError(error: W(y) == o ? 0 : .infinity, bound: 0)
    }
    return nil
  }
}
