import Dispatch
import SoftmaxKernels
import SoftmaxReference

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One operation of the report.
///
/// Adding an operation is one small type conforming to this protocol plus its line
/// `OperationEntry(MyOp.self)` in `Operations.registry`: say what one call reads and writes, return the timed kernel call on a
/// `Workspace`, run the scalar reference on a few rows, and measure the kernel's worst error
/// against the oracle. Everything else (timing, scaling, storage types, formats) is shared.
protocol BenchOperation {
  /// The name used by `--ops` and printed in the report.
  static var name: String { get }
  /// Bytes read plus written per logit element by one call (the compulsory traffic: each input
  /// read once, each output written once), for rows of `storage`-byte elements, per-row results
  /// (logsumexp, losses) of `arithmetic` bytes, and `cols` columns.
  static func bytesPerElement(storage s: Int, arithmetic a: Int, cols: Int) -> Double
  /// The timed call: the public kernel on the whole workload. Called after every buffer it uses
  /// exists; the returned closure must not allocate and must leave `w.logits` unchanged (time an
  /// in-place kernel on `w.output`, and say in its entry whether the timed call includes copying
  /// the logits there).
  static func kernel<S: BenchScalar>(_ w: Workspace<S>) -> () -> Void
  /// The `SoftmaxReference` scalar implementation on `rows` packed rows of logits `x` (a prefix
  /// of the workload, widened to the arithmetic type). Timed on a subset and scaled per element.
  static func reference<S: BenchScalar>(_ x: [S.Arithmetic], rows: Int, cols: Int, _ w: Workspace<S>)
  /// The worst error of the kernel's last result against the wider-precision oracle on `rows`.
  static func maxError<S: BenchScalar>(_ w: Workspace<S>, rows: [Int]) -> WorstError
}

/// An operation's calls for one concrete storage type.
///
/// Built from a `BenchOperation` type with `S` and the operation known at compile time (see
/// `ScalarTypeVisitor`), so every closure below is a specialized call (through an existential
/// metatype the generic requirements would run unspecialized, which is far slower for the scalar
/// reference and the oracle).
struct OperationCalls<S: BenchScalar> {
  let bytesPerElement: (_ cols: Int) -> Double
  let kernel: (Workspace<S>) -> () -> Void
  let reference: (_ x: [S.Arithmetic], _ rows: Int, _ cols: Int, Workspace<S>) -> Void
  let maxError: (Workspace<S>, _ rows: [Int]) -> WorstError

  init<Op: BenchOperation>(_: Op.Type) {
    bytesPerElement = {
      Op.bytesPerElement(storage: MemoryLayout<S>.size, arithmetic: MemoryLayout<S.Arithmetic>.size, cols: $0)
    }
    kernel = { Op.kernel($0) }
    reference = { Op.reference($0, rows: $1, cols: $2, $3) }
    maxError = { Op.maxError($0, rows: $1) }
  }
}

/// Builds an operation's calls for every storage type of the build.
private struct CallsBuilder<Op: BenchOperation>: ScalarTypeVisitor {
  var calls: [DType: Any] = [:]
  mutating func visit<S: BenchScalar>(_: S.Type) { calls[S.dtype] = OperationCalls<S>(Op.self) }
}

/// A registry entry: the operation's name and its calls in every storage type.
struct OperationEntry {
  let name: String
  private let calls: [DType: Any]

  init<Op: BenchOperation>(_: Op.Type) {
    name = Op.name
    var builder = CallsBuilder<Op>()
    forEachScalarType(&builder)
    calls = builder.calls
  }

  /// The calls for `S`.
  func calls<S: BenchScalar>(_: S.Type) -> OperationCalls<S> { calls[S.dtype] as! OperationCalls<S> }
}

enum Operations {
  /// Every operation the report can run, in report order.
  nonisolated(unsafe) static let registry: [OperationEntry] = [
    OperationEntry(SoftmaxOp.self),
    OperationEntry(LogSoftmaxOp.self),
    OperationEntry(LogSumExpOp.self),
    OperationEntry(ExpFloorOp.self),
    OperationEntry(CrossEntropyOp.self),
    OperationEntry(CrossEntropyGradOp.self),
    OperationEntry(CrossEntropyGradInPlaceOp.self),
    OperationEntry(CrossEntropyTargetsGradOp.self),
    OperationEntry(SoftmaxBackwardOp.self),
    OperationEntry(LogSoftmaxBackwardOp.self),
    OperationEntry(BCELogitsOp.self),
    OperationEntry(CopyOp.self),
  ]

