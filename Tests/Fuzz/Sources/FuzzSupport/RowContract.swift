import SoftmaxKernels
import SoftmaxReference

/// SPEC.md's rules for one row of the forward operations, checked on a kernel's output: NaN
/// rows all NaN; masked entries exactly 0 / -inf; probabilities in [0, 1] summing to 1 within
/// the per-element bounds; log-probabilities <= 0; every element within SPEC's bound of the
/// wider-precision oracle.
public enum RowContract {
  @inlinable
  public static func softmax<T: FuzzScalar>(x: [T], y: [T], _ what: String) {
    let o = Oracle.softmax(x, rows: 1, cols: x.count)
    let m = x.max() ?? -.infinity
    if x.hasNaN {
      require(y.allSatisfy { $0.isNaN }, "\(what): NaN row gave \(y.prefix(8))")
      return
    }
    // The sum is compensated (TwoSum): a plain wide sum of 2^18 equal terms is off by several
    // ulps of 1 on its own (a constant Double row of 261920 gave 1 + 2.9e-15 in Float80 against
    // a slack of 8.9e-16).
    var sum: T.Wide = 0, error: T.Wide = 0, slack: T.Wide = 0
    for j in x.indices {
      require(y[j] >= 0 && y[j] <= 1, "\(what): y[\(j)] = \(y[j]) outside [0, 1] (x = \(x[j]))")
      if x[j] == -.infinity && m != -.infinity || m == -.infinity {
        require(y[j] == 0, "\(what): masked y[\(j)] = \(y[j])")
      }
      let e = Accuracy.softmax(y[j], oracle: o[j], x: x[j], max: m)
      require(e.passes, "\(what): y[\(j)] = \(y[j]) vs oracle \(o[j]) (x = \(x[j]), m = \(m)): \(e.error) > \(e.bound)")
      let v = T.Wide(y[j]), t = sum + v, z = t - sum
      error += (sum - (t - z)) + (v - z)
      sum = t
      slack += T.Wide(e.bound) * (o[j] < T.Wide(T.leastNormalMagnitude) ? T.Wide(T.leastNormalMagnitude) : o[j] * T.Wide(T.ulpOfOne))
    }
    if m != -.infinity && !x.isEmpty {
      sum += error
      require(abs(sum - 1) <= slack, "\(what): sum \(sum) differs from 1 by more than \(slack)")
    }
  }

  @inlinable
  public static func logSoftmax<T: FuzzScalar>(x: [T], y: [T], _ what: String) {
    let o = Oracle.logSoftmax(x, rows: 1, cols: x.count)
    let lse = Oracle.logSumExp(x, rows: 1, cols: x.count).first ?? -.infinity
    if x.hasNaN {
      require(y.allSatisfy { $0.isNaN }, "\(what): NaN row gave \(y.prefix(8))")
      return
    }
    for j in x.indices {
      require(!y[j].isNaN && y[j] <= 0, "\(what): log-probability y[\(j)] = \(y[j]) (x = \(x[j]))")
      if x[j] == -.infinity { require(y[j] == -.infinity, "\(what): masked y[\(j)] = \(y[j])") }
      let e = Accuracy.logScale(y[j], oracle: o[j], x: x[j], lse: lse)
      require(e.passes, "\(what): y[\(j)] = \(y[j]) vs oracle \(o[j]) (x = \(x[j]), lse = \(lse)): \(e.error) > \(e.bound)")
    }
  }

  @inlinable
  public static func logSumExp<T: FuzzScalar>(x: [T], lse: T, _ what: String) {
    let o = Oracle.logSumExp(x, rows: 1, cols: x.count).first ?? -.infinity
    let m = x.max() ?? -.infinity
    if x.hasNaN { require(lse.isNaN, "\(what): NaN row gave lse \(lse)"); return }
    require(!lse.isNaN && (x.isEmpty || lse >= m), "\(what): lse \(lse) below the max \(m)")
    let e = Accuracy.logScale(lse, oracle: o, x: m, lse: o)
    require(e.passes, "\(what): lse \(lse) vs oracle \(o): \(e.error) > \(e.bound) (x \(x.prefix(40)))")
  }
}
