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
/// against the oracle. Everything else (timing, scaling, formats) is shared.
protocol BenchOperation {
  /// The name used by `--ops` and printed in the report.
  static var name: String { get }
  /// Bytes read plus written per logit element by one call (the compulsory traffic: each input
  /// read once, each output written once), for elements of `scalarSize` bytes and `cols` columns.
  static func bytesPerElement(scalarSize: Int, cols: Int) -> Double
  /// The timed call: the public kernel on the whole workload. Called after every buffer it uses
  /// exists; the returned closure must not allocate and must leave `w.logits` unchanged (time an
  /// in-place kernel on `w.output`, and say in its entry whether the timed call includes copying
  /// the logits there).
  static func kernel<T: ReferenceScalar>(_ w: Workspace<T>) -> () -> Void
  /// The `SoftmaxReference` scalar implementation on `rows` packed rows of logits `x` (a prefix
  /// of the workload), in the same precision. Timed on a subset and scaled per element.
  static func reference<T: ReferenceScalar>(_ x: [T], rows: Int, cols: Int, _ w: Workspace<T>)
  /// The worst error of the kernel's last result against the wider-precision oracle on `rows`.
  static func maxError<T: ReferenceScalar>(_ w: Workspace<T>, rows: [Int]) -> WorstError
}

/// An operation's calls for one concrete scalar type.
///
/// Built from a `BenchOperation` type with `T` and the operation known at compile time, so every
/// closure below is a specialized call (through an existential metatype the generic requirements
/// would run unspecialized, which is far slower for the scalar reference and the oracle).
struct OperationCalls<T: ReferenceScalar> {
  let bytesPerElement: (_ scalarSize: Int, _ cols: Int) -> Double
  let kernel: (Workspace<T>) -> () -> Void
  let reference: (_ x: [T], _ rows: Int, _ cols: Int, Workspace<T>) -> Void
  let maxError: (Workspace<T>, _ rows: [Int]) -> WorstError

  init<Op: BenchOperation>(_: Op.Type) {
    bytesPerElement = { Op.bytesPerElement(scalarSize: $0, cols: $1) }
    kernel = { Op.kernel($0) }
    reference = { Op.reference($0, rows: $1, cols: $2, $3) }
    maxError = { Op.maxError($0, rows: $1) }
  }
}

/// A registry entry: the operation's name and its calls in Float and Double.
struct OperationEntry {
  let name: String
  let float: OperationCalls<Float>
  let double: OperationCalls<Double>

  init<Op: BenchOperation>(_ op: Op.Type) {
    name = Op.name
    float = OperationCalls(op)
    double = OperationCalls(op)
  }
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
  static func bytesPerElement(scalarSize s: Int, cols: Int) -> Double { Double(2 * s) }
  static func kernel<T: ReferenceScalar>(_ w: Workspace<T>) -> () -> Void {
    let (x, y, r, c) = (w.input, w.output, w.rows, w.cols)
    let o = w.options
    return { try! softmax(x, rows: r, cols: c, output: y, options: o) }
  }
  static func reference<T: ReferenceScalar>(_ x: [T], rows: Int, cols: Int, _: Workspace<T>) {
    blackHole(Reference.softmax(x, rows: rows, cols: cols))
  }
  static func maxError<T: ReferenceScalar>(_ w: Workspace<T>, rows: [Int]) -> WorstError {
    w.matrixError(w.output, rows: rows, oracle: { Oracle.softmax($0, rows: $1, cols: $2) }) {
      y, o, x, row in Accuracy.softmax(y, oracle: o, x: x, max: row.max)
    }
  }
}

/// `logSoftmax(_:rows:cols:output:)`, out of place: reads x, writes y.
enum LogSoftmaxOp: BenchOperation {
  static let name = "log-softmax"
  static func bytesPerElement(scalarSize s: Int, cols: Int) -> Double { Double(2 * s) }
  static func kernel<T: ReferenceScalar>(_ w: Workspace<T>) -> () -> Void {
    let (x, y, r, c) = (w.input, w.output, w.rows, w.cols)
    let o = w.options
    return { try! logSoftmax(x, rows: r, cols: c, output: y, options: o) }
  }
  static func reference<T: ReferenceScalar>(_ x: [T], rows: Int, cols: Int, _: Workspace<T>) {
    blackHole(Reference.logSoftmax(x, rows: rows, cols: cols))
  }
  static func maxError<T: ReferenceScalar>(_ w: Workspace<T>, rows: [Int]) -> WorstError {
    w.matrixError(w.output, rows: rows, oracle: { Oracle.logSoftmax($0, rows: $1, cols: $2) }) {
      y, o, x, row in Accuracy.logScale(y, oracle: o, x: x, lse: row.lse)
    }
  }
}