  /// Run only when named in `--ops`.
  static let optIn: Set<String> = [CopyOp.name]

  /// Operations SPEC.md asks for that have no kernel yet: accepted by `--ops` and left out with
  /// a note. Move a name from here to `registry` when its kernel lands.
  static let planned: [String] = []

  /// The default `--ops`: everything in the registry.
  static var defaultNames: [String] { registry.map { $0.name }.filter { !optIn.contains($0) } }
  /// Every name `--ops` accepts, in report order.
  static var allNames: [String] { registry.map { $0.name } + planned }
}

/// Keeps a value alive and opaque to the optimizer.
@inline(never)
func blackHole<V>(_ v: V) {
  withExtendedLifetime(v) {}
}

// MARK: - the operations

/// `softmax(_:rows:cols:output:)`, out of place: reads x, writes y.
enum SoftmaxOp: BenchOperation {
  static let name = "softmax"
  static func bytesPerElement(storage s: Int, arithmetic _: Int, cols: Int) -> Double { Double(2 * s) }
  static func kernel<S: BenchScalar>(_ w: Workspace<S>) -> () -> Void {
    let (x, y, r, c) = (w.input, w.output, w.rows, w.cols)
    let o = w.options
    return { try! softmax(x, rows: r, cols: c, output: y, options: o) }
  }
  static func reference<S: BenchScalar>(_ x: [S.Arithmetic], rows: Int, cols: Int, _: Workspace<S>) {
    blackHole(Reference.softmax(x, rows: rows, cols: cols))
  }
  static func maxError<S: BenchScalar>(_ w: Workspace<S>, rows: [Int]) -> WorstError {
    w.matrixError(w.output, rows: rows, oracle: { Oracle.softmax($0, rows: $1, cols: $2) }) { o, x, row in
      .softmax(oracle: o, shift: row.max.isFinite ? Double(abs(Workspace<S>.W(x) - Workspace<S>.W(row.max))) : 0)
    }
  }
}

/// `logSoftmax(_:rows:cols:output:)`, out of place: reads x, writes y.
enum LogSoftmaxOp: BenchOperation {
  static let name = "log-softmax"
  static func bytesPerElement(storage s: Int, arithmetic _: Int, cols: Int) -> Double { Double(2 * s) }
  static func kernel<S: BenchScalar>(_ w: Workspace<S>) -> () -> Void {
    let (x, y, r, c) = (w.input, w.output, w.rows, w.cols)
    let o = w.options
    return { try! logSoftmax(x, rows: r, cols: c, output: y, options: o) }
  }
  static func reference<S: BenchScalar>(_ x: [S.Arithmetic], rows: Int, cols: Int, _: Workspace<S>) {
    blackHole(Reference.logSoftmax(x, rows: rows, cols: cols))
  }
  static func maxError<S: BenchScalar>(_ w: Workspace<S>, rows: [Int]) -> WorstError {
    w.matrixError(w.output, rows: rows, oracle: { Oracle.logSoftmax($0, rows: $1, cols: $2) }) { _, x, row in
      .logScale(x: Workspace<S>.W(x), lse: row.lse)
    }
  }
}

/// `logSumExp(_:rows:cols:output:)`: reads x, writes one value per row (in the arithmetic type).
/// max_error: `Accuracy.logScale` in the arithmetic type (the value is not rounded to `S`).
enum LogSumExpOp: BenchOperation {
  static let name = "logsumexp"
  static func bytesPerElement(storage s: Int, arithmetic a: Int, cols: Int) -> Double {
    Double(s) + Double(a) / Double(cols)
  }
  static func kernel<S: BenchScalar>(_ w: Workspace<S>) -> () -> Void {
    let (x, out, r, c) = (w.input, w.perRow, w.rows, w.cols)
    let o = w.options
    return { try! logSumExp(x, rows: r, cols: c, output: out, options: o) }
  }
  static func reference<S: BenchScalar>(_ x: [S.Arithmetic], rows: Int, cols: Int, _: Workspace<S>) {
    blackHole(Reference.logSumExp(x, rows: rows, cols: cols))
  }
  static func maxError<S: BenchScalar>(_ w: Workspace<S>, rows: [Int]) -> WorstError {
    w.rowError(rows: rows, oracle: { Oracle.logSumExp($0, rows: $1, cols: $2) }) { y, o, row in
      Accuracy.logScale(y, oracle: o, x: row.max, lse: o)
    }
  }
}

