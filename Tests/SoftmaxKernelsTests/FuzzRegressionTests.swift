import SoftmaxKernels
import SoftmaxReference
import Testing

/// Inputs the fuzz harnesses (Tests/Fuzz) found to break the contract, one test each, named after
/// what they caught. Each failed here before its fix.
@Suite("Fuzz findings")
struct FuzzRegressionTests {
  /// FuzzForward, Double, fast mode: row max ~0 and a sum excess of 0.004 (34 terms e^-9) gave
  /// logsumexp 0.0041871549577558835 against 0.0041871549577558626 exact: 24 ulp where SPEC
  /// allows 4 ulp(max(|m|, |lse|)). The grouped sums rounded 1 + small before compensating.
  @Test(arguments: KernelOptions.Mode.allCases)
  func logScaleStaysWithinBoundWhenTheMaxIsNearZero(mode: KernelOptions.Mode) throws {
    try check(Float.self, mode: mode)
    try check(Double.self, mode: mode)
  }

  private func check<T: ReferenceScalar>(_: T.Type, mode: KernelOptions.Mode) throws {
    let options = KernelOptions(mode: mode)
    for cols in Array(2...80) + [100, 300, 1000, 3000, 5000] {
      for (top, rest) in [(T(1.385532704666185e-34), T(-9)), (T(0), T(-12)), (T(-0.5), T(-7)), (T(2), T(-6))] {
        var row = [T](repeating: rest, count: cols)
        row[(cols * 7) / 11] = top  // the max somewhere inside a group, not only at the start
        let lse = try logSumExp(row, cols: cols, options: options)[0]
        let o = Oracle.logSumExp(row, rows: 1, cols: cols)[0]
        let e = Accuracy.logScale(lse, oracle: o, x: top, lse: o)
        #expect(e.passes, "\(T.self) \(mode) cols \(cols) max \(top): lse \(lse) vs \(o), \(e.error) ulp")
        let ls = try logSoftmax(row, cols: cols, options: options)
        let ol = Oracle.logSoftmax(row, rows: 1, cols: cols)
        let worst = (0..<cols).map { Accuracy.logScale(ls[$0], oracle: ol[$0], x: row[$0], lse: o) }.max()!
        #expect(worst.passes, "\(T.self) \(mode) cols \(cols) max \(top): log-softmax \(worst.error) ulp")
      }
    }
  }

  /// FuzzForward, Float, both modes: softmax of a 25-column row with max 3.4028235e38
  /// (greatestFiniteMagnitude) beside 5.2439346e36 gave NaN everywhere. x - m rounded away from
  /// zero by half an ulp of m, so the TwoSum's d - x rounded past the range to -inf and the
  /// correction of that lane (whose exp is 0) became NaN. 3 ulp(m) / 2 is the smallest such x.
  /// Row blocks, short rows and long rows; softmax, log-softmax, logsumexp and the loss.
  @Test(arguments: KernelOptions.Mode.allCases)
  func logitsNearTheTopOfTheRangeGiveNoNaN(mode: KernelOptions.Mode) throws {
    try check(Float.self, mode: mode, extra: [24, 6.4672113e19, 5.2439257e36, 5.2439346e36, 497.9375])
    try check(Double.self, mode: mode, extra: [24, 1e300])
    func check<T: ReferenceScalar>(_: T.Type, mode: KernelOptions.Mode, extra: [T]) throws {
      let top = T.greatestFiniteMagnitude
      let pattern = [3 * top.ulp / 2, -.infinity, -top, 7 * top.ulp / 2] + extra
      for cols in [2, 7, 25, 64, 100, 200, 3000, 9000] {
        var row = (0..<cols).map { pattern[$0 % pattern.count] }
        let at = (cols * 7) / 11
        row[at] = top
        try checkForwardKernels(Matrix(values: row + row, rows: 2, cols: cols), options: KernelOptions(mode: mode))
        try expectRowLossWithinBound(row, label: (at + 1) % cols, mode: mode, "cols \(cols)")
      }
    }
  }

