import PropertyBased
import SoftmaxKernels
import SoftmaxReference
import Testing

/// The mergeable logsumexp state: rows split into 1...16 uneven shards (empty and fully masked
/// shards included), partials merged in random orders, and the sharded cross-entropy (loss and
/// gradient per shard) against the unsharded call and the oracle. 1000 cases each.
@Suite("Property: sharded logsumexp state and cross-entropy")
struct LogSumExpStateTests {
  static let cases = 1000

  struct ShardCase<T: ReferenceScalar>: CustomStringConvertible {
    var ce: CECase<T>
    var cuts: [Int]  // shard boundaries, 0 = cuts[0] <= ... <= cuts.last = cols
    var order: [Int]  // the order shards are processed in
    var mergeSeed: UInt64
    var description: String { "\(ce) cuts \(cuts) order \(order)" }
  }

  static func cases<T: ReferenceScalar>(_: T.Type, adversarial: Bool) -> Generator<ShardCase<T>, Shrink.None<ShardCase<T>>> {
    let base = CECases.make(T.self, cols: 0...300, adversarial: adversarial, labels: true)
    return Generator { rng in
      let c = base.run(using: &rng)
      var d = Draw(rng: rng)
      defer { rng = d.rng }
      let k = d.int(1...16)
      var cuts = (0..<(k - 1)).map { _ in d.int(0...c.logits.cols) }.sorted()
      cuts = [0] + cuts + [c.logits.cols]
      let order = Array(0..<k).shuffled(using: &d.rng)
      return ShardCase(ce: c, cuts: cuts, order: order, mergeSeed: UInt64(d.int(0...1_000_000)))
    }
  }

  /// Merges `states` in a random tree shape.
  static func mergeRandomly<T: SoftmaxScalar>(_ states: [LogSumExpState<T>], seed: UInt64) -> LogSumExpState<T> {
    var pool = states, g = SplitMix(seed: seed)
    if pool.isEmpty { return .empty }
    while pool.count > 1 {
      let i = g.int(0...(pool.count - 1))
      let a = pool.remove(at: i)
      let j = g.int(0...(pool.count - 1))
      pool[j] = g.int(0...1) == 0 ? a.merged(with: pool[j]) : pool[j].merged(with: a)
    }
    return pool[0]
  }

