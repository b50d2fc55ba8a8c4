import FuzzSupport
import SoftmaxKernels
import SoftmaxReference

// A vocabulary split into 1...4 column shards: logSumExpStates per shard, merged in a fuzzed
// order, then crossEntropyShardWithGradient per shard (and, bit for bit the same, the forward
// crossEntropyShard and the in-place form). Summed over shards, losses and gradient columns must
// equal the unsharded crossEntropyWithGradient within rounding; bad arguments must be rejected
// before any write. On about half of the inputs the shard calls run again with the labels in
// 64 bits: the same bits out (or the same rejection), and a label moved by 2^32 is rejected.
// 16-bit rows (Float16, BFloat16): the states and shard calls against the same on the rows
// widened to Float, whose results are checked as above (see `HalfShard`).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzShard(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  fuzzEveryType(data, size, float: ShardHarness<Float>.run, double: ShardHarness<Double>.run, half: HalfShard.self)
}

/// A drawn input: the logits, labels, the split, the merge order and the defect, with
/// everything the shard calls take but the merged states (`ShardHarness.exercise` makes them).
struct ShardDraw<T: FuzzStorable> {
  var x: [T]
  /// The labels as drawn (the unsharded call's) and as passed (a defect may change one).
  var labels: [Int32], passedLabels: [Int32]
  /// The options as drawn (the unsharded call's); `setup.options` may carry a defect.
  var options: CrossEntropyOptions<T>
  /// The left fold's order of the shards' states.
  var order: [Int]
  var setup: ShardHarness<T>.Setup
}

extension ShardDraw where T: FuzzHalf {
  /// The same input with the logits widened to Float: the same split, order, labels, options and defect.
  func widened() -> ShardDraw<Float> {
    func float(_ o: CrossEntropyOptions<T>) -> CrossEntropyOptions<Float> {
      CrossEntropyOptions<Float>(
        ignoreIndex: o.ignoreIndex, classWeights: o.classWeights, labelSmoothing: o.labelSmoothing, zLoss: o.zLoss,
        reduction: o.reduction, kernel: o.kernel)
    }
    let s = setup
    return ShardDraw<Float>(
      x: x.map { Float($0) }, labels: labels, passedLabels: passedLabels, options: float(options), order: order,
      setup: ShardHarness<Float>.Setup(
        rows: s.rows, total: s.total, stride: s.stride, shards: s.shards, logits: s.logits.widened(), merged: [],
        options: float(s.options), scale: s.scale, defect: s.defect, totalCols: s.totalCols, negRows: s.negRows,
        negCols: s.negCols, badStride: s.badStride, shortStates: s.shortStates,
        what: "Float (widened \(T.self))" + s.what.dropFirst("\(T.self)".count)))
  }
}

struct ShardHarness<T: FuzzStorable> {
  typealias A = T.Arithmetic

