import PropertyBased
import SoftmaxKernels
import SoftmaxReference
import Testing

/// Softmax and log-softmax backward from forward outputs, vs the reference and the oracle, on
/// random and adversarial rows with 0...300 columns, 1000 cases each; in place over dy must equal
/// out of place bit for bit.
@Suite("Property: softmax / log-softmax backward")
struct SoftmaxBackwardTests {
  static let cases = 1000

  /// dx budget: 8 eps relative on each product, in absolute terms, plus underflow slack.
  static func check<T: ReferenceScalar>(_ m: Matrix<T>, seed: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let (rows, cols) = (m.rows, m.cols)
    var d = SplitMix(seed: UInt64(seed))
    let dy = (0..<(rows * cols)).map { _ in T(d.next(-3...3)) }
    let eps = T.Wide(T.ulpOfOne), tiny = 4 * T.Wide(T.leastNormalMagnitude)
    var failures: [String] = []
    for log in [false, true] {
      let y = log ? try logSoftmax(m.values, cols: cols) : try softmax(m.values, cols: cols)
      let dx = log ? try logSoftmaxBackward(dy, cols: cols, output: y) : try softmaxBackward(dy, cols: cols, output: y)
      // In place over dy: the pointer form with the gradient on dy's memory, and the inPlace: form.
      var inPlace = dy, inPlaceForm = dy
      try y.withUnsafeBufferPointer { yb in
        try inPlace.withUnsafeMutableBufferPointer { b in
          let dyb = UnsafeBufferPointer(b)
          if log {
            try logSoftmaxBackward(dyb, rows: rows, cols: cols, output: yb, gradient: b)
          } else {
            try softmaxBackward(dyb, rows: rows, cols: cols, output: yb, gradient: b)
          }
        }
        try inPlaceForm.withUnsafeMutableBufferPointer { b in
          if log {
            try logSoftmaxBackward(inPlace: b, rows: rows, cols: cols, output: yb)
          } else {
            try softmaxBackward(inPlace: b, rows: rows, cols: cols, output: yb)
          }
        }
      }
      // Strided (padded rows, a different stride for y, dy and dx) and in place over y: both
      // must equal the packed out-of-place result bit for bit, and leave the padding alone.
      let (ys, dys, dxs) = (cols + cols % 3, cols + 1, cols + (cols + 2) % 4)
      let sentinel = T(-12345.5)
      var yPad = [T](repeating: sentinel, count: rows * ys), dyPad = [T](repeating: sentinel, count: rows * dys)
      var dxPad = [T](repeating: sentinel, count: rows * dxs)
      for r in 0..<rows {
        for j in 0..<cols { (yPad[r * ys + j], dyPad[r * dys + j]) = (y[r * cols + j], dy[r * cols + j]) }
      }
      var overY = y
      try yPad.withUnsafeBufferPointer { yb in
        try dyPad.withUnsafeBufferPointer { dyb in
          try dxPad.withUnsafeMutableBufferPointer { b in
            if log {
              try logSoftmaxBackward(dyb, rows: rows, cols: cols, stride: dys, output: yb, outputStride: ys, gradient: b, gradientStride: dxs)
            } else {
              try softmaxBackward(dyb, rows: rows, cols: cols, stride: dys, output: yb, outputStride: ys, gradient: b, gradientStride: dxs)
            }
          }
        }
      }
      try dy.withUnsafeBufferPointer { dyb in
        try overY.withUnsafeMutableBufferPointer { b in
          if log {
            try logSoftmaxBackward(dyb, rows: rows, cols: cols, output: UnsafeBufferPointer(b), gradient: b)
          } else {
            try softmaxBackward(dyb, rows: rows, cols: cols, output: UnsafeBufferPointer(b), gradient: b)
          }
        }
      }
      for r in 0..<rows {
        for j in 0..<dxs where failures.count < 5 {
          let v = dxPad[r * dxs + j]
          if j < cols && !identical(v, dx[r * cols + j]) { failures.append("strided differs at \(r),\(j): \(v) vs \(dx[r * cols + j])") }
          if j >= cols && v != sentinel { failures.append("stride padding written at \(r),\(j)") }
        }
        for j in 0..<cols where !identical(overY[r * cols + j], dx[r * cols + j]) && failures.count < 5 {
          failures.append("in place over y differs at \(r),\(j): \(overY[r * cols + j]) vs \(dx[r * cols + j])")
        }
      }
      let ref = log ? Reference.logSoftmaxBackward(output: y, gradOutput: dy, rows: rows, cols: cols)
        : Reference.softmaxBackward(output: y, gradOutput: dy, rows: rows, cols: cols)
      let ora = log ? Oracle.logSoftmaxBackward(output: y, gradOutput: dy, rows: rows, cols: cols)
        : Oracle.softmaxBackward(output: y, gradOutput: dy, rows: rows, cols: cols)
      for r in 0..<rows {
        var sAbs: T.Wide = 0
        for j in 0..<cols {
          let k = r * cols + j
          sAbs += log ? abs(T.Wide(dy[k])) : abs(T.Wide(dy[k]) * T.Wide(y[k]))
        }
        for j in 0..<cols {
          let k = r * cols + j
          let yw = T.Wide(y[k]), dyw = T.Wide(dy[k])
          let budget = log ? 8 * eps * (abs(dyw) + T.Wide.libmExp(yw) * sAbs) + tiny
            : 8 * eps * abs(yw) * (abs(dyw) + sAbs) + tiny
          for (name, v) in [("kernel", dx[k]), ("reference", ref[k])] {
            let o = ora[k]
            let ok = (o.isNaN && v.isNaN) || (o.isFinite && abs(T.Wide(v) - o) <= budget)
            if !ok && failures.count < 5 { failures.append("\(log ? "log-" : "")softmax backward \(name) \(r),\(j): \(v) vs \(o) (budget \(budget))") }
          }
          if !identical(inPlace[k], dx[k]) && failures.count < 5 { failures.append("in place differs at \(r),\(j)") }
          if !identical(inPlaceForm[k], dx[k]) && failures.count < 5 { failures.append("inPlace: form differs at \(r),\(j)") }
          // Exact: a masked class (y = 0, log y = -inf) gets dx = 0 (softmax) or dy (log-softmax).
          let exact: T? = !log && y[k] == 0 && ora[k] == 0 ? 0 : (log && y[k] == -.infinity && ora[k] == T.Wide(dy[k]) ? dy[k] : nil)
          if let exact, dx[k] != exact && failures.count < 5 { failures.append("\(log ? "log-" : "")softmax backward \(r),\(j) of a masked class: \(dx[k]), not exactly \(exact)") }
        }
      }
    }
    #expect(failures.isEmpty, "\(T.self) \(m): \(failures.joined(separator: "; "))", sourceLocation: sourceLocation)
  }