  static func check<T: ReferenceScalar>(_ s: ShardCase<T>, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let c = s.ce, m = c.logits, (rows, cols) = (m.rows, m.cols)
    guard case .labels(let labels) = c.target else { return }
    let labels32 = labels.map { Int32($0) }
    let k = s.cuts.count - 1
    var failures: [String] = []
    func note(_ x: String) { if failures.count < 6 { failures.append(x) } }

    // Partial states per shard, in the shuffled order.
    var shardStates = [[LogSumExpState<T>]](repeating: [], count: k)
    try m.values.withUnsafeBufferPointer { x in
      for i in s.order {
        let (lo, hi) = (s.cuts[i], s.cuts[i + 1])
        var st = [LogSumExpState<T>](repeating: .empty, count: rows)
        let slice = UnsafeBufferPointer(rebasing: x[lo...])
        try st.withUnsafeMutableBufferPointer { try logSumExpStates(slice, rows: rows, cols: hi - lo, stride: cols, states: $0) }
        shardStates[i] = st
      }
    }
    let oraLSE = Oracle.logSumExp(m.values, rows: rows, cols: cols)
    var merged = [LogSumExpState<T>]()
    for r in 0..<rows {
      let parts = shardStates.map { $0[r] }
      let a = mergeRandomly(parts, seed: s.mergeSeed), b = mergeRandomly(parts.reversed(), seed: s.mergeSeed &+ 1)
      merged.append(a)
      let row = m.row(r)
      let rowMax = row.reduce(-T.infinity) { $1 > $0 ? $1 : $0 }
      for (name, st) in [("merged", a), ("merged in another order", b)] {
        let e = Accuracy.logScale(st.logSumExp, oracle: oraLSE[r], x: rowMax, lse: oraLSE[r])
        if !e.passes { note("\(name) lse row \(r): \(st.logSumExp) vs oracle \(oraLSE[r]) (\(e.error) > \(e.bound) ulp)") }
      }
    }

    // Sharded cross-entropy: each shard writes its columns of the gradient and its part of the losses.
    // The in-place call must give the same parts and gradient bit for bit; the forward-only call's
    // parts are checked against the oracle as the fused ones.
    var grad = [T](repeating: -7, count: rows * cols)
    var inPlaceGrad = m.values
    var lossParts = [T](repeating: 0, count: rows), forwardLossParts = lossParts
    var reduced: T = 0, forwardReduced: T = 0
    try m.values.withUnsafeBufferPointer { x in
      try labels32.withUnsafeBufferPointer { l in
        try merged.withUnsafeBufferPointer { st in
          try grad.withUnsafeMutableBufferPointer { g in
            try inPlaceGrad.withUnsafeMutableBufferPointer { ig in
              for i in s.order {
                let (lo, hi) = (s.cuts[i], s.cuts[i + 1])
                var part = [T](repeating: 0, count: rows), forwardPart = part, inPlacePart = part
                let gs = UnsafeMutableBufferPointer(rebasing: g[lo...])
                let shardLoss = try part.withUnsafeMutableBufferPointer { p in
                  try crossEntropyShardWithGradient(
                    UnsafeBufferPointer(rebasing: x[lo...]), rows: rows, cols: hi - lo, stride: cols,
                    columnOffset: lo, totalCols: cols, labels: l, states: st, gradient: gs, gradientStride: cols,
                    losses: p, gradientScale: c.gradientScale, options: c.options)
                }
                reduced += shardLoss
                let forwardLoss = try forwardPart.withUnsafeMutableBufferPointer { p in
                  try crossEntropyShard(
                    UnsafeBufferPointer(rebasing: x[lo...]), rows: rows, cols: hi - lo, stride: cols,
                    columnOffset: lo, totalCols: cols, labels: l, states: st, losses: p, options: c.options)
                }
                let inPlaceLoss = try inPlacePart.withUnsafeMutableBufferPointer { p in
                  try crossEntropyShardWithGradient(
                    inPlace: UnsafeMutableBufferPointer(rebasing: ig[lo...]), rows: rows, cols: hi - lo, stride: cols,
                    columnOffset: lo, totalCols: cols, labels: l, states: st, losses: p, gradientScale: c.gradientScale,
                    options: c.options)
                }
                forwardReduced += forwardLoss
                if !identical(inPlaceLoss, shardLoss) { note("shard \(i): in-place loss \(inPlaceLoss) vs \(shardLoss)") }
                if !inPlacePart.elementsEqual(part, by: identical) { note("shard \(i): in-place row losses differ") }
                for r in 0..<rows { lossParts[r] += part[r] }
                for r in 0..<rows { forwardLossParts[r] += forwardPart[r] }
              }
            }
          }
        }
      }
    }
    if !inPlaceGrad.elementsEqual(grad, by: identical) { note("in-place sharded gradient differs from the separate one") }
    let ora = Oracle.crossEntropy(logits: m.values, rows: rows, cols: cols, labels: labels, settings: c.settings, gradientScale: c.gradientScale)
    let oraSM = Oracle.softmax(m.values, rows: rows, cols: cols)
    let z = c.settings.converted(to: T.Wide.self).zLoss
    // Budgets: those of the unsharded check, doubled for the merge and the per-shard additions.
    var total: T.Wide = 0
    for r in 0..<rows {
      let coef = lossCoefficients(c, row: r)
      let budget = 2 * lossBudget(row: m.row(r), coefficients: coef, lse: oraLSE[r], zLoss: z, loss: ora.losses[r]) + T.Wide(k) * 4 * ulpOf(ora.losses[r], T.self)
      if budget.isFinite { total += budget }
      let o = ora.losses[r]
      for (name, v) in [("sharded", lossParts[r]), ("sharded forward-only", forwardLossParts[r])] where !(errorRatio(v, o, budget: budget) <= 1) {
        note("\(name) loss row \(r): \(v) vs oracle \(o) (budget \(budget))")
      }
      let row = m.row(r)
      let rowMax = row.reduce(-T.infinity) { $1 > $0 ? $1 : $0 }
      let A = coef.reduce(0, +) + (z != 0 && oraLSE[r].isFinite ? 2 * z * oraLSE[r] : 0)
      let denom: T.Wide = c.options.reduction == .mean
        ? labels.filter { $0 != (c.options.ignoreIndex ?? -100) || c.options.ignoreIndex == nil }.map { T.Wide(c.options.classWeights?[$0] ?? 1) }.reduce(0, +) : 1
      let gscale = denom == 0 ? 0 : T.Wide(c.gradientScale) / denom
      for j in 0..<cols {
        let kk = r * cols + j
        let gb = 2 * gradientBudget(x: row[row.startIndex + j], max: rowMax, p: oraSM[kk], a: A, target: coef[j], zLoss: z, lse: oraLSE[r], scale: gscale)
        let go = ora.gradient[kk], gv = grad[kk]
        let ok = errorRatio(gv, go, budget: gb) <= 1
        if !ok { note("sharded gradient \(r),\(j): \(gv) vs oracle \(go) (budget \(gb))") }
      }
    }
    // The reduced loss: the shards' returned parts summed, against the oracle, with the row
    // budgets over the denominator plus an ulp of the loss per shard for the additions.
    let s8 = c.settings.converted(to: T.Wide.self)
    let denomAll: T.Wide = c.options.reduction == .mean
      ? labels.filter { $0 != s8.ignoreIndex }.map { s8.classWeights?[$0] ?? 1 }.reduce(0, +) : 1
    let reducedBudget = (denomAll == 0 ? 0 : total / denomAll) + T.Wide(k + 4) * 4 * ulpOf(ora.loss, T.self)
    for (name, v) in [("sharded", reduced), ("sharded forward-only", forwardReduced)] {
      let q = errorRatio(v, ora.loss, budget: reducedBudget)
      if !(q <= 1) { note("\(name) reduced loss \(v) vs oracle \(ora.loss) (\(q)x budget \(reducedBudget))") }
    }
    #expect(failures.isEmpty, "\(T.self) \(s): \(failures.joined(separator: "; "))", sourceLocation: sourceLocation)
  }