  /// Draws an input; every byte the harness reads is read here (in the order it always read them).
  static func draw(_ input: inout FuzzInput) -> ShardDraw<T> {
    let rows = input.int(0...4), total = input.cols(manyChunks: true), pad = input.int(0...3)
    let o = input.crossEntropyOptions(T.self, cols: total).options  // the losses are always asked for
    let scale = input.gradientScale(T.self)
    let x = input.drifting(input.scalars(T.self, count: rows * total), cols: total)
    var labels = input.labels(rows: rows, cols: total, options: o)
    let drawnLabels = labels
    // Shard boundaries: 0 = b0 <= b1 <= ... <= total.
    var bounds = [0] + (0..<input.int(0...3)).map { _ in input.int(0...total) }.sorted() + [total]
    bounds = bounds.sorted()
    let shards = (0..<(bounds.count - 1)).map { bounds[$0]..<bounds[$0 + 1] }
    let stride = total + pad
    let logits = PaddedMatrix(x, rows: rows, cols: total, stride: stride)
    let what = "\(T.self) shard \(rows)x\(total) shards \(shards) \(o.reduction) w \(o.classWeights != nil) eps \(o.labelSmoothing) z \(o.zLoss)"
    let order = shards.indices.sorted { _, _ in input.bool() }

    // One bad argument, on the first shard's call.
    let defect = Defect.draw(&input, allowed: [.negativeRows, .negativeCols, .strideTooSmall, .outputTooSmall, .badLabel, .badWeight,
                                               .badOption, .countMismatch], rows: rows, cols: total)
    var options = o
    var totalCols = total, negRows = false, negCols = false, badStride: Int?, shortStates = false
    switch defect {
    case .negativeRows: negRows = true
    case .negativeCols: negCols = true
    case .strideTooSmall: badStride = input.int(0...(total - 1))
    case .outputTooSmall: shortStates = true
    case .badLabel:  // past the vocabulary or negative (the ignore index is never in -4...-1)
      labels[input.int(0...(rows - 1))] = input.bool() ? Int32(total + input.int(0...3)) : Int32(-1 - input.int(0...3))
    case .badWeight:
      var w = options.classWeights ?? [A](repeating: 1, count: total)
      w[input.int(0...(total - 1))] = .nan
      options.classWeights = w
    case .badOption: options.labelSmoothing = 2
    case .countMismatch: totalCols = total - 1 - input.int(0...3)  // shards past the vocabulary
    default: break
    }
    let setup = Setup(
      rows: rows, total: total, stride: stride, shards: shards, logits: logits, merged: [], options: options, scale: scale,
      defect: defect, totalCols: totalCols, negRows: negRows, negCols: negCols, badStride: badStride, shortStates: shortStates,
      what: what)
    return ShardDraw(x: x, labels: drawnLabels, passedLabels: labels, options: o, order: order, setup: setup)
  }

  /// What `exercise` gave: each shard's states, their merges, the shard calls' outcome.
  struct Exercised {
    var parts: [[LogSumExpState<A>]]
    var merged: [LogSumExpState<A>], treeMerged: [LogSumExpState<A>]
    var setup: Setup
    var outcome: Outcome
  }

  /// The states of every shard, merged in the drawn order (a left fold) and as a balanced tree
  /// in the shards' own order; then the shard calls (`Setup.run`), and on about half of the
  /// inputs again with the labels in 64 bits: the same bits out, or the same rejection, and a
  /// label moved by 2^32 rejected.
  static func exercise(_ d: ShardDraw<T>, alsoWideLabels: Bool) -> Exercised {
    var setup = d.setup
    let (rows, stride, logits, what) = (setup.rows, setup.stride, setup.logits, setup.what)
    let parts: [[LogSumExpState<A>]] = setup.shards.map { s in
      var part = [LogSumExpState<A>](repeating: .empty, count: rows)
      try! logits.storage.withUnsafeBufferPointer { xb in
        try part.withUnsafeMutableBufferPointer { pb in
          let view = UnsafeBufferPointer(rebasing: xb[Swift.min(s.lowerBound, xb.count)...])
          try logSumExpStates(view, rows: rows, cols: s.count, stride: stride, states: pb)
        }
      }
      return part
    }
    func merge(_ a: [LogSumExpState<A>], _ b: [LogSumExpState<A>]) -> [LogSumExpState<A>] { zip(a, b).map { $0.merged(with: $1) } }
    func tree(_ p: ArraySlice<[LogSumExpState<A>]>) -> [LogSumExpState<A>] {
      p.count == 1 ? p.first! : merge(tree(p.prefix(p.count / 2)), tree(p.suffix(p.count - p.count / 2)))
    }
    let merged = d.order.reduce([LogSumExpState<A>](repeating: .empty, count: rows)) { merge($0, parts[$1]) }
    let treeMerged = tree(parts[...])
    setup.merged = merged

    let (labels, defect) = (d.passedLabels, setup.defect)
    let outcome = setup.run(labels: labels)
    if alsoWideLabels {
      // The same values in 64 bits: the same bits out, or the same rejection.
      let wide = setup.run(labels: labels.map { Int64($0) })
      switch (outcome, wide) {
      case (.skipped, .skipped): break
      case (.rejected(let a), .rejected(let b)):
        require("\(a)" == "\(b)", "\(what): 64-bit labels rejected with \(b), 32-bit with \(a)")
      case (.ran(let a), .ran(let b)):
        require(sameBits([a.sum], [b.sum]) && sameBits(a.losses, b.losses) && sameBits(a.gradient.storage, b.gradient.storage),
                "\(what): 64-bit labels gave total \(b.sum), 32-bit \(a.sum) (or the losses or gradient differ)")
      default: require(false, "\(what): 64-bit labels gave \(wide), 32-bit \(outcome)")
      }
      // A label moved by 2^32, which truncation would take back to a valid label or the ignore
      // index, must be rejected before any write.
      if case .ran = outcome, defect == nil, rows > 0, setup.total > 0 {
        var past = labels.map { Int64($0) }
        past[rows - 1] += rows % 2 == 0 ? 1 << 32 : -(1 << 32)
        var bad = setup
        bad.defect = .badLabel
        if case .ran = bad.run(labels: past) { require(false, "\(what): a label moved by 2^32 was accepted") }
      }
    }
    if case .ran(let result) = outcome { require(result.gradient.paddingIsUntouched(), "\(what): gradient padding written") }
    return Exercised(parts: parts, merged: merged, treeMerged: treeMerged, setup: setup, outcome: outcome)
  }

