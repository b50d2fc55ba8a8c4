import SoftmaxKernels

// Cross-entropy written plainly, one element at a time, with the definitions of
// torch.nn.functional.cross_entropy (and PaLM's z-loss). For a row with logsumexp L and C classes:
//   labels:  loss = (1 - eps) w_t (L - x_t) + eps/C sum_j w_j (L - x_j) + z L^2
//            dloss/dx_j = p_j ((1 - eps) w_t + eps W / C + 2 z L) - eps/C w_j - [j = t] (1 - eps) w_t
//   targets: loss = sum_j c_j (L - x_j) + z L^2,  c_j = w_j ((1 - eps) p_j + eps/C)
//            dloss/dx_j = p_j (sum_k c_k + 2 z L) - c_j
// A term with a zero coefficient is 0 even where L - x_j = +inf. Mean: sum of losses / sum of w_t
// over rows not ignored (labels) or / rows (targets); 0 when that is 0. NaN rows are NaN; fully
// masked rows have loss +inf and gradient 0; rows with +inf logits take the limit. The mean is
// formed from each row's loss evaluated with its coefficients divided by the denominator, so a
// row loss past the range still gives a finite mean when the exact mean is representable.

enum ScalarCrossEntropy {
  /// The row's probabilities and logsumexp, or nil for a NaN row (handled by the callers).
  static func softmaxAndLSE<T: ElementaryScalar>(_ row: ArraySlice<T>) -> (p: [T], lse: T)? {
    switch RowSummary(row) {
    case .nan: return nil
    case .masked: return (row.map { _ in 0 }, -.infinity)
    case .positiveInfinity(let k): return (row.map { $0 == .infinity ? 1 / T(k) : 0 }, .infinity)
    case .finite(let m, let e): return (row.map { T.libmExp($0 - m) / (1 + e) }, m + T.libmLog1p(e))
    }
  }

  /// c * g, 0 when c is 0.
  static func term<T: ElementaryScalar>(_ c: T, _ g: T) -> T { c == 0 ? 0 : c * g }

  /// c (L - x) / d, 0 when the exact coefficient is 0 (`isZero`; c itself may have underflowed
  /// to 0 from a nonzero product, and then a masked x still costs +inf), evaluated as
  /// 2 (c (L/2 - x/2)) / d so that it is finite whenever the exact value is (L - x itself may
  /// overflow when c < 1; c (L/2 - x/2) when c > 1, and then c ((L/2 - x/2) / d) is used).
  static func term<T: ElementaryScalar>(
    _ c: T, isZero: Bool? = nil, lse: T, x: T, infinities k: Int, over d: T = 1
  ) -> T {
    if isZero ?? (c == 0) { return 0 }
    if lse == .infinity && x == .infinity { return c * T.libmLog(T(k)) / d }
    let h = lse / 2 - x / 2
    if h == .infinity { return .infinity }
    let v = c * h
    return 2 * (v.isFinite ? v / d : c * (h / d))
  }

  /// z L^2 / d, as `term` does it.
  static func zTerm<T: ElementaryScalar>(_ z: T, lse: T, over d: T) -> T {
    let v = z * lse * lse
    return v.isFinite ? v / d : z * lse * (lse / d)
  }

  /// The row's loss, the same loss divided by `d` term by term (finite wherever loss / d is in
  /// range, even when the loss is not), and the gradient times `scale`.
  static func labelRow<T: ElementaryScalar>(
    _ row: ArraySlice<T>, label t: Int, _ s: CrossEntropySettings<T>, scale: T, lossDivisor d: T
  ) -> (loss: T, lossOverDivisor: T, gradient: [T]) {
    let n = row.count
    guard let (p, lse) = softmaxAndLSE(row) else { return (.nan, .nan, [T](repeating: .nan, count: n)) }
    if lse == -.infinity { return (.infinity, .infinity, [T](repeating: 0, count: n)) }  // fully masked
    let x = Array(row), k = x.filter { $0 == .infinity }.count
    let w = s.classWeights ?? [T](repeating: 1, count: n)
    let eps = s.labelSmoothing, z = s.zLoss, C = T(n)
    let hard = (1 - eps) * w[t], soft = eps / C
    var W = KahanSum<T>()
    for v in w { W.add(v) }
    func loss(over d: T) -> T {
      var loss = KahanSum<T>()
      loss.add(term(hard, lse: lse, x: x[t], infinities: k, over: d))
      for j in 0..<n {
        loss.add(term(soft * w[j], isZero: soft == 0 || w[j] == 0, lse: lse, x: x[j], infinities: k, over: d))
      }
      if z != 0 { loss.add(zTerm(z, lse: lse, over: d)) }
      return loss.sum
    }
    var g = [T](repeating: 0, count: n)
    for j in 0..<n {
      // The z-loss term (2 z scale p_j) L is formed without the overflow-prone 2 z L.
      let zTerm = z != 0 && p[j] != 0 ? (2 * z * scale * p[j]) * lse : 0
      g[j] = scale == 0 ? 0 : scale * (p[j] * (hard + soft * W.sum) - soft * w[j] - (j == t ? hard : 0)) + zTerm
    }
    return (loss(over: 1), d == 1 ? loss(over: 1) : loss(over: d), g)
  }

