import SoftmaxKernels
import SoftmaxReference
import Testing

/// Every edge rule of SPEC.md for the cross-entropy family, one named test each.
@Suite("Cross-entropy edge rules")
struct CrossEntropyEdgeTests {
  /// Fused in place with Int labels: (loss, per-row losses, gradient).
  static func fused(_ x: [Float], labels: [Int], cols: Int, options: CrossEntropyOptions<Float> = .init())
    throws -> (loss: Float, losses: [Float], gradient: [Float])
  {
    var g = x
    let loss = try crossEntropyWithGradient(inPlace: &g, cols: cols, labels: labels, options: options)
    return (loss, try crossEntropyLosses(x, cols: cols, labels: labels, options: options), g)
  }

  @Test func maskedTargetClassGivesInfiniteLossAndFiniteGradient() throws {
    for options in [CrossEntropyOptions<Float>(), .init(classWeights: [1, 2, 3, 4]), .init(labelSmoothing: 0.2)] {
      let (loss, losses, g) = try Self.fused([1, -.infinity, 3, 0.5], labels: [1], cols: 4, options: options)
      #expect(loss == .infinity && losses == [.infinity])
      #expect(g.allSatisfy({ $0.isFinite }), "gradient \(g)")
      #expect(g[1] < 0)  // pushes the masked target up, as the finite limit does
    }
  }

  @Test func fullyMaskedRowGivesInfiniteLossAndZeroGradient() throws {
    let x: [Float] = [-.infinity, -.infinity, -.infinity, 1, 2, 3]
    let (loss, losses, g) = try Self.fused(x, labels: [0, 2], cols: 3, options: .init(labelSmoothing: 0.1, zLoss: 1e-3, reduction: .sum))
    #expect(loss == .infinity && losses[0] == .infinity && losses[1].isFinite)
    #expect(g[0..<3].allSatisfy { $0 == 0 }, "gradient \(g)")
    var targets = [Float](repeating: 1.0 / 3, count: 6)
    targets[3] = 1; targets[4] = 0; targets[5] = 0
    var gt = x
    let lt = try crossEntropyWithGradient(inPlace: &gt, cols: 3, targets: targets, options: .init(reduction: .sum))
    #expect(lt == .infinity && gt[0..<3].allSatisfy { $0 == 0 })
  }

  @Test func nanRowStaysNaNAndOtherRowsAreUntouched() throws {
    let x: [Float] = [1, .nan, 3, 1, 2, 3]
    let (_, losses, g) = try Self.fused(x, labels: [0, 2], cols: 3, options: .init(reduction: .sum))
    #expect(losses[0].isNaN && g[0..<3].allSatisfy({ $0.isNaN }))
    let (_, cleanLosses, cleanG) = try Self.fused(Array(x[3...]), labels: [2], cols: 3, options: .init(reduction: .sum))
    #expect(losses[1] == cleanLosses[0] && Array(g[3...]) == cleanG)
    // A NaN row with zero coefficients (weight 0 on its label) is still NaN.
    let (_, l2, _) = try Self.fused(x, labels: [0, 2], cols: 3, options: .init(classWeights: [0, 1, 1], reduction: .sum))
    #expect(l2[0].isNaN)
  }

  @Test func zeroTargetOnMaskedClassContributesZero() throws {
    let x: [Float] = [2, -.infinity, 0.5]
    let p: [Float] = [0.7, 0, 0.3]
    var g = x
    let loss = try crossEntropyWithGradient(inPlace: &g, cols: 3, targets: p)
    let lse = try logSumExp([Float(2), 0.5])
    let want = 0.7 * (lse - 2) + 0.3 * (lse - 0.5)
    #expect(abs(loss - want) <= 4 * want.ulp, "\(loss) vs \(want)")
    #expect(g[1] == 0 && g.allSatisfy({ $0.isFinite }))
  }

  @Test func meanOverZeroCountedRowsIsZeroNotNaN() throws {
    let (loss, losses, g) = try Self.fused([1, 2, 3, 4, 5, 6], labels: [-100, -100], cols: 3)
    #expect(loss == 0 && losses == [0, 0] && g.allSatisfy { $0 == 0 })
    // Zero weights on every counted label: denominator 0, mean 0.
    let w = try crossEntropy([Float](arrayLiteral: 1, 2, 3), cols: 3, labels: [1], options: .init(classWeights: [1, 0, 1]))
    #expect(w == 0)
  }