/// The exp floor: `VectorExp.exp(_:output:)`, SLEEF's vector exp alone over the same elements
/// (reads x, writes y). Its reference is the C library's scalar exp in a plain loop (in the
/// arithmetic type, rounded to `S`); its error is in ulps of the correctly rounded result (SLEEF's
/// u10 functions promise 1.0).
enum ExpFloorOp: BenchOperation {
  static let name = "exp"
  static func bytesPerElement(storage s: Int, arithmetic _: Int, cols: Int) -> Double { Double(2 * s) }
  static func kernel<S: BenchScalar>(_ w: Workspace<S>) -> () -> Void {
    let (x, y) = (w.input, w.output)
    let o = KernelOptions(mode: w.options.mode)  // one thread, as the exp row always is
    return { try! VectorExp.exp(x, output: y, options: o) }
  }
  static func reference<S: BenchScalar>(_ x: [S.Arithmetic], rows: Int, cols: Int, _ w: Workspace<S>) {
    let y = w.output  // the scalar loop writes into a preallocated buffer, like the kernel
    for i in 0..<x.count { y[i] = S(S.Arithmetic.libmExp(x[i])) }
    blackHole(y)
  }
  static func maxError<S: BenchScalar>(_ w: Workspace<S>, rows: [Int]) -> WorstError {
    typealias W = Workspace<S>.W
    return w.matrixError(w.output, rows: rows, oracle: { x, _, _ in x.map { W.libmExp(W($0)) } }) { o, _, _ in
      .exp(oracle: o)
    }
  }
}

/// Plain class-label cross-entropy options of the report: the default options (no weights, no
/// smoothing, no z-loss; ignore index -100, which no label hits), reduction mean, `--mode`.
func reportCrossEntropyOptions<S: BenchScalar>(_ w: Workspace<S>) -> CrossEntropyOptions<S> {
  CrossEntropyOptions(reduction: .mean, kernel: w.options)
}

/// `crossEntropy(_:rows:cols:labels:losses:options:)`, forward only, class labels, reduction
/// mean, per-row losses (in the arithmetic type) into `perRow`: reads x and one Int32 label per
/// row, writes one loss per row. The reference is `Reference.crossEntropy` (the only scalar one:
/// it also forms the gradient, so the speed-up is flattering). max_error: per-row loss,
/// `Accuracy.logScale` in the arithmetic type (ulps of max(|x_t|, |lse|), bound 4, SPEC's bound
/// for plain CE).
enum CrossEntropyOp: BenchOperation {
  static let name = "cross-entropy"
  static func bytesPerElement(storage s: Int, arithmetic a: Int, cols: Int) -> Double {
    Double(s) + Double(4 + a) / Double(cols)
  }
  static func kernel<S: BenchScalar>(_ w: Workspace<S>) -> () -> Void {
    let (x, l, out, r, c) = (w.input, UnsafeBufferPointer(w.labels), w.perRow, w.rows, w.cols)
    let o = reportCrossEntropyOptions(w)
    return { blackHole(try! crossEntropy(x, rows: r, cols: c, labels: l, losses: out, options: o)) }
  }
  static func reference<S: BenchScalar>(_ x: [S.Arithmetic], rows: Int, cols: Int, _ w: Workspace<S>) {
    let labels = w.labelArray(rows: rows)
    blackHole(Reference.crossEntropy(
      logits: x, rows: rows, cols: cols, labels: labels, settings: CrossEntropySettings(reduction: .mean)))
  }
  static func maxError<S: BenchScalar>(_ w: Workspace<S>, rows: [Int]) -> WorstError {
    let (x, ctx) = w.sample(rows)
    let labels = rows.map { Int(w.labels[$0]) }
    let ora = Oracle.crossEntropy(
      logits: x, rows: rows.count, cols: w.cols, labels: labels, settings: CrossEntropySettings(reduction: .sum))
    var worst = WorstError()
    for (i, r) in rows.enumerated() {
      let xt = x[i * w.cols + labels[i]]
      worst.add(Accuracy.logScale(w.perRow[r], oracle: ora.losses[i], x: xt, lse: ctx[i].lse))
    }
    return worst
  }
}

