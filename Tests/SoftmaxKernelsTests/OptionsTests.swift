import SoftmaxKernels
import SoftmaxReference
import Testing

/// Fast mode keeps the contract; threads change nothing but the speed.
@Suite("Options: fast mode and threads")
struct OptionsTests {
  @Test("fast mode keeps every semantics rule: masked exactly 0, +inf limit, NaN rows, extremes")
  func fastModeContract() throws {
    try check(Float.self)
    try check(Double.self)
    func check<T: ReferenceScalar>(_: T.Type) throws {
      let rows: [[T]] = [
        [1, 2, -.infinity, 3, -.infinity, 0.5, 7, -2, 1e-3],
        [T](repeating: -.infinity, count: 9),
        [.infinity, 1, .infinity, -.infinity, 5, 6, 7, 8, 9],
        [1, 2, .nan, 3, 4, 5, 6, 7, 8],
        [T.greatestFiniteMagnitude, -T.greatestFiniteMagnitude, 1e30, -1e30, 0, 1, 2, 3, 4],
      ]
      let x = rows.flatMap { $0 }
      for options in [KernelOptions.fast, KernelOptions(mode: .fast, threads: 2)] {
        let fast = try softmax(x, cols: 9, options: options), accurate = try softmax(x, cols: 9)
        let fastLog = try logSoftmax(x, cols: 9, options: options), accurateLog = try logSoftmax(x, cols: 9)
        let fastLSE = try logSumExp(x, cols: 9, options: options), accurateLSE = try logSumExp(x, cols: 9)
        // Rows 1-3 (fully masked, +inf, NaN) and every masked entry: exactly accurate mode's output.
        for k in x.indices where (9..<36).contains(k) || x[k] == -.infinity {
          #expect(identical(fast[k], accurate[k]), "softmax \(k)")
          #expect(identical(fastLog[k], accurateLog[k]), "log-softmax \(k)")
        }
        for r in 0..<rows.count where !accurateLSE[r].isFinite { #expect(identical(fastLSE[r], accurateLSE[r])) }
        #expect(fast[0..<9].allSatisfy { $0 >= 0 && $0 <= 1 } && fastLog[0..<9].allSatisfy { $0 <= 0 })
        #expect(fast[36..<45].allSatisfy { !$0.isNaN } && fastLog[36..<45].allSatisfy { !$0.isNaN })
        #expect(fast[9..<18].allSatisfy { $0 == 0 } && fast[27..<36].allSatisfy { $0.isNaN })
      }
    }
  }

  @Test("threads give bit-identical results to one thread", arguments: [2, 3, 0])
  func threadsAreBitIdentical(threads: Int) throws {
    try checkThreadsAreBitIdentical(Float.self, threads: threads)
    try checkThreadsAreBitIdentical(Double.self, threads: threads)
  }

  /// Long rows, and short rows (row blocks) whose split points fall inside a block; at least
  /// 3 x `minimumElementsPerThread` elements, so 3 threads really split in 3. Some rows go to
  /// the row path: a NaN, a +inf, all masked, only NaN and -inf.
  func checkThreadsAreBitIdentical<T: ReferenceScalar>(_: T.Type, threads: Int) throws {
    for (rows, cols) in [(37, 3001), (19661, 5), (9833, 10)] {
      #expect(rows * cols >= 3 * KernelOptions.minimumElementsPerThread)
      var x = (0..<(rows * cols)).map { T(($0 * 7919) % 2003) / 97 - 10 }
      x[3 * cols + cols / 2] = .nan
      x[(rows / 2) * cols + cols / 2] = .infinity
      for j in 0..<cols {
        x[(rows / 3) * cols + j] = -.infinity
        x[(rows / 3 + 1) * cols + j] = j % 2 == 0 ? .nan : -.infinity
      }
      func same(_ a: [T], _ b: [T]) -> Bool { a.count == b.count && zip(a, b).allSatisfy(identical) }
      for mode in KernelOptions.Mode.allCases {
        let one = KernelOptions(mode: mode), many = KernelOptions(mode: mode, threads: threads)
        let at = "\(T.self) \(rows)x\(cols) \(mode)"
        #expect(try same(softmax(x, cols: cols, options: one), softmax(x, cols: cols, options: many)), "\(at)")
        #expect(try same(logSoftmax(x, cols: cols, options: one), logSoftmax(x, cols: cols, options: many)), "\(at)")
        #expect(try same(logSumExp(x, cols: cols, options: one), logSumExp(x, cols: cols, options: many)), "\(at)")
        // The backward passes (always the accurate exp) and the logsumexp states, from the
        // forward outputs of this mode.
        let y = try softmax(x, cols: cols, options: one), ly = try logSoftmax(x, cols: cols, options: one)
        let dy = (0..<(rows * cols)).map { T(($0 * 31) % 17) / 8 - 1 }
        #expect(try same(softmaxBackward(dy, cols: cols, output: y, options: one), softmaxBackward(dy, cols: cols, output: y, options: many)), "\(at) softmax backward")
        #expect(try same(logSoftmaxBackward(dy, cols: cols, output: ly, options: one), logSoftmaxBackward(dy, cols: cols, output: ly, options: many)), "\(at) log-softmax backward")
        let s1 = try logSumExpStates(x, cols: cols, options: one), sn = try logSumExpStates(x, cols: cols, options: many)
        #expect(s1.count == sn.count && zip(s1, sn).allSatisfy { identical($0.max, $1.max) && identical($0.excess, $1.excess) }, "\(at) states")
      }
    }
  }

  /// Cross-entropy over row ranges: each range's kernel writes its own rows, so per-row losses
  /// and gradients are bit-identical; the reduced loss adds the ranges' compensated sums.
  @Test("cross-entropy threads: losses and gradients bit-identical, reduced loss within an ulp", arguments: [2, 3, 0])
  func crossEntropyThreads(threads: Int) throws {
    let rows = 41, cols = 2003
    var x = (0..<(rows * cols)).map { Double(($0 * 7919) % 2003) / 97 - 10 }
    x[5 * cols + 17] = -.infinity  // row 5's label (17) is masked: +inf loss
    let labels = (0..<rows).map { Int32($0 == 9 ? -100 : ($0 * 31) % cols) }  // row 9 ignored
    let targets = (0..<(rows * cols)).map { Double(($0 * 13) % 7) / Double(3 * cols) }
    let weights = (0..<cols).map { 0.5 + Double($0 % 5) / 4 }
    for mode in KernelOptions.Mode.allCases {
      for reduction in [LossReduction.mean, .sum] {
        let one = CrossEntropyOptions<Double>(
          classWeights: weights, labelSmoothing: 0.1, zLoss: 1e-3, reduction: reduction, kernel: KernelOptions(mode: mode))
        var many = one
        many.kernel.threads = threads
        func run(_ o: CrossEntropyOptions<Double>, labelled: Bool) throws -> (Double, [Double], [Double]) {
          var g = [Double](repeating: 0, count: rows * cols), l = [Double](repeating: 0, count: rows)
          let r = try x.withUnsafeBufferPointer { xb in
            try g.withUnsafeMutableBufferPointer { gb in
              try l.withUnsafeMutableBufferPointer { lb in
                labelled
                  ? try labels.withUnsafeBufferPointer { t in
                    try crossEntropyWithGradient(
                      xb, rows: rows, cols: cols, labels: t, gradient: gb, losses: lb, options: o)
                  }
                  : try targets.withUnsafeBufferPointer { t in
                    try crossEntropyWithGradient(
                      xb, rows: rows, cols: cols, targets: t, gradient: gb, losses: lb, options: o)
                  }
              }
            }
          }
          return (r, g, l)
        }
        for labelled in [true, false] {
          let (r1, g1, l1) = try run(one, labelled: labelled), (rn, gn, ln) = try run(many, labelled: labelled)
          #expect(l1.elementsEqual(ln, by: identical), "\(mode) \(reduction) labelled \(labelled): losses")
          #expect(g1.elementsEqual(gn, by: identical), "\(mode) \(reduction) labelled \(labelled): gradient")
          #expect(identical(r1, rn) || abs(r1 - rn) <= r1.ulp, "\(mode) \(reduction) labelled \(labelled): \(r1) vs \(rn)")
        }
      }
    }
  }

  /// Binary cross-entropy over row ranges, as cross-entropy: elementwise losses and gradients
  /// bit-identical, the reduced loss within an ulp; with and without posWeight, both reductions,
  /// both modes, padded strides.
  @Test("binary cross-entropy threads: losses and gradients bit-identical, reduced loss within an ulp", arguments: [2, 3, 0])
  func binaryCrossEntropyThreads(threads: Int) throws {
    try check(Double.self)
    try check(Float.self)
    func check<T: ReferenceScalar>(_: T.Type) throws {
      let rows = 41, cols = 2003, stride = cols + 5
      #expect(rows * cols >= 2 * KernelOptions.minimumElementsPerThread)
      var x = (0..<(rows * stride)).map { T(($0 * 7919) % 2003) / 97 - 10 }
      x[5 * stride + 17] = -.infinity
      x[7 * stride + 3] = .infinity
      x[11 * stride + 1000] = .nan
      let targets = (0..<(rows * stride)).map { T(($0 * 13) % 7) / 6 }
      let posWeight = (0..<cols).map { T(0.5) + T($0 % 5) / 4 }
      for mode in KernelOptions.Mode.allCases {
        for reduction in [LossReduction.mean, .sum] {
          for pw in [nil, posWeight] {
            let one = BinaryCrossEntropyOptions<T>(posWeight: pw, reduction: reduction, kernel: KernelOptions(mode: mode))
            var many = one
            many.kernel.threads = threads
            func run(_ o: BinaryCrossEntropyOptions<T>) throws -> (T, [T], [T]) {
              var g = [T](repeating: 0, count: rows * stride), l = g
              let r = try x.withUnsafeBufferPointer { xb in
                try targets.withUnsafeBufferPointer { tb in
                  try g.withUnsafeMutableBufferPointer { gb in
                    try l.withUnsafeMutableBufferPointer { lb in
                      try binaryCrossEntropyWithGradient(
                        xb, rows: rows, cols: cols, stride: stride, targets: tb, targetsStride: stride, gradient: gb,
                        gradientStride: stride, losses: lb, lossesStride: stride, gradientScale: 0.75, options: o)
                    }
                  }
                }
              }
              return (r, g, l)
            }
            let (r1, g1, l1) = try run(one), (rn, gn, ln) = try run(many)
            let at = "\(T.self) \(mode) \(reduction) posWeight \(pw != nil)"
            #expect(l1.elementsEqual(ln, by: identical), "\(at): losses")
            #expect(g1.elementsEqual(gn, by: identical), "\(at): gradient")
            #expect(identical(r1, rn) || abs(r1 - rn) <= r1.ulp, "\(at): \(r1) vs \(rn)")
          }
        }
      }
    }
  }

  @Test("a negative binary cross-entropy thread count is a typed error and writes nothing")
  func binaryCrossEntropyNegativeThreadsRejected() {
    var x: [Float] = [1, 2, 3, 4, 5, 6]
    #expect(throws: SoftmaxError.invalidThreadCount(-1)) {
      try binaryCrossEntropyWithGradient(
        inPlace: &x, cols: 3, targets: [0, 1, 0.5, 1, 0, 0.25], options: .init(kernel: KernelOptions(threads: -1)))
    }
    #expect(x == [1, 2, 3, 4, 5, 6])
  }

  @Test("a negative cross-entropy thread count is a typed error and writes nothing")
  func crossEntropyNegativeThreadsRejected() {
    var losses: [Float] = [7, 7]
    #expect(throws: SoftmaxError.invalidThreadCount(-1)) {
      try [Float](repeating: 1, count: 6).withUnsafeBufferPointer { x in
        try losses.withUnsafeMutableBufferPointer { l in
          try [Int32(0), 1].withUnsafeBufferPointer { t in
            try crossEntropy(
              x, rows: 2, cols: 3, labels: t, losses: l, options: CrossEntropyOptions(kernel: KernelOptions(threads: -1)))
          }
        }
      }
    }
    #expect(losses == [7, 7])
  }

  @Test("a negative thread count is a typed error and writes nothing")
  func negativeThreadsRejected() {
    var data: [Double] = [1, 2, 3, 4]
    #expect(throws: SoftmaxError.invalidThreadCount(-2)) {
      try softmax(inPlace: &data, cols: 2, options: KernelOptions(threads: -2))
    }
    #expect(data == [1, 2, 3, 4])
  }
}