  @Test func randomFloat() async { await seededPropertyCheck(count: Self.cases, input: Self.cases(Float.self, adversarial: false)) { c in recordingErrors { try Self.check(c) } } }
  @Test func randomDouble() async { await seededPropertyCheck(count: Self.cases, input: Self.cases(Double.self, adversarial: false)) { c in recordingErrors { try Self.check(c) } } }
  @Test func adversarialFloat() async { await seededPropertyCheck(count: Self.cases, input: Self.cases(Float.self, adversarial: true)) { c in recordingErrors { try Self.check(c) } } }
  @Test func adversarialDouble() async { await seededPropertyCheck(count: Self.cases, input: Self.cases(Double.self, adversarial: true)) { c in recordingErrors { try Self.check(c) } } }

  @Test func mergeIsCommutativeAndEmptyIsNeutral() throws {
    let x: [Float] = [3, -1, 0.5, -.infinity, 7, 2]
    let a = try logSumExpStates(Array(x[0..<3]), cols: 3)[0], b = try logSumExpStates(Array(x[3...]), cols: 3)[0]
    #expect(a.merged(with: b).max == b.merged(with: a).max && a.merged(with: b).excess == b.merged(with: a).excess)
    #expect(a.merged(with: .empty).logSumExp == a.logSumExp)
    let masked = try logSumExpStates([Float](repeating: -.infinity, count: 4), cols: 4)[0]
    #expect(masked.max == -.infinity && masked.merged(with: a).logSumExp == a.logSumExp)
    let whole = try logSumExp(x)
    #expect(abs(a.merged(with: b).logSumExp - whole) <= 4 * whole.ulp)
  }
}
