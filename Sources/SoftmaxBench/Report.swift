import SoftmaxKernels
import SoftmaxReference

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Output formats of the report (stdout).
enum Format: String, CaseIterable, Sendable {
  case table, csv, json, markdown
}

/// What the report was run on and with.
struct RunInfo {
  var date: String
  var cpu: String
  var isa: InstructionSet
  var mode: String
  var threads: Int
  var quick: Bool
  var command: String

  static func current(mode: String, threads: Int, quick: Bool, command: String) -> RunInfo {
    RunInfo(date: utcNow(), cpu: cpuModel(), isa: InstructionSet.active, mode: mode, threads: threads,
            quick: quick, command: command)
  }

  var widths: String {
    "\(isa.vectorWidth(for: Float.self)) x Float, \(isa.vectorWidth(for: Double.self)) x Double"
  }
}

func utcNow() -> String {
  var t = time(nil)
  var tm = tm()
  gmtime_r(&t, &tm)
  var buf = [CChar](repeating: 0, count: 32)
  _ = strftime(&buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm)
  return cString(buf)
}

func cpuModel() -> String {
  guard let f = fopen("/proc/cpuinfo", "r") else { return "unknown CPU" }
  defer { fclose(f) }
  var line = [CChar](repeating: 0, count: 512)
  while fgets(&line, 512, f) != nil {
    let s = cString(line)
    if s.hasPrefix("model name"), let colon = s.firstIndex(of: ":") {
      return trimmed(s[s.index(after: colon)...])
    }
  }
  return "unknown CPU"
}

/// One line of the report: the same operation and workload in each storage type measured.
struct ReportRow {
  var op: String
  var workload: Workload
  /// In report order (Float, Double, half, bfloat16).
  var cells: [CellResult]

  func cell(_ d: DType) -> CellResult? { cells.first { $0.dtype == d } }

  /// `ratio.numerator` time / `ratio.denominator` time, when both were measured.
  func value(_ ratio: TimeRatio) -> Double? {
    guard let n = cell(ratio.numerator), let d = cell(ratio.denominator) else { return nil }
    return n.nsPerElement / d.nsPerElement
  }
}

/// A ratio column: one storage type's time over another's.
struct TimeRatio: Equatable {
  var numerator: DType
  var denominator: DType
  /// "D/F", "F/H", "F/BF".
  var title: String { "\(numerator.letter)/\(denominator.letter)" }
  /// "double_over_float", "float_over_half": the JSON field.
  var key: String { "\(numerator.rawValue)_over_\(denominator.rawValue)" }

  /// The ratio columns of a report over `dtypes`: D/F (Double time / Float time) when both are
  /// there, and F/H, F/BF (Float time / 16-bit time: the speed-up of 16-bit storage over Float)
  /// for each 16-bit type measured beside Float.
  static func columns(_ dtypes: [DType]) -> [TimeRatio] {
    guard dtypes.contains(.float) else { return [] }
    var out = [TimeRatio]()
    if dtypes.contains(.double) { out.append(TimeRatio(numerator: .double, denominator: .float)) }
    for d in [DType.half, .bfloat16] where dtypes.contains(d) { out.append(TimeRatio(numerator: .float, denominator: d)) }
    return out
  }
}

/// The storage types present in `results`, in report order.
func storageTypes(in results: [CellResult]) -> [DType] {
  DType.allCases.filter { d in results.contains { $0.dtype == d } }
}

/// Results grouped for printing: by operation (report order), then workload (as asked).
func reportRows(_ results: [CellResult], ops: [String], workloads: [Workload]) -> [ReportRow] {
  var out = [ReportRow]()
  for op in ops {
    for w in workloads {
      let cells = results.filter { $0.op == op && $0.workload == w }
      if cells.isEmpty { continue }
      out.append(ReportRow(
        op: op, workload: w, cells: DType.allCases.compactMap { d in cells.first { $0.dtype == d } }))
    }
  }
  return out
}

// MARK: - CSV

let csvHeader = "op,workload,rows,cols,dtype,ns_per_element,gb_per_s,speedup_vs_reference,times_exp_floor,max_error"

func csv(_ results: [CellResult], ops: [String], workloads: [Workload]) -> String {
  var lines = [csvHeader]
  for row in reportRows(results, ops: ops, workloads: workloads) {
    for c in row.cells {
      lines.append([
        c.op, c.workload.name, "\(c.workload.rows)", "\(c.workload.cols)", c.dtype.rawValue,
        fmt(c.nsPerElement, 4), fmt(c.gbPerSecond, 3), fmt(c.speedupVsReference, 2),
        fmt(c.timesExpFloor, 3), fmt(c.error.error, 3),
      ].joined(separator: ","))
    }
  }
  return lines.joined(separator: "\n") + "\n"
}

// MARK: - JSON

func jsonString(_ s: String) -> String {
  var out = "\""
  for ch in s.unicodeScalars {
    switch ch {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\t": out += "\\t"
    default:
      if ch.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(ch.value, radix: 16).count) + String(ch.value, radix: 16) } else { out.unicodeScalars.append(ch) }
    }
  }
  return out + "\""
}

