import SoftmaxKernels
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// The Swift blocks of README.md, compiled and run here. Each block of README.md is preceded by
// `<!-- compiled: ReadmeUsageTests.swift -->`, and every one of its lines (trimmed of spaces at
// both ends; blank lines and `import` lines aside) appears as a line of this file: see
// `readmeBlocksAreCompiledHere` in ReadmeExampleTests.swift, and `everyReadmeSwiftBlockIsMarked`
// below, which requires the marker before every ```swift block of the README.

// MARK: - README: spans (the lead form)

func readmeSpanExample() throws -> (probs: [Float], lse: [Float], batch: [Double]) {
  let logits: [Float] = [2.0, 1.0, 0.1, -.infinity,  // row 0; the last class is masked
                         0.5, 0.5, 0.5, 0.5]         // row 1
  var probs = [Float](repeating: 0, count: 8), lse = [Float](repeating: 0, count: 2)
  var p = probs.mutableSpan, l = lse.mutableSpan
  try softmax(logits.span, rows: 2, cols: 4, output: &p)  // rows sum to 1; masked -> exactly 0
  try logSumExp(logits.span, rows: 2, cols: 4, output: &l)  // one value per row

  // In place, rows of 1000 classes 1024 apart, fast mode, on up to 2 threads:
  var batch = [Double](repeating: 1, count: 32 * 1024)
  var rows = batch.mutableSpan
  try softmax(inPlace: &rows, rows: 32, cols: 1000, stride: 1024, options: KernelOptions(mode: .fast, threads: 2))
  return (probs, lse, batch)
}

// MARK: - README: arrays

func readmeArrayExample() throws -> (probs: [Float], logProbs: [Float], lse: [Float], p: [Double]) {
  let logits: [Float] = [2.0, 1.0, 0.1, -.infinity,  // row 0; the last class is masked
                         0.5, 0.5, 0.5, 0.5]         // row 1
  let probabilities = try softmax(logits, cols: 4)  // a new array, the shape of logits
  let logProbs = try logSoftmax(logits, cols: 4)    // <= 0; masked -> -inf
  let rowLSE = try logSumExp(logits, cols: 4)       // one value per row
  let vector = try softmax([1.0, 2.0, 3.0])         // one vector
  return (probabilities, logProbs, rowLSE, vector)
}

// MARK: - README: a training step

func readmeTrainingStepExample() throws -> (loss: Float, gradient: [Float]) {
  let batch = 4, vocab = 10
  var logits = [Float](repeating: 0, count: batch * vocab)  // your model's output, row-major
  for i in logits.indices { logits[i] = Float((i * 7) % 13) * 0.25 - 1.5 }
  let labels: [Int64] = [3, 9, -100, 0]  // -100: padding, ignored (PyTorch's default)

  let options = CrossEntropyOptions<Float>(labelSmoothing: 0.1, zLoss: 1e-4)  // mean reduction
  // One call: the mean loss, and `logits` overwritten with d(loss)/d(logits).
  let loss = try crossEntropyWithGradient(inPlace: &logits, cols: vocab, labels: labels, options: options)
  // Backpropagate `logits` (now the gradient) into the model; report `loss`.
  return (loss, logits)
}

func readmeTrainingStepSpanExample() throws -> (total: Float, perRow: [Float], data: [Float]) {
  var data: [Float] = [1, 2, 3, 4, 5, 0, 0, 9, 0, 0]  // 2 rows x 5 classes
  let rowLabels: [Int32] = [4, 2]
  var perRow = [Float](repeating: 0, count: 2)
  let weighted = CrossEntropyOptions<Float>(classWeights: [1, 1, 2, 1, 1], reduction: .sum, kernel: .fast)
  var x = data.mutableSpan, losses = perRow.mutableSpan
  let total = try crossEntropyWithGradient(
    inPlace: &x, rows: 2, cols: 5, labels: rowLabels.span, losses: &losses, gradientScale: 0.5, options: weighted)
  return (total, perRow, data)
}

// README "Half precision".
func readmeHalfPrecisionExample() throws -> (probabilities: [BFloat16], loss: Float) {
  let halfLogits: [BFloat16] = [2, 1, 0.5, -.infinity, 0, 0]  // 2 rows x 3 classes
  let halfProbabilities = try softmax(halfLogits, cols: 3)  // [BFloat16]
  let halfLoss: Float = try crossEntropy(halfLogits, cols: 3, labels: [Int32(0), 1])
  return (halfProbabilities, halfLoss)
}

// MARK: - Checks

@Suite("README usage")
struct ReadmeUsageTests {
  @Test func spanExample() throws {
    let (probs, lse, batch) = try readmeSpanExample()
    #expect(probs[3] == 0)
    #expect(probs[4...] == [0.25, 0.25, 0.25, 0.25])
    #expect(abs(probs[0..<4].reduce(0, +) - 1) < 1e-6)
    #expect(abs(lse[1] - (0.5 + Float(log(4.0)))) < 1e-6)
    #expect(abs(lse[0] - Float(log(exp(2.0) + exp(1.0) + exp(0.1)))) < 1e-6)
    for r in 0..<32 {
      #expect(batch[(r * 1024)..<(r * 1024 + 1000)].allSatisfy { abs($0 - 0.001) <= 1e-15 })
      #expect(batch[(r * 1024 + 1000)..<(r * 1024 + 1024)].allSatisfy { $0 == 1 })  // padding untouched
    }
  }

