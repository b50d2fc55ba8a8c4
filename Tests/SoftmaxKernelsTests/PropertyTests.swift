import PropertyBased
import SoftmaxKernels
import SoftmaxReference
import Testing

/// Every forward kernel against the scalar reference and the oracle on random and adversarial
/// matrices with 0...300 columns (so every tail length of both vector widths), 1000 cases each.
@Suite("Property: forward kernels vs reference vs oracle")
struct ForwardPropertyTests {
  static let cases = 1000

  @Test func randomRowsFloat() async {
    await propertyCheck(count: Self.cases, input: Rows.random(Float.self, cols: 0...300)) { m in
      try checkForwardKernels(m)
    }
  }

  @Test func randomRowsDouble() async {
    await propertyCheck(count: Self.cases, input: Rows.random(Double.self, cols: 0...300)) { m in
      try checkForwardKernels(m)
    }
  }

  @Test func adversarialRowsFloat() async {
    await propertyCheck(count: Self.cases, input: Rows.adversarial(Float.self, cols: 0...300)) { m in
      try checkForwardKernels(m)
    }
  }

  @Test func adversarialRowsDouble() async {
    await propertyCheck(count: Self.cases, input: Rows.adversarial(Double.self, cols: 0...300)) { m in
      try checkForwardKernels(m)
    }
  }

  /// Rows spanning several 8 KiB chunks (2048 Floats, 1024 Doubles), where partial statistics
  /// are merged and in-place softmax has overwritten earlier chunks before it meets a +inf or NaN.
  @Test func multiChunkRowsFloat() async {
    await propertyCheck(count: 200, input: Rows.random(Float.self, cols: 2000...6200)) { m in
      try checkForwardKernels(m)
    }
    await propertyCheck(count: 200, input: Rows.adversarial(Float.self, cols: 2000...6200)) { m in
      try checkForwardKernels(m)
    }
  }

  @Test func multiChunkRowsDouble() async {
    await propertyCheck(count: 200, input: Rows.random(Double.self, cols: 1000...3100)) { m in
      try checkForwardKernels(m)
    }
    await propertyCheck(count: 200, input: Rows.adversarial(Double.self, cols: 1000...3100)) { m in
      try checkForwardKernels(m)
    }
  }

  /// Short rows around the vector widths (0, 1, 2, 3, 4, 5, 7, 8, 9, ... 33).
  @Test func everyShortLength() async throws {
    for cols in 0...33 {
      let f = (0..<(2 * cols)).map { Float(($0 * 37) % 11) - 5 }
      try checkForwardKernels(Matrix(values: f, rows: 2, cols: cols))
      try checkForwardKernels(Matrix(values: f.map(Double.init), rows: 2, cols: cols))
    }
  }
}