  @Test func randomFloat() async {
    await seededPropertyCheck(count: Self.cases, input: Rows.random(Float.self, cols: 0...300)) { c in recordingErrors { try Self.check(c, seed: c.values.count) } }
  }

  @Test func randomDouble() async {
    await seededPropertyCheck(count: Self.cases, input: Rows.random(Double.self, cols: 0...300)) { c in recordingErrors { try Self.check(c, seed: c.values.count) } }
  }

  @Test func adversarialFloat() async {
    await seededPropertyCheck(count: Self.cases, input: Rows.adversarial(Float.self, cols: 0...300)) { c in recordingErrors { try Self.check(c, seed: c.cols) } }
  }

  @Test func adversarialDouble() async {
    await seededPropertyCheck(count: Self.cases, input: Rows.adversarial(Double.self, cols: 0...300)) { c in recordingErrors { try Self.check(c, seed: c.cols) } }
  }

  /// Rows by the block: 4...27 Float rows of up to 140 columns and 2...13 Double rows of up to
  /// 72 (past 8 AVX-512 vectors), so whole row blocks, partial last blocks and adversarial rows
  /// inside a block run.
  @Test func rowBlocksFloat() async {
    await seededPropertyCheck(count: 300, input: Rows.random(Float.self, rows: 4...27, cols: 1...140)) { c in try Self.check(c, seed: c.values.count) }
    await seededPropertyCheck(count: 300, input: Rows.adversarial(Float.self, rows: 4...27, cols: 1...140)) { c in try Self.check(c, seed: c.cols) }
  }

  @Test func rowBlocksDouble() async {
    await seededPropertyCheck(count: 300, input: Rows.random(Double.self, rows: 2...13, cols: 1...72)) { c in try Self.check(c, seed: c.values.count) }
    await seededPropertyCheck(count: 300, input: Rows.adversarial(Double.self, rows: 2...13, cols: 1...72)) { c in try Self.check(c, seed: c.cols) }
  }