  @Test func emptyShapesDoNothing() throws {
    #expect(try crossEntropy([Float](), cols: 5, labels: [Int]()) == 0)
    let noClasses = try [Int32(-100), -100].withUnsafeBufferPointer { l in
      try crossEntropy(UnsafeBufferPointer<Float>(start: nil, count: 0), rows: 2, cols: 0, labels: l)
    }
    #expect(noClasses == 0)
    #expect(try crossEntropy([Double](), cols: 0, targets: []) == 0)
    var e = [Float]()
    #expect(try crossEntropyWithGradient(inPlace: &e, cols: 4, labels: [Int]()) == 0)
    #expect(try binaryCrossEntropy([Float](), cols: 3, targets: []) == 0)
    #expect(try softmaxBackward([Float](), cols: 0, output: []).isEmpty)
    #expect(try logSumExpStates([Float](), cols: 7).isEmpty)
  }

  @Test func extremeFiniteLogitsNeverGiveNaN() throws {
    let big: [Float] = [1e30, -1e30, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
    for a in big {
      for b in big {
        let x = [a, b, 0]
        for t in 0..<3 {
          for options in [CrossEntropyOptions<Float>(), .init(classWeights: [0.5, 1, 2], labelSmoothing: 0.3)] {
            let (loss, _, g) = try Self.fused(x, labels: [t], cols: 3, options: options)
            #expect(!loss.isNaN && loss >= 0 && !g.contains(where: { $0.isNaN }), "x \(x) t \(t): \(loss) \(g)")
          }
        }
      }
    }
  }

  @Test func positiveInfinityLogitsTakeTheLimit() throws {
    let (loss, _, g) = try Self.fused([.infinity, 1, .infinity], labels: [0], cols: 3)
    #expect(abs(loss - Float.libmLog(2)) <= 2 * Float(0.7).ulp && g == [-0.5, 0, 0.5])
    let (l2, _, _) = try Self.fused([.infinity, 1, .infinity], labels: [1], cols: 3)
    #expect(l2 == .infinity)
  }

  @Test func ignoredRowsHaveZeroLossZeroGradientAndDoNotCount() throws {
    let x: [Float] = [1, 2, 3, 9, -4, 0.5]
    let (loss, losses, g) = try Self.fused(x, labels: [2, -100], cols: 3)
    let (single, _, g1) = try Self.fused(Array(x[0..<3]), labels: [2], cols: 3)
    #expect(losses[1] == 0 && g[3...].allSatisfy { $0 == 0 })
    #expect(loss == single && Array(g[0..<3]) == g1)
  }

  @Test func weightedMeanDividesBySumOfTargetWeights() throws {
    let x: [Double] = [1, 2, 3, 3, 2, 1]
    let w: [Double] = [0.5, 2, 4]
    let losses = try crossEntropyLosses(x, cols: 3, labels: [0, 2], options: .init(classWeights: w))
    let mean = try crossEntropy(x, cols: 3, labels: [0, 2], options: .init(classWeights: w))
    #expect(abs(mean - (losses[0] + losses[1]) / (0.5 + 4)) <= 1e-15)
    #expect(abs(losses[0] - 0.5 * (try logSumExp([1.0, 2, 3]) - 1)) <= 1e-15)
  }

  @Test func inPlaceFusedCallEqualsSeparateBuffer() throws {
    let x: [Float] = (0..<(4 * 37)).map { Float(($0 * 29) % 17) - 8 }
    let labels: [Int32] = [3, 36, -100, 0]
    let o = CrossEntropyOptions<Float>(classWeights: (0..<37).map { Float($0 % 4) }, labelSmoothing: 0.1, zLoss: 1e-4)
    var separate = [Float](repeating: 0, count: x.count), inPlace = x
    let a = try x.withUnsafeBufferPointer { xb in
      try labels.withUnsafeBufferPointer { l in
        try separate.withUnsafeMutableBufferPointer { g in
          try crossEntropyWithGradient(xb, rows: 4, cols: 37, labels: l, gradient: g, options: o)
        }
      }
    }
    let b = try labels.withUnsafeBufferPointer { l in
      try inPlace.withUnsafeMutableBufferPointer { g in
        try crossEntropyWithGradient(inPlace: g, rows: 4, cols: 37, labels: l, options: o)
      }
    }
    #expect(a == b && separate == inPlace)
  }

  /// SPEC: the CE loss bound must not grow with the row length.
  @Test(arguments: [10, 1000, 32000, 128_256, 262_144])
  func accuracyDoesNotGrowWithRowLength(cols: Int) throws {
    var d = SplitMix(seed: UInt64(cols))
    let x = (0..<cols).map { _ in Float(d.next(-8...8)) }
    let t = cols / 3
    for options in [CrossEntropyOptions<Float>(), .init(labelSmoothing: 0.1)] {
      var g = x
      let loss = try crossEntropyWithGradient(inPlace: &g, cols: cols, labels: [t], options: options)
      let ora = Oracle.crossEntropy(logits: x, rows: 1, cols: cols, labels: [t], settings: CrossEntropySettings(options))
      let lse = Oracle.logSumExp(x, rows: 1, cols: cols)[0]
      let e = Accuracy.logScale(loss, oracle: ora.loss, x: x[t], lse: lse)
      #expect(e.passes, "cols \(cols) eps \(options.labelSmoothing): \(loss) vs \(ora.loss) (\(e.error) ulp)")
      // Gradient: the softmax bound on p_j * A plus 8 eps on the target term (see gradientBudget).
      let sm = Oracle.softmax(x, rows: 1, cols: cols)
      let m = x.max()!
      let c = CECase(logits: Matrix(values: x, rows: 1, cols: cols), target: .labels([t]), options: options)
      let coef = lossCoefficients(c, row: 0)
      let a = coef.reduce(0, +)
      var worst = 0.0
      for j in 0..<cols {
        let b = gradientBudget(x: x[j], max: m, p: sm[j], a: a, target: coef[j], zLoss: 0, lse: lse, scale: 1)
        worst = max(worst, errorRatio(g[j], ora.gradient[j], budget: b))
      }
      #expect(worst <= 1, "cols \(cols): gradient error \(worst) x budget")
    }
  }

  /// At the overflow threshold the exact loss can lie just past greatestFiniteMagnitude: then
  /// greatestFiniteMagnitude and inf are both correct roundings. Targets summing to 1 + 2^-53 times
  /// a huge L - x_j give such a case; every entry point must be within the budget, none NaN.
  @Test func lossAtTheOverflowThresholdIsWithinBudget() throws {
    let big = Double.greatestFiniteMagnitude
    let targets: [Double] = [0, 0.5, 0.5 + 0x1p-53, 0, 0.5, 0.5 + 0x1p-53]
    let logits: [Double] = [big, 0, 0, big, -0x1p969, 0]
    let c = CECase(logits: Matrix(values: logits, rows: 2, cols: 3), target: .probabilities(targets),
                   options: CrossEntropyOptions<Double>(reduction: .sum))
    let oracle = Oracle.crossEntropy(logits: logits, rows: 2, cols: 3, targets: targets, settings: c.settings)
    #expect(oracle.losses.allSatisfy { $0 > Double.Wide(big) && Double($0) == .infinity },
            "the case must sit past the threshold: \(oracle.losses)")
    _ = try checkCrossEntropy(c)
  }

  /// Regression (targetsAdversarialDouble on CI): a loss of greatestFiniteMagnitude against an
  /// oracle 1e292 above it (past Double's overflow threshold, so the oracle rounded to inf) was
  /// called an infinite error. The checker now compares such a finite result in the wide type,
  /// and still accepts inf exactly when the exact value overflows.
  @Test func checkerAcceptsEitherRoundingAtTheOverflowThreshold() {
    typealias W = Double.Wide  // the oracle type: its range reaches past Double's
    let big = Double.greatestFiniteMagnitude
    let pastThreshold = W(big) + W(0x1.01p970)  // rounds to inf in Double
    let budget = 4 * W(big.ulp)
    let farPast = W(1.5e308) * W(1e308)
    #expect(errorRatio(big, pastThreshold, budget: budget) <= 1)
    #expect(errorRatio(Double.infinity, pastThreshold, budget: budget) == 0)
    #expect(errorRatio(big, farPast, budget: budget) > 1)  // far past: only inf is right
    #expect(errorRatio(Double.infinity, farPast, budget: budget) == 0)
    #expect(errorRatio(-Double.infinity, pastThreshold, budget: budget) == .infinity)
    #expect(errorRatio(big, W.infinity, budget: budget) == .infinity)
  }
}
