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
      let dx = log ? try logSoftmaxBackward(output: y, gradOutput: dy, cols: cols) : try softmaxBackward(output: y, gradOutput: dy, cols: cols)
      var inPlace = dy
      try y.withUnsafeBufferPointer { yb in
        try inPlace.withUnsafeMutableBufferPointer { b in
          let dyb = UnsafeBufferPointer(b)
          if log {
            try logSoftmaxBackward(output: yb, gradOutput: dyb, rows: rows, cols: cols, into: b)
          } else {
            try softmaxBackward(output: yb, gradOutput: dyb, rows: rows, cols: cols, into: b)
          }
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
        }
      }
    }
    #expect(failures.isEmpty, "\(T.self) \(m): \(failures.joined(separator: "; "))", sourceLocation: sourceLocation)
  }

  @Test func randomFloat() async {
    await propertyCheck(count: Self.cases, input: Rows.random(Float.self, cols: 0...300)) { c in recordingErrors { try Self.check(c, seed: c.values.count) } }
  }

  @Test func randomDouble() async {
    await propertyCheck(count: Self.cases, input: Rows.random(Double.self, cols: 0...300)) { c in recordingErrors { try Self.check(c, seed: c.values.count) } }
  }

  @Test func adversarialFloat() async {
    await propertyCheck(count: Self.cases, input: Rows.adversarial(Float.self, cols: 0...300)) { c in recordingErrors { try Self.check(c, seed: c.cols) } }
  }

  @Test func adversarialDouble() async {
    await propertyCheck(count: Self.cases, input: Rows.adversarial(Double.self, cols: 0...300)) { c in recordingErrors { try Self.check(c, seed: c.cols) } }
  }

  @Test func gradientMatchesFiniteDifferences() throws {
    // d/dx of L = sum_j dy_j softmax(x)_j (and of sum_j dy_j logSoftmax(x)_j) by central differences
    // on the oracle in Double, against the Float kernels.
    var d = SplitMix(seed: 7)
    for cols in [1, 2, 5, 8, 13, 31] {
      let x = (0..<cols).map { _ in Float(d.next(-4...4)) }
      let dy = (0..<cols).map { _ in Float(d.next(-1...1)) }
      for log in [false, true] {
        let y = log ? try logSoftmax(x, cols: cols) : try softmax(x, cols: cols)
        let dx = log ? try logSoftmaxBackward(output: y, gradOutput: dy, cols: cols) : try softmaxBackward(output: y, gradOutput: dy, cols: cols)
        func f(_ v: [Double]) -> Double {
          let out = log ? Reference.logSoftmax(v, rows: 1, cols: cols) : Reference.softmax(v, rows: 1, cols: cols)
          return zip(out, dy).reduce(0) { $0 + $1.0 * Double($1.1) }
        }
        for j in 0..<cols {
          var p = x.map(Double.init), q = p
          let h = 1e-5
          p[j] += h
          q[j] -= h
          let fd = (f(p) - f(q)) / (2 * h)
          #expect(abs(fd - Double(dx[j])) <= 1e-5, "\(log ? "log-" : "")softmax backward cols \(cols) j \(j): \(dx[j]) vs fd \(fd)")
        }
      }
    }
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