  /// FuzzCrossEntropy, Float, fast mode: logits [-4.768662e-07, -10.5, -inf, -88.72], label 0 gave
  /// loss 2.7536098e-05 against 2.7536083e-05 exact, 8 ulp where SPEC allows 4: x - m = -10.5 +
  /// 4.8e-7 rounds by 4 ulp relative, and the loss is that tiny sum. Every row length takes one of
  /// the paths (tail only, short rows, grouped and chunked long rows).
  @Test(arguments: KernelOptions.Mode.allCases)
  func roundingOfXMinusMaxIsCorrectedWhenTheMaxIsNearZero(mode: KernelOptions.Mode) throws {
    let head: [Float] = [-4.768662e-07, -10.5, -.infinity, -88.72]
    for cols in [4, 8, 13, 32, 33, 100, 3000, 5000] {
      let row = head + [Float](repeating: -88.72, count: cols - 4)
      try expectRowLossWithinBound(row, label: 0, mode: mode, "cols \(cols)")
      let lse = Oracle.logSumExp(row, rows: 1, cols: cols)[0]
      let l = try logSumExp(row, cols: cols, options: KernelOptions(mode: mode))[0]
      let el = Accuracy.logScale(l, oracle: lse, x: row[0], lse: lse)
      #expect(el.passes, "\(mode) cols \(cols): lse \(l) vs \(lse), \(el.error) ulp")
      let ls = try logSoftmax(row, cols: cols, options: KernelOptions(mode: mode))[0]
      let es = Accuracy.logScale(ls, oracle: Oracle.logSoftmax(row, rows: 1, cols: cols)[0], x: row[0], lse: lse)
      #expect(es.passes, "\(mode) cols \(cols): log-softmax[0] \(ls), \(es.error) ulp")
    }
  }

  /// FuzzForward, Double: log-softmax of x = 2.2250738585072014e-308 (leastNormal) beside logits
  /// near -741, whose exps underflow to subnormals: y = -2.7e-323 came out as -6e-323, 6.5 units
  /// of 4.9e-324 where SPEC's 4 ulp(max(|x|, |lse|)) allows 4: each underflowing term was rounded
  /// to a whole subnormal unit. Rows whose max and excess are that small now sum their terms
  /// scaled into the normal range. Maxima at and near leastNormal, 0 and -0, the other entries
  /// spread over the underflow range, short, long and chunked rows; log-softmax, logsumexp, the
  /// logsumexp state and the cross-entropy loss at the max.
  @Test(arguments: KernelOptions.Mode.allCases)
  func logScaleNearLeastNormalStaysWithinBound(mode: KernelOptions.Mode) throws {
    try checkNearLeastNormal(Float.self, mode: mode)
    try checkNearLeastNormal(Double.self, mode: mode)
  }

  private func checkNearLeastNormal<T: ReferenceScalar>(_: T.Type, mode: KernelOptions.Mode) throws {
    let options = KernelOptions(mode: mode)
    let tiny = T.leastNormalMagnitude
    // ln of the least subnormal, and 30 below the edge of the normal range.
    let low = T.Wide.libmLog(T.Wide(T.leastNonzeroMagnitude)), high = T.Wide.libmLog(T.Wide(tiny)) - 30
    for top in [tiny, 3 * tiny, tiny / 2, T(0), -tiny / 4, 1000 * tiny] {
      for k in [1, 3, 11, 40, 300, 5000] {
        let rest = (0..<k).map { T(low + (high - low) * T.Wide($0 % 97) / 96) }
        let row = [top] + rest
        let n = row.count
        let what = "\(T.self) \(mode) max \(top) with \(k) underflowing terms"
        let olse = Oracle.logSumExp(row, rows: 1, cols: n)[0]
        let ol = Oracle.logSoftmax(row, rows: 1, cols: n)
        let y = try logSoftmax(row, cols: n, options: options)
        let e0 = Accuracy.logScale(y[0], oracle: ol[0], x: top, lse: olse)
        #expect(e0.passes, "\(what): log-softmax[0] \(y[0]) vs \(ol[0]), \(e0.error) ulp")
        let lse = try logSumExp(row, cols: n, options: options)[0]
        let el = Accuracy.logScale(lse, oracle: olse, x: top, lse: olse)
        #expect(el.passes, "\(what): logsumexp \(lse) vs \(olse), \(el.error) ulp")
        let state = try logSumExpStates(row, cols: n)[0].logSumExp
        let es = Accuracy.logScale(state, oracle: olse, x: top, lse: olse)
        #expect(es.passes, "\(what): state \(state) vs \(olse), \(es.error) ulp")
        let ce = CrossEntropyOptions<T>(kernel: KernelOptions(mode: mode))
        let oce = Oracle.crossEntropy(logits: row, rows: 1, cols: n, labels: [0], settings: CrossEntropySettings(ce)).losses[0]
        var inPlace = row
        for (name, loss) in [
          ("loss", try crossEntropy(row, cols: n, labels: [0], options: ce)),
          ("fused loss", try crossEntropyWithGradient(inPlace: &inPlace, cols: n, labels: [0], options: ce)),
        ] {
          let e = Accuracy.logScale(loss, oracle: oce, x: top, lse: olse)
          #expect(e.passes, "\(what): cross-entropy \(name) \(loss) vs \(oce), \(e.error) ulp")
        }
      }
    }
  }