  /// What one run of the shard calls gave.
  enum Outcome {
    /// The drawn defect does not apply to this split: the input is skipped.
    case skipped
    /// The first shard's call was rejected (as its defect demands), with no write.
    case rejected(SoftmaxError)
    /// Every shard's call ran.
    case ran(Sums)
  }

  /// The shards' results, summed over shards (the gradient columns written by each).
  struct Sums {
    var sum: A
    var losses: [A]
    var gradient: PaddedMatrix<T>
  }

  /// Everything the shard calls take but the labels.
  struct Setup {
    var rows: Int, total: Int, stride: Int
    var shards: [Range<Int>]
    var logits: PaddedMatrix<T>
    var merged: [LogSumExpState<A>]
    var options: CrossEntropyOptions<T>
    var scale: A
    /// The one bad argument, on the first shard's call.
    var defect: Defect?
    var totalCols: Int, negRows: Bool, negCols: Bool, badStride: Int?, shortStates: Bool
    var what: String

    /// `crossEntropyShardWithGradient` on every shard into one gradient matrix. Each valid call
    /// is also made as the forward `crossEntropyShard` (the same losses and part, bit for bit)
    /// and in place over a copy of the shard's logits (the same gradient columns, bit for bit).
    func run<L: ClassLabel>(labels: [L]) -> Outcome {
      var gradient = PaddedMatrix<T>(rows: rows, cols: total, stride: stride, slack: 1)
      var losses = [A](repeating: 0, count: rows)
      var sum: A = 0
      for (k, s) in shards.enumerated() {
        let firstCall = k == 0
        var part = [A](repeating: sentinel(A.self), count: rows)
        let thisDefect = firstCall ? defect : nil
        let shardCols = firstCall && negCols ? -1 : s.count
        let shardStride = firstCall && badStride != nil ? Swift.min(badStride!, s.count - 1) : stride
        // A stride defect needs a nonempty first shard; a column-count defect needs the shard to reach past totalCols.
        let effective: Defect? = switch thisDefect {
        case .strideTooSmall: s.count > 0 ? thisDefect : nil
        case .countMismatch: totalCols >= 0 && s.upperBound > totalCols ? thisDefect : nil
        default: thisDefect
        }
        if thisDefect != nil && effective == nil { return .skipped }  // not applicable to this split: skip the input
        let before = gradient.storage
        let passedRows = firstCall && negRows ? -1 : rows
        let stateCount = firstCall && shortStates ? rows - 1 : rows
        var thrown: SoftmaxError?
        var partTotal: A = 0
        let ran = expectOutcome(effective, buffers: { ([logits.storage, gradient.storage], [part]) }, what) { () throws(SoftmaxError) in
          do throws(SoftmaxError) {
            partTotal = try logits.storage.withUnsafeBufferPointer { (xb) throws(SoftmaxError) in
              try gradient.storage.withUnsafeMutableBufferPointer { (gb) throws(SoftmaxError) in
                try labels.withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
                  try merged.withUnsafeBufferPointer { (sb) throws(SoftmaxError) in
                    try part.withUnsafeMutableBufferPointer { (pb) throws(SoftmaxError) in
                      let start = Swift.min(s.lowerBound, xb.count)
                      return try crossEntropyShardWithGradient(
                        UnsafeBufferPointer(rebasing: xb[start...]), rows: passedRows, cols: shardCols,
                        stride: shardStride, columnOffset: s.lowerBound, totalCols: totalCols, labels: lb,
                        states: UnsafeBufferPointer(rebasing: sb[0..<stateCount]),
                        gradient: UnsafeMutableBufferPointer(rebasing: gb[Swift.min(s.lowerBound, gb.count)...]), gradientStride: stride,
                        losses: pb, gradientScale: scale, options: options)
                    }
                  }
                }
              }
            }
          } catch { thrown = error; throw error }
        }
        sum += partTotal
        if !ran {
          require(sameBits(before, gradient.storage), "\(what): rejected shard call wrote the gradient")
          return .rejected(thrown!)
        }
        otherForms(shard: s, labels: labels, part: part, partTotal: partTotal, gradient: gradient)
        for r in 0..<rows { losses[r] += part[r] }
      }
      return .ran(Sums(sum: sum, losses: losses, gradient: gradient))
    }