/// The error of a class-label cross-entropy gradient (reduction mean) in `w.output`: gradient
/// element g_j = (p_j - [j = t]) / rows in units of eps (p_j + [j = t]) / rows (plus leastNormal
/// / 2), bound |x_j - max| + 8 as the softmax-like bound of the tests' `gradientBudget` (the loss
/// itself is checked by cross-entropy).
private func labelGradientError<S: BenchScalar>(_ w: Workspace<S>, rows: [Int]) -> WorstError {
  typealias W = Workspace<S>.W
  let (x, ctx) = w.sample(rows)
  let labels = rows.map { Int(w.labels[$0]) }
  // The sum's gradient on the sampled rows, divided by the workload's row count: the mean's.
  let ora = Oracle.crossEntropy(
    logits: x, rows: rows.count, cols: w.cols, labels: labels, settings: CrossEntropySettings(reduction: .sum))
  let p = Oracle.softmax(x, rows: rows.count, cols: w.cols)
  let n = W(w.rows)
  var worst = WorstError()
  for (i, r) in rows.enumerated() {
    for j in 0..<w.cols {
      let k = i * w.cols + j
      let shift = ctx[i].max.isFinite ? Double(abs(x[k] - ctx[i].max)) : 0
      let hot: W = j == labels[i] ? 1 : 0
      worst.add(w.error(
        w.output[r * w.cols + j], oracle: ora.gradient[k] / n, .gradient(magnitude: (p[k] + hot) / n, bound: shift + 8)))
    }
  }
  return worst
}

/// `crossEntropyWithGradient(_:...:labels:gradient:options:)`, fused forward and backward,
/// class labels, reduction mean, gradient into `output` (not in place; no per-row losses): reads x
/// and the labels, writes the gradient. max_error: `labelGradientError`.
enum CrossEntropyGradOp: BenchOperation {
  static let name = "cross-entropy-grad"
  static func bytesPerElement(storage s: Int, arithmetic _: Int, cols: Int) -> Double {
    Double(2 * s) + 4 / Double(cols)
  }
  static func kernel<S: BenchScalar>(_ w: Workspace<S>) -> () -> Void {
    let (x, l, g, r, c) = (w.input, UnsafeBufferPointer(w.labels), w.output, w.rows, w.cols)
    let o = reportCrossEntropyOptions(w)
    return {
      blackHole(try! crossEntropyWithGradient(x, rows: r, cols: c, labels: l, gradient: g, options: o))
    }
  }
  static func reference<S: BenchScalar>(_ x: [S.Arithmetic], rows: Int, cols: Int, _ w: Workspace<S>) {
    let labels = w.labelArray(rows: rows)
    blackHole(Reference.crossEntropy(
      logits: x, rows: rows, cols: cols, labels: labels, settings: CrossEntropySettings(reduction: .mean)))
  }
  static func maxError<S: BenchScalar>(_ w: Workspace<S>, rows: [Int]) -> WorstError {
    labelGradientError(w, rows: rows)
  }
}

/// `crossEntropyWithGradient(inPlace:rows:cols:labels:options:)`: the same fused call with the
/// gradient written over the logits (the large-vocabulary training step without a second
/// matrix): reads x and the labels, writes the gradient over x. Timed on `output`, which holds
/// the logits before the first call; from the second call on it holds the previous call's
/// gradient, which the kernel takes as logits (the same work per element; no copy in the timed
/// call, as in the Benchmarks package). max_error: the logits copied back into `output`, one more
/// call, then as cross-entropy-grad.
enum CrossEntropyGradInPlaceOp: BenchOperation {
  static let name = "cross-entropy-grad-inplace"
  static func bytesPerElement(storage s: Int, arithmetic _: Int, cols: Int) -> Double {
    Double(2 * s) + 4 / Double(cols)
  }
  static func kernel<S: BenchScalar>(_ w: Workspace<S>) -> () -> Void {
    let (g, l, r, c) = (w.output, UnsafeBufferPointer(w.labels), w.rows, w.cols)
    let o = reportCrossEntropyOptions(w)
    _ = g.update(fromContentsOf: w.logits)
    return { blackHole(try! crossEntropyWithGradient(inPlace: g, rows: r, cols: c, labels: l, options: o)) }
  }
  static func reference<S: BenchScalar>(_ x: [S.Arithmetic], rows: Int, cols: Int, _ w: Workspace<S>) {
    CrossEntropyGradOp.reference(x, rows: rows, cols: cols, w)
  }
  static func maxError<S: BenchScalar>(_ w: Workspace<S>, rows: [Int]) -> WorstError {
    kernel(w)()  // on the logits again
    return labelGradientError(w, rows: rows)
  }
}

