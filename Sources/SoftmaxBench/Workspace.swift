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

/// The preallocated buffers of one workload in one precision. Operations take what they need;
/// every buffer exists before the timed calls, so the timed code never allocates.
///
/// The extra inputs of the cross-entropy, backward and BCE operations are created on first use
/// (in an operation's `kernel`, before timing): `labels` (one class per row), `upstream` (a
/// gradient dy shaped like the logits), `probabilities` and `logProbabilities` (softmax and
/// log-softmax of the logits, the forward outputs a backward pass starts from) and
/// `binaryTargets` (values in [0, 1] shaped like the logits).
final class Workspace<T: ReferenceScalar> {
  let workload: Workload
  var rows: Int { workload.rows }
  var cols: Int { workload.cols }
  /// The logits, `rows x cols`, packed.
  let logits: UnsafeMutableBufferPointer<T>
  /// A `rows x cols` output (or second input) buffer.
  let output: UnsafeMutableBufferPointer<T>
  /// One value per row.
  let perRow: UnsafeMutableBufferPointer<T>
  /// Mode and threads of every timed kernel call (`--mode`, `--threads`).
  let options: KernelOptions
  private var extras: [UnsafeMutableRawBufferPointer] = []

  init(_ workload: Workload, logits source: UnsafeBufferPointer<Double>, options: KernelOptions) {
    self.workload = workload
    self.options = options
    logits = allocateAligned(T.self, count: workload.elements)
    for i in 0..<workload.elements { logits[i] = T(source[i]) }
    output = allocateAligned(T.self, count: workload.elements)
    output.initialize(repeating: 0)  // touch every page before timing
    perRow = allocateAligned(T.self, count: workload.rows)
    perRow.initialize(repeating: 0)
  }

  deinit {
    logits.deallocate()
    output.deallocate()
    perRow.deallocate()
    for e in extras { e.deallocate() }
  }

  var input: UnsafeBufferPointer<T> { UnsafeBufferPointer(logits) }

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
  lazy var upstream: UnsafeMutableBufferPointer<T> = extra(T.self, count: workload.elements) { b in
    fillLogits(b, std: 1, seed: 11)
  }

  /// softmax(logits), the forward output a backward kernel starts from.
  lazy var probabilities: UnsafeMutableBufferPointer<T> = extra(T.self, count: workload.elements) { b in
    try! softmax(input, rows: rows, cols: cols, output: b)
  }

  /// logSoftmax(logits), the forward output the log-softmax backward kernel starts from.
  lazy var logProbabilities: UnsafeMutableBufferPointer<T> = extra(T.self, count: workload.elements) { b in
    try! logSoftmax(input, rows: rows, cols: cols, output: b)
  }

  /// Targets in [0, 1] for binary cross-entropy.
  lazy var binaryTargets: UnsafeMutableBufferPointer<T> = extra(T.self, count: workload.elements) { b in
    var rng = Xoshiro256(seed: 13)
    for i in 0..<b.count { b[i] = T(rng.unit()) }
  }

  private var prefixCache: [Int: [T]] = [:]

  /// The first `count` elements of an extra input as an array, for the scalar references (built
  /// once per buffer, outside their timing after the first call). `key` names the buffer.
  func prefix(_ key: Int, of buffer: UnsafeMutableBufferPointer<T>, count: Int) -> [T] {
    if let a = prefixCache[key], a.count == count { return a }
    let a = Array(buffer[0..<count])
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

  /// The logits of rows `rows`, packed into an array.
  func rowsArray(_ rows: [Int], of buffer: UnsafeMutableBufferPointer<T>) -> [T] {
    var a = [T]()
    a.reserveCapacity(rows.count * cols)
    for r in rows { a.append(contentsOf: buffer[(r * cols)..<((r + 1) * cols)]) }
    return a
  }

  /// Per sampled row: the logits' maximum and the oracle's logsumexp (shared by every operation).
  struct RowContext {
    var max: T
    var lse: T.Wide
  }

  private var contextCache: (rows: [Int], x: [T], context: [RowContext])?

  /// The sampled logits and their row context, computed once.
  func sample(_ rows: [Int]) -> (x: [T], context: [RowContext]) {
    if let c = contextCache, c.rows == rows { return (c.x, c.context) }
    let x = rowsArray(rows, of: logits)
    let lse = Oracle.logSumExp(x, rows: rows.count, cols: cols)
    let ctx = (0..<rows.count).map { i in
      RowContext(max: x[(i * cols)..<((i + 1) * cols)].max() ?? -.infinity, lse: lse[i])
    }
    contextCache = (rows, x, ctx)
    return (x, ctx)
  }

  /// Worst element error of a `rows x cols` kernel result in `result` on the sampled rows,
  /// against `oracle` run on the same rows.
  func matrixError(
    _ result: UnsafeMutableBufferPointer<T>, rows: [Int],
    oracle: ([T], Int, Int) -> [T.Wide],
    element: (_ y: T, _ o: T.Wide, _ x: T, _ row: RowContext) -> ElementError
  ) -> WorstError {
    let (x, ctx) = sample(rows)
    let o = oracle(x, rows.count, cols)
    var worst = WorstError()
    for (i, r) in rows.enumerated() {
      for j in 0..<cols {
        worst.add(element(result[r * cols + j], o[i * cols + j], x[i * cols + j], ctx[i]))
      }
    }
    return worst
  }

  /// Worst error of a per-row kernel result (`perRow`) on the sampled rows.
  func rowError(
    rows: [Int], oracle: ([T], Int, Int) -> [T.Wide],
    element: (_ y: T, _ o: T.Wide, _ row: RowContext) -> ElementError
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