    /// The forward call and the in-place call of shard `s`, against the separate-gradient call
    /// that returned `partTotal` and wrote `part` and `gradient`'s columns of `s`.
    func otherForms<L: ClassLabel>(shard s: Range<Int>, labels: [L], part: [A], partTotal: A, gradient: PaddedMatrix<T>) {
      let at = "\(what) shard \(s)"
      var forwardLosses = [A](repeating: sentinel(A.self), count: rows)
      var inPlace = PaddedMatrix<T>(rows: rows, cols: s.count, stride: stride)
      for r in 0..<rows { for j in 0..<s.count { inPlace.storage[r * stride + j] = logits.storage[r * stride + s.lowerBound + j] } }
      var inPlaceLosses = [A](repeating: sentinel(A.self), count: rows)
      let (forwardTotal, inPlaceTotal) = try! labels.withUnsafeBufferPointer { lb in
        try merged.withUnsafeBufferPointer { sb in
          let f = try logits.storage.withUnsafeBufferPointer { xb in
            try forwardLosses.withUnsafeMutableBufferPointer { pb in
              try crossEntropyShard(
                UnsafeBufferPointer(rebasing: xb[Swift.min(s.lowerBound, xb.count)...]), rows: rows, cols: s.count, stride: stride,
                columnOffset: s.lowerBound, totalCols: totalCols, labels: lb, states: sb, losses: pb, options: options)
            }
          }
          let i = try inPlace.storage.withUnsafeMutableBufferPointer { xb in
            try inPlaceLosses.withUnsafeMutableBufferPointer { pb in
              try crossEntropyShardWithGradient(
                inPlace: xb, rows: rows, cols: s.count, stride: stride, columnOffset: s.lowerBound, totalCols: totalCols, labels: lb,
                states: sb, losses: pb, gradientScale: scale, options: options)
            }
          }
          return (f, i)
        }
      }
      require(sameBits(forwardLosses, part) && sameBits(inPlaceLosses, part), "\(at): forward or in-place losses differ from the separate call's")
      require(sameBits([forwardTotal, inPlaceTotal], [partTotal, partTotal]),
              "\(at): forward part \(forwardTotal), in place \(inPlaceTotal), separate \(partTotal)")
      for r in 0..<rows {
        let separate = s.isEmpty ? [] : Array(gradient.storage[(r * stride + s.lowerBound)..<(r * stride + s.upperBound)])
        require(sameBits(inPlace.row(r), separate), "\(at): in-place gradient row \(r) differs from the separate call's")
      }
    }
  }

}