  /// As `labelRow`, for a row of probability targets.
  static func targetRow<T: ElementaryScalar>(
    _ row: ArraySlice<T>, targets q: ArraySlice<T>, _ s: CrossEntropySettings<T>, scale: T, lossDivisor d: T
  ) -> (loss: T, lossOverDivisor: T, gradient: [T]) {
    let n = row.count
    guard let (p, lse) = softmaxAndLSE(row) else { return (.nan, .nan, [T](repeating: .nan, count: n)) }
    if lse == -.infinity { return (.infinity, .infinity, [T](repeating: 0, count: n)) }
    let x = Array(row), target = Array(q), k = x.filter { $0 == .infinity }.count
    let w = s.classWeights ?? [T](repeating: 1, count: n)
    let eps = s.labelSmoothing, z = s.zLoss
    let c = (0..<n).map { w[$0] * ((1 - eps) * target[$0] + eps / T(n)) }
    var Q = KahanSum<T>()
    for j in 0..<n { Q.add(c[j]) }
    func loss(over d: T) -> T {
      var loss = KahanSum<T>()
      for j in 0..<n {
        let zero = w[j] == 0 || (eps == 0 && target[j] == 0)
        loss.add(term(c[j], isZero: zero, lse: lse, x: x[j], infinities: k, over: d))
      }
      if z != 0 { loss.add(zTerm(z, lse: lse, over: d)) }
      return loss.sum
    }
    var g = [T](repeating: 0, count: n)
    for j in 0..<n {
      let zTerm = z != 0 && p[j] != 0 ? (2 * z * scale * p[j]) * lse : 0
      g[j] = scale == 0 ? 0 : scale * (p[j] * Q.sum - c[j]) + zTerm
    }
    return (loss(over: 1), d == 1 ? loss(over: 1) : loss(over: d), g)
  }

  /// The sum of the row losses (sum) or of the row losses evaluated with their coefficients
  /// divided by the denominator (mean; 0 when the denominator is 0).
  static func reduce<T: ElementaryScalar>(losses: [T], lossesOverDenominator: [T], denominator: T, _ r: LossReduction) -> T {
    if r == .mean && denominator == 0 { return 0 }
    var s = KahanSum<T>()
    for l in r == .mean ? lossesOverDenominator : losses { s.add(l) }
    return s.sum
  }
}