  /// labelsAdversarialDouble (release, baseline ISA): the mean cross-entropy came out +inf against
  /// an exact 1.19e308: one row's loss (logits near greatestFiniteMagnitude times a class weight
  /// above 1) was past the range, and the reduction added it as +inf. The mean is now formed from
  /// each row loss scaled down before it can overflow. Labels, targets and BCE, every entry point
  /// that reduces, both modes; each case's exact mean is about 0.75 G (G = greatestFinite).
  @Test(arguments: KernelOptions.Mode.allCases)
  func meanStaysFiniteWhenARowLossOrTheSumOverflows(mode: KernelOptions.Mode) throws {
    try checkOverflowingMeans(Float.self, mode: mode)
    try checkOverflowingMeans(Double.self, mode: mode)
  }

  private func checkOverflowingMeans<T: ReferenceScalar>(_: T.Type, mode: KernelOptions.Mode) throws {
    let g = T.greatestFiniteMagnitude
    // (logits, labels, class weights): a row loss of 1.5 G beside a loss near 0; a weight of 4
    // on a row loss of 0.75 G, in two columns and in eight (a one-vector row on AVX2 Float, the
    // short-row path); three rows of 0.75 G each (their sum overflows); 40 such rows, whole row
    // blocks for every width, whose losses are summed lane-wise (`crossEntropyLabelRows`).
    let cases: [([T], [Int], [T]?)] = [
      ([g, -g / 2, 0, 0], [1, 0], nil),
      ([g / 2, -g / 4], [1], [1, 4]),
      ([g / 2, -g / 4, 0, 0, 0, 0, 0, 0], [1], [1, 4, 1, 1, 1, 1, 1, 1]),
      ([g / 2, -g / 4, g / 2, -g / 4, g / 2, -g / 4], [1, 1, 1], nil),
      ([[T]](repeating: [g / 2, -g / 4], count: 40).flatMap { $0 }, [Int](repeating: 1, count: 40), nil),
    ]
    for (x, labels, weights) in cases {
      let cols = x.count / labels.count
      let options = CrossEntropyOptions<T>(classWeights: weights, kernel: KernelOptions(mode: mode))
      let what = "\(T.self) \(mode) \(x) labels \(labels) weights \(String(describing: weights))"
      let o = Oracle.crossEntropy(
        logits: x, rows: labels.count, cols: cols, labels: labels, settings: CrossEntropySettings(options)).loss
      #expect(o.isFinite && T(o).isFinite, "\(what): the case must have a representable mean, oracle \(o)")
      var inPlace = x
      let targets: [T] = labels.flatMap { (l: Int) -> [T] in (0..<cols).map { $0 == l ? 1 : 0 } }
      var inPlaceTargets = x
      var results: [(String, T)] = [
        ("labels", try crossEntropy(x, cols: cols, labels: labels, options: options)),
        ("labels fused in place", try crossEntropyWithGradient(inPlace: &inPlace, cols: cols, labels: labels, options: options)),
        ("reference", Reference.crossEntropy(logits: x, rows: labels.count, cols: cols, labels: labels, settings: CrossEntropySettings(options)).loss),
      ]
      // One-hot probability targets give the same mean when the weights are 1 (the mean of
      // targets divides by rows, not by the weights).
      if weights == nil {
        results.append(("targets", try crossEntropy(x, cols: cols, targets: targets, options: options)))
        results.append(
          ("targets fused in place", try crossEntropyWithGradient(inPlace: &inPlaceTargets, cols: cols, targets: targets, options: options)))
      }
      for (name, v) in results {
        let err = abs(T.Wide(v) - o) / (T.Wide(T.ulpOfOne) * o)
        #expect(v.isFinite && err <= 8, "\(what) \(name): \(v) vs oracle \(o) (\(err) eps)")
      }
    }
    // Subnormal class weights: the weighted row losses underflow (as in PyTorch, each is w_t
    // times the loss, rounded), so the mean is that of the rounded losses; the reference's first
    // version divided by multiplying with 1 / denominator = +inf and gave NaN (found in review).
    let tinyWeights = CrossEntropyOptions<T>(classWeights: [4 * T.leastNonzeroMagnitude, 2 * T.leastNonzeroMagnitude], kernel: KernelOptions(mode: mode))
    let tx: [T] = [0, 1, 3, -2]
    let kernelMean = try crossEntropy(tx, cols: 2, labels: [1, 0], options: tinyWeights)
    let referenceMean = Reference.crossEntropy(logits: tx, rows: 2, cols: 2, labels: [1, 0], settings: CrossEntropySettings(tinyWeights)).loss
    #expect(kernelMean.isFinite && referenceMean.isFinite && kernelMean == referenceMean, "\(T.self) \(mode) tiny weights: \(kernelMean) vs reference \(referenceMean)")
    // The sum over a row's classes overflows (targetsAdversarialDouble, twice: inf against 1.22e308
    // and 1.66e308): weighted probability targets and weighted label smoothing on a row
    // [G/2, -G/2, -G/2, -G/2] beside three rows of zeros (each class term G/2, three of them);
    // weighted targets on [G/2, -G/2] beside seven rows of zeros (one term 4 G, past the range
    // before it is summed). Fused in place too.
    let zeroRows = { (rows: Int, cols: Int) in [T](repeating: 0, count: rows * cols) }
    let firstClass = { (rows: Int, cols: Int) in (0..<(rows * cols)).map { T($0 % cols == 0 ? 1 : 0) } }
    let gapCases: [(x: [T], targets: [T], weights: [T], rows: Int, cols: Int)] = [
      ([g / 2, -g / 2, -g / 2, -g / 2] + zeroRows(3, 4), [0, T(1) / 3, T(1) / 3, T(1) / 3] + firstClass(3, 4), [1, 3, 3, 3], 4, 4),
      ([g / 2, -g / 2] + zeroRows(7, 2), [0, 1] + firstClass(7, 2), [1, 4], 8, 2),
    ]
    for (gx, gt, weights, rows, cols) in gapCases {
      let weighted = CrossEntropyOptions<T>(classWeights: weights, kernel: KernelOptions(mode: mode))
      let smoothed = CrossEntropyOptions<T>(classWeights: weights, labelSmoothing: 1, kernel: KernelOptions(mode: mode))
      let labels = [Int](repeating: 0, count: rows)
      let ot = Oracle.crossEntropy(logits: gx, rows: rows, cols: cols, targets: gt, settings: CrossEntropySettings(weighted)).loss
      let os = Oracle.crossEntropy(logits: gx, rows: rows, cols: cols, labels: labels, settings: CrossEntropySettings(smoothed)).loss
      var inPlaceTargets = gx, inPlaceSmoothed = gx
      for (name, v, exact) in [
        ("weighted targets", try crossEntropy(gx, cols: cols, targets: gt, options: weighted), ot),
        ("weighted targets fused in place", try crossEntropyWithGradient(inPlace: &inPlaceTargets, cols: cols, targets: gt, options: weighted), ot),
        ("weighted targets reference", Reference.crossEntropy(logits: gx, rows: rows, cols: cols, targets: gt, settings: CrossEntropySettings(weighted)).loss, ot),
        ("smoothing", try crossEntropy(gx, cols: cols, labels: labels, options: smoothed), os),
        ("smoothing fused in place", try crossEntropyWithGradient(inPlace: &inPlaceSmoothed, cols: cols, labels: labels, options: smoothed), os),
      ] where T(exact).isFinite {
        let err = abs(T.Wide(v) - exact) / (T.Wide(T.ulpOfOne) * exact)
        #expect(v.isFinite && err <= 8, "\(T.self) \(mode) \(cols) cols \(name): \(v) vs oracle \(exact) (\(err) eps)")
      }
      #expect(T(ot).isFinite, "\(T.self): the weighted-targets case must have a representable mean, oracle \(ot)")
    }
    // BCE: two elements of loss 0.9 G each in one row (t = 1, x = -0.9 G), mean 0.9 G.
    let bx = [-g * T(0.9), -g * T(0.9)], bt = [T(1), 1]
    let ob = Oracle.binaryCrossEntropyWithLogits(logits: bx, targets: bt, rows: 1, cols: 2, posWeight: nil, reduction: .mean).loss
    let bceOptions = BinaryCrossEntropyOptions<T>(kernel: KernelOptions(mode: mode))
    var bceInPlace = bx
    for (name, v) in [
      ("bce", try binaryCrossEntropy(bx, cols: 2, targets: bt, options: bceOptions)),
      ("bce with gradient", try binaryCrossEntropyWithGradient(inPlace: &bceInPlace, cols: 2, targets: bt, options: bceOptions)),
      ("bce reference", Reference.binaryCrossEntropyWithLogits(logits: bx, targets: bt, rows: 1, cols: 2, posWeight: nil, reduction: .mean).loss),
    ] {
      let err = abs(T.Wide(v) - ob) / (T.Wide(T.ulpOfOne) * ob)
      #expect(v.isFinite && err <= 8, "\(T.self) \(mode) \(name): \(v) vs oracle \(ob) (\(err) eps)")
    }
  }

