import SoftmaxKernels
import SoftmaxReference

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
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
    OperationEntry(CopyOp.self),
  ]

  /// Run only when named in `--ops`.
  static let optIn: Set<String> = [CopyOp.name]

  /// Operations SPEC.md asks for that have no kernel yet: accepted by `--ops` and left out with
  /// a note. Move a name from here to `registry` when its kernel lands.
  static let planned: [String] = [
    "cross-entropy", "cross-entropy-grad", "softmax-backward", "log-softmax-backward", "bce-logits",
  ]

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

/// `softmax(_:rows:cols:into:)`, out of place: reads x, writes y.
enum SoftmaxOp: BenchOperation {
  static let name = "softmax"
  static func bytesPerElement(scalarSize s: Int, cols: Int) -> Double { Double(2 * s) }
  static func kernel<T: ReferenceScalar>(_ w: Workspace<T>) -> () -> Void {
    let (x, y, r, c) = (w.input, w.output, w.rows, w.cols)
    let o = w.options
    return { try! softmax(x, rows: r, cols: c, into: y, options: o) }
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

/// `logSoftmax(_:rows:cols:into:)`, out of place: reads x, writes y.
enum LogSoftmaxOp: BenchOperation {
  static let name = "log-softmax"
  static func bytesPerElement(scalarSize s: Int, cols: Int) -> Double { Double(2 * s) }
  static func kernel<T: ReferenceScalar>(_ w: Workspace<T>) -> () -> Void {
    let (x, y, r, c) = (w.input, w.output, w.rows, w.cols)
    let o = w.options
    return { try! logSoftmax(x, rows: r, cols: c, into: y, options: o) }
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

/// `logSumExp(_:rows:cols:into:)`: reads x, writes one value per row.
enum LogSumExpOp: BenchOperation {
  static let name = "logsumexp"
  static func bytesPerElement(scalarSize s: Int, cols: Int) -> Double {
    Double(s) * (1 + 1 / Double(cols))
  }
  static func kernel<T: ReferenceScalar>(_ w: Workspace<T>) -> () -> Void {
    let (x, out, r, c) = (w.input, w.perRow, w.rows, w.cols)
    let o = w.options
    return { try! logSumExp(x, rows: r, cols: c, into: out, options: o) }
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

/// The exp floor: `VectorExp.exp(_:into:)`, SLEEF's vector exp alone over the same elements
/// (reads x, writes y). Its reference is the C library's scalar exp in a plain loop; its error is
/// in ulps of the correctly rounded result (SLEEF's u10 functions promise 1.0).
enum ExpFloorOp: BenchOperation {
  static let name = "exp"
  static func bytesPerElement(scalarSize s: Int, cols: Int) -> Double { Double(2 * s) }
  static func kernel<T: ReferenceScalar>(_ w: Workspace<T>) -> () -> Void {
    let (x, y) = (w.input, w.output)
    let mode = w.options.mode
    return { try! VectorExp.exp(x, into: y, mode: mode) }
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
