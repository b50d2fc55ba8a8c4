import SoftmaxKernels
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// A usage example on arrays and buffers, compiled and run here. `readmeBlocksAreCompiledHere`
// checks that every Swift block of README.md placed after a `<!-- compiled: FILE.swift -->` marker
// appears line for line (import lines aside) in that test file (today ReadmeUsageTests.swift), so
// the README cannot drift from code that compiles.

func readmeUsageExample() throws -> (probs: [Float], logProbs: [Float], lse: [Float], batch: [Double]) {
  let logits: [Float] = [2.0, 1.0, 0.1, -.infinity,  // row 0; the last class is masked
                         0.5, 0.5, 0.5, 0.5]         // row 1
  let probs = try softmax(logits, cols: 4)           // each row sums to 1; masked -> exactly 0
  let logProbs = try logSoftmax(logits, cols: 4)     // <= 0; masked -> -inf
  let lse = try logSumExp(logits, cols: 4)           // one value per row

  // In a hot loop: your own buffers, row strides, in place, no allocation.
  var batch = [Double](repeating: 1, count: 32 * 1000)
  try batch.withUnsafeMutableBufferPointer { buffer in
    try softmax(inPlace: buffer, rows: 32, cols: 1000)
  }
  return (probs, logProbs, lse, batch)
}

@Suite("README example")
struct ReadmeExampleTests {
  @Test func usageExampleRuns() throws {
    let (probs, logProbs, lse, batch) = try readmeUsageExample()
    #expect(probs[3] == 0 && logProbs[3] == -.infinity)
    #expect(probs[4...] == [0.25, 0.25, 0.25, 0.25])
    #expect(abs(probs[0..<4].reduce(0, +) - 1) < 1e-6)
    #expect(abs(lse[1] - (0.5 + Float(log(4.0)))) < 1e-6)
    #expect(batch.allSatisfy { $0 == 0.001 })
  }

  @Test func readmeBlocksAreCompiledHere() throws {
    let here = #filePath
    let root = here.components(separatedBy: "/Tests/").dropLast().joined(separator: "/Tests/")
    let readme = try readText(root + "/README.md")
    let marker = "<!-- compiled: "
    let blocks = readme.components(separatedBy: marker).dropFirst()
    #expect(blocks.count >= 2, "README.md has no compiled examples")
    for block in blocks {
      guard let close = block.range(of: " -->") else { Issue.record("unterminated marker"); continue }
      let file = String(block[..<close.lowerBound])
      let source = try readText(root + "/Tests/SoftmaxKernelsTests/" + file)
      let sourceLines = Set(source.split(separator: "\n").map { $0.trimmingWhitespace })
      guard let start = block.range(of: "```swift\n"), let end = block.range(of: "\n```", range: start.upperBound..<block.endIndex)
      else { Issue.record("marker without a swift block"); continue }
      for line in block[start.upperBound..<end.lowerBound].split(separator: "\n") {
        let t = line.trimmingWhitespace
        if t.isEmpty || t.hasPrefix("import ") { continue }
        #expect(sourceLines.contains(t), "README line not compiled by \(file): \(t)")
      }
    }
  }
}

extension Substring {
  var trimmingWhitespace: String {
    String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
  }
}

/// Reads a whole text file (no Foundation).
func readText(_ path: String) throws -> String {
  guard let f = fopen(path, "r") else { throw ReadError(path: path) }
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

struct ReadError: Error { let path: String }
