import SoftmaxKernels
import SoftmaxReference
import Testing

@testable import SoftmaxBench

/// `scripts/bench --dtypes`: parsing, the CSV `dtype` column, the ratio columns, and the 16-bit
/// error measure.
@Suite("Bench storage types (--dtypes)")
struct DTypeTests {
  static let workload = Workload(name: "W9", rows: 4, cols: 37)

  static func dtypes(_ arguments: [String]) throws -> [DType] {
    try SoftmaxBenchCommand.parse(arguments).selectedDTypes()
  }

  @Test("--dtypes: the default, report order whatever the order given, spaces, case, repeats")
  func parsing() throws {
    #expect(try Self.dtypes([]) == [.float, .double])
    #expect(try Self.dtypes(["--dtypes", "half,float"]) == [.float, .half])
    #expect(try Self.dtypes(["--dtypes", " HALF , double,half"]) == [.double, .half])
    #expect(throws: (any Error).self) { try Self.dtypes(["--dtypes", "float16"]) }
    #expect(throws: (any Error).self) { try Self.dtypes(["--dtypes", ","]) }
    #expect(try Self.dtypes(["--dtypes", "bfloat16,float"]) == [.float, .bfloat16])
    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    #expect(DType.available == DType.allCases)
    #endif
    #expect(DType.allCases.map(\.rawValue) == ["float", "double", "half", "bfloat16"])
  }

  static func cell(_ op: String, _ dtype: DType, ns: Double) -> CellResult {
    let n = Double(workload.elements)
    return CellResult(
      op: op, workload: workload, dtype: dtype, timing: Timing(samples: [ns * n], batch: 1),
      bytesPerElement: dtype == .half || dtype == .bfloat16 ? 4 : 8, referenceNsPerElement: 10, referenceRows: 4,
      expFloorNsPerElement: ns / 2, error: WorstError(error: 0.25, ratio: 0.5, elements: 1), errorRows: 4)
  }

  @Test("CSV and JSON: one line per storage type, dtype 'half' and 'bfloat16', in report order")
  func csvDTypeColumn() throws {
    let results = [
      Self.cell("softmax", .bfloat16, ns: 0.5), Self.cell("softmax", .half, ns: 0.5), Self.cell("softmax", .float, ns: 1),
    ]
    let lines = csv(results, ops: ["softmax"], workloads: [Self.workload]).split(separator: "\n").map(String.init)
    #expect(lines.first == csvHeader)
    let column = try #require(csvHeader.split(separator: ",").firstIndex(of: "dtype"))
    #expect(lines.dropFirst().map { String($0.split(separator: ",")[column]) } == ["float", "half", "bfloat16"])
    // bytes per element 4 at 0.5 ns: 8 GB/s.
    #expect(lines[2].split(separator: ",")[6] == "8.000")

    let info = RunInfo(
      date: "2026-01-02T03:04:05Z", cpu: "CPU", isa: .active, mode: "accurate", threads: 1, quick: true,
      command: "scripts/bench --dtypes float,half,bfloat16")
    let json = SoftmaxBench.json(results, ops: ["softmax"], workloads: [Self.workload], info: info)
    #expect(json.contains("\"dtype\": \"half\""))
    #expect(json.contains("\"float_over_half\": 2.0"))
    #expect(json.contains("\"float_over_bfloat16\": 2.0"))
    #expect(!json.contains("double_over_float"))
  }

  @Test("table: a column group per storage type and the ratio columns of the types shown")
  func ratioColumns() {
    #expect(TimeRatio.columns([.float, .double]).map(\.title) == ["D/F"])
    #expect(TimeRatio.columns([.float, .double, .half, .bfloat16]).map(\.title) == ["D/F", "F/H", "F/BF"])
    #expect(TimeRatio.columns([.half, .bfloat16]).isEmpty)
    let info = RunInfo(
      date: "2026-01-02T03:04:05Z", cpu: "CPU", isa: .active, mode: "accurate", threads: 1, quick: true, command: "")
    let results = [Self.cell("softmax", .float, ns: 1), Self.cell("softmax", .half, ns: 0.5)]
    let text = table(results, ops: ["softmax"], workloads: [Self.workload], info: info, markdown: false)
    let lines = text.split(separator: "\n").map(String.init)
    #expect(lines[1].contains("Float") && lines[1].contains("Float16") && !lines[1].contains("Double"))
    #expect(lines[2].hasSuffix("F/H") && !lines[2].contains("D/F"))
    #expect(lines[4].hasSuffix("2.00"))
    let md = table(results, ops: ["softmax"], workloads: [Self.workload], info: info, markdown: true)
    #expect(md.contains("| F ns/el |") && md.contains("| H ns/el |") && md.contains("| F/H |"))
  }