  /// FuzzBackward, Float: log-softmax backward with y = -101.47 (exp(y) subnormal, rounded to a
  /// whole unit) and sum dy = 1.6e12: dx = -1.457e-32 against -1.483e-32 exact. Lanes whose exp
  /// is subnormal now form exp(y) * sum dy scaled into the normal range.
  @Test func logSoftmaxBackwardKeepsAccuracyWhereExpIsSubnormal() throws {
    try checkBackward(Float.self, tiny: [-101.47, -95, -88, -120, -103.2], big: 1.6e12)
    try checkBackward(Double.self, tiny: [-720.3, -709.9, -740.1, -744.6, -730], big: 1e200)
  }

  private func checkBackward<T: ReferenceScalar>(_: T.Type, tiny: [T], big: T) throws {
    // 1, 2 and 5 vectors of lanes, the tiny values in the body and in the tail.
    for cols in [3, 7, 8, 13, 40] {
      let y = (0..<cols).map { j in j % 3 == 1 ? tiny[j % tiny.count] : (j == 0 ? T(-0.5) : T(-2) - T(j)) }
      let dy = (0..<cols).map { j in j == 0 ? big : (j == 2 ? big / 3 : 0) }
      let dx = try logSoftmaxBackward(dy, cols: cols, output: y)
      let o = Oracle.logSoftmaxBackward(output: y, gradOutput: dy, rows: 1, cols: cols)
      let eps = T.Wide(T.ulpOfOne), sAbs = dy.reduce(T.Wide(0)) { $0 + abs(T.Wide($1)) }
      for j in 0..<cols {
        let budget = 8 * eps * (abs(T.Wide(dy[j])) + T.Wide.libmExp(T.Wide(y[j])) * sAbs) + 4 * T.Wide(T.leastNormalMagnitude)
        #expect(abs(T.Wide(dx[j]) - o[j]) <= budget, "\(T.self) cols \(cols) j \(j) y \(y[j]): \(dx[j]) vs \(o[j]) (budget \(budget))")
      }
    }
  }

