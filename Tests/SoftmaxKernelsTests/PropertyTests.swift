import PropertyBased
import SoftmaxKernels
import SoftmaxReference
import Testing

/// Every forward kernel against the scalar reference and the oracle on random and adversarial
/// matrices with 0...300 columns (so every tail length of both vector widths), 1000 cases each.
@Suite("Property: forward kernels (accurate and fast mode) vs reference vs oracle")
struct ForwardPropertyTests {
  static let cases = 1000

  @Test func randomRowsFloat() async {
    await seededPropertyCheck(count: Self.cases, input: Rows.random(Float.self, cols: 0...300)) { m in
      // PropertyBased counts a thrown error as a pass: record it instead.
      recordingErrors { for mode in KernelOptions.Mode.allCases { try checkForwardKernels(m, options: KernelOptions(mode: mode)) } }
    }
  }

  @Test func randomRowsDouble() async {
    await seededPropertyCheck(count: Self.cases, input: Rows.random(Double.self, cols: 0...300)) { m in
      // PropertyBased counts a thrown error as a pass: record it instead.
      recordingErrors { for mode in KernelOptions.Mode.allCases { try checkForwardKernels(m, options: KernelOptions(mode: mode)) } }
    }
  }

  @Test func adversarialRowsFloat() async {
    await seededPropertyCheck(count: Self.cases, input: Rows.adversarial(Float.self, cols: 0...300)) { m in
      // PropertyBased counts a thrown error as a pass: record it instead.
      recordingErrors { for mode in KernelOptions.Mode.allCases { try checkForwardKernels(m, options: KernelOptions(mode: mode)) } }
    }
  }

  @Test func adversarialRowsDouble() async {
    await seededPropertyCheck(count: Self.cases, input: Rows.adversarial(Double.self, cols: 0...300)) { m in
      // PropertyBased counts a thrown error as a pass: record it instead.
      recordingErrors { for mode in KernelOptions.Mode.allCases { try checkForwardKernels(m, options: KernelOptions(mode: mode)) } }
    }
  }

  /// Short rows by the block of rows (`RowBlock`: `width` rows turned sideways, for rows of fewer
  /// than 8 vectors; the columns reach past that limit for every width: 128 Float / 64 Double
  /// columns on AVX-512, so 1...140 and 1...72): whole
  /// blocks, blocks with rows that have a NaN, a +inf or only -inf (adversarial rows are drawn
  /// row by row), and a last partial block; each row must also match the row computed alone.
  @Test func rowBlocksFloat() async {
    await seededPropertyCheck(count: Self.cases, input: Rows.random(Float.self, rows: 4...27, cols: 1...140)) { m in
      // PropertyBased counts a thrown error as a pass: record it instead.
      recordingErrors { for mode in KernelOptions.Mode.allCases { try checkRowBlocks(m, options: KernelOptions(mode: mode)) } }
    }
    await seededPropertyCheck(count: Self.cases, input: Rows.adversarial(Float.self, rows: 4...27, cols: 1...140)) { m in
      // PropertyBased counts a thrown error as a pass: record it instead.
      recordingErrors { for mode in KernelOptions.Mode.allCases { try checkRowBlocks(m, options: KernelOptions(mode: mode)) } }
    }
  }

  @Test func rowBlocksDouble() async {
    await seededPropertyCheck(count: Self.cases, input: Rows.random(Double.self, rows: 2...13, cols: 1...72)) { m in
      // PropertyBased counts a thrown error as a pass: record it instead.
      recordingErrors { for mode in KernelOptions.Mode.allCases { try checkRowBlocks(m, options: KernelOptions(mode: mode)) } }
    }
    await seededPropertyCheck(count: Self.cases, input: Rows.adversarial(Double.self, rows: 2...13, cols: 1...72)) { m in
      // PropertyBased counts a thrown error as a pass: record it instead.
      recordingErrors { for mode in KernelOptions.Mode.allCases { try checkRowBlocks(m, options: KernelOptions(mode: mode)) } }
    }
  }