func jsonNumber(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }

func json(_ results: [CellResult], ops: [String], workloads: [Workload], info: RunInfo) -> String {
  var items = [String]()
  let ratios = TimeRatio.columns(storageTypes(in: results))
  for row in reportRows(results, ops: ops, workloads: workloads) {
    for c in row.cells {
      let fields: [(String, String)] = [
        ("op", jsonString(c.op)),
        ("workload", jsonString(c.workload.name)),
        ("rows", "\(c.workload.rows)"),
        ("cols", "\(c.workload.cols)"),
        ("dtype", jsonString(c.dtype.rawValue)),
        ("ns_per_element", jsonNumber(c.nsPerElement)),
        ("ns_per_element_p10", jsonNumber(c.p10)),
        ("ns_per_element_p90", jsonNumber(c.p90)),
        ("ns_per_element_min", jsonNumber(c.minNs)),
        ("ns_per_element_max", jsonNumber(c.maxNs)),
        ("samples", "\(c.timing.samples.count)"),
        ("calls_per_sample", "\(c.timing.batch)"),
        ("bytes_per_element", jsonNumber(c.bytesPerElement)),
        ("gb_per_s", jsonNumber(c.gbPerSecond)),
        ("reference_ns_per_element", jsonNumber(c.referenceNsPerElement)),
        ("reference_rows_timed", "\(c.referenceRows)"),
        ("speedup_vs_reference", jsonNumber(c.speedupVsReference)),
        ("exp_floor_ns_per_element", jsonNumber(c.expFloorNsPerElement)),
        ("times_exp_floor", jsonNumber(c.timesExpFloor)),
        ("max_error", jsonNumber(c.error.error)),
        ("max_error_over_bound", jsonNumber(c.error.ratio)),
        ("error_rows_sampled", "\(c.errorRows)"),
      ] + ratios.map { ($0.key, row.value($0).map(jsonNumber) ?? "null") }
      items.append("    {" + fields.map { "\(jsonString($0.0)): \($0.1)" }.joined(separator: ", ") + "}")
    }
  }
  return """
    {
      "date": \(jsonString(info.date)),
      "cpu": \(jsonString(info.cpu)),
      "instruction_set": \(jsonString(info.isa.rawValue)),
      "vector_width": {"float": \(info.isa.vectorWidth(for: Float.self)), "double": \(info.isa.vectorWidth(for: Double.self))},
      "mode": \(jsonString(info.mode)),
      "quick": \(info.quick),
      "threads": \(info.threads),
      "command": \(jsonString(info.command)),
      "results": [
    \(items.joined(separator: ",\n"))
      ]
    }

    """
}

// MARK: - table / markdown

/// The per-dtype columns of the table.
private let cellHeaders = ["ns/el", "p10-p90", "GB/s", "x ref", "x exp", "err ulp"]

private func cellColumns(_ c: CellResult?) -> [String] {
  guard let c else { return cellHeaders.map { _ in "-" } }
  let digits = c.nsPerElement < 10 ? 3 : 2
  return [
    fmt(c.nsPerElement, digits),
    "\(fmt(c.p10, digits))-\(fmt(c.p90, digits))",
    fmt(c.gbPerSecond, 1),
    fmt(c.speedupVsReference, 1),
    fmt(c.timesExpFloor, 2),
    fmt(c.error.error, 2) + (c.error.ratio > 1 ? " !" : ""),
  ]
}