  /// FuzzShard, Float: [0, -103 x 21] split after three columns: the merge rescaled the second
  /// state by exp(-103) = 1.9e-45, a subnormal rounded to one unit, then multiplied it by the 19
  /// terms of that state: lse 3.1e-44 against 3.9e-44, 5.8 units where SPEC allows 4. With the
  /// larger max that small, the merge now forms the term scaled into the normal range.
  @Test func mergedStateKeepsAccuracyWhenTheRescaleIsSubnormal() throws {
    try checkMerge(Float.self, low: -103)
    try checkMerge(Double.self, low: -744.2)
  }

  private func checkMerge<T: ReferenceScalar>(_: T.Type, low: T) throws {
    for (count, split) in [(22, 3), (22, 1), (60, 5), (300, 17)] {
      let x = [T(0)] + [T](repeating: low, count: count - 1)
      let a = try logSumExpStates(Array(x[..<split]), cols: split)[0]
      let b = try logSumExpStates(Array(x[split...]), cols: count - split)[0]
      let o = Oracle.logSumExp(x, rows: 1, cols: count)[0]
      for (name, state) in [("a + b", a.merged(with: b)), ("b + a", b.merged(with: a))] {
        let e = Accuracy.logScale(state.logSumExp, oracle: o, x: 0, lse: o)
        #expect(e.passes, "\(T.self) \(count) split \(split) \(name): \(state.logSumExp) vs \(o), \(e.error) ulp")
      }
    }
  }