extension ShardHarness where T: FuzzScalar {
  static func run(_ input: inout FuzzInput) {
    let d = draw(&input)
    let e = exercise(d, alsoWideLabels: input.alsoWideLabels)
    checkStates(d, e)
    guard case .ran(let result) = e.outcome else { return }
    compareWithWhole(x: d.x, logits: e.setup.logits, labels: d.labels, options: d.options, scale: e.setup.scale,
                     shards: e.setup.shards.count, sum: result.sum, losses: result.losses, gradient: result.gradient, e.setup.what)
  }

  /// The merged state is the whole row's: its logsumexp within SPEC's bound of the oracle, in
  /// either merge order.
  static func checkStates(_ d: ShardDraw<T>, _ e: Exercised) {
    let (rows, total, what) = (e.setup.rows, e.setup.total, e.setup.what)
    for r in 0..<rows where total > 0 {
      let row = Array(d.x[(r * total)..<((r + 1) * total)])
      RowContract.logSumExp(x: row, lse: e.merged[r].logSumExp, "\(what) merged state (order \(d.order)) row \(r)")
      RowContract.logSumExp(x: row, lse: e.treeMerged[r].logSumExp, "\(what) tree-merged state row \(r)")
    }
  }

  /// The sharded result against the unsharded call.
  static func compareWithWhole(
    x: [T], logits: PaddedMatrix<T>, labels: [Int32], options o: CrossEntropyOptions<T>, scale: T, shards: Int, sum: T,
    losses: [T], gradient: PaddedMatrix<T>, _ what: String
  ) {
    let (rows, cols) = (logits.rows, logits.cols)
    var whole = logits
    var wholeLosses = [T](repeating: 0, count: rows)
    let wholeTotal = try! whole.storage.withUnsafeMutableBufferPointer { xb in
      try labels.withUnsafeBufferPointer { lb in
        try wholeLosses.withUnsafeMutableBufferPointer { l in
          try crossEntropyWithGradient(inPlace: xb, rows: rows, cols: cols, stride: logits.stride, labels: lb, losses: l,
                                       gradientScale: scale, options: o)
        }
      }
    }
    let eps = T.ulpOfOne
    let maxW = Swift.max(1, o.classWeights?.max() ?? 1)
    // scale / D, D the mean's denominator (1 for sum and none), from the whole call's results.
    let rowSum = wholeLosses.reduce(0, +)
    let unit = abs(scale) * (rowSum.isFinite && rowSum != 0 && wholeTotal.isFinite && wholeTotal != 0 ? abs(wholeTotal / rowSum) : 1)
    for r in 0..<rows {
      let row = Array(x[(r * cols)..<((r + 1) * cols)])
      let at = "\(what) row \(r) label \(labels[r]) x \(row.prefix(8))"
      let lse = merged(row)
      // Gradient columns: the shards see the same p_j = exp(x_j - m) / (1 + excess) up to the
      // merge's rounding; relative to the row's largest entry, the cancelling terms
      // scale / D * (A p_j, c_j) with A <= max weight, and the z-loss term 2 z L p_j.
      let ga = gradient.row(r), gb = whole.row(r)
      let big = gb.map { abs($0) }.filter { $0.isFinite }.max() ?? 0
      let zTerm = lse.isFinite ? 2 * o.zLoss * abs(lse) * unit * 8 : 0
      for j in 0..<cols {
        let tol = 32 * eps * (abs(gb[j]) + big + 2 * unit * maxW + zTerm) + 4 * T.leastNormalMagnitude * Swift.max(1, unit * maxW)
        require(sameBits([ga[j]], [gb[j]]) || abs(ga[j] - gb[j]) <= tol,
                "\(at): gradient column \(j) sharded \(ga[j]), whole \(gb[j]) (tolerance \(tol))")
      }
      let (a, b) = (losses[r], wholeLosses[r])
      if !b.isFinite || !a.isFinite {
        require(sameBits([a], [b]) || (a.isNaN && b.isNaN), "\(at): sharded loss \(a), whole \(b)")
        continue
      }
      guard o.zLoss == 0 else { continue }  // the z-loss term z L^2 amplifies L's rounding: no simple budget
      let mag = ([abs(b), abs(lse)] + row.map { abs($0) }).filter { $0.isFinite }.max() ?? 0
      let budget = T(8 * (shards + 1)) * Swift.max(mag.ulp, T.leastNonzeroMagnitude) * maxW
      require(abs(a - b) <= budget, "\(at): sharded loss \(a), whole \(b) (budget \(budget))")
    }
    if wholeTotal.isFinite && o.zLoss == 0 {
      let mag = Swift.max(abs(wholeTotal), (x.filter { $0.isFinite }.map { abs($0) }.max() ?? 0))
      require(abs(sum - wholeTotal) <= T(8 * (shards + 1) * Swift.max(rows, 1)) * Swift.max(mag.ulp, T.leastNonzeroMagnitude) * maxW * 4,
              "\(what): sharded total \(sum), whole \(wholeTotal)")
    } else if !wholeTotal.isFinite {
      require(sameBits([sum], [wholeTotal]) || (sum.isNaN && wholeTotal.isNaN) || o.zLoss != 0,
              "\(what): sharded total \(sum), whole \(wholeTotal)")
    }
  }