  func checkRowBlocks<T: ReferenceScalar>(_ m: Matrix<T>, options: KernelOptions) throws {
    try checkForwardKernels(m, options: options)
    try checkRowsIndependent(m, options: options)
  }

  /// Rows spanning several 8 KiB chunks (2048 Floats, 1024 Doubles), where partial statistics
  /// are merged and in-place softmax has overwritten earlier chunks before it meets a +inf or NaN.
  @Test func multiChunkRowsFloat() async {
    await seededPropertyCheck(count: 200, input: Rows.random(Float.self, cols: 2000...6200)) { m in
      // PropertyBased counts a thrown error as a pass: record it instead.
      recordingErrors { for mode in KernelOptions.Mode.allCases { try checkForwardKernels(m, options: KernelOptions(mode: mode)) } }
    }
    await seededPropertyCheck(count: 200, input: Rows.adversarial(Float.self, cols: 2000...6200)) { m in
      // PropertyBased counts a thrown error as a pass: record it instead.
      recordingErrors { for mode in KernelOptions.Mode.allCases { try checkForwardKernels(m, options: KernelOptions(mode: mode)) } }
    }
  }

  @Test func multiChunkRowsDouble() async {
    await seededPropertyCheck(count: 200, input: Rows.random(Double.self, cols: 1000...3100)) { m in
      // PropertyBased counts a thrown error as a pass: record it instead.
      recordingErrors { for mode in KernelOptions.Mode.allCases { try checkForwardKernels(m, options: KernelOptions(mode: mode)) } }
    }
    await seededPropertyCheck(count: 200, input: Rows.adversarial(Double.self, cols: 1000...3100)) { m in
      // PropertyBased counts a thrown error as a pass: record it instead.
      recordingErrors { for mode in KernelOptions.Mode.allCases { try checkForwardKernels(m, options: KernelOptions(mode: mode)) } }
    }
  }

  /// Found by `adversarialRowsDouble`: with Kahan's summation the rounding error of
  /// -1 + exp(-8.9) was dropped when the exact max term 1 came after it, leaving lse 769 ulp off.
  @Test func regressionCompensationLostBeforeTheMaxTerm() throws {
    let row: [Double] = [-8.904532205288728, -1e+30, -1e+38, .leastNonzeroMagnitude, -.infinity, -.infinity, -.infinity,
                         -1e+38, -49.712265369797706, -57.56971469987453]
    for mode in KernelOptions.Mode.allCases {
      try checkForwardKernels(Matrix(values: row, rows: 1, cols: row.count), options: KernelOptions(mode: mode))
      try checkForwardKernels(Matrix(values: row.map(Float.init), rows: 1, cols: row.count), options: KernelOptions(mode: mode))
    }
  }

  /// Found by `adversarialRowsFloat` in fast mode: exp(-88.x) is subnormal, and the fast exp
  /// flushed it to 0, so logsumexp of a row led by leastNormalMagnitude lost its whole excess.
  @Test func regressionFastExpFlushedSubnormals() throws {
    let row: [Float] = [1.1754944e-38, -88.5, -1e30, -90, -1e30, -88.1, -100, -1e30, -1e30]
    for mode in KernelOptions.Mode.allCases {
      try checkForwardKernels(Matrix(values: row, rows: 1, cols: row.count), options: KernelOptions(mode: mode))
    }
  }

  /// Short rows around the vector widths (0, 1, 2, 3, 4, 5, 7, 8, 9, ... 33).
  @Test func everyShortLength() async throws {
    for cols in 0...33 {
      let f = (0..<(2 * cols)).map { Float(($0 * 37) % 11) - 5 }
      for mode in KernelOptions.Mode.allCases {
        try checkForwardKernels(Matrix(values: f, rows: 2, cols: cols), options: KernelOptions(mode: mode))
        try checkForwardKernels(Matrix(values: f.map(Double.init), rows: 2, cols: cols), options: KernelOptions(mode: mode))
      }
    }
  }
}
