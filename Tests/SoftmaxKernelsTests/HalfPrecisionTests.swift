@_spi(Testing) import SoftmaxKernels
import Testing

// Half-precision storage (Float16, BFloat16): every operation on rows of a 16-bit type must give
// the Float kernel's result on the widened rows, rounded once to the storage type: bit for bit,
// since the 16-bit kernels run the Float kernels' arithmetic on the same Float values (losses,
// logsumexp values and states, which are Float, equal the Float kernel's exactly). Random and
// adversarial rows of awkward lengths, fixed seeds, on every backend this CPU runs and in both
// modes.

/// A small deterministic generator (fixed seeds).
private struct Lcg {
  var state: UInt64
  mutating func next() -> Double {
    state = state &* 6364136223846793005 &+ 1442695040888963407
    return Double(state >> 11) / Double(1 << 53)
  }
  mutating func int(_ n: Int) -> Int { Int(next() * Double(n)) % n }
}

/// Lengths around the vector widths, the row-block limit (8 vectors), the short-row limit and
/// the 2048-element chunk (fewer in debug builds and under qemu, as `LongRowLengths`).
private let lengths = LongRowLengths.reduced
  ? [1, 3, 10, 17, 64, 65, 129, 2049]
  : [1, 2, 3, 7, 10, 16, 17, 31, 33, 63, 64, 65, 100, 127, 129, 255, 257, 1000, 2047, 2049, 5000]

/// The kinds of row: plain random at three scales, masked entries, a fully masked row, +inf
/// entries, a NaN, the type's extremes, a wide spread that sends log-probabilities past the range.
private enum RowKind: CaseIterable { case small, medium, large, masked, fullyMasked, infinite, nan, extremes, spread }

private func halfRow<H: SoftmaxScalar>(_: H.Type, count n: Int, kind: RowKind, seed: UInt64) -> [H] {
  var g = Lcg(state: seed)
  let big = Double(H.greatestFiniteMagnitude)
  var x = (0..<n).map { _ -> H in
    switch kind {
    case .small: H(g.next() * 2 - 1)
    case .medium, .masked, .fullyMasked, .infinite, .nan: H(g.next() * 24 - 12)
    case .large: H(g.next() * 200 - 100)
    case .extremes: H([big, -big, 0, 1, -1][g.int(5)] * (g.next() < 0.5 ? 1 : 0.999))
    case .spread: H(g.next() < 0.5 ? -Double(Swift.min(60000, big)) * g.next() : g.next() * 30)
    }
  }
  switch kind {
  case .masked: for _ in 0..<Swift.max(1, n / 4) { x[g.int(n)] = -.infinity }
  case .fullyMasked: x = [H](repeating: -.infinity, count: n)
  case .infinite: x[g.int(n)] = .infinity; if n > 3 { x[g.int(n)] = .infinity }
  case .nan: x[g.int(n)] = .nan
  default: break
  }
  return x
}

/// `h` is `f` rounded once to `H` (NaN for NaN; -0 and +0 told apart).
private func roundedOnce<H: SoftmaxScalar>(_ h: H, _ f: Float) -> Bool {
  if f.isNaN { return h.isNaN }
  return Float(h).bitPattern == Float(H(f)).bitPattern
}