  /// The row's logsumexp from the kernel (for the loss budget's scale).
  static func merged(_ row: [T]) -> T { row.isEmpty ? -.infinity : try! logSumExp(row) }
}

/// 16-bit rows: the states and shard calls on them, and the same on the rows widened to Float.
/// The same states (each shard's and both merges, bit for bit), the same rejection or skip, or
/// the same Float results (part totals summed, losses) and each 16-bit gradient element the
/// Float one rounded once; the Float results against the oracle and the unsharded call
/// (`ShardHarness<Float>`).
enum HalfShard: HalfHarness {
  static func run<H: FuzzHalf>(_: H.Type, _ input: inout FuzzInput) {
    let d = ShardHarness<H>.draw(&input)
    let wd = d.widened()
    let half = ShardHarness<H>.exercise(d, alsoWideLabels: input.alsoWideLabels)
    let float = ShardHarness<Float>.exercise(wd, alsoWideLabels: false)
    let what = d.setup.what
    func bits(_ s: [LogSumExpState<Float>]) -> [Float] { s.flatMap { [$0.max, $0.excess] } }
    for (k, (a, b)) in zip(half.parts, float.parts).enumerated() { requireSame(bits(a), bits(b), "\(what): states of shard \(k)") }
    requireSame(bits(half.merged), bits(float.merged), "\(what): merged states")
    requireSame(bits(half.treeMerged), bits(float.treeMerged), "\(what): tree-merged states")
    switch (half.outcome, float.outcome) {
    case (.skipped, .skipped): break
    case (.rejected(let a), .rejected(let b)): requireSameOutcome(a, b, what)
    case (.ran(let a), .ran(let b)):
      requireSame([a.sum] + a.losses, [b.sum] + b.losses, "\(what): total and losses")
      for r in 0..<a.gradient.rows { requireRounded(a.gradient.row(r), b.gradient.row(r), "\(what): gradient row \(r)") }
    default: require(false, "\(what): the 16-bit calls gave \(half.outcome), the Float ones \(float.outcome)")
    }
    ShardHarness<Float>.checkStates(wd, float)
    guard case .ran(let result) = float.outcome else { return }
    ShardHarness<Float>.compareWithWhole(
      x: wd.x, logits: float.setup.logits, labels: wd.labels, options: wd.options, scale: float.setup.scale,
      shards: float.setup.shards.count, sum: result.sum, losses: result.losses, gradient: result.gradient, float.setup.what)
  }
}