/// `crossEntropyWithGradient(_:...:targets:gradient:options:)`, fused forward and backward with
/// probability targets (`probabilityTargets`, each row sums to 1), reduction mean, gradient into
/// `output`: reads x and the targets, writes the gradient. max_error: gradient element
/// g_j = (p_j a - t_j) / rows (a = sum of the row's targets) in units of eps (p_j |a| + |t_j|) /
/// rows (plus leastNormal / 2), bound |x_j - max| + 8 (the tests' `gradientBudget` for targets).
enum CrossEntropyTargetsGradOp: BenchOperation {
  static let name = "cross-entropy-targets-grad"
  static func bytesPerElement(storage s: Int, arithmetic _: Int, cols: Int) -> Double { Double(3 * s) }
  static func kernel<S: BenchScalar>(_ w: Workspace<S>) -> () -> Void {
    let (x, t, g, r, c) = (w.input, UnsafeBufferPointer(w.probabilityTargets), w.output, w.rows, w.cols)
    let o = reportCrossEntropyOptions(w)
    return {
      blackHole(try! crossEntropyWithGradient(x, rows: r, cols: c, targets: t, gradient: g, options: o))
    }
  }
  static func reference<S: BenchScalar>(_ x: [S.Arithmetic], rows: Int, cols: Int, _ w: Workspace<S>) {
    let t = w.prefix(4, of: w.probabilityTargets, count: x.count)
    blackHole(Reference.crossEntropy(
      logits: x, rows: rows, cols: cols, targets: t, settings: CrossEntropySettings(reduction: .mean)))
  }
  static func maxError<S: BenchScalar>(_ w: Workspace<S>, rows: [Int]) -> WorstError {
    typealias W = Workspace<S>.W
    let (x, ctx) = w.sample(rows)
    let t = w.rowsArray(rows, of: w.probabilityTargets)
    // The sum's gradient on the sampled rows, divided by the workload's row count: the mean's.
    let ora = Oracle.crossEntropy(
      logits: x, rows: rows.count, cols: w.cols, targets: t, settings: CrossEntropySettings(reduction: .sum))
    let p = Oracle.softmax(x, rows: rows.count, cols: w.cols)
    let n = W(w.rows)
    var worst = WorstError()
    for (i, r) in rows.enumerated() {
      var a: W = 0
      for j in 0..<w.cols { a += W(t[i * w.cols + j]) }
      for j in 0..<w.cols {
        let k = i * w.cols + j
        let shift = ctx[i].max.isFinite ? Double(abs(x[k] - ctx[i].max)) : 0
        let m = (p[k] * abs(a) + abs(W(t[k]))) / n
        worst.add(w.error(w.output[r * w.cols + j], oracle: ora.gradient[k] / n, .gradient(magnitude: m, bound: shift + 8)))
      }
    }
    return worst
  }
}

/// `softmaxBackward(_:rows:cols:output:gradient:options:)` from y = softmax(x) (`probabilities`)
/// and dy (`upstream`) into `output`: reads y and dy, writes dx. max_error: dx_j = y_j (dy_j - s)
/// in units of eps y_j (|dy_j| + sum_k |dy_k y_k|) (plus leastNormal / 2), bound 8 (the tests'
/// budget).
enum SoftmaxBackwardOp: BenchOperation {
  static let name = "softmax-backward"
  static func bytesPerElement(storage s: Int, arithmetic _: Int, cols: Int) -> Double { Double(3 * s) }
  static func kernel<S: BenchScalar>(_ w: Workspace<S>) -> () -> Void {
    let (y, dy, dx, r, c) = (UnsafeBufferPointer(w.probabilities), UnsafeBufferPointer(w.upstream), w.output, w.rows, w.cols)
    let o = w.options
    return { try! softmaxBackward(dy, rows: r, cols: c, output: y, gradient: dx, options: o) }
  }
  static func reference<S: BenchScalar>(_ x: [S.Arithmetic], rows: Int, cols: Int, _ w: Workspace<S>) {
    let y = w.prefix(0, of: w.probabilities, count: x.count), dy = w.prefix(1, of: w.upstream, count: x.count)
    blackHole(Reference.softmaxBackward(output: y, gradOutput: dy, rows: rows, cols: cols))
  }
  static func maxError<S: BenchScalar>(_ w: Workspace<S>, rows: [Int]) -> WorstError {
    typealias W = Workspace<S>.W
    let y = w.rowsArray(rows, of: w.probabilities), dy = w.rowsArray(rows, of: w.upstream)
    let ora = Oracle.softmaxBackward(output: y, gradOutput: dy, rows: rows.count, cols: w.cols)
    var worst = WorstError()
    for (i, r) in rows.enumerated() {
      var sAbs: W = 0
      for j in 0..<w.cols { sAbs += abs(W(dy[i * w.cols + j]) * W(y[i * w.cols + j])) }
      for j in 0..<w.cols {
        let k = i * w.cols + j
        let m = abs(W(y[k])) * (abs(W(dy[k])) + sAbs)
        worst.add(w.error(w.output[r * w.cols + j], oracle: ora[k], .gradient(magnitude: m, bound: 8)))
      }
    }
    return worst
  }
}