  /// FuzzBinaryCrossEntropy, Float: x = -4.59e22, t = 1e-45 (subnormal), pos_weight 6.72: the
  /// coefficient pw t was rounded into the subnormals before multiplying 4.59e22, loss 4.50e-22
  /// against 4.32e-22. It is now pw (t max(-x, 0)) for t <= 1.
  @Test(arguments: KernelOptions.Mode.allCases)
  func binaryCrossEntropyKeepsAccuracyForASubnormalTarget(mode: KernelOptions.Mode) throws {
    try checkTinyTarget(Float.self, x: -4.58955e22, t: .leastNonzeroMagnitude, pw: 6.71875, mode: mode)
    try checkTinyTarget(Double.self, x: -3.1e290, t: .leastNonzeroMagnitude, pw: 6.71875, mode: mode)
    // pw t underflowing to 0 (FuzzBinaryCrossEntropy, Double: loss 0 against 1.7e-294).
    try checkTinyTarget(Double.self, x: -1e30, t: .leastNonzeroMagnitude, pw: 0.34375, mode: mode)
    try checkTinyTarget(Float.self, x: -1e30, t: .leastNonzeroMagnitude, pw: 0.34375, mode: mode)
  }

  private func checkTinyTarget<T: ReferenceScalar>(_: T.Type, x: T, t: T, pw: T, mode: KernelOptions.Mode) throws {
    for cols in [1, 2, 8, 11] {
      let xs = [T](repeating: x, count: cols), ts = [T](repeating: t, count: cols), pws = [T](repeating: pw, count: cols)
      let mean = try binaryCrossEntropy(xs, cols: cols, targets: ts, options: .init(posWeight: pws, kernel: KernelOptions(mode: mode)))
      let o = Oracle.binaryCrossEntropyWithLogits(logits: xs, targets: ts, rows: 1, cols: cols, posWeight: pws, reduction: .mean).loss
      let err = abs(T.Wide(mean) - o) / (T.Wide(T.ulpOfOne) * o)
      #expect(err <= 8, "\(T.self) \(mode) cols \(cols): \(mean) vs \(o) (\(err) eps)")
    }
  }

  /// FuzzCrossEntropy, Double, probability targets: a masked class (-inf) with target 5e-324 and
  /// weight 0.297 has an exact coefficient 1.5e-324 > 0, so the loss is +inf; the product rounded
  /// to 0 and the kernels returned a finite loss. A coefficient now counts as 0 only when its
  /// factors make it exactly 0.
  @Test func maskedClassWithAnUnderflowingCoefficientCostsInfinity() throws {
    try checkUnderflowingCoefficient(Float.self)
    try checkUnderflowingCoefficient(Double.self)
  }

  /// Probability targets whose mass sum_j c_j overflows (an infinite class weight, or targets
  /// near the largest finite value) cost +inf, not NaN, in short rows (the row blocks) and long
  /// ones (the row path) alike. Found by review: the row blocks added the mass's compensation
  /// without `CompensatedSum.total`'s guard (inf + NaN compensation), and returned NaN.
  @Test func overflowingTargetMassCostsInfinityAtAnyRowLength() throws {
    try checkOverflowingTargetMass(Float.self)
    try checkOverflowingTargetMass(Double.self)
  }

