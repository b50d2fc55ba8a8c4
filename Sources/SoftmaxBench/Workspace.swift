import SoftmaxKernels
import SoftmaxReference

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// 64-byte-aligned buffer of `count` elements, freed with `deallocate()`.
func allocateAligned<T>(_: T.Type, count: Int) -> UnsafeMutableBufferPointer<T> {
  let raw = UnsafeMutableRawPointer.allocate(
    byteCount: Swift.max(1, count) * MemoryLayout<T>.stride, alignment: 64)
  return UnsafeMutableBufferPointer(start: raw.bindMemory(to: T.self, capacity: count), count: count)
}

/// The preallocated buffers of one workload in one storage type `S`. Operations take what they
/// need; every buffer exists before the timed calls, so the timed code never allocates.
///
/// Rows (logits, outputs, gradients, targets) are in `S`; per-row results (logsumexp, losses) in
/// `S.Arithmetic` (`A`), as the API returns them. The scalar reference and the oracle run in `A`
/// on the rows widened from `S` (for Float and Double that is the rows themselves).
///
/// The extra inputs of the cross-entropy, backward and BCE operations are created on first use
/// (in an operation's `kernel`, before timing): `labels` (one class per row), `upstream` (a
/// gradient dy shaped like the logits), `probabilities` and `logProbabilities` (softmax and
/// log-softmax of the logits in `S`, the forward outputs a backward pass starts from),
/// `binaryTargets` (values in [0, 1] shaped like the logits) and `probabilityTargets` (each row
/// a probability distribution).
final class Workspace<S: BenchScalar> {
  typealias A = S.Arithmetic
  typealias W = S.Arithmetic.Wide
  let workload: Workload
  var rows: Int { workload.rows }
  var cols: Int { workload.cols }
  /// The logits, `rows x cols`, packed.
  let logits: UnsafeMutableBufferPointer<S>
  /// A `rows x cols` output (or second input) buffer.
  let output: UnsafeMutableBufferPointer<S>
  /// One value per row.
  let perRow: UnsafeMutableBufferPointer<A>
  /// Mode and threads of every timed kernel call (`--mode`, `--threads`).
  let options: KernelOptions
  /// The constants of `S` and of `A`, for `storedError`.
  let storagePrecision = Precision<W>(S.self), arithmeticPrecision = Precision<W>(A.self)
  private var extras: [UnsafeMutableRawBufferPointer] = []

  init(_ workload: Workload, logits source: UnsafeBufferPointer<Double>, options: KernelOptions) {
    self.workload = workload
    self.options = options
    logits = allocateAligned(S.self, count: workload.elements)
    for i in 0..<workload.elements { logits[i] = S(source[i]) }
    output = allocateAligned(S.self, count: workload.elements)
    output.initialize(repeating: 0)  // touch every page before timing
    perRow = allocateAligned(A.self, count: workload.rows)
    perRow.initialize(repeating: 0)
  }

  deinit {
    logits.deallocate()
    output.deallocate()
    perRow.deallocate()
    for e in extras { e.deallocate() }
  }

  var input: UnsafeBufferPointer<S> { UnsafeBufferPointer(logits) }

  private func extra<E>(_: E.Type, count: Int, fill: (UnsafeMutableBufferPointer<E>) -> Void)
    -> UnsafeMutableBufferPointer<E>
  {
    let b = allocateAligned(E.self, count: count)
    fill(b)
    extras.append(UnsafeMutableRawBufferPointer(b))
    return b
  }

  /// One class label per row, uniform in 0..<cols.
  lazy var labels: UnsafeMutableBufferPointer<Int32> = extra(Int32.self, count: rows) { b in
    var rng = Xoshiro256(seed: 7)
    for r in 0..<b.count { b[r] = Int32(truncatingIfNeeded: rng.next() % UInt64(Swift.max(1, cols))) }
  }

  /// An upstream gradient dy, normal with std 1.
  lazy var upstream: UnsafeMutableBufferPointer<S> = extra(S.self, count: workload.elements) { b in
    fillLogits(b, std: 1, seed: 11)
  }

  /// softmax(logits), the forward output a backward kernel starts from.
  lazy var probabilities: UnsafeMutableBufferPointer<S> = extra(S.self, count: workload.elements) { b in
    try! softmax(input, rows: rows, cols: cols, output: b)
  }

  /// logSoftmax(logits), the forward output the log-softmax backward kernel starts from.
  lazy var logProbabilities: UnsafeMutableBufferPointer<S> = extra(S.self, count: workload.elements) { b in
    try! logSoftmax(input, rows: rows, cols: cols, output: b)
  }

  /// Targets in [0, 1] for binary cross-entropy.
  lazy var binaryTargets: UnsafeMutableBufferPointer<S> = extra(S.self, count: workload.elements) { b in
    var rng = Xoshiro256(seed: 13)
    for i in 0..<b.count { b[i] = S(rng.unit()) }
  }

