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

/// A result pair: the same operation and workload in Float and Double.
struct Pair {
  var op: String
  var workload: Workload
  var float: CellResult?
  var double: CellResult?
  /// Double time / Float time.
  var doubleOverFloat: Double? {
    guard let f = float, let d = double else { return nil }
    return d.nsPerElement / f.nsPerElement
  }
}

/// Results grouped for printing: by operation (report order), then workload (as asked).
func pairs(_ results: [CellResult], ops: [String], workloads: [Workload]) -> [Pair] {
  var out = [Pair]()
  for op in ops {
    for w in workloads {
      let cells = results.filter { $0.op == op && $0.workload == w }
      if cells.isEmpty { continue }
      out.append(Pair(
        op: op, workload: w, float: cells.first { $0.dtype == .float },
        double: cells.first { $0.dtype == .double }))
    }
  }
  return out
}

// MARK: - CSV

let csvHeader = "op,workload,rows,cols,dtype,ns_per_element,gb_per_s,speedup_vs_reference,times_exp_floor,max_error"

func csv(_ results: [CellResult], ops: [String], workloads: [Workload]) -> String {
  var lines = [csvHeader]
  for p in pairs(results, ops: ops, workloads: workloads) {
    for c in [p.float, p.double].compactMap({ $0 }) {
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
  for p in pairs(results, ops: ops, workloads: workloads) {
    for c in [p.float, p.double].compactMap({ $0 }) {
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
        ("double_over_float", p.doubleOverFloat.map(jsonNumber) ?? "null"),
      ]
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
  let ps = pairs(results, ops: ops, workloads: workloads)
  let head = ["op", "workload", "rows x cols"]
  var rows = [[String]]()
  for p in ps {
    rows.append(
      [p.op, p.workload.name, p.workload.shape] + cellColumns(p.float) + cellColumns(p.double)
        + [p.doubleOverFloat.map { fmt($0, 2) } ?? "-"])
  }
  let header = head + cellHeaders + cellHeaders + ["D/F"]
  let n = header.count
  var width = header.map(\.count)
  for r in rows { for i in 0..<n { width[i] = Swift.max(width[i], r[i].count) } }
  let groupStart = head.count, groupLen = cellHeaders.count

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
    let mdHeader = head + cellHeaders.map { "F \($0)" } + cellHeaders.map { "D \($0)" } + ["D/F"]
    out.append("| " + mdHeader.joined(separator: " | ") + " |")
    out.append("|" + mdHeader.enumerated().map { $0.offset < head.count ? "---|" : "---:|" }.joined())
    for r in rows { out.append("| " + r.joined(separator: " | ") + " |") }
  } else {
    out.append(title)
    func line(_ cells: [String]) -> String {
      var parts = [String]()
      for i in 0..<n {
        if i == groupStart || i == groupStart + groupLen || i == n - 1 { parts.append("|") }
        parts.append(pad(cells[i], width[i], left: i < head.count))
      }
      return parts.joined(separator: "  ")
    }
    // Group titles centered over the Float and Double columns.
    let headWidth = width[0..<groupStart].reduce(0, +) + 2 * (groupStart - 1)
    let groupWidth = width[groupStart..<(groupStart + groupLen)].reduce(0, +) + 2 * (groupLen - 1)
    let groupWidth2 = width[(groupStart + groupLen)..<(n - 1)].reduce(0, +) + 2 * (groupLen - 1)
    func center(_ s: String, _ w: Int) -> String {
      let left = Swift.max(0, (w - s.count) / 2)
      return pad(String(repeating: " ", count: left) + s, w, left: true)
    }
    out.append(
      String(repeating: " ", count: headWidth) + "  |  " + center("Float", groupWidth) + "  |  "
        + center("Double", groupWidth2) + "  |")
    out.append(line(header))
    out.append(String(repeating: "-", count: line(header).count))
    var lastOp: String?
    for (p, r) in zip(ps, rows) {
      if let lastOp, lastOp != p.op { out.append("") }
      out.append(line(r))
      lastOp = p.op
    }
  }
  out.append("")
  out.append(contentsOf: legend.map { markdown ? $0 + "  " : $0 })
  return out.joined(separator: "\n") + "\n"
}

let legend = [
  "ns/el: median ns per element of one call on the whole matrix; p10-p90: spread of the samples.",
  "GB/s: bytes read + written per element by the op (softmax, log-softmax, exp, copy: 2 x size;",
  "  logsumexp: size + size/cols; cross-entropy: size + (4 + size)/cols; cross-entropy-grad:",
  "  2 x size + 4/cols; softmax/log-softmax-backward, bce-logits: 3 x size) / ns per element.",
  "  x ref: speed-up over SoftmaxReference's scalar code in the same precision (cross-entropy's",
  "  reference also forms the gradient). x exp: time / SLEEF vector exp alone over the same elements.",
  "err ulp: worst error vs the wider oracle (Double for Float, \(Double.Wide.self) for Double) on sampled rows,",
  "  in SPEC.md's units (softmax: relative error / ulpOfOne; log-softmax, logsumexp, cross-entropy",
  "  row losses: ulps of max(|x|, |lse|) (x_t for CE); exp: ulps of the result; gradients",
  "  (cross-entropy-grad, the backwards, bce-logits): |error| / (ulpOfOne x sum of |terms| +",
  "  leastNormal/2), bound 8 (+ |x - max| for CE)); ' !' marks an element above its bound.",
  "  D/F: Double/Float time.",
]