  /// The oracle's analytic backward formulas against central differences in the wide type: for
  /// each row, d/dx_k of g(x) = sum_j dy_j softmax(x)_j, and of sum_j dy_j logSoftmax(x)_j
  /// = sum_j dy_j x_j - (sum_j dy_j) L(x) (masked j contribute through L only), against
  /// backward(y = forward(x) in the wide type, dy), within the error bound of the difference
  /// (`centralDifference`): |d^2 softmax_j / dx_k^2| and |d^3 softmax_j / dx_k^3| are at most
  /// softmax_j, those of L at most 1/4 and 0.0963. Float (in Double) and Double (in Float80).
  static func checkFiniteDifferences<T: ReferenceScalar>(_ m: Matrix<T>, seed: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    typealias W = T.Wide
    var d = SplitMix(seed: UInt64(seed))
    let eps = W.ulpOfOne, n = W(m.cols)
    var failures: [String] = []
    for r in 0..<m.rows {
      let x = m.row(r).map { W($0) }
      guard x.allSatisfy({ !$0.isNaN && $0 != .infinity }), x.contains(where: { $0.isFinite }) else { continue }
      let dy = x.map { _ in W(T(d.next(-3...3))) }
      let mx = x.max()!, lse = Reference.logSumExp(x, rows: 1, cols: x.count)[0]
      let D = dy.reduce(0, +)
      for log in [false, true] {
        let y = log ? Reference.logSoftmax(x, rows: 1, cols: x.count) : Reference.softmax(x, rows: 1, cols: x.count)
        let analytic = log ? Reference.logSoftmaxBackward(output: y, gradOutput: dy, rows: 1, cols: x.count)
          : Reference.softmaxBackward(output: y, gradOutput: dy, rows: 1, cols: x.count)
        func g(_ v: [W]) -> W {
          if log {
            var s: W = 0
            for j in v.indices where v[j].isFinite { s += dy[j] * v[j] }
            return s - D * Reference.logSumExp(v, rows: 1, cols: v.count)[0]
          }
          return zip(dy, Reference.softmax(v, rows: 1, cols: v.count)).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let weighted = zip(dy, log ? [W]() : y).reduce(W(0)) { $0 + abs($1.0) * $1.1 }
        let (m2, m3): (W, W) = log ? (abs(D) / 4, abs(D) * W(lseThirdDerivativeBound)) : (W(1.11) * weighted, W(1.11) * weighted)
        var e: W = 0
        for j in x.indices where x[j].isFinite {
          e += log ? abs(dy[j]) * abs(x[j]) : abs(dy[j]) * y[j] * (abs(x[j] - mx) + n + 4)
        }
        if log { e += abs(D) * (abs(lse) + abs(mx) + n) }
        e = 8 * eps * (e + abs(g(x)))
        for k in x.indices where x[k].isFinite {
          let (fd, tol) = centralDifference(g, at: x, k, roundingError: e, secondDerivative: m2, thirdDerivative: m3)
          if !(abs(analytic[k] - fd) <= tol) && failures.count < 5 {
            failures.append("\(log ? "log-" : "")softmax backward \(r),\(k): oracle \(analytic[k]) vs finite difference \(fd) (tolerance \(tol))")
          }
        }
      }
    }
    #expect(failures.isEmpty, "\(T.self) \(m): \(failures.joined(separator: "; "))", sourceLocation: sourceLocation)
  }

  @Test func finiteDifferencesFloat() async {
    await seededPropertyCheck(count: 300, input: Rows.random(Float.self, rows: 1...3, cols: 1...40)) { m in Self.checkFiniteDifferences(m, seed: m.values.count) }
  }

  @Test func finiteDifferencesDouble() async {
    await seededPropertyCheck(count: 300, input: Rows.random(Double.self, rows: 1...3, cols: 1...40)) { m in Self.checkFiniteDifferences(m, seed: m.values.count) }
  }
}

/// A tiny deterministic generator for test data that need no shrinking.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
  mutating func nextBits() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func next(_ r: ClosedRange<Double>) -> Double {
    r.lowerBound + (r.upperBound - r.lowerBound) * Double(nextBits() >> 11) / Double(1 << 53)
  }
  mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(nextBits() % UInt64(r.count)) }
}