extension Reference {
  /// Class-label cross-entropy of packed `rows x cols` logits; labels must be valid.
  ///
  /// - Parameters:
  ///   - x: `rows * cols` logits, packed row-major.
  ///   - rows: The number of rows.
  ///   - cols: The number of classes.
  ///   - labels: One class label per row, in `0 ..< cols` or `s.ignoreIndex`.
  ///   - s: Ignore index, class weights, label smoothing, z-loss and reduction.
  ///   - gradientScale: Multiplies the gradient.
  /// - Returns: The per-row losses, the reduced loss and the gradient, in `T`.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func crossEntropy<T: ElementaryScalar>(
    logits x: [T], rows: Int, cols: Int, labels: [Int], settings s: CrossEntropySettings<T>, gradientScale: T = 1
  ) -> LossResult<T> {
    precondition(x.count == rows * cols && labels.count == rows)
    var denominator = KahanSum<T>()
    for t in labels where t != s.ignoreIndex { denominator.add(s.classWeights?[t] ?? 1) }
    let d = denominator.sum
    let scale = s.reduction == .mean ? (d == 0 ? 0 : gradientScale / d) : gradientScale
    let divisor = s.reduction == .mean && d != 0 ? d : 1
    var losses = [T](), lossesOverD = [T](), gradient = [T]()
    for r in 0..<rows {
      if labels[r] == s.ignoreIndex {
        losses.append(0)
        lossesOverD.append(0)
        gradient += [T](repeating: 0, count: cols)
        continue
      }
      let (l, lf, g) = ScalarCrossEntropy.labelRow(
        x[(r * cols)..<((r + 1) * cols)], label: labels[r], s, scale: scale, lossDivisor: divisor)
      losses.append(l)
      lossesOverD.append(lf)
      gradient += g
    }
    let loss = ScalarCrossEntropy.reduce(losses: losses, lossesOverDenominator: lossesOverD, denominator: d, s.reduction)
    return LossResult(losses: losses, loss: loss, gradient: gradient)
  }

  /// Probability-target cross-entropy of packed `rows x cols` logits and targets.
  ///
  /// - Parameters:
  ///   - x: `rows * cols` logits, packed row-major.
  ///   - rows: The number of rows.
  ///   - cols: The number of classes.
  ///   - targets: Target probabilities, packed like `x`.
  ///   - s: Ignore index, class weights, label smoothing, z-loss and reduction.
  ///   - gradientScale: Multiplies the gradient.
  /// - Returns: The per-row losses, the reduced loss and the gradient, in `T`.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func crossEntropy<T: ElementaryScalar>(
    logits x: [T], rows: Int, cols: Int, targets: [T], settings s: CrossEntropySettings<T>, gradientScale: T = 1
  ) -> LossResult<T> {
    precondition(x.count == rows * cols && targets.count == rows * cols)
    let d = T(rows)
    let scale = s.reduction == .mean ? (d == 0 ? 0 : gradientScale / d) : gradientScale
    let divisor = s.reduction == .mean && d != 0 ? d : 1
    var losses = [T](), lossesOverD = [T](), gradient = [T]()
    for r in 0..<rows {
      let range = (r * cols)..<((r + 1) * cols)
      let (l, lf, g) =
        cols == 0 ? (0, 0, []) : ScalarCrossEntropy.targetRow(x[range], targets: targets[range], s, scale: scale, lossDivisor: divisor)
      losses.append(l)
      lossesOverD.append(lf)
      gradient += g
    }
    let loss = ScalarCrossEntropy.reduce(losses: losses, lossesOverDenominator: lossesOverD, denominator: d, s.reduction)
    return LossResult(losses: losses, loss: loss, gradient: gradient)
  }
}

extension Oracle {
  /// Class-label cross-entropy in the wider precision.
  ///
  /// - Parameters:
  ///   - x: `rows * cols` logits, packed row-major.
  ///   - rows: The number of rows.
  ///   - cols: The number of classes.
  ///   - labels: One class label per row, in `0 ..< cols` or `s.ignoreIndex`.
  ///   - s: Ignore index, class weights, label smoothing, z-loss and reduction.
  ///   - gradientScale: Multiplies the gradient.
  /// - Returns: The per-row losses, the reduced loss and the gradient, in `T.Wide`.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func crossEntropy<T: ReferenceScalar>(
    logits x: [T], rows: Int, cols: Int, labels: [Int], settings s: CrossEntropySettings<T>, gradientScale: T = 1
  ) -> LossResult<T.Wide> {
    Reference.crossEntropy(
      logits: x.map { T.Wide($0) }, rows: rows, cols: cols, labels: labels, settings: s.converted(to: T.Wide.self),
      gradientScale: T.Wide(gradientScale))
  }

  /// Probability-target cross-entropy in the wider precision.
  ///
  /// - Parameters:
  ///   - x: `rows * cols` logits, packed row-major.
  ///   - rows: The number of rows.
  ///   - cols: The number of classes.
  ///   - targets: Target probabilities, packed like `x`.
  ///   - s: Ignore index, class weights, label smoothing, z-loss and reduction.
  ///   - gradientScale: Multiplies the gradient.
  /// - Returns: The per-row losses, the reduced loss and the gradient, in `T.Wide`.
  @_specialize(exported: true, where T == Float)
  @_specialize(exported: true, where T == Double)
  public static func crossEntropy<T: ReferenceScalar>(
    logits x: [T], rows: Int, cols: Int, targets: [T], settings s: CrossEntropySettings<T>, gradientScale: T = 1
  ) -> LossResult<T.Wide> {
    Reference.crossEntropy(
      logits: x.map { T.Wide($0) }, rows: rows, cols: cols, targets: targets.map { T.Wide($0) },
      settings: s.converted(to: T.Wide.self), gradientScale: T.Wide(gradientScale))
  }
}