/// `logSoftmaxBackward(_:rows:cols:output:gradient:options:)` from y = logSoftmax(x)
/// (`logProbabilities`) and dy (`upstream`) into `output`: reads y and dy, writes dx. max_error:
/// dx_j = dy_j - exp(y_j) sum_k dy_k in units of eps (|dy_j| + exp(y_j) sum_k |dy_k|) (plus
/// leastNormal / 2), bound 8 (the tests' budget).
enum LogSoftmaxBackwardOp: BenchOperation {
  static let name = "log-softmax-backward"
  static func bytesPerElement(storage s: Int, arithmetic _: Int, cols: Int) -> Double { Double(3 * s) }
  static func kernel<S: BenchScalar>(_ w: Workspace<S>) -> () -> Void {
    let (y, dy, dx, r, c) = (UnsafeBufferPointer(w.logProbabilities), UnsafeBufferPointer(w.upstream), w.output, w.rows, w.cols)
    let o = w.options
    return { try! logSoftmaxBackward(dy, rows: r, cols: c, output: y, gradient: dx, options: o) }
  }
  static func reference<S: BenchScalar>(_ x: [S.Arithmetic], rows: Int, cols: Int, _ w: Workspace<S>) {
    let y = w.prefix(2, of: w.logProbabilities, count: x.count), dy = w.prefix(1, of: w.upstream, count: x.count)
    blackHole(Reference.logSoftmaxBackward(output: y, gradOutput: dy, rows: rows, cols: cols))
  }
  static func maxError<S: BenchScalar>(_ w: Workspace<S>, rows: [Int]) -> WorstError {
    typealias W = Workspace<S>.W
    let y = w.rowsArray(rows, of: w.logProbabilities), dy = w.rowsArray(rows, of: w.upstream)
    let ora = Oracle.logSoftmaxBackward(output: y, gradOutput: dy, rows: rows.count, cols: w.cols)
    var worst = WorstError()
    for (i, r) in rows.enumerated() {
      var sAbs: W = 0
      for j in 0..<w.cols { sAbs += abs(W(dy[i * w.cols + j])) }
      for j in 0..<w.cols {
        let k = i * w.cols + j
        let m = abs(W(dy[k])) + W.libmExp(W(y[k])) * sAbs
        worst.add(w.error(w.output[r * w.cols + j], oracle: ora[k], .gradient(magnitude: m, bound: 8)))
      }
    }
    return worst
  }
}

