import ArgumentParser
import SoftmaxKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Format: ExpressibleByArgument {}

/// `softmax-bench`: the benchmark report behind `scripts/bench`.
@main
struct SoftmaxBenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "softmax-bench",
    abstract: "Times the SoftmaxKernels kernels against the scalar reference and the SLEEF exp floor.",
    discussion: """
      For each operation and workload, each storage type of --dtypes side by side (Float and \
      Double by default): median ns per element (with the p10-p90 spread), effective GB/s, the \
      speed-up over the SoftmaxReference scalar code, the time as a multiple of SLEEF's vector \
      exp alone, and the worst error against the wider-precision oracle; then the time ratios: \
      D/F (Double/Float) and, with half or bfloat16 selected beside float, F/H and F/BF (Float \
      time / 16-bit time: the speed-up of 16-bit storage). Results go to stdout, progress to \
      stderr. With --plot FILE.svg the same results are also drawn as an SVG chart in FILE.svg.

      half (Float16) and bfloat16 (BFloat16) rows are computed in Float: their per-row results \
      (logsumexp, losses) are Float, their reference is the Float scalar code on the widened \
      rows, and their error is in units of the 16-bit type against the Float oracle (Double) on \
      the widened rows. Example: scripts/bench --dtypes float,half,bfloat16 --workloads W3,W4,W5.

      Workloads (SPEC.md): W1 8192x10, W2 1024x1000, W3 128x32000, W4 32x128256, W5 256x128256; \
      a custom shape is written ROWSxCOLS.
      """)

  @Option(help: """
    Comma-separated operations: \(Operations.allNames.joined(separator: ", ")). 'copy' \
    (memcpy of the same bytes) runs only when named.
    """)
  var ops: String = Operations.defaultNames.joined(separator: ",")

  @Option(help: "Comma-separated workloads: W1..W5 or ROWSxCOLS.")
  var workloads: String = Workload.standard.map(\.name).joined(separator: ",")

  @Option(help: """
    Comma-separated storage types: float, double, half (Float16), bfloat16 (BFloat16); the \
    report shows them in that order.
    """)
  var dtypes: String = "float,double"

  @Option(help: "Output format: \(Format.allCases.map(\.rawValue).joined(separator: ", ")).")
  var format: Format = .table

  @Flag(help: "Fewer, shorter samples: the whole default report in well under a minute.")
  var quick = false

  @Option(help: "Kernel mode: 'accurate' (SLEEF's exp, the default) or 'fast' (the inlined Swift SIMD exp; the exp row then times that exp).")
  var mode: String = "accurate"

  @Option(help: "Threads per kernel call (KernelOptions.threads; 0 = one per processor). The exp row stays single-threaded.")
  var threads: Int = 1

  @Option(help: "Seed of the random logits (normal, std 3).")
  var seed: UInt64 = 42

  @Flag(inversion: .prefixedNo, help: "Show progress on stderr.")
  var progress = true

  @Option(help: ArgumentHelp(
    """
    After the run, also write an SVG chart of the results to this file: median ns per element of \
    each operation (a panel each) and workload, the --dtypes side by side (Float beside Double \
    by default), log scale, with the exp floor of each workload and storage type marked. The \
    report still goes to stdout.
    """, valueName: "file.svg"))
  var plot: String?

  /// The operations asked for, in report order, plus the names left out because their kernels
  /// do not exist yet.
  func selectedOps() throws -> (ops: [OperationEntry], leftOut: [String]) {
    let names = ops.split(separator: ",").map { trimmed($0).lowercased() }.filter { !$0.isEmpty }
    for n in names where !Operations.allNames.contains(n) {
      throw ValidationError(
        "unknown operation '\(n)' in --ops; known: \(Operations.allNames.joined(separator: ", "))")
    }
    let leftOut = Operations.planned.filter { names.contains($0) }
    let chosen = Operations.registry.filter { names.contains($0.name) }
    if chosen.isEmpty {
      throw ValidationError(
        "none of --ops \(ops) has a kernel yet; available: \(Operations.defaultNames.joined(separator: ", "))")
    }
    return (chosen, leftOut)
  }

  func selectedWorkloads() throws -> [Workload] {
    var out = [Workload]()
    for part in workloads.split(separator: ",") {
      guard let w = Workload.parse(String(part)) else {
        throw ValidationError("unknown workload '\(part)' in --workloads; use W1..W5 or ROWSxCOLS, e.g. 64x50257")
      }
      if !out.contains(w) { out.append(w) }
    }
    if out.isEmpty { throw ValidationError("--workloads is empty") }
    return out
  }

  /// The storage types asked for, in report order (Float, Double, half, bfloat16).
  func selectedDTypes() throws -> [DType] {
    var asked = Set<DType>()
    let known = DType.allCases.map(\.rawValue).joined(separator: ", ")
    for part in dtypes.split(separator: ",") {
      guard let d = DType(rawValue: trimmed(part).lowercased()) else {
        throw ValidationError("unknown dtype '\(part)' in --dtypes; use \(known)")
      }
      guard DType.available.contains(d) else {
        throw ValidationError(
          "--dtypes \(d.rawValue): this build has no \(d.title) kernels; available: "
            + DType.available.map(\.rawValue).joined(separator: ", "))
      }
      asked.insert(d)
    }
    if asked.isEmpty { throw ValidationError("--dtypes is empty") }
    return DType.allCases.filter { asked.contains($0) }
  }

  func validate() throws {
    guard mode == "accurate" || mode == "fast" else {
      throw ValidationError("--mode must be 'accurate' or 'fast', got '\(mode)'")
    }
    guard threads >= 0 else {
      throw ValidationError("--threads must be >= 0 (0 = one per processor), got \(threads)")
    }
    _ = try selectedOps()
    _ = try selectedWorkloads()
    _ = try selectedDTypes()
    if let plot {
      // Checked before the run, which can take minutes, rather than when the chart is written.
      guard !plot.isEmpty, !plot.hasSuffix("/") else { throw ValidationError("--plot needs a file name, got '\(plot)'") }
      let dir = plot.contains("/") ? String(plot[..<plot.lastIndex(of: "/")!]) : "."
      guard access(dir.isEmpty ? "/" : dir, W_OK) == 0 else {
        throw ValidationError("--plot \(plot): cannot write a file there (is '\(dir)' a writable directory?)")
      }
    }
  }

  func run() throws {
    let (chosen, leftOut) = try selectedOps()
    for n in leftOut {
      writeStderr("note: '\(n)' has no kernel yet; left out of the report\n")
    }
    let wl = try selectedWorkloads()
    let config = RunConfig(
      ops: chosen, workloads: wl, dtypes: try selectedDTypes(),
      plan: quick ? .quick : .accurate,
      errorSampleElements: quick ? 1 << 16 : 1 << 18, seed: seed, progress: progress,
      options: KernelOptions(mode: mode == "fast" ? .fast : .accurate, threads: threads))
    let command = "scripts/bench " + CommandLine.arguments.dropFirst().joined(separator: " ")
    let info = RunInfo.current(mode: mode, threads: threads, quick: quick, command: trimmed(command))
    let results = runReport(config)
    let names = chosen.map { $0.name }
    let text: String
    switch format {
    case .csv: text = csv(results, ops: names, workloads: wl)
    case .json: text = json(results, ops: names, workloads: wl, info: info)
    case .table: text = table(results, ops: names, workloads: wl, info: info, markdown: false)
    case .markdown: text = table(results, ops: names, workloads: wl, info: info, markdown: true)
    }
    print(text, terminator: "")
    if let plot {
      try writeTextFile(plot, svgPlot(results, ops: names, workloads: wl, info: info))
      if progress { writeStderr("wrote the chart to \(plot)\n") }
    }
  }
}

/// Writes `text` to the file at `path`, replacing it.
private func writeTextFile(_ path: String, _ text: String) throws {
  guard let f = fopen(path, "w") else { throw FileWriteError(path: path, code: errno) }
  let written = fputs(text, f) >= 0
  let code = errno
  if fclose(f) != 0 { throw FileWriteError(path: path, code: errno) }
  if !written { throw FileWriteError(path: path, code: code) }
}

struct FileWriteError: Error, CustomStringConvertible {
  var path: String
  var code: Int32
  var description: String { "cannot write \(path): \(String(cString: strerror(code)))" }
}