/// `logSumExp(_:rows:cols:output:)`: reads x, writes one value per row.
enum LogSumExpOp: BenchOperation {
  static let name = "logsumexp"
  static func bytesPerElement(scalarSize s: Int, cols: Int) -> Double {
    Double(s) * (1 + 1 / Double(cols))
  }
  static func kernel<T: ReferenceScalar>(_ w: Workspace<T>) -> () -> Void {
    let (x, out, r, c) = (w.input, w.perRow, w.rows, w.cols)
    let o = w.options
    return { try! logSumExp(x, rows: r, cols: c, output: out, options: o) }
  }
  static func reference<T: ReferenceScalar>(_ x: [T], rows: Int, cols: Int, _: Workspace<T>) {
    blackHole(Reference.logSumExp(x, rows: rows, cols: cols))
  }
  static func maxError<T: ReferenceScalar>(_ w: Workspace<T>, rows: [Int]) -> WorstError {
    w.rowError(rows: rows, oracle: { Oracle.logSumExp($0, rows: $1, cols: $2) }) { y, o, row in
      Accuracy.logScale(y, oracle: o, x: row.max, lse: o)
    }
  }
}

/// The exp floor: `VectorExp.exp(_:output:)`, SLEEF's vector exp alone over the same elements
/// (reads x, writes y). Its reference is the C library's scalar exp in a plain loop; its error is
/// in ulps of the correctly rounded result (SLEEF's u10 functions promise 1.0).
enum ExpFloorOp: BenchOperation {
  static let name = "exp"
  static func bytesPerElement(scalarSize s: Int, cols: Int) -> Double { Double(2 * s) }
  static func kernel<T: ReferenceScalar>(_ w: Workspace<T>) -> () -> Void {
    let (x, y) = (w.input, w.output)
    let o = KernelOptions(mode: w.options.mode)  // one thread, as the exp row always is
    return { try! VectorExp.exp(x, output: y, options: o) }
  }
  static func reference<T: ReferenceScalar>(_ x: [T], rows: Int, cols: Int, _ w: Workspace<T>) {
    let y = w.output  // the scalar loop writes into a preallocated buffer, like the kernel
    for i in 0..<x.count { y[i] = T.libmExp(x[i]) }
    blackHole(y)
  }
  static func maxError<T: ReferenceScalar>(_ w: Workspace<T>, rows: [Int]) -> WorstError {
    w.matrixError(w.output, rows: rows, oracle: { x, _, _ in x.map { T.Wide.libmExp(T.Wide($0)) } }) {
      y, o, _, _ in
      let rounded = T(o)
      let unit = Swift.max(rounded.ulp, T.leastNonzeroMagnitude)
      return ElementError(error: Double((T.Wide(y) - o).magnitude / T.Wide(unit)), bound: 1)
    }
  }
}

/// Error of a gradient element in units of `eps * magnitude + leastNormal / 2` (eps = T's
/// ulpOfOne, `magnitude` the sum of the absolute values of the terms the exact gradient is formed
/// from): with a bound of 8 that is the tests' budget `8 eps magnitude + 4 leastNormal`.
func gradientError<T: ReferenceScalar>(_ y: T, oracle o: T.Wide, magnitude: T.Wide, bound: Double, _: T.Type)
  -> ElementError
{
  if o.isNaN || y.isNaN || !o.isFinite || !y.isFinite {
    return ElementError(error: T.Wide(y) == o || (o.isNaN && y.isNaN) ? 0 : .infinity, bound: 0)
  }
  let unit = T.Wide(T.ulpOfOne) * magnitude + T.Wide(T.leastNormalMagnitude) / 2
  return ElementError(error: Double(abs(T.Wide(y) - o) / unit), bound: bound)
}

/// Plain class-label cross-entropy options of the report: the default options (no weights, no
/// smoothing, no z-loss; ignore index -100, which no label hits), reduction mean, `--mode`.
func reportCrossEntropyOptions<T: ReferenceScalar>(_ w: Workspace<T>) -> CrossEntropyOptions<T> {
  CrossEntropyOptions(reduction: .mean, kernel: w.options)
}