func table(
  _ results: [CellResult], ops: [String], workloads: [Workload], info: RunInfo, markdown: Bool
) -> String {
  let rows = reportRows(results, ops: ops, workloads: workloads)
  let shown = storageTypes(in: results)
  let ratios = TimeRatio.columns(shown)
  let head = ["op", "workload", "rows x cols"]
  var cells = [[String]]()
  for r in rows {
    cells.append(
      [r.op, r.workload.name, r.workload.shape] + shown.flatMap { cellColumns(r.cell($0)) }
        + ratios.map { r.value($0).map { fmt($0, 2) } ?? "-" })
  }
  let header = head + shown.flatMap { _ in cellHeaders } + ratios.map(\.title)
  let n = header.count
  var width = header.map(\.count)
  for r in cells { for i in 0..<n { width[i] = Swift.max(width[i], r[i].count) } }
  let groupLen = cellHeaders.count
  /// The first column of each group: the dtypes', then the ratios (if any).
  let groupStarts = shown.indices.map { head.count + $0 * groupLen } + (ratios.isEmpty ? [] : [n - ratios.count])

  func pad(_ s: String, _ w: Int, left: Bool) -> String {
    let fill = String(repeating: " ", count: Swift.max(0, w - s.count))
    return left ? s + fill : fill + s
  }

  var out = [String]()
  let title =
    "SoftmaxKernels \(info.quick ? "quick " : "")report, \(info.date), \(info.cpu), "
    + "ISA \(info.isa.rawValue) (\(info.widths)), mode \(info.mode), threads \(info.threads)"
  if markdown {
    out.append("_\(title)_")
    out.append("")
    let mdHeader = head + shown.flatMap { d in cellHeaders.map { "\(d.letter) \($0)" } } + ratios.map(\.title)
    out.append("| " + mdHeader.joined(separator: " | ") + " |")
    out.append("|" + mdHeader.enumerated().map { $0.offset < head.count ? "---|" : "---:|" }.joined())
    for r in cells { out.append("| " + r.joined(separator: " | ") + " |") }
  } else {
    out.append(title)
    func line(_ cells: [String]) -> String {
      var parts = [String]()
      for i in 0..<n {
        if groupStarts.contains(i) { parts.append("|") }
        parts.append(pad(cells[i], width[i], left: i < head.count))
      }
      return parts.joined(separator: "  ") + (ratios.isEmpty ? "  |" : "")
    }
    // Group titles centered over each dtype's columns.
    func span(_ range: Range<Int>) -> Int { width[range].reduce(0, +) + 2 * (range.count - 1) }
    func center(_ s: String, _ w: Int) -> String {
      let left = Swift.max(0, (w - s.count) / 2)
      return pad(String(repeating: " ", count: left) + s, w, left: true)
    }
    var titles = String(repeating: " ", count: span(0..<head.count))
    for (k, d) in shown.enumerated() {
      let start = head.count + k * groupLen
      titles += "  |  " + center(d.title, span(start..<(start + groupLen)))
    }
    out.append(titles + "  |")
    out.append(line(header))
    out.append(String(repeating: "-", count: line(header).count))
    var lastOp: String?
    for (r, c) in zip(rows, cells) {
      if let lastOp, lastOp != r.op { out.append("") }
      out.append(line(c))
      lastOp = r.op
    }
  }
  out.append("")
  out.append(contentsOf: legend(shown).map { markdown ? $0 + "  " : $0 })
  return out.joined(separator: "\n") + "\n"
}

/// The table's legend; the 16-bit lines only when a 16-bit type is shown.
func legend(_ shown: [DType]) -> [String] {
  var lines = [
    "ns/el: median ns per element of one call on the whole matrix; p10-p90: spread of the samples.",
    "GB/s: bytes read + written per element by the op (softmax, log-softmax, exp, copy: 2 x size;",
    "  logsumexp: size + asize/cols; cross-entropy: size + (4 + asize)/cols; cross-entropy-grad(-inplace):",
    "  2 x size + 4/cols; cross-entropy-targets-grad, softmax/log-softmax-backward, bce-logits: 3 x size)",
    "  / ns per element; size: the storage type's, asize: its arithmetic type's (the per-row results).",
    "x ref: speed-up over SoftmaxReference's scalar code in the arithmetic type (cross-entropy's",
    "  reference also forms the gradient). x exp: time / SLEEF vector exp alone over the same elements.",
    "err ulp: worst error vs the wider oracle (Double for Float, \(Double.Wide.self) for Double) on sampled rows,",
    "  in SPEC.md's units (softmax: relative error / ulpOfOne; log-softmax, logsumexp, cross-entropy",
    "  row losses: ulps of max(|x|, |lse|) (x_t for CE); exp: ulps of the result; gradients",
    "  (cross-entropy-grad(-inplace), -targets-grad, the backwards, bce-logits): |error| / (ulpOfOne x",
    "  sum of |terms| + leastNormal/2), bound 8 (+ |x - max| for CE)); ' !' marks an element above its bound.",
    "cross-entropy-grad-inplace: timed over a copy of the logits, which holds the previous call's",
    "  gradient from the second call on (same work per element); its error is from a call on the logits.",
  ]
  if shown.contains(where: { $0 == .half || $0 == .bfloat16 }) {
    lines += [
      "Float16 (half), BFloat16: rows stored in 16 bits, computed in Float (asize 4). Each stored output",
      "  is the Float kernel's result on the widened rows, rounded once: err ulp is in the 16-bit type's",
      "  units (its ulpOfOne, ulp, leastNormal) against the Float oracle (Double) on the widened rows, and",
      "  the bound is the rounding (half a 16-bit ulp) plus Float's bound in those units: about 0.5 for",
      "  softmax and the gradients, 0.5-1 for log-softmax (|y| may reach twice max(|x|, |lse|)). logsumexp",
      "  and cross-entropy losses are Float values, in Float's units. Mean-reduced gradients (1/rows or",
      "  1/elements of the terms) are mostly subnormal in Float16: small errors in these units (the bound's",
      "  leastNormal term), coarse relative to the value. x ref: the Float scalar code on the widened rows.",
    ]
  }
  let ratios = TimeRatio.columns(shown)
  if !ratios.isEmpty {
    lines.append(ratios.map { r in
      r.numerator == .double
        ? "D/F: Double/Float time"
        : "\(r.title): Float/\(r.denominator.title) time (the speed-up of \(r.denominator.title) storage)"
    }.joined(separator: "; ") + ".")
  }
  return lines
}
