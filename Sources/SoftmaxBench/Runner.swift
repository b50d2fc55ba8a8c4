import SoftmaxKernels
import SoftmaxReference

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One measured (operation, workload, dtype) cell.
struct CellResult: Sendable {
  var op: String
  var workload: Workload
  /// The storage type.
  var dtype: DType
  /// Kernel time per call (median, p10, p90, min, max) over `samples` samples, in ns.
  var timing: Timing
  var bytesPerElement: Double
  /// The scalar reference, ns per element, timed on `referenceRows` rows.
  var referenceNsPerElement: Double
  var referenceRows: Int
  /// The exp floor of the same workload and dtype, ns per element (median).
  var expFloorNsPerElement: Double
  var error: WorstError
  var errorRows: Int

  var elements: Double { Double(workload.elements) }
  var nsPerElement: Double { timing.median / elements }
  var p10: Double { timing.p10 / elements }
  var p90: Double { timing.p90 / elements }
  var minNs: Double { timing.min / elements }
  var maxNs: Double { timing.max / elements }
  /// bytes / ns = GB/s (10^9 bytes per second).
  var gbPerSecond: Double { bytesPerElement / nsPerElement }
  var speedupVsReference: Double { referenceNsPerElement / nsPerElement }
  var timesExpFloor: Double { nsPerElement / expFloorNsPerElement }
}

/// What to run and how.
struct RunConfig {
  var ops: [OperationEntry]
  var workloads: [Workload]
  var dtypes: [DType]
  var plan: TimingPlan
  /// Elements of evenly spaced rows the error is measured on.
  var errorSampleElements: Int
  var seed: UInt64
  var progress: Bool
  /// `--mode` and `--threads`.
  var options: KernelOptions
}

/// Progress on stderr: one rewritten line on a terminal, plain lines otherwise.
struct Progress {
  let enabled: Bool
  let tty = isatty(2) != 0
  let total: Int
  var done = 0
  let start = now()

  mutating func step(_ what: String) {
    done += 1
    guard enabled else { return }
    let elapsed = Double(now() - start) / 1e9
    let line = "[\(done)/\(total)] \(what)  (\(fmt(elapsed, 1)) s)"
    writeStderr(tty ? "\r\u{1B}[K" + line : line + "\n")
  }

  func finish() {
    guard enabled else { return }
    let elapsed = Double(now() - start) / 1e9
    let line = "done: \(total) measurements in \(fmt(elapsed, 1)) s"
    writeStderr(tty ? "\r\u{1B}[K" + line + "\n" : line + "\n")
  }
}

/// Runs every (workload, dtype, op) cell. The exp floor of each workload and dtype is always
/// measured (each kernel is reported as a multiple of it); its row is printed only when `exp`
/// was asked for.
func runReport(_ config: RunConfig) -> [CellResult] {
  let nonExp = config.ops.filter { $0.name != ExpFloorOp.name }
  let expFloor = OperationEntry(ExpFloorOp.self)
  var progress = Progress(
    enabled: config.progress, total: config.workloads.count * config.dtypes.count * (nonExp.count + 1))
  var results = [CellResult]()
  for w in config.workloads {
    // The same logits for every dtype: generated once in Double, rounded to each storage type.
    let source = allocateAligned(Double.self, count: w.elements)
    // Seeded by the shape, so a workload gets the same logits whatever else is selected.
    fillLogits(source, std: 3, seed: config.seed &+ UInt64(w.rows) &* 1_000_003 &+ UInt64(w.cols))
    var runner = CellRunner(
      workload: w, source: UnsafeBufferPointer(source), ops: nonExp, floor: expFloor, config: config,
      progress: progress)
    // In report order (Float, Double, then the 16-bit types), whatever order --dtypes gave.
    forEachScalarType(&runner)
    results += runner.results
    progress = runner.progress
    source.deallocate()
  }
  progress.finish()
  let wanted = Set(config.ops.map { $0.name })
  return results.filter { wanted.contains($0.op) }
}

/// Runs one workload's cells in each selected storage type (`runCells`, specialized per type).
private struct CellRunner: ScalarTypeVisitor {
  let workload: Workload
  let source: UnsafeBufferPointer<Double>
  let ops: [OperationEntry]
  let floor: OperationEntry
  let config: RunConfig
  var progress: Progress
  var results = [CellResult]()

  mutating func visit<S: BenchScalar>(_: S.Type) {
    guard config.dtypes.contains(S.dtype) else { return }
    results += runCells(
      workload, source, names: ops.map(\.name), ops.map { $0.calls(S.self) }, floor: floor.calls(S.self), config,
      &progress)
  }
}

private func runCells<S: BenchScalar>(
  _ w: Workload, _ source: UnsafeBufferPointer<Double>, names: [String], _ ops: [OperationCalls<S>],
  floor: OperationCalls<S>, _ config: RunConfig, _ progress: inout Progress
) -> [CellResult] {
  let ws = Workspace<S>(w, logits: source, options: config.options)
  let errorRows = Workspace<S>.sampleRows(w, sampleElements: config.errorSampleElements)
  let referenceRows = Swift.min(w.rows, Swift.max(1, config.plan.referenceElements / w.cols))
  // The reference runs in the arithmetic type on the widened rows (widened here, untimed).
  let referenceInput = ws.input[0..<(referenceRows * w.cols)].map { S.Arithmetic($0) }

  func cell(_ name: String, _ op: OperationCalls<S>, expFloor: Double?) -> CellResult {
    progress.step("\(w.name) \(w.shape) \(S.dtype.rawValue) \(name)")
    let timing = measure(config.plan, op.kernel(ws))
    let error = op.maxError(ws, errorRows)  // reads the result of the last timed call
    let refNs = measureSlow(count: config.plan.referenceSamples) {
      op.reference(referenceInput, referenceRows, w.cols, ws)
    }
    let perElement = timing.median / Double(w.elements)
    return CellResult(
      op: name, workload: w, dtype: S.dtype, timing: timing,
      bytesPerElement: op.bytesPerElement(w.cols),
      referenceNsPerElement: refNs / Double(referenceRows * w.cols), referenceRows: referenceRows,
      expFloorNsPerElement: expFloor ?? perElement, error: error, errorRows: errorRows.count)
  }

  let floorCell = cell(ExpFloorOp.name, floor, expFloor: nil)
  var out = [floorCell]
  for (name, op) in zip(names, ops) { out.append(cell(name, op, expFloor: floorCell.nsPerElement)) }
  return out
}

/// `x` with `decimals` digits after the point.
func fmt(_ x: Double, _ decimals: Int) -> String {
  if x.isNaN { return "nan" }
  if x.isInfinite { return x > 0 ? "inf" : "-inf" }
  var buf = [CChar](repeating: 0, count: 64)
  _ = withVaList([x]) { vsnprintf(&buf, 64, "%.\(decimals)f", $0) }
  return cString(buf)
}

/// The text of a NUL-terminated C buffer.
func cString(_ buf: [CChar]) -> String {
  String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Writes `s` to standard error, unbuffered.
func writeStderr(_ s: String) {
  var s = s
  s.withUTF8 { b in
    var off = 0
    while off < b.count {
      let n = write(2, b.baseAddress! + off, b.count - off)
      if n <= 0 { break }
      off += n
    }
  }
}