/// `crossEntropy(_:rows:cols:labels:losses:options:)`, forward only, class labels, reduction
/// mean, per-row losses into `perRow`: reads x and one Int32 label per row, writes one loss per row.
/// The reference is `Reference.crossEntropy` (the only scalar one: it also forms the gradient, so
/// the speed-up is flattering). max_error: per-row loss, `Accuracy.logScale` (ulps of
/// max(|x_t|, |lse|), bound 4, SPEC's bound for plain CE).
enum CrossEntropyOp: BenchOperation {
  static let name = "cross-entropy"
  static func bytesPerElement(scalarSize s: Int, cols: Int) -> Double {
    Double(s) + Double(4 + s) / Double(cols)
  }
  static func kernel<T: ReferenceScalar>(_ w: Workspace<T>) -> () -> Void {
    let (x, l, out, r, c) = (w.input, UnsafeBufferPointer(w.labels), w.perRow, w.rows, w.cols)
    let o = reportCrossEntropyOptions(w)
    return { blackHole(try! crossEntropy(x, rows: r, cols: c, labels: l, losses: out, options: o)) }
  }
  static func reference<T: ReferenceScalar>(_ x: [T], rows: Int, cols: Int, _ w: Workspace<T>) {
    let labels = w.labelArray(rows: rows)
    blackHole(Reference.crossEntropy(
      logits: x, rows: rows, cols: cols, labels: labels, settings: CrossEntropySettings(reduction: .mean)))
  }
  static func maxError<T: ReferenceScalar>(_ w: Workspace<T>, rows: [Int]) -> WorstError {
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

/// `crossEntropyWithGradient(_:...:labels:gradient:options:)`, fused forward and backward,
/// class labels, reduction mean, gradient into `output` (not in place; no per-row losses): reads x
/// and the labels, writes the gradient. max_error: gradient element g_j = (p_j - [j = t]) / rows in
/// units of eps (p_j + [j = t]) / rows (plus leastNormal / 2), bound |x_j - max| + 8 as the
/// softmax-like bound of the tests' `gradientBudget` (the loss itself is checked by cross-entropy).
enum CrossEntropyGradOp: BenchOperation {
  static let name = "cross-entropy-grad"
  static func bytesPerElement(scalarSize s: Int, cols: Int) -> Double {
    Double(2 * s) + 4 / Double(cols)
  }
  static func kernel<T: ReferenceScalar>(_ w: Workspace<T>) -> () -> Void {
    let (x, l, g, r, c) = (w.input, UnsafeBufferPointer(w.labels), w.output, w.rows, w.cols)
    let o = reportCrossEntropyOptions(w)
    return {
      blackHole(try! crossEntropyWithGradient(x, rows: r, cols: c, labels: l, gradient: g, options: o))
    }
  }
  static func reference<T: ReferenceScalar>(_ x: [T], rows: Int, cols: Int, _ w: Workspace<T>) {
    let labels = w.labelArray(rows: rows)
    blackHole(Reference.crossEntropy(
      logits: x, rows: rows, cols: cols, labels: labels, settings: CrossEntropySettings(reduction: .mean)))
  }
  static func maxError<T: ReferenceScalar>(_ w: Workspace<T>, rows: [Int]) -> WorstError {
    let (x, ctx) = w.sample(rows)
    let labels = rows.map { Int(w.labels[$0]) }
    // The sum's gradient on the sampled rows, divided by the workload's row count: the mean's.
    let ora = Oracle.crossEntropy(
      logits: x, rows: rows.count, cols: w.cols, labels: labels, settings: CrossEntropySettings(reduction: .sum))
    let p = Oracle.softmax(x, rows: rows.count, cols: w.cols)
    let n = T.Wide(w.rows)
    var worst = WorstError()
    for (i, r) in rows.enumerated() {
      for j in 0..<w.cols {
        let k = i * w.cols + j
        let shift = ctx[i].max.isFinite ? Double(abs(x[k] - ctx[i].max)) : 0
        let hot: T.Wide = j == labels[i] ? 1 : 0
        worst.add(gradientError(
          w.output[r * w.cols + j], oracle: ora.gradient[k] / n, magnitude: (p[k] + hot) / n, bound: shift + 8, T.self))
      }
    }
    return worst
  }
}

/// `softmaxBackward(_:rows:cols:output:gradient:)` from y = softmax(x) (`probabilities`) and
/// dy (`upstream`) into `output`: reads y and dy, writes dx. max_error: dx_j = y_j (dy_j - s) in
/// units of eps y_j (|dy_j| + sum_k |dy_k y_k|) (plus leastNormal / 2), bound 8 (the tests' budget).
enum SoftmaxBackwardOp: BenchOperation {
  static let name = "softmax-backward"
  static func bytesPerElement(scalarSize s: Int, cols: Int) -> Double { Double(3 * s) }
  static func kernel<T: ReferenceScalar>(_ w: Workspace<T>) -> () -> Void {
    let (y, dy, dx, r, c) = (UnsafeBufferPointer(w.probabilities), UnsafeBufferPointer(w.upstream), w.output, w.rows, w.cols)
    // Default options (accurate, one thread), as before backward passes took options: the same
    // work whatever `--mode` / `--threads` say.
    return { try! softmaxBackward(dy, rows: r, cols: c, output: y, gradient: dx) }
  }
  static func reference<T: ReferenceScalar>(_ x: [T], rows: Int, cols: Int, _ w: Workspace<T>) {
    let y = w.prefix(0, of: w.probabilities, count: x.count), dy = w.prefix(1, of: w.upstream, count: x.count)
    blackHole(Reference.softmaxBackward(output: y, gradOutput: dy, rows: rows, cols: cols))
  }
  static func maxError<T: ReferenceScalar>(_ w: Workspace<T>, rows: [Int]) -> WorstError {
    let y = w.rowsArray(rows, of: w.probabilities), dy = w.rowsArray(rows, of: w.upstream)
    let ora = Oracle.softmaxBackward(output: y, gradOutput: dy, rows: rows.count, cols: w.cols)
    var worst = WorstError()
    for (i, r) in rows.enumerated() {
      var sAbs: T.Wide = 0
      for j in 0..<w.cols { sAbs += abs(T.Wide(dy[i * w.cols + j]) * T.Wide(y[i * w.cols + j])) }
      for j in 0..<w.cols {
        let k = i * w.cols + j
        let m = abs(T.Wide(y[k])) * (abs(T.Wide(dy[k])) + sAbs)
        worst.add(gradientError(w.output[r * w.cols + j], oracle: ora[k], magnitude: m, bound: 8, T.self))
      }
    }
    return worst
  }
}

/// `logSoftmaxBackward(_:rows:cols:output:gradient:)` from y = logSoftmax(x)
/// (`logProbabilities`) and dy (`upstream`) into `output`: reads y and dy, writes dx. max_error:
/// dx_j = dy_j - exp(y_j) sum_k dy_k in units of eps (|dy_j| + exp(y_j) sum_k |dy_k|) (plus
/// leastNormal / 2), bound 8 (the tests' budget).
enum LogSoftmaxBackwardOp: BenchOperation {
  static let name = "log-softmax-backward"
  static func bytesPerElement(scalarSize s: Int, cols: Int) -> Double { Double(3 * s) }
  static func kernel<T: ReferenceScalar>(_ w: Workspace<T>) -> () -> Void {
    let (y, dy, dx, r, c) = (UnsafeBufferPointer(w.logProbabilities), UnsafeBufferPointer(w.upstream), w.output, w.rows, w.cols)
    // Default options (accurate, one thread): see softmax-backward.
    return { try! logSoftmaxBackward(dy, rows: r, cols: c, output: y, gradient: dx) }
  }
  static func reference<T: ReferenceScalar>(_ x: [T], rows: Int, cols: Int, _ w: Workspace<T>) {
    let y = w.prefix(2, of: w.logProbabilities, count: x.count), dy = w.prefix(1, of: w.upstream, count: x.count)
    blackHole(Reference.logSoftmaxBackward(output: y, gradOutput: dy, rows: rows, cols: cols))
  }
  static func maxError<T: ReferenceScalar>(_ w: Workspace<T>, rows: [Int]) -> WorstError {
    let y = w.rowsArray(rows, of: w.logProbabilities), dy = w.rowsArray(rows, of: w.upstream)
    let ora = Oracle.logSoftmaxBackward(output: y, gradOutput: dy, rows: rows.count, cols: w.cols)
    var worst = WorstError()
    for (i, r) in rows.enumerated() {
      var sAbs: T.Wide = 0
      for j in 0..<w.cols { sAbs += abs(T.Wide(dy[i * w.cols + j])) }
      for j in 0..<w.cols {
        let k = i * w.cols + j
        let m = abs(T.Wide(dy[k])) + T.Wide.libmExp(T.Wide(y[k])) * sAbs
        worst.add(gradientError(w.output[r * w.cols + j], oracle: ora[k], magnitude: m, bound: 8, T.self))
      }
    }
    return worst
  }
}

/// `binaryCrossEntropyWithGradient(_:rows:cols:targets:gradient:options:)`, elementwise,
/// reduction mean, with the gradient into `output` (no elementwise losses): reads x and the
/// targets (`binaryTargets`), writes the gradient. max_error: gradient element
/// ((1 - t) sigmoid(x) - t sigmoid(-x)) / n in units of eps ((1 - t) sigmoid(x) + t sigmoid(-x)) / n
/// (plus leastNormal / 2), bound 8 (the tests' budget); the reduced loss is not checked (its oracle
/// would need the whole workload).
enum BCELogitsOp: BenchOperation {
  static let name = "bce-logits"
  static func bytesPerElement(scalarSize s: Int, cols: Int) -> Double { Double(3 * s) }
  static func kernel<T: ReferenceScalar>(_ w: Workspace<T>) -> () -> Void {
    let (x, t, g, r, c) = (w.input, UnsafeBufferPointer(w.binaryTargets), w.output, w.rows, w.cols)
    let o = BinaryCrossEntropyOptions<T>(reduction: .mean)
    return {
      // Reduction mean, accurate, one thread: the old API's only mode and thread count, so the
      // same work whatever `--mode` / `--threads` say.
      blackHole(try! binaryCrossEntropyWithGradient(x, rows: r, cols: c, targets: t, gradient: g, options: o))
    }
  }
  static func reference<T: ReferenceScalar>(_ x: [T], rows: Int, cols: Int, _ w: Workspace<T>) {
    let t = w.prefix(3, of: w.binaryTargets, count: x.count)
    blackHole(Reference.binaryCrossEntropyWithLogits(
      logits: x, targets: t, rows: rows, cols: cols, posWeight: nil, reduction: .mean))
  }
  static func maxError<T: ReferenceScalar>(_ w: Workspace<T>, rows: [Int]) -> WorstError {
    let (x, _) = w.sample(rows)
    let t = w.rowsArray(rows, of: w.binaryTargets)
    // The sum's gradient on the sampled rows, divided by the workload's element count: the mean's.
    let ora = Oracle.binaryCrossEntropyWithLogits(
      logits: x, targets: t, rows: rows.count, cols: w.cols, posWeight: nil, reduction: .sum)
    let n = T.Wide(w.workload.elements)
    var worst = WorstError()
    for (i, r) in rows.enumerated() {
      for j in 0..<w.cols {
        let k = i * w.cols + j
        let xw = T.Wide(x[k]), tw = T.Wide(t[k])
        let sig = 1 / (1 + T.Wide.libmExp(-xw)), sigNeg = 1 / (1 + T.Wide.libmExp(xw))
        let m = ((1 - tw) * sig + tw * sigNeg) / n
        worst.add(gradientError(w.output[r * w.cols + j], oracle: ora.gradient[k] / n, magnitude: m, bound: 8, T.self))
      }
    }
    return worst
  }
}

/// Not a kernel: `memcpy` of the logits into the output, the same bytes softmax must move
/// (read x, write y). SPEC.md asks Float softmax on W5 to stay within 2x of it. Opt-in
/// (`--ops softmax,copy`); its "reference" is a plain element-by-element copy loop and its error
/// is 0 by construction.
enum CopyOp: BenchOperation {
  static let name = "copy"
  static func bytesPerElement(scalarSize s: Int, cols: Int) -> Double { Double(2 * s) }
  static func kernel<T: ReferenceScalar>(_ w: Workspace<T>) -> () -> Void {
    let (x, y, n) = (w.logits.baseAddress!, w.output.baseAddress!, w.workload.elements)
    return { memcpy(y, x, n * MemoryLayout<T>.stride) }
  }
  static func reference<T: ReferenceScalar>(_ x: [T], rows: Int, cols: Int, _ w: Workspace<T>) {
    let y = w.output
    for i in 0..<x.count { y[i] = x[i] }
    blackHole(y)
  }
  static func maxError<T: ReferenceScalar>(_ w: Workspace<T>, rows: [Int]) -> WorstError {
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