  @Test func arrayExample() throws {
    let (probs, logProbs, lse, p) = try readmeArrayExample()
    let (spanProbs, spanLSE, _) = try readmeSpanExample()
    #expect(probs == spanProbs && lse == spanLSE)
    #expect(probs[3] == 0 && logProbs[3] == -.infinity)
    #expect(logProbs.allSatisfy { $0 <= 0 })
    #expect(p.count == 3 && abs(p.reduce(0, +) - 1) < 1e-15 && p[0] < p[1] && p[1] < p[2])
    #expect(throws: SoftmaxError.invalidThreadCount(-1)) { try softmax([1.0, 2.0], options: KernelOptions(threads: -1)) }
  }

  @Test func trainingStep() throws {
    let (loss, gradient) = try readmeTrainingStepExample()
    #expect(loss > 0 && loss.isFinite)
    #expect(gradient[20..<30].allSatisfy { $0 == 0 })  // the ignored row
    var logits = [Float](repeating: 0, count: 40)
    for i in logits.indices { logits[i] = Float((i * 7) % 13) * 0.25 - 1.5 }
    // A counted row's gradient is (softmax - smoothed target + 2 z L softmax) / 3 (the mean over
    // 3 counted rows), so it sums to 2 z L / 3.
    let lse = try logSumExp(logits, cols: 10)
    for r in [0, 1, 3] {
      #expect(abs(gradient[(r * 10)..<(r * 10 + 10)].reduce(0, +) - 2 * 1e-4 * lse[r] / 3) < 1e-6)
    }
    // The same with Int32 labels and the array forward: the same loss.
    let forward = try crossEntropy(
      logits, cols: 10, labels: [Int32(3), 9, -100, 0],
      options: CrossEntropyOptions<Float>(labelSmoothing: 0.1, zLoss: 1e-4))
    #expect(abs(forward - loss) <= 4 * loss.ulp)
  }

  @Test func trainingStepWithSpans() throws {
    let (total, perRow, data) = try readmeTrainingStepSpanExample()
    #expect(abs(total - (perRow[0] + perRow[1])) <= 2 * total.ulp)
    // Row 1 (label 2, weight 2): 2 (L - x_2) with x = [0, 0, 9, 0, 0].
    let l1 = 9 + Float(log(1 + 4 * exp(-9.0)))
    #expect(abs(perRow[1] - 2 * (l1 - 9)) <= 1e-6)
    // The gradient, scaled by 0.5, of a sum: each row's sums to 0.
    #expect(abs(data[0..<5].reduce(0, +)) < 1e-6 && abs(data[5..<10].reduce(0, +)) < 1e-6)
    #expect(data[4] < 0 && data[7] < 0)
  }

  /// Every ```swift block of README.md is preceded by a compiled marker (the Package.swift
  /// snippet, which no test can compile, is fenced as plain text instead), and the blocks
  /// marked with this file appear in it line for line.
  @Test func halfPrecision() throws {
    let (p, loss) = try readmeHalfPrecisionExample()
    #expect(p[3] == 0 && p[4] == 0.5 && p[5] == 0.5)
    let f = try softmax([Float(2), 1, 0.5, -.infinity, 0, 0], cols: 3)
    #expect(p.map { Float($0) } == f.map { Float(BFloat16($0)) })
    #expect(loss == (try crossEntropy([Float(2), 1, 0.5, -.infinity, 0, 0], cols: 3, labels: [Int32(0), 1])))
  }

  @Test func everyReadmeSwiftBlockIsMarked() throws {
    let here = #filePath
    let parts = here.split(separator: "/", omittingEmptySubsequences: false)
    let tests = try #require(parts.lastIndex(of: "Tests"), "\(here) is not under Tests/")
    let root = parts[..<tests].joined(separator: "/")
    let readme = try readmeUsageReadText(root + "/README.md")
    let source = try readmeUsageReadText(here)
    let sourceLines = Set(source.split(separator: "\n").map { readmeUsageTrimmed($0) })
    let lines = readme.split(separator: "\n", omittingEmptySubsequences: false)
    var blocks = 0
    var i = 0
    while i < lines.count {
      guard lines[i].hasPrefix("```swift") else { i += 1; continue }
      blocks += 1
      var j = i - 1
      while j >= 0 && readmeUsageTrimmed(lines[j]).isEmpty { j -= 1 }
      let marker = j >= 0 ? readmeUsageTrimmed(lines[j]) : ""
      let isMarked = marker.hasPrefix("<!-- compiled: ") && marker.hasSuffix(".swift -->")
      #expect(isMarked, "README.md line \(i + 1): a ```swift block without a compiled marker")
      i += 1
      while i < lines.count && !lines[i].hasPrefix("```") {
        let t = readmeUsageTrimmed(lines[i])
        if marker == "<!-- compiled: ReadmeUsageTests.swift -->" && !t.isEmpty && !t.hasPrefix("import ") {
          let compiled = sourceLines.contains(t)
          #expect(compiled, "README.md line \(i + 1) is not compiled here: \(t)")
        }
        i += 1
      }
      i += 1
    }
    #expect(blocks >= 3, "README.md has no compiled examples")
  }
}

private func readmeUsageTrimmed(_ line: Substring) -> String {
  String(line.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
}

/// Reads a whole text file (no Foundation).
private func readmeUsageReadText(_ path: String) throws -> String {
  struct Unreadable: Error { let path: String }
  guard let f = fopen(path, "r") else { throw Unreadable(path: path) }
  defer { fclose(f) }
  var bytes: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 65536)
  while true {
    let n = fread(&buffer, 1, buffer.count, f)
    if n <= 0 { break }
    bytes += buffer[0..<n]
  }
  return String(decoding: bytes, as: UTF8.self)
}
