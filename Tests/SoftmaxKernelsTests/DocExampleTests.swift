import SoftmaxKernels
import Testing

/// Cross-entropy usage examples (a training step, buffers in place, a sharded vocabulary), compiled
/// and run.
@Suite("Cross-entropy usage examples")
struct DocExampleTests {
  @Test func trainingStep() throws {
    // --- training step ---
    let batch = 4, vocab = 10
    var logits = [Float](repeating: 0, count: batch * vocab)  // your model's output, row-major
    for i in logits.indices { logits[i] = Float((i * 7) % 13) * 0.25 - 1.5 }
    let labels = [3, 9, -100, 0]  // -100: padding, ignored

    let options = CrossEntropyOptions<Float>(labelSmoothing: 0.1, zLoss: 1e-4)  // mean reduction

    // One call: the mean loss, and `logits` overwritten with d(loss)/d(logits).
    let loss = try crossEntropyWithGradient(inPlace: &logits, cols: vocab, labels: labels, options: options)
    // Backpropagate `logits` (now the gradient) into the model; report `loss`.
    // --- end ---
    #expect(loss > 0 && loss.isFinite)
    #expect(logits[(2 * vocab)..<(3 * vocab)].allSatisfy { $0 == 0 })  // ignored row
  }

  @Test func hotLoopWithBuffers() throws {
    // --- buffers, in place, per-row losses ---
    let rows = 2, cols = 5
    var data: [Float] = [1, 2, 3, 4, 5, 0, 0, 9, 0, 0]
    let labels: [Int32] = [4, 2]
    var perRow = [Float](repeating: 0, count: rows)
    let options = CrossEntropyOptions<Float>(classWeights: [1, 1, 2, 1, 1], reduction: .sum)
    let total = try data.withUnsafeMutableBufferPointer { x in
      try labels.withUnsafeBufferPointer { l in
        try perRow.withUnsafeMutableBufferPointer { losses in
          try crossEntropyWithGradient(
            inPlace: x, rows: rows, cols: cols, labels: l, losses: losses, gradientScale: 1, options: options)
        }
      }
    }
    // --- end ---
    #expect(abs(total - (perRow[0] + perRow[1])) <= 1e-6)
  }

  @Test func shardedVocabulary() throws {
    // --- sharded vocabulary ---
    let x: [Float] = [0.5, -1, 2, 0, 3, 1.5]  // one row, 6 classes, split 4 + 2
    let left = Array(x[0..<4]), right = Array(x[4...])
    let state = try logSumExpStates(left, cols: 4)[0].merged(with: try logSumExpStates(right, cols: 2)[0])
    var gradient = [Float](repeating: 0, count: 6)
    var loss: Float = 0
    try [Int32(4)].withUnsafeBufferPointer { label in
      try [state].withUnsafeBufferPointer { states in
        for (offset, shard) in [(0, left), (4, right)] {
          try shard.withUnsafeBufferPointer { s in
            try gradient.withUnsafeMutableBufferPointer { g in
              loss += try crossEntropyShardWithGradient(
                s, rows: 1, cols: shard.count, columnOffset: offset, totalCols: 6,
                labels: label, states: states, gradient: UnsafeMutableBufferPointer(rebasing: g[offset...]))
            }
          }
        }
      }
    }
    // --- end ---
    let whole = try crossEntropy(x, cols: 6, labels: [4])
    #expect(abs(loss - whole) <= 4 * whole.ulp)
  }
}
