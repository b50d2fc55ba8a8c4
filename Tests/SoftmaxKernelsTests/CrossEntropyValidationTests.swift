import SoftmaxKernels
import Testing

/// Bad input: a typed error naming the argument, row and value, and no write to any output
/// (byte-for-byte unchanged buffers, including the in-place logits).
@Suite("Cross-entropy bad input")
struct CrossEntropyValidationTests {
  static let rows = 3, cols = 5
  static let logits: [Float] = (0..<15).map { Float($0) * 0.37 - 2 }

  /// Runs `body` on fresh buffers (in-place logits, separate gradient, losses) filled with a
  /// sentinel, expects `expected`, and checks every byte is unchanged.
  static func expectNoWrite(
    _ expected: SoftmaxError, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) throws(SoftmaxError) -> Void
  ) {
    var inPlace = logits, gradient = [Float](repeating: .pi, count: 15), losses = [Float](repeating: -.pi, count: 3)
    let before = (inPlace.map(\.bitPattern), gradient.map(\.bitPattern), losses.map(\.bitPattern))
    var caught: SoftmaxError?
    do {
      try inPlace.withUnsafeMutableBufferPointer { (a) throws(SoftmaxError) in
        try gradient.withUnsafeMutableBufferPointer { (g) throws(SoftmaxError) in
          try losses.withUnsafeMutableBufferPointer { (l) throws(SoftmaxError) in try body(a, g, l) }
        }
      }
    } catch { caught = error }
    #expect(caught == expected, "got \(String(describing: caught))", sourceLocation: sourceLocation)
    #expect(inPlace.map(\.bitPattern) == before.0, "in-place logits written", sourceLocation: sourceLocation)
    #expect(gradient.map(\.bitPattern) == before.1, "gradient written", sourceLocation: sourceLocation)
    #expect(losses.map(\.bitPattern) == before.2, "losses written", sourceLocation: sourceLocation)
  }

  /// Both fused calls (in place and separate) plus the forward call with `labels` and `options`.
  static func allLabelCalls(_ labels: [Int32], _ options: CrossEntropyOptions<Float>, expect e: SoftmaxError,
                            sourceLocation: SourceLocation = #_sourceLocation) {
    expectNoWrite(e, sourceLocation: sourceLocation) { (a, _, l) throws(SoftmaxError) in
      try labels.withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
        _ = try crossEntropyWithGradient(inPlace: a, rows: rows, cols: cols, labels: lb, losses: l, options: options)
      }
    }
    expectNoWrite(e, sourceLocation: sourceLocation) { (a, g, l) throws(SoftmaxError) in
      try labels.withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
        _ = try crossEntropyWithGradient(UnsafeBufferPointer(a), rows: rows, cols: cols, labels: lb, gradient: g, losses: l, options: options)
      }
    }
    expectNoWrite(e, sourceLocation: sourceLocation) { (a, _, l) throws(SoftmaxError) in
      try labels.withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
        _ = try crossEntropy(UnsafeBufferPointer(a), rows: rows, cols: cols, labels: lb, losses: l, options: options)
      }
    }
  }

  @Test func labelOutOfRangeNamesRowAndValue() {
    Self.allLabelCalls([0, 4, 5], .init(), expect: .labelOutOfRange(argument: "labels", row: 2, value: 5, cols: 5))
    Self.allLabelCalls([-1, 0, 0], .init(), expect: .labelOutOfRange(argument: "labels", row: 0, value: -1, cols: 5))
    // -100 is fine with the default ignore index but not without one.
    Self.allLabelCalls([0, -100, 1], .init(ignoreIndex: nil), expect: .labelOutOfRange(argument: "labels", row: 1, value: -100, cols: 5))
  }

  @Test func negativeOrNaNClassWeightIsRejected() {
    Self.allLabelCalls([0, 1, 2], .init(classWeights: [1, 1, -0.5, 1, 1]), expect: .invalidWeight(argument: "classWeights", index: 2, value: -0.5))
    let e: SoftmaxError? = {
      do throws(SoftmaxError) { _ = try crossEntropy(Self.logits, cols: 5, labels: [0, 1, 2], options: .init(classWeights: [1, .nan, 1, 1, 1])) } catch { return error }
      return nil
    }()
    if case .invalidWeight(let a, let i, let v)? = e { #expect(a == "classWeights" && i == 1 && v.isNaN) } else { Issue.record("got \(String(describing: e))") }
    Self.allLabelCalls([0, 1, 2], .init(classWeights: [1, 1, 1]), expect: .countMismatch(argument: "classWeights", expected: 5, actual: 3))
  }

  @Test func labelSmoothingOutsideUnitIntervalIsRejected() {
    Self.allLabelCalls([0, 1, 2], .init(labelSmoothing: 1.5), expect: .invalidOption(argument: "labelSmoothing", value: 1.5, expected: "in [0, 1]"))
    Self.allLabelCalls([0, 1, 2], .init(labelSmoothing: -0.1), expect: .invalidOption(argument: "labelSmoothing", value: Double(Float(-0.1)), expected: "in [0, 1]"))
    Self.allLabelCalls([0, 1, 2], .init(zLoss: -1), expect: .invalidOption(argument: "zLoss", value: -1, expected: "finite and >= 0"))
  }

  @Test func mismatchedShapesAreRejected() {
    // Too few labels.
    Self.allLabelCalls([0, 1], .init(), expect: .bufferTooSmall(argument: "labels", required: 3, actual: 2))
    // Targets matrix too small.
    let small = [Float](repeating: 0.2, count: 14)
    Self.expectNoWrite(.bufferTooSmall(argument: "targets", required: 15, actual: 14)) { (a, _, l) throws(SoftmaxError) in
      try small.withUnsafeBufferPointer { (p) throws(SoftmaxError) in
        _ = try crossEntropyWithGradient(inPlace: a, rows: Self.rows, cols: Self.cols, targets: p, losses: l)
      }
    }
    // Losses buffer too small.
    Self.expectNoWrite(.bufferTooSmall(argument: "losses", required: 3, actual: 2)) { (a, _, l) throws(SoftmaxError) in
      try [Int32(0), 1, 2].withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
        _ = try crossEntropyWithGradient(inPlace: a, rows: Self.rows, cols: Self.cols, labels: lb, losses: UnsafeMutableBufferPointer(rebasing: l[0..<2]))
      }
    }
    // Gradient partly overlapping the logits.
    Self.expectNoWrite(.overlappingBuffers(input: "logits", output: "gradient")) { (a, _, _) throws(SoftmaxError) in
      try [Int32(0), 1, 2].withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
        _ = try crossEntropyWithGradient(
          UnsafeBufferPointer(rebasing: a[0..<10]), rows: 2, cols: Self.cols, labels: lb,
          gradient: UnsafeMutableBufferPointer(rebasing: a[3..<15]))
      }
    }
    // Losses over the logits, over the gradient, over the targets; targets under the gradient.
    // Threads (and any kernel that writes a row's loss before reading later rows) would read
    // what they wrote.
    Self.expectNoWrite(.overlappingBuffers(input: "logits", output: "losses")) { (a, _, _) throws(SoftmaxError) in
      try [Int32(0), 1, 2].withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
        _ = try crossEntropy(
          UnsafeBufferPointer(a), rows: Self.rows, cols: Self.cols, labels: lb,
          losses: UnsafeMutableBufferPointer(rebasing: a[12..<15]))
      }
    }
    // (The in-place buffer is named "inPlace", as in every other error of the in-place forms.)
    Self.expectNoWrite(.overlappingBuffers(input: "inPlace", output: "losses")) { (a, _, _) throws(SoftmaxError) in
      try [Int32(0), 1, 2].withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
        _ = try crossEntropyWithGradient(
          inPlace: a, rows: Self.rows, cols: Self.cols, labels: lb, losses: UnsafeMutableBufferPointer(rebasing: a[0..<3]))
      }
    }
    Self.expectNoWrite(.overlappingBuffers(input: "gradient", output: "losses")) { (a, g, _) throws(SoftmaxError) in
      try [Int32(0), 1, 2].withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
        _ = try crossEntropyWithGradient(
          UnsafeBufferPointer(a), rows: Self.rows, cols: Self.cols, labels: lb, gradient: g,
          losses: UnsafeMutableBufferPointer(rebasing: g[6..<9]))
      }
    }
    Self.expectNoWrite(.overlappingBuffers(input: "targets", output: "losses")) { (a, g, _) throws(SoftmaxError) in
      _ = try crossEntropy(
        UnsafeBufferPointer(a), rows: Self.rows, cols: Self.cols, targets: UnsafeBufferPointer(g),
        losses: UnsafeMutableBufferPointer(rebasing: g[12..<15]))
    }
    Self.expectNoWrite(.overlappingBuffers(input: "targets", output: "gradient")) { (a, g, _) throws(SoftmaxError) in
      _ = try crossEntropyWithGradient(
        UnsafeBufferPointer(a), rows: Self.rows, cols: Self.cols, targets: UnsafeBufferPointer(g), gradient: g)
    }
    // Arrays: labels count, targets count, BCE posWeight, backward shapes.
    #expect(throws: SoftmaxError.countMismatch(argument: "labels", expected: 3, actual: 4)) {
      try crossEntropy(Self.logits, cols: 5, labels: [0, 1, 2, 3])
    }
    #expect(throws: SoftmaxError.countMismatch(argument: "targets", expected: 15, actual: 5)) {
      try crossEntropy(Self.logits, cols: 5, targets: [Float](repeating: 0.2, count: 5))
    }
    #expect(throws: SoftmaxError.invalidWeight(argument: "posWeight", index: 0, value: -1)) {
      try binaryCrossEntropy(Self.logits, cols: 5, targets: Self.logits, options: .init(posWeight: [-1, 1, 1, 1, 1]))
    }
    // Backward: gradOutput (the primary input) sets the shape; output must have its count.
    #expect(throws: SoftmaxError.countMismatch(argument: "output", expected: 5, actual: 15)) {
      try softmaxBackward([1, 2, 3, 4, 5], cols: 5, output: Self.logits)
    }
    #expect(throws: SoftmaxError.countMismatch(argument: "output", expected: 15, actual: 5)) {
      try logSoftmaxBackward(Self.logits, cols: 5, output: [1, 2, 3, 4, 5])
    }
    #expect(throws: SoftmaxError.countNotMultipleOfColumns(argument: "gradOutput", count: 3, cols: 5)) {
      try softmaxBackward([1, 2, 3], cols: 5, output: Self.logits)
    }
  }

  @Test func errorsDescribeArgumentRowAndValue() {
    let e = SoftmaxError.labelOutOfRange(argument: "labels", row: 7, value: 12, cols: 10)
    #expect(e.description.contains("labels") && e.description.contains("row 7") && e.description.contains("12"))
  }
}