  @Test("storedError for Float is SoftmaxReference.Accuracy's measure")
  func storedErrorIsAccuracyForFloat() {
    let pf = Precision<Double>(Float.self)
    var rng = Xoshiro256(seed: 5)
    for _ in 0..<200 {
      let o = rng.unit() * 0.01, x = Float(rng.unit() * 8 - 4), m = Float(4)
      let y = Float(o * (1 + (rng.unit() - 0.5) * 1e-6))
      let shift = Double(abs(Double(x) - Double(m)))
      let a = Accuracy.softmax(y, oracle: o, x: x, max: m)
      let b = storedError(y, oracle: o, .softmax(oracle: o, shift: shift), storage: pf, arithmetic: pf)
      #expect(abs(a.error - b.error) <= 1e-9 * a.error && a.bound == b.bound)
      let lse = rng.unit() * 20, v = Float(lse - 3) + Float(rng.unit() * 1e-5)
      let c = Accuracy.logScale(v, oracle: lse - 3, x: x, lse: lse)
      let d = storedError(v, oracle: lse - 3, .logScale(x: Double(x), lse: lse), storage: pf, arithmetic: pf)
      #expect(abs(c.error - d.error) <= 1e-9 * c.error && c.bound == d.bound)
    }
  }

  @Test("bfloat16: the Float result rounded once is within the bound, two 16-bit ulps off is not")
  func bfloat16Bound() {
    let ps = Precision<Double>(BFloat16.self), pa = Precision<Double>(Float.self)
    let o = 0.123456789
    let good = storedError(BFloat16(Float(o)), oracle: o, .softmax(oracle: o, shift: 1), storage: ps, arithmetic: pa)
    #expect(good.passes && good.error <= 0.5)
    let bad = storedError(BFloat16(Float(o)).nextUp.nextUp, oracle: o, .softmax(oracle: o, shift: 1), storage: ps, arithmetic: pa)
    #expect(!bad.passes)
  }

  #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
  @Test("half: the Float result rounded once is within the bound, two 16-bit ulps off is not")
  @available(macOS 11.0, iOS 14.0, watchOS 7.0, tvOS 14.0, *)
  func halfBound() {
    let ps = Precision<Double>(Float16.self), pa = Precision<Double>(Float.self)
    let o = 0.123456789
    let good = storedError(Float16(Float(o)), oracle: o, .softmax(oracle: o, shift: 1), storage: ps, arithmetic: pa)
    #expect(good.passes && good.error <= 0.5)
    let y = Float16(o).nextUp.nextUp
    let bad = storedError(y, oracle: o, .softmax(oracle: o, shift: 1), storage: ps, arithmetic: pa)
    #expect(!bad.passes)
    // Beyond Float16's range: the infinity it rounds to is exact.
    let big = 70000.0
    #expect(storedError(Float16.infinity, oracle: big, .exp(oracle: big), storage: ps, arithmetic: pa).error == 0)
  }

  @Test("a small report in Float, half and bfloat16: every operation runs and meets its bound")
  @available(macOS 11.0, iOS 14.0, watchOS 7.0, tvOS 14.0, *)
  func smallReport() {
    let plan = TimingPlan(
      warmup: 0, minSampleSeconds: 0, minSamples: 1, targetSeconds: 0, maxSamples: 1, referenceElements: 1,
      referenceSamples: 1)
    let config = RunConfig(
      ops: Operations.registry, workloads: [Self.workload], dtypes: [.float, .half, .bfloat16], plan: plan,
      errorSampleElements: 1 << 10, seed: 1, progress: false, options: KernelOptions())
    let results = runReport(config)
    #expect(results.count == 3 * Operations.registry.count)
    for c in results {
      #expect(c.nsPerElement > 0 && c.referenceNsPerElement > 0, "\(c.op) \(c.dtype)")
      #expect(c.error.elements > 0 && c.error.ratio <= 1, "\(c.op) \(c.dtype): error \(c.error.error), ratio \(c.error.ratio)")
    }
    for d in [DType.half, .bfloat16] {
      let cells = results.filter { $0.dtype == d }
      #expect(cells.first { $0.op == "softmax" }?.bytesPerElement == 4)
      #expect(cells.first { $0.op == "logsumexp" }?.bytesPerElement == 2.0 + 4.0 / 37)
    }
  }
  #endif
}
