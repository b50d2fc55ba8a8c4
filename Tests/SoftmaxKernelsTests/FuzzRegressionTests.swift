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

  /// FuzzCrossEntropy, Float, fast mode: logits [-4.768662e-07, -10.5, -inf, -88.72], label 0 gave
  /// loss 2.7536098e-05 against 2.7536083e-05 exact, 8 ulp where SPEC allows 4: x - m = -10.5 +
  /// 4.8e-7 rounds by 4 ulp relative, and the loss is that tiny sum. Every row length takes one of
  /// the paths (tail only, short rows, grouped and chunked long rows).
  @Test(arguments: KernelOptions.Mode.allCases)
  func roundingOfXMinusMaxIsCorrectedWhenTheMaxIsNearZero(mode: KernelOptions.Mode) throws {
    let head: [Float] = [-4.768662e-07, -10.5, -.infinity, -88.72]
    for cols in [4, 8, 13, 32, 33, 100, 3000, 5000] {
      let row = head + [Float](repeating: -88.72, count: cols - 4)
      let loss = try crossEntropy(logits: row, labels: [0], cols: cols, options: .init(mode: mode))
      let lse = Oracle.logSumExp(row, rows: 1, cols: cols)[0]
      let o = Oracle.crossEntropy(logits: row, rows: 1, cols: cols, labels: [0], settings: CrossEntropySettings(CrossEntropyOptions<Float>()))
      let e = Accuracy.logScale(loss, oracle: o.losses[0], x: row[0], lse: lse)
      #expect(e.passes, "\(mode) cols \(cols): loss \(loss) vs \(o.losses[0]), \(e.error) ulp")
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
  /// of 4.9e-324 where SPEC's 4 ulp(max(|x|, |lse|)) allows 4. Each underflowing term carries up
  /// to one subnormal unit; a documented limit (README, Robustness), pinned here at 4 units plus
  /// one per underflowing term, so that it cannot grow unnoticed.
  @Test(arguments: KernelOptions.Mode.allCases)
  func logScaleNearLeastNormalStaysWithinTheSubnormalAllowance(mode: KernelOptions.Mode) throws {
    for k in [1, 3, 11, 40] {
      let row = [Double.leastNormalMagnitude] + (0..<k).map { -741 - Double($0) / 8 }
      let y = try logSoftmax(row, cols: row.count, options: KernelOptions(mode: mode))
      let o = Oracle.logSoftmax(row, rows: 1, cols: row.count)
      let err = abs(Float80(y[0]) - o[0]) / Float80(Double.leastNonzeroMagnitude)
      #expect(err <= Float80(4 + k), "\(mode) k \(k): \(y[0]) vs \(o[0]), \(err) subnormal units")
    }
  }
}