/// `binaryCrossEntropyWithGradient(_:rows:cols:targets:gradient:options:)`, elementwise,
/// reduction mean, `--mode` and `--threads`, with the gradient into `output` (no elementwise
/// losses): reads x and the targets (`binaryTargets`), writes the gradient. max_error: gradient
/// element ((1 - t) sigmoid(x) - t sigmoid(-x)) / n in units of eps ((1 - t) sigmoid(x) + t
/// sigmoid(-x)) / n (plus leastNormal / 2), bound 8 (the tests' budget); the reduced loss is not
/// checked (its oracle would need the whole workload).
enum BCELogitsOp: BenchOperation {
  static let name = "bce-logits"
  static func bytesPerElement(storage s: Int, arithmetic _: Int, cols: Int) -> Double { Double(3 * s) }
  static func kernel<S: BenchScalar>(_ w: Workspace<S>) -> () -> Void {
    let (x, t, g, r, c) = (w.input, UnsafeBufferPointer(w.binaryTargets), w.output, w.rows, w.cols)
    let o = BinaryCrossEntropyOptions<S>(reduction: .mean, kernel: w.options)
    return {
      blackHole(try! binaryCrossEntropyWithGradient(x, rows: r, cols: c, targets: t, gradient: g, options: o))
    }
  }
  static func reference<S: BenchScalar>(_ x: [S.Arithmetic], rows: Int, cols: Int, _ w: Workspace<S>) {
    let t = w.prefix(3, of: w.binaryTargets, count: x.count)
    blackHole(Reference.binaryCrossEntropyWithLogits(
      logits: x, targets: t, rows: rows, cols: cols, posWeight: nil, reduction: .mean))
  }
  static func maxError<S: BenchScalar>(_ w: Workspace<S>, rows: [Int]) -> WorstError {
    typealias W = Workspace<S>.W
    let (x, _) = w.sample(rows)
    let t = w.rowsArray(rows, of: w.binaryTargets)
    // The sum's gradient on the sampled rows, divided by the workload's element count: the mean's.
    let ora = Oracle.binaryCrossEntropyWithLogits(
      logits: x, targets: t, rows: rows.count, cols: w.cols, posWeight: nil, reduction: .sum)
    let n = W(w.workload.elements)
    var worst = WorstError()
    for (i, r) in rows.enumerated() {
      for j in 0..<w.cols {
        let k = i * w.cols + j
        let xw = W(x[k]), tw = W(t[k])
        let sig = 1 / (1 + W.libmExp(-xw)), sigNeg = 1 / (1 + W.libmExp(xw))
        let m = ((1 - tw) * sig + tw * sigNeg) / n
        worst.add(w.error(w.output[r * w.cols + j], oracle: ora.gradient[k] / n, .gradient(magnitude: m, bound: 8)))
      }
    }
    return worst
  }
}

/// Not a kernel: `memcpy` of the logits into the output, the same bytes softmax must move
/// (read x, write y). SPEC.md asks Float softmax on W5 to stay within 2x of it. Opt-in
/// (`--ops softmax,copy`); its "reference" is a plain element-by-element copy loop and its error
/// is 0 by construction. With `--threads` the rows are split as the row-split kernels split them
/// (`KernelOptions.threadCount`; not by columns, as `logSumExp` of fewer rows than threads is)
/// and each range is copied on its own thread
/// (`DispatchQueue.concurrentPerform`, as the kernels do), so a threaded kernel can be judged
/// against a threaded copy of its bytes.
enum CopyOp: BenchOperation {
  static let name = "copy"
  static func bytesPerElement(storage s: Int, arithmetic _: Int, cols: Int) -> Double { Double(2 * s) }
  static func kernel<S: BenchScalar>(_ w: Workspace<S>) -> () -> Void {
    let (x, y, n) = (w.logits.baseAddress!, w.output.baseAddress!, w.workload.elements)
    let threads = (try? w.options.threadCount(rows: w.rows, cols: w.cols)) ?? 1
    guard threads > 1 else { return { memcpy(y, x, n * MemoryLayout<S>.stride) } }
    // Addresses as integers, so the per-thread body captures only Sendable values.
    let (source, target) = (Int(bitPattern: x), Int(bitPattern: y))
    let (rows, rowBytes) = (w.rows, w.cols * MemoryLayout<S>.stride)
    return {
      DispatchQueue.concurrentPerform(iterations: threads) { k in
        let first = rows * k / threads, end = rows * (k + 1) / threads
        memcpy(
          UnsafeMutableRawPointer(bitPattern: target + first * rowBytes)!,
          UnsafeRawPointer(bitPattern: source + first * rowBytes)!, (end - first) * rowBytes)
      }
    }
  }
  static func reference<S: BenchScalar>(_ x: [S.Arithmetic], rows: Int, cols: Int, _ w: Workspace<S>) {
    let (y, source) = (w.output, w.logits)
    for i in 0..<x.count { y[i] = source[i] }
    blackHole(y)
  }
  static func maxError<S: BenchScalar>(_ w: Workspace<S>, rows: [Int]) -> WorstError {
    var worst = WorstError()
    for r in rows {
      for j in 0..<w.cols {
        let k = r * w.cols + j
        worst.add(ElementError(error: w.output[k] == w.logits[k] ? 0 : .infinity, bound: 0))
      }
    }
    return worst
  }
}