/// The same Float value (both NaN counts as the same).
private func same(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

/// Counts and reports the elements of `half` that are not `float` rounded once.
private func expectRounded<H: SoftmaxScalar>(
  _ half: [H], _ float: [Float], _ what: String, sourceLocation: SourceLocation = #_sourceLocation
) {
  var bad = 0
  for i in half.indices where !roundedOnce(half[i], float[i]) {
    if bad < 3 {
      Issue.record("\(what) [\(i)]: \(half[i]) but the Float kernel gives \(float[i]) -> \(H(float[i]))", sourceLocation: sourceLocation)
    }
    bad += 1
  }
  #expect(bad == 0, "\(what): \(bad) of \(half.count) not rounded once", sourceLocation: sourceLocation)
}

private func expectSame(_ a: [Float], _ b: [Float], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
  let bad = a.indices.filter { !same(a[$0], b[$0]) }
  #expect(bad.isEmpty, "\(what): \(bad.count) differ, first at \(bad.first ?? -1): \(bad.first.map { "\(a[$0]) vs \(b[$0])" } ?? "")", sourceLocation: sourceLocation)
}

@Suite("16-bit storage: the Float kernel's result rounded once", .everyBackendAndMode)
struct HalfPrecisionTests {
  @Test func float16Forward() throws { try checkForward(Float16.self) }
  @Test func float16Backward() throws { try checkBackward(Float16.self) }
  @Test func float16CrossEntropy() throws { try checkCrossEntropy(Float16.self) }
  @Test func float16Shards() throws { try checkShards(Float16.self) }
  @Test func float16BinaryCrossEntropy() throws { try checkBinaryCrossEntropy(Float16.self) }
  @Test func bfloat16Forward() throws { try checkForward(BFloat16.self) }
  @Test func bfloat16Backward() throws { try checkBackward(BFloat16.self) }
  @Test func bfloat16CrossEntropy() throws { try checkCrossEntropy(BFloat16.self) }
  @Test func bfloat16Shards() throws { try checkShards(BFloat16.self) }
  @Test func bfloat16BinaryCrossEntropy() throws { try checkBinaryCrossEntropy(BFloat16.self) }

  /// Rows of `lengths` and every `RowKind`, `rows` rows per call.
  func forEachMatrix<H: SoftmaxScalar>(_: H.Type, rows: Int = 3, _ body: ([H], [Float], Int, Int, String) throws -> Void) rethrows {
    for (k, n) in lengths.enumerated() {
      for (j, kind) in RowKind.allCases.enumerated() {
        var x = [H]()
        for r in 0..<rows {
          // One row of this kind among plain ones (so the row blocks mix kinds).
          x += halfRow(H.self, count: n, kind: r == 1 ? kind : .medium, seed: UInt64(1000 * k + 10 * j + r))
        }
        try body(x, x.map { Float($0) }, rows, n, "n=\(n) \(kind)")
      }
    }
  }

  func checkForward<H: SoftmaxScalar>(_: H.Type) throws where H.Arithmetic == Float {
    let o = TestMode.options
    try forEachMatrix(H.self) { x, xf, rows, n, what in
      expectRounded(try softmax(x, cols: n, options: o), try softmax(xf, cols: n, options: o), "softmax \(what)")
      expectRounded(try logSoftmax(x, cols: n, options: o), try logSoftmax(xf, cols: n, options: o), "logSoftmax \(what)")
      var inPlace = x
      try softmax(inPlace: &inPlace, cols: n, options: o)
      expectRounded(inPlace, try softmax(xf, cols: n, options: o), "softmax in place \(what)")
      inPlace = x
      try logSoftmax(inPlace: &inPlace, cols: n, options: o)
      expectRounded(inPlace, try logSoftmax(xf, cols: n, options: o), "logSoftmax in place \(what)")
      expectSame(try logSumExp(x, cols: n, options: o), try logSumExp(xf, cols: n, options: o), "logSumExp \(what)")
      let s = try logSumExpStates(x, cols: n, options: o), sf = try logSumExpStates(xf, cols: n, options: o)
      #expect(zip(s, sf).allSatisfy { same($0.max, $1.max) && same($0.excess, $1.excess) }, "logSumExpStates \(what)")
      var e = [H](repeating: 0, count: x.count), ef = [Float](repeating: 0, count: x.count)
      try x.withUnsafeBufferPointer { xb in try e.withUnsafeMutableBufferPointer { try VectorExp.exp(xb, output: $0, options: o) } }
      try xf.withUnsafeBufferPointer { xb in try ef.withUnsafeMutableBufferPointer { try VectorExp.exp(xb, output: $0, options: o) } }
      expectRounded(e, ef, "exp \(what)")
    }
  }

  func checkBackward<H: SoftmaxScalar>(_: H.Type) throws where H.Arithmetic == Float {
    let o = TestMode.options
    try forEachMatrix(H.self) { x, _, rows, n, what in
      let y = try softmax(x, cols: n, options: o), ly = try logSoftmax(x, cols: n, options: o)
      let dy = halfRow(H.self, count: x.count, kind: .small, seed: UInt64(n))
      let yf = y.map { Float($0) }, lyf = ly.map { Float($0) }, dyf = dy.map { Float($0) }
      expectRounded(
        try softmaxBackward(dy, cols: n, output: y, options: o), try softmaxBackward(dyf, cols: n, output: yf, options: o),
        "softmaxBackward \(what)")
      expectRounded(
        try logSoftmaxBackward(dy, cols: n, output: ly, options: o),
        try logSoftmaxBackward(dyf, cols: n, output: lyf, options: o), "logSoftmaxBackward \(what)")
    }
  }

  func checkCrossEntropy<H: SoftmaxScalar>(_: H.Type) throws where H.Arithmetic == Float {
    let kernel = TestMode.options
    try forEachMatrix(H.self) { x, xf, rows, n, what in
      var g = Lcg(state: UInt64(n))
      let labels = (0..<rows).map { r in r == 2 && rows > 2 ? -100 : g.int(n) }
      let weights = (0..<n).map { _ in Float(g.next() * 2) }
      for options in [
        CrossEntropyOptions<H>(kernel: kernel),
        CrossEntropyOptions<H>(classWeights: weights, labelSmoothing: 0.1, zLoss: 1e-3, reduction: .sum, kernel: kernel),
      ] {
        let fo = CrossEntropyOptions<Float>(
          ignoreIndex: options.ignoreIndex, classWeights: options.classWeights, labelSmoothing: options.labelSmoothing,
          zLoss: options.zLoss, reduction: options.reduction, kernel: options.kernel)
        // Labels: forward, fused gradient (separate and in place).
        expectSame(
          try crossEntropyLosses(x, cols: n, labels: labels, options: options),
          try crossEntropyLosses(xf, cols: n, labels: labels, options: fo), "CE losses \(what)")
        var gh = x, gf = xf
        let lh = try crossEntropyWithGradient(inPlace: &gh, cols: n, labels: labels, options: options)
        let lf = try crossEntropyWithGradient(inPlace: &gf, cols: n, labels: labels, options: fo)
        #expect(same(lh, lf), "CE loss \(what)")
        expectRounded(gh, gf, "CE gradient in place \(what)")
        var gs = [H](repeating: 0, count: x.count)
        let ls = try x.withUnsafeBufferPointer { xb in
          try labels.withUnsafeBufferPointer { lb in
            try gs.withUnsafeMutableBufferPointer { try crossEntropyWithGradient(xb, rows: rows, cols: n, labels: lb, gradient: $0, options: options) }
          }
        }
        #expect(same(ls, lf), "CE loss, separate gradient \(what)")
        expectRounded(gs, gf, "CE gradient separate \(what)")
        // Probability targets (stored in H too).
        var t = [H](repeating: 0, count: x.count)
        for r in 0..<rows {
          var sum = 0.0
          let raw = (0..<n).map { _ in g.next() }
          for v in raw { sum += v }
          for j in 0..<n { t[r * n + j] = H(raw[j] / sum) }
        }
        let tf = t.map { Float($0) }
        expectSame(
          try crossEntropyLosses(x, cols: n, targets: t, options: options),
          try crossEntropyLosses(xf, cols: n, targets: tf, options: fo), "CE target losses \(what)")
        var th = x, tfg = xf
        let a = try crossEntropyWithGradient(inPlace: &th, cols: n, targets: t, options: options)
        let b = try crossEntropyWithGradient(inPlace: &tfg, cols: n, targets: tf, options: fo)
        #expect(same(a, b), "CE target loss \(what)")
        expectRounded(th, tfg, "CE target gradient \(what)")
      }
    }
  }

  func checkShards<H: SoftmaxScalar>(_: H.Type) throws where H.Arithmetic == Float {
    let kernel = TestMode.options
    try forEachMatrix(H.self) { x, xf, rows, n, what in
      guard n >= 2 else { return }
      let split = n / 2
      func shard<T>(_ v: [T], _ lo: Int, _ hi: Int) -> [T] { (0..<rows).flatMap { v[($0 * n + lo)..<($0 * n + hi)] } }
      let states = zip(try logSumExpStates(shard(x, 0, split), cols: split, options: kernel),
                       try logSumExpStates(shard(x, split, n), cols: n - split, options: kernel)).map { $0.merged(with: $1) }
      let statesF = zip(try logSumExpStates(shard(xf, 0, split), cols: split, options: kernel),
                        try logSumExpStates(shard(xf, split, n), cols: n - split, options: kernel)).map { $0.merged(with: $1) }
      #expect(zip(states, statesF).allSatisfy { same($0.max, $1.max) && same($0.excess, $1.excess) }, "shard states \(what)")
      let labels = (0..<rows).map { ($0 * 7) % n }
      let options = CrossEntropyOptions<H>(labelSmoothing: 0.05, kernel: kernel)
      let fo = CrossEntropyOptions<Float>(labelSmoothing: 0.05, kernel: kernel)
      for (lo, hi) in [(0, split), (split, n)] {
        var gh = shard(x, lo, hi), gf = shard(xf, lo, hi)
        let a = try gh.withUnsafeMutableBufferPointer { xb in
          try labels.withUnsafeBufferPointer { lb in
            try states.withUnsafeBufferPointer { try crossEntropyShardWithGradient(inPlace: xb, rows: rows, cols: hi - lo, columnOffset: lo, totalCols: n, labels: lb, states: $0, options: options) }
          }
        }
        let b = try gf.withUnsafeMutableBufferPointer { xb in
          try labels.withUnsafeBufferPointer { lb in
            try statesF.withUnsafeBufferPointer { try crossEntropyShardWithGradient(inPlace: xb, rows: rows, cols: hi - lo, columnOffset: lo, totalCols: n, labels: lb, states: $0, options: fo) }
          }
        }
        #expect(same(a, b), "shard loss \(what)")
        expectRounded(gh, gf, "shard gradient \(what)")
      }
    }
  }

  func checkBinaryCrossEntropy<H: SoftmaxScalar>(_: H.Type) throws where H.Arithmetic == Float {
    let kernel = TestMode.options
    try forEachMatrix(H.self) { x, xf, rows, n, what in
      var g = Lcg(state: UInt64(n) &+ 99)
      let t = (0..<x.count).map { _ in H([0, 1, 0.5, g.next()][g.int(4)]) }, tf = t.map { Float($0) }
      let pw = (0..<n).map { _ in Float(g.next() * 3) }
      let options = BinaryCrossEntropyOptions<H>(posWeight: pw, kernel: kernel)
      let fo = BinaryCrossEntropyOptions<Float>(posWeight: pw, kernel: kernel)
      var gh = x, gf = xf
      var lh = [Float](repeating: 0, count: x.count), lf = lh
      let a = try t.withUnsafeBufferPointer { tb in
        try lh.withUnsafeMutableBufferPointer { lb in
          try gh.withUnsafeMutableBufferPointer { try binaryCrossEntropyWithGradient(inPlace: $0, rows: rows, cols: n, targets: tb, losses: lb, options: options) }
        }
      }
      let b = try tf.withUnsafeBufferPointer { tb in
        try lf.withUnsafeMutableBufferPointer { lb in
          try gf.withUnsafeMutableBufferPointer { try binaryCrossEntropyWithGradient(inPlace: $0, rows: rows, cols: n, targets: tb, losses: lb, options: fo) }
        }
      }
      #expect(same(a, b), "BCE loss \(what)")
      expectSame(lh, lf, "BCE losses \(what)")
      expectRounded(gh, gf, "BCE gradient \(what)")
    }
  }
}