  private func checkOverflowingTargetMass<T: ReferenceScalar>(_: T.Type) throws {
    for cols in [2, 3, 13, 40, 200] {
      let x = [T](repeating: 0, count: cols)
      var oneHot = [T](repeating: 0, count: cols)
      oneHot[0] = 1
      var weights = [T](repeating: 1, count: cols)
      weights[0] = .infinity
      let cases: [(String, [T], CrossEntropyOptions<T>)] = [
        ("infinite weight", oneHot, CrossEntropyOptions<T>(classWeights: weights, reduction: .sum)),
        ("huge targets", [T](repeating: T.greatestFiniteMagnitude, count: cols), CrossEntropyOptions<T>(reduction: .sum)),
      ]
      for (what, t, o) in cases {
        var inPlace = x
        let results: [(String, T)] = [
          ("forward", try crossEntropy(x, cols: cols, targets: t, options: o)),
          ("fused in place", try crossEntropyWithGradient(inPlace: &inPlace, cols: cols, targets: t, options: o)),
          ("reference", Reference.crossEntropy(logits: x, rows: 1, cols: cols, targets: t, settings: CrossEntropySettings(o)).loss),
        ]
        for (name, v) in results { #expect(v == .infinity, "\(T.self) cols \(cols) \(what) \(name): \(v)") }
      }
    }
  }

  /// A label smoothing so small that eps / C rounds to 0 still makes a masked class cost +inf
  /// (its exact coefficient w_j eps / C is not 0), at any row length, as the reference says.
  /// Found by review: the row blocks tested eps == 0 and the row path eps / C == 0.
  @Test func tinyLabelSmoothingStillChargesMaskedClasses() throws {
    try checkTinyLabelSmoothing(Float.self)
    try checkTinyLabelSmoothing(Double.self)
  }

  private func checkTinyLabelSmoothing<T: ReferenceScalar>(_: T.Type) throws {
    for cols in [3, 13, 40, 200] {
      var x = [T](repeating: 0, count: cols), t = [T](repeating: 0, count: cols)
      x[1] = -.infinity
      t[0] = 0.5; t[2] = 0.5
      let o = CrossEntropyOptions<T>(labelSmoothing: T.leastNonzeroMagnitude, reduction: .sum)
      var inPlace = x
      let results: [(String, T)] = [
        ("forward", try crossEntropy(x, cols: cols, targets: t, options: o)),
        ("fused in place", try crossEntropyWithGradient(inPlace: &inPlace, cols: cols, targets: t, options: o)),
        ("reference", Reference.crossEntropy(logits: x, rows: 1, cols: cols, targets: t, settings: CrossEntropySettings(o)).loss),
      ]
      for (name, v) in results { #expect(v == .infinity, "\(T.self) cols \(cols) \(name): \(v)") }
      #expect(inPlace.allSatisfy { $0.isFinite }, "\(T.self) cols \(cols): gradient \(inPlace.prefix(4))")
    }
  }

  private func checkUnderflowingCoefficient<T: ReferenceScalar>(_: T.Type) throws {
    for cols in [3, 8, 13, 40] {
      var x = [T](repeating: -8.25, count: cols), t = [T](repeating: 0, count: cols)
      x[0] = 0; x[1] = -.infinity
      t[0] = 0.89; t[1] = T.leastNonzeroMagnitude
      var weights = [T](repeating: 0.84, count: cols)
      weights[0] = 3.984375; weights[1] = 0.296875
      let o = CrossEntropyOptions<T>(classWeights: weights, reduction: .sum)
      var inPlace = x
      let results: [(String, T)] = [
        ("forward", try crossEntropy(x, cols: cols, targets: t, options: o)),
        ("fused in place", try crossEntropyWithGradient(inPlace: &inPlace, cols: cols, targets: t, options: o)),
        ("reference", Reference.crossEntropy(logits: x, rows: 1, cols: cols, targets: t, settings: CrossEntropySettings(o)).loss),
        ("oracle", T(Oracle.crossEntropy(logits: x, rows: 1, cols: cols, targets: t, settings: CrossEntropySettings(o)).loss)),
      ]
      for (name, v) in results { #expect(v == .infinity, "\(T.self) cols \(cols) \(name): \(v)") }
      #expect(inPlace.allSatisfy { $0.isFinite }, "\(T.self) cols \(cols): gradient \(inPlace.prefix(4))")
    }
  }
}