  /// Probability targets for cross-entropy: each row uniform random weights normalized to sum 1
  /// (in Double, then rounded to `S`).
  lazy var probabilityTargets: UnsafeMutableBufferPointer<S> = extra(S.self, count: workload.elements) { b in
    var rng = Xoshiro256(seed: 17)
    var row = [Double](repeating: 0, count: cols)
    for r in 0..<rows {
      var sum = 0.0
      for j in 0..<cols { row[j] = rng.unit(); sum += row[j] }
      for j in 0..<cols { b[r * cols + j] = S(row[j] / sum) }
    }
  }

  private var prefixCache: [Int: [A]] = [:]

  /// The first `count` elements of an extra input, widened to `A`, as an array for the scalar
  /// references (built once per buffer, outside their timing after the first call). `key` names
  /// the buffer.
  func prefix(_ key: Int, of buffer: UnsafeMutableBufferPointer<S>, count: Int) -> [A] {
    if let a = prefixCache[key], a.count == count { return a }
    let a = buffer[0..<count].map { A($0) }
    prefixCache[key] = a
    return a
  }

  private var labelCache: [Int]?

  /// The labels of the first `rows` rows as `[Int]` (the scalar reference's type).
  func labelArray(rows n: Int) -> [Int] {
    if let a = labelCache, a.count == n { return a }
    let a = labels[0..<n].map { Int($0) }
    labelCache = a
    return a
  }

  // MARK: accuracy sample

  /// The rows the error column is measured on: evenly spaced, at most `sampleElements` elements
  /// in total (at least one row).
  static func sampleRows(_ w: Workload, sampleElements: Int) -> [Int] {
    let k = Swift.min(w.rows, Swift.max(1, sampleElements / Swift.max(1, w.cols)))
    return (0..<k).map { $0 * w.rows / k }
  }

  /// Rows `rows` of `buffer`, widened to `A` and packed into an array.
  func rowsArray(_ rows: [Int], of buffer: UnsafeMutableBufferPointer<S>) -> [A] {
    var a = [A]()
    a.reserveCapacity(rows.count * cols)
    for r in rows { a.append(contentsOf: buffer[(r * cols)..<((r + 1) * cols)].lazy.map { A($0) }) }
    return a
  }

  /// Per sampled row: the logits' maximum and the oracle's logsumexp (shared by every operation).
  struct RowContext {
    var max: A
    var lse: W
  }

  private var contextCache: (rows: [Int], x: [A], context: [RowContext])?

  /// The sampled logits (widened to `A`) and their row context, computed once.
  func sample(_ rows: [Int]) -> (x: [A], context: [RowContext]) {
    if let c = contextCache, c.rows == rows { return (c.x, c.context) }
    let x = rowsArray(rows, of: logits)
    let lse = Oracle.logSumExp(x, rows: rows.count, cols: cols)
    let ctx = (0..<rows.count).map { i in
      RowContext(max: x[(i * cols)..<((i + 1) * cols)].max() ?? -.infinity, lse: lse[i])
    }
    contextCache = (rows, x, ctx)
    return (x, ctx)
  }

  /// The error of one stored element in units of `S` (see `storedError`).
  func error(_ y: S, oracle o: W, _ measure: ErrorMeasure<W>) -> ElementError {
    storedError(y, oracle: o, measure, storage: storagePrecision, arithmetic: arithmeticPrecision)
  }

  /// Worst element error of a `rows x cols` kernel result in `result` on the sampled rows,
  /// against `oracle` run on the same rows (widened): `measure` states each element's bound.
  func matrixError(
    _ result: UnsafeMutableBufferPointer<S>, rows: [Int],
    oracle: ([A], Int, Int) -> [W],
    measure: (_ o: W, _ x: A, _ row: RowContext) -> ErrorMeasure<W>
  ) -> WorstError {
    let (x, ctx) = sample(rows)
    let o = oracle(x, rows.count, cols)
    var worst = WorstError()
    for (i, r) in rows.enumerated() {
      for j in 0..<cols {
        let k = i * cols + j
        worst.add(error(result[r * cols + j], oracle: o[k], measure(o[k], x[k], ctx[i])))
      }
    }
    return worst
  }

  /// Worst error of a per-row kernel result (`perRow`, in `A`: no rounding to `S`, so measured
  /// with `A`'s own bound) on the sampled rows.
  func rowError(
    rows: [Int], oracle: ([A], Int, Int) -> [W],
    element: (_ y: A, _ o: W, _ row: RowContext) -> ElementError
  ) -> WorstError {
    let (x, ctx) = sample(rows)
    let o = oracle(x, rows.count, cols)
    var worst = WorstError()
    for (i, r) in rows.enumerated() { worst.add(element(perRow[r], o[i], ctx[i])) }
    return worst
  }
}

/// The largest error seen (in ulps, as `Accuracy` measures them) and the largest error/bound
/// ratio (above 1 means an element broke SPEC.md's bound).
struct WorstError: Sendable {
  var error: Double = 0
  var ratio: Double = 0
  var elements = 0

  mutating func add(_ e: ElementError) {
    if e.error > error || e.error.isNaN { error = e.error }
    if e.ratio > ratio || e.ratio.isNaN { ratio = e.ratio }
    elements += 1
  }
}
