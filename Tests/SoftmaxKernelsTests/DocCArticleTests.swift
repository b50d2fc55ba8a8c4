import SoftmaxKernels
import SoftmaxReference
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The code of the DocC articles (Sources/SoftmaxKernels/SoftmaxKernels.docc and
// Sources/SoftmaxReference/SoftmaxReference.docc), compiled and run here. `everyArticleBlockIsHere`
// checks that every line of every ```swift block of those catalogs appears in this file (import
// lines aside, leading and trailing spaces ignored), so an article cannot show code that does not
// compile. Blocks of one article that build on each other share one function below. The tests then
// check what the articles' comments say the code gives.

// MARK: - SoftmaxKernels.md

func docCLandingPage() throws -> (probabilities: [Float], loss: Float) {
  let logits: [Float] = [2.0, 1.0, 0.1, -.infinity,  // row 0: class 3 masked
                         0.5, 0.5, 0.5, 0.5]         // row 1
  let probabilities = try softmax(logits, cols: 4)  // masked -> exactly 0
  let labels: [Int64] = [0, 3]
  let loss = try crossEntropy(logits, cols: 4, labels: labels)  // the mean
  return (probabilities, loss)
}

// MARK: - GettingStarted.md

func docCGettingStartedArrays() throws -> (probabilities: [Float], logProbabilities: [Float], lse: [Float], single: [Float]) {
  let logits: [Float] = [2.0, 1.0, 0.1, -.infinity,  // row 0: class 3 masked
                         0.5, 0.5, 0.5, 0.5]         // row 1
  // Each row of probabilities sums to 1; the masked class gets exactly 0.
  let probabilities = try softmax(logits, cols: 4)
  // Log-probabilities are <= 0; the masked class gets -inf.
  let logProbabilities = try logSoftmax(logits, cols: 4)
  let lse = try logSumExp(logits, cols: 4)  // one value per row
  let single = try softmax([Float](repeating: 1, count: 3))  // [1/3, 1/3, 1/3]
  return (probabilities, logProbabilities, lse, single)
}

func docCGettingStartedSpans() throws -> [Double] {
  let rows = 32, cols = 1000
  let scores = [Double](repeating: 1, count: rows * cols)
  var probabilities = [Double](repeating: 0, count: rows * cols)
  var output = probabilities.mutableSpan
  try softmax(scores.span, rows: rows, cols: cols, output: &output)
  return probabilities
}

func docCGettingStartedStrides() throws -> [Float] {
  // 4 rows of 10 logits, stored in rows of 16 elements;
  // the 6 padding elements are not touched.
  var padded = [Float](repeating: 0, count: 4 * 16)
  var matrix = padded.mutableSpan
  try logSoftmax(inPlace: &matrix, rows: 4, cols: 10, stride: 16)
  return padded
}

func docCGettingStartedPointers() throws -> [Float] {
  var batch = [Float](repeating: 1, count: 8 * 100)
  try batch.withUnsafeMutableBufferPointer { buffer in
    try softmax(inPlace: buffer, rows: 8, cols: 100)
  }
  return batch
}

func docCGettingStartedErrors() -> (data: [Float], caught: String) {
  var caught = ""
  func print(_ text: Any) { caught = "\(text)" }
  var data: [Float] = [1, 2, 3, 4, 5, 6, 7]
  do {
    try softmax(inPlace: &data, cols: 3)
  } catch SoftmaxError.countNotMultipleOfColumns(let name, let count, let cols) {
    // inPlace: 7 elements are not rows of 3
    print("\(name): \(count) elements are not rows of \(cols)")
  } catch {
    print(error)
  }
  // `data` is unchanged.
  return (data, caught)
}

// MARK: - CallingConvention.md

func docCCallingConvention() throws -> (y: [Float], dx: [Float], dyThenDx: [Float], probabilities: [Float], loss: Float, total: Float, gradient: [Float]) {
  let (y, dx) = try docCCallingConventionForwardBackward()
  let dyThenDx = try docCCallingConventionInPlace()
  let logits: [Float] = [0.5, 1.5, -1.0, 2.0, 0.0, 0.0]
  let labels: [Int64] = [1, 0]
  let fast = KernelOptions(mode: .fast, threads: 2)
  let probabilities = try softmax(logits, cols: 3, options: fast)
  let options = CrossEntropyOptions<Float>(reduction: .sum, kernel: fast)
  let loss = try crossEntropy(logits, cols: 3, labels: labels, options: options)

  let labels32: [Int32] = [1, 0]
  let sumOnly = CrossEntropyOptions<Float>(reduction: .sum)
  var gradient = [Float](repeating: 0, count: 6)
  let total = try logits.withUnsafeBufferPointer { x in
    try labels32.withUnsafeBufferPointer { l in
      try gradient.withUnsafeMutableBufferPointer { g in
        try crossEntropyWithGradient(
          x, rows: 2, cols: 3, labels: l, gradient: g, options: sumOnly)
      }
    }
  }
  return (y, dx, dyThenDx, probabilities, loss, total, gradient)
}

func docCCallingConventionForwardBackward() throws -> (y: [Float], dx: [Float]) {
  let rows = 2, cols = 3
  let x: [Float] = [1, 2, 3, 3, 2, 1]
  var y = [Float](repeating: 0, count: rows * cols)
  var forward = y.mutableSpan
  try softmax(x.span, rows: rows, cols: cols, output: &forward)

  let dy: [Float] = [0.1, 0, -0.1, 0, 0.2, 0]  // d(loss)/dy from the layer above
  var dx = [Float](repeating: 0, count: rows * cols)
  var backward = dx.mutableSpan
  try softmaxBackward(
    dy.span, rows: rows, cols: cols, output: y.span, gradient: &backward)
  return (y, dx)
}

func docCCallingConventionInPlace() throws -> [Float] {
  let probabilities: [Float] = [0.25, 0.25, 0.5]
  var upstream: [Float] = [1, 0, 0]
  var dyThenDx = upstream.mutableSpan
  try softmaxBackward(
    inPlace: &dyThenDx, rows: 1, cols: 3, output: probabilities.span)
  return upstream
}

// MARK: - TrainingStep.md

struct DocCTrainingStep {
  var lossBefore: Float = 0
  var lossAfter: Float = 0
  var gradient: [Float] = []
  var mean: Float = 0
  var perRow: [Float] = []
  var spanGradient: [Float] = []
  var part: Float = 0
  var halfGradient: [Float] = []
  var attention: [Float] = []
  var dScores: [Float] = []
  var inPlaceDScores: [Float] = []
  var dLogits: [Float] = []
}

func docCTrainingStep() throws -> DocCTrainingStep {
  var result = DocCTrainingStep()
  let batch = 4, features = 3, classes = 5
  let inputs: [Float] = [
    0.5, -1.0, 2.0,
    1.5, 0.0, -0.5,
    -1.0, 1.0, 0.5,
    0.0, 0.3, -0.2,
  ]
  // The weights, features x classes, row-major.
  var weights = (0..<(features * classes)).map { Float($0 % 7) * 0.05 - 0.15 }
  let labels: [Int64] = [1, 4, -100, 0]  // -100: padding, ignored

  // Forward: logits = inputs x weights.
  var logits = [Float](repeating: 0, count: batch * classes)
  for r in 0..<batch {
    for c in 0..<classes {
      for k in 0..<features {
        logits[r * classes + c] += inputs[r * features + k] * weights[k * classes + c]
      }
    }
  }

  // The mean loss over the 3 rows not ignored, and `logits` overwritten
  // by d(loss)/d(logits).
  let options = CrossEntropyOptions<Float>(labelSmoothing: 0.1)
  let loss = try crossEntropyWithGradient(
    inPlace: &logits, cols: classes, labels: labels, options: options)
  result.lossBefore = loss
  result.gradient = logits

  // Backward into the weights, dW = inputs^T x dlogits, and one step
  // of gradient descent.
  let learningRate: Float = 0.5
  for k in 0..<features {
    for c in 0..<classes {
      var dW: Float = 0
      for r in 0..<batch {
        dW += inputs[r * features + k] * logits[r * classes + c]
      }
      weights[k * classes + c] -= learningRate * dW
    }
  }

  // The loss after the step (not in the article).
  var after = [Float](repeating: 0, count: batch * classes)
  for r in 0..<batch {
    for c in 0..<classes {
      for k in 0..<features { after[r * classes + c] += inputs[r * features + k] * weights[k * classes + c] }
    }
  }
  result.lossAfter = try crossEntropy(after, cols: classes, labels: labels, options: options)

  // In a hot loop.
  let rows = 2, cols = 4
  let scores: [Float] = [1, 2, 3, 4, 4, 3, 2, 1]
  let targets: [Int32] = [3, 0]
  var gradient = [Float](repeating: 0, count: rows * cols)
  var perRow = [Float](repeating: 0, count: rows)
  var gradientOut = gradient.mutableSpan
  var lossesOut = perRow.mutableSpan
  let mean = try crossEntropyWithGradient(
    scores.span, rows: rows, cols: cols, labels: targets.span,
    gradient: &gradientOut, losses: &lossesOut)
  result.mean = mean
  result.perRow = perRow
  result.spanGradient = gradient

  var microBatch = scores
  var microBatchGradient = microBatch.mutableSpan
  let part = try crossEntropyWithGradient(
    inPlace: &microBatchGradient, rows: rows, cols: cols, labels: targets.span,
    gradientScale: 0.5)
  result.part = part
  result.halfGradient = microBatch

  // Backward through softmax.
  let attentionScores: [Float] = [0.2, 1.0, -0.5, 0.0, 3.0, 1.0]
  let attention = try softmax(attentionScores, cols: 3)
  let dAttention: [Float] = [1, 0, 0, 0, 0, 1]  // from the layer above
  let dScores = try softmaxBackward(dAttention, cols: 3, output: attention)
  result.attention = attention
  result.dScores = dScores

  // Backward through log-softmax.
  let logProbabilities = try logSoftmax(attentionScores, cols: 3)
  var dLogProbabilities = [Float](repeating: 0, count: 6)
  dLogProbabilities[0 * 3 + 2] = -1  // row 0, class 2
  dLogProbabilities[1 * 3 + 0] = -1  // row 1, class 0
  let dLogits = try logSoftmaxBackward(
    dLogProbabilities, cols: 3, output: logProbabilities)
  result.dLogits = dLogits

  var upstream = dAttention
  var dyThenDx = upstream.mutableSpan
  try softmaxBackward(inPlace: &dyThenDx, rows: 2, cols: 3, output: attention.span)
  result.inPlaceDScores = upstream
  return result
}

// MARK: - NumericalSemantics.md

func docCNumericalSemantics() throws -> (p: [Float], probabilities: [Float], lse: [Float], maskedLoss: Float, masked: [Float], zero: Float) {
  let huge = Float.greatestFiniteMagnitude
  let p = try softmax([huge, -huge, 0, 1e30])  // [1, 0, 0, 0]: no NaN

  let rows: [Float] = [
    1, 2, -.infinity, 3,                              // a masked class
    -.infinity, -.infinity, -.infinity, -.infinity,   // fully masked
    .infinity, 0, .infinity, 1,                       // two +inf entries
    1, .nan, 2, 3,                                    // a NaN
  ]
  let probabilities = try softmax(rows, cols: 4)
  // row 0: [0.09, 0.24, 0, 0.67]   row 1: [0, 0, 0, 0]
  // row 2: [0.5, 0, 0.5, 0]        row 3: [nan, nan, nan, nan]
  let lse = try logSumExp(rows, cols: 4)  // [3.41, -inf, +inf, nan]

  var masked: [Float] = [0, 1, -.infinity]
  let maskedLoss = try crossEntropyWithGradient(
    inPlace: &masked, cols: 3, labels: [Int32(2)])
  // maskedLoss == +inf; `masked`, now the gradient, is finite: [0.27, 0.73, -1]

  let allIgnored: [Int32] = [-100, -100]
  let ones = [Float](repeating: 1, count: 6)
  let zero = try crossEntropy(ones, cols: 3, labels: allIgnored)  // 0, not NaN
  return (p, probabilities, lse, maskedLoss, masked, zero)
}

func docCNumericalSemanticsBadInput() -> (logits: [Float], caught: String) {
  var caught = ""
  func print(_ text: Any) { caught = "\(text)" }
  var logits: [Float] = [1, 2, 3, 4, 5, 6]
  let labels: [Int64] = [1, 7]
  do {
    _ = try crossEntropyWithGradient(inPlace: &logits, cols: 3, labels: labels)
  } catch SoftmaxError.labelOutOfRange(let name, let row, let value, let cols) {
    // labels[1] = 7 is not a class of 3
    print("\(name)[\(row)] = \(value) is not a class of \(cols)")
  } catch {
    print(error)
  }
  // `logits` still holds [1, 2, 3, 4, 5, 6].
  return (logits, caught)
}

// MARK: - Accuracy.md

func docCAccuracy() throws -> ElementError {
  var worstSeen: ElementError? = nil
  func print(_ error: Double, _ bound: Double, _ passes: Bool) { worstSeen = ElementError(error: error, bound: bound) }
  let x: [Float] = (0..<1000).map { Float(($0 * 37) % 101) * 0.1 - 5 }
  let y = try softmax(x, cols: 1000)
  let oracle = Oracle.softmax(x, rows: 1, cols: 1000)  // the same row in Double
  let m = x.max()!
  let errors = x.indices.map { j in
    Accuracy.softmax(y[j], oracle: oracle[j], x: x[j], max: m)
  }
  let worst = errors.max()!  // the element with the largest error / bound ratio
  print(worst.error, worst.bound, worst.passes)
  return worstSeen!
}

// MARK: - ModesAndThreads.md

func docCModesAndThreads() throws -> (probabilities: [Float], crossEntropyOptions: CrossEntropyOptions<Float>, binaryOptions: BinaryCrossEntropyOptions<Float>, caught: String, values: [Float], printed: String) {
  var caught = ""
  func print(_ text: Any...) { caught = text.map { "\($0)" }.joined(separator: " ") }
  let logits = [Float](repeating: 0.5, count: 64 * 1000)
  // The inlined exp, on one thread per processor:
  let fast = KernelOptions(mode: .fast, threads: 0)
  let probabilities = try softmax(logits, cols: 1000, options: fast)
  let lossOptions = CrossEntropyOptions<Float>(labelSmoothing: 0.1, kernel: fast)
  let binaryOptions = BinaryCrossEntropyOptions<Float>(kernel: .fast)

  do {
    _ = try softmax(logits, cols: 1000, options: KernelOptions(threads: -1))
  } catch SoftmaxError.invalidThreadCount(let threads) {
    print("threads must be >= 0, got \(threads)")
  } catch {
    print(error)
  }
  let thrown = caught

  let arguments: [Float] = [-1, 0, 1, 2]
  var values = [Float](repeating: 0, count: arguments.count)
  var output = values.mutableSpan
  try VectorExp.exp(arguments.span, output: &output, options: .fast)

  print("kernels:", InstructionSet.active)
  return (probabilities, lossOptions, binaryOptions, thrown, values, caught)
}

// MARK: - ShardedVocabularies.md

func docCShardedVocabularies() throws -> (loss: Float, left: [Float], right: [Float], whole: Float, merged: Float, neutral: LogSumExpState<Float>, first: LogSumExpState<Float>) {
  let rows = 2, vocabulary = 6
  let labels: [Int64] = [4, 1]
  // Each shard holds its columns of both rows.
  var left: [Float] = [0.5, -1, 2, 0,  1, 1, 1, -.infinity]  // columns 0 ..< 4
  var right: [Float] = [3, 1.5,  0, 2]                      // columns 4 ..< 6

  // 1. Each shard: the logsumexp state of its part of every row.
  let leftStates = try logSumExpStates(left, cols: 4)
  let rightStates = try logSumExpStates(right, cols: 2)

  // 2. Exchange and merge: every shard now has each whole row's state.
  let states = zip(leftStates, rightStates).map { $0.merged(with: $1) }

  // 3. Each shard: its part of the mean loss, and its gradient columns
  //    written over its logits.
  var leftGradient = left.mutableSpan
  var loss = try crossEntropyShardWithGradient(
    inPlace: &leftGradient, rows: rows, cols: 4,
    columnOffset: 0, totalCols: vocabulary,
    labels: labels.span, states: states.span)
  var rightGradient = right.mutableSpan
  loss += try crossEntropyShardWithGradient(
    inPlace: &rightGradient, rows: rows, cols: 2,
    columnOffset: 4, totalCols: vocabulary,
    labels: labels.span, states: states.span)
  // `loss` is the mean cross-entropy of the two whole rows, and `left`
  // and `right` hold the gradient.

  let whole = try logSumExp([0.5, -1, 2, 0, 3, 1.5] as [Float])
  // The same, within a few ulps:
  let merged = leftStates[0].merged(with: rightStates[0]).logSumExp
  let neutral = leftStates[0].merged(with: .empty)  // leftStates[0]
  return (loss, left, right, whole, merged, neutral, leftStates[0])
}

// MARK: - HalfPrecision.md

func docCHalfPrecision() throws -> (probabilities: [BFloat16], lse: [Float], loss: Float, gradient: [BFloat16]) {
  let logits: [BFloat16] = [2.0, 1.0, 0.1, -.infinity,  // row 0: class 3 masked
                            0.5, 0.5, 0.5, 0.5]          // row 1
  let probabilities = try softmax(logits, cols: 4)  // [BFloat16]
  let lse: [Float] = try logSumExp(logits, cols: 4)  // Float: the arithmetic type
  var training = logits
  let labels: [Int32] = [0, 2]
  let loss: Float = try crossEntropyWithGradient(
    inPlace: &training, cols: 4, labels: labels,
    options: CrossEntropyOptions<BFloat16>(zLoss: 1e-4))  // options in Float
  return (probabilities, lse, loss, training)
}

// MARK: - SoftmaxReference.md

func docCReferenceLandingPage() throws -> (kernel: [Float], reference: [Float], worst: ElementError) {
  let logits: [Float] = [3, 1, -2, 0.5, 0, 0, 0, -.infinity]
  let kernel = try logSoftmax(logits, cols: 4)
  // One element at a time, in Float, and the same in Double:
  let reference = Reference.logSoftmax(logits, rows: 2, cols: 4)
  let oracle = Oracle.logSoftmax(logits, rows: 2, cols: 4)
  let lse = Oracle.logSumExp(logits, rows: 2, cols: 4)
  let worst = logits.indices.map { i in
    Accuracy.logScale(kernel[i], oracle: oracle[i], x: logits[i], lse: lse[i / 4])
  }.max()!
  // worst.passes: every element within 4 ulp(max(|x_j|, |lse|)) of the oracle
  return (kernel, reference, worst)
}

// MARK: - Tests

@Suite("DocC articles")
struct DocCArticleTests {
  static func close(_ a: [Float], _ b: [Float], _ tolerance: Float = 1e-6) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { x, y in x == y || abs(x - y) <= tolerance }
  }

  @Test func landingPage() throws {
    let (p, loss) = try docCLandingPage()
    #expect(p[3] == 0)
    #expect(abs(p[0..<4].reduce(0, +) - 1) < 1e-6)
    #expect(loss.isFinite && loss > 0)
  }

  @Test func gettingStarted() throws {
    let (p, logP, lse, single) = try docCGettingStartedArrays()
    #expect(p[3] == 0 && logP[3] == -.infinity)
    #expect(Array(p[4...]) == [0.25, 0.25, 0.25, 0.25])
    #expect(logP.allSatisfy { $0 <= 0 })
    #expect(lse.count == 2)
    let third: Float = 1 / 3
    #expect(single == [third, third, third])

    let spans = try docCGettingStartedSpans()
    #expect(spans.allSatisfy { $0 == 0.001 })

    let padded = try docCGettingStartedStrides()
    for r in 0..<4 {
      #expect(padded[(r * 16)..<(r * 16 + 10)].allSatisfy { abs($0 + Float(log(10.0))) < 1e-6 })
      #expect(padded[(r * 16 + 10)..<(r * 16 + 16)].allSatisfy { $0 == 0 })
    }
    let pointers = try docCGettingStartedPointers()
    #expect(pointers.allSatisfy { abs($0 - 0.01) < 1e-7 })

    let (data, caught) = docCGettingStartedErrors()
    #expect(data == [1, 2, 3, 4, 5, 6, 7])
    #expect(caught == "inPlace: 7 elements are not rows of 3")
  }

  @Test func callingConvention() throws {
    let c = try docCCallingConvention()
    #expect(Self.close(c.y, Reference.softmax([1, 2, 3, 3, 2, 1], rows: 2, cols: 3)))
    let dy: [Float] = [0.1, 0, -0.1, 0, 0.2, 0]
    #expect(Self.close(c.dx, Reference.softmaxBackward(output: c.y, gradOutput: dy, rows: 2, cols: 3)))
    // dx = y (dy - sum dy y) with y = [0.25, 0.25, 0.5], dy = [1, 0, 0]: [0.1875, -0.0625, -0.125].
    #expect(Self.close(c.dyThenDx, [0.1875, -0.0625, -0.125]))
    #expect(abs(c.probabilities[0..<3].reduce(0, +) - 1) < 1e-6)
    // The sum reduction, in fast mode on two threads and in accurate mode on one, with 64- and
    // 32-bit labels, agree.
    #expect(abs(c.loss - c.total) <= 1e-6 * c.total)
    #expect(c.gradient.allSatisfy { $0.isFinite } && c.gradient != [Float](repeating: 0, count: 6))
  }

  @Test func trainingStep() throws {
    let t = try docCTrainingStep()
    #expect(t.lossBefore.isFinite && t.lossBefore > 0)
    #expect(t.lossAfter < t.lossBefore)
    // The ignored row (row 2) has gradient 0; every gradient row of a counted row sums to 0.
    #expect(t.gradient[10..<15].allSatisfy { $0 == 0 })
    for r in [0, 1, 3] { #expect(abs(t.gradient[(r * 5)..<(r * 5 + 5)].reduce(0, +)) < 1e-6) }

    #expect(abs(t.mean - t.perRow.reduce(0, +) / 2) < 1e-6)
    #expect(Self.close(t.halfGradient, t.spanGradient.map { $0 * 0.5 }))
    #expect(abs(t.part - t.mean) <= 1e-6 * t.mean)

    // The backward passes against the reference, and the in-place form against the array form.
    let dAttention: [Float] = [1, 0, 0, 0, 0, 1]
    #expect(Self.close(t.dScores, Reference.softmaxBackward(output: t.attention, gradOutput: dAttention, rows: 2, cols: 3)))
    #expect(t.inPlaceDScores == t.dScores)
    // The hand-written NLL through log-softmax backward is cross-entropy's gradient (sum reduction).
    var logits: [Float] = [0.2, 1.0, -0.5, 0.0, 3.0, 1.0]
    _ = try crossEntropyWithGradient(inPlace: &logits, cols: 3, labels: [Int32(2), 0], options: CrossEntropyOptions(reduction: .sum))
    #expect(Self.close(t.dLogits, logits))
  }

  @Test func numericalSemantics() throws {
    let n = try docCNumericalSemantics()
    #expect(n.p == [1, 0, 0, 0])
    let p = n.probabilities
    #expect(p[2] == 0 && abs(p[0..<4].reduce(0, +) - 1) < 1e-6)
    #expect(Self.close(Array(p[0..<4]), [0.09, 0.24, 0, 0.67], 0.006))
    #expect(p[4..<8].allSatisfy { $0 == 0 })
    #expect(Array(p[8..<12]) == [0.5, 0, 0.5, 0])
    #expect(p[12..<16].allSatisfy { $0.isNaN })
    #expect(abs(n.lse[0] - 3.41) < 0.005 && n.lse[1] == -.infinity && n.lse[2] == .infinity && n.lse[3].isNaN)
    #expect(n.maskedLoss == .infinity)
    #expect(n.masked.allSatisfy { $0.isFinite })
    #expect(Self.close(n.masked, [0.27, 0.73, -1], 0.005))
    #expect(n.zero == 0)

    let (logits, caught) = docCNumericalSemanticsBadInput()
    #expect(logits == [1, 2, 3, 4, 5, 6])
    #expect(caught == "labels[1] = 7 is not a class of 3")
    let error = SoftmaxError.labelOutOfRange(argument: "labels", row: 1, value: 7, cols: 3)
    #expect(error.description == "SoftmaxError: 'labels' row 1 has label 7, outside 0..<3 and not the ignore index")

    // The backward rule the article states: softmax backward is 0 where y is 0, log-softmax
    // backward passes dy through where y is -inf.
    let dyValues: [Float] = [1, 2, 3]
    let dx = try softmaxBackward(dyValues, cols: 3, output: [0.5, 0.5, 0])
    #expect(dx[2] == 0)
    // A NaN row: its loss and the reduced loss are NaN, the other rows' losses do not change.
    let withNaN: [Float] = [1, 2, 3, 1, .nan, 3]
    let nanLosses = try crossEntropyLosses(withNaN, cols: 3, labels: [Int32(0), 0])
    let cleanLosses = try crossEntropyLosses([Float](withNaN[0..<3]), cols: 3, labels: [Int32(0)])
    #expect(nanLosses[1].isNaN && nanLosses[0] == cleanLosses[0])
    #expect(try crossEntropy(withNaN, cols: 3, labels: [Int32(0), 0]).isNaN)
    // Binary cross-entropy: no NaN for targets in [0, 1], even at infinite logits.
    let bceLogits: [Float] = [-.infinity, -.infinity, -.infinity, .infinity, .infinity, .infinity]
    let bceTargets: [Float] = [0, 0.5, 1, 0, 0.5, 1]
    var bceGradient = bceLogits
    let bceLoss = try binaryCrossEntropyWithGradient(inPlace: &bceGradient, cols: 3, targets: bceTargets, options: BinaryCrossEntropyOptions(reduction: .sum))
    #expect(!bceLoss.isNaN && bceGradient.allSatisfy { !$0.isNaN })
    let dxLog = try logSoftmaxBackward([Float](repeating: 1, count: 3), cols: 3, output: [-Float(log(2.0)), -Float(log(2.0)), -.infinity])
    #expect(dxLog[2] == 1)
  }

  @Test func accuracy() throws {
    let worst = try docCAccuracy()
    #expect(worst.passes)
    #expect(worst.bound >= 4)
  }

  @Test func modesAndThreads() throws {
    let m = try docCModesAndThreads()
    #expect(abs(m.probabilities[0..<1000].reduce(0, +) - 1) < 1e-5)
    #expect(m.crossEntropyOptions.kernel.mode == .fast && m.crossEntropyOptions.kernel.threads == 0)
    #expect(m.binaryOptions.kernel == .fast && m.binaryOptions.reduction == .mean)
    #expect(m.caught == "threads must be >= 0, got -1")
    let expected: [Float] = [-1, 0, 1, 2].map { Float(exp(Double($0))) }
    #expect(Self.close(m.values, expected, 1e-5))
    #expect(m.printed == "kernels: \(InstructionSet.active)")
  }

  @Test func shardedVocabularies() throws {
    let s = try docCShardedVocabularies()
    let whole: [Float] = [0.5, -1, 2, 0, 3, 1.5, 1, 1, 1, -.infinity, 0, 2]
    var gradient = whole
    let loss = try crossEntropyWithGradient(inPlace: &gradient, cols: 6, labels: [Int64(4), 1])
    #expect(abs(s.loss - loss) <= 1e-6 * loss)
    var sharded: [Float] = []
    for r in 0..<2 {
      sharded += s.left[(r * 4)..<(r * 4 + 4)]
      sharded += s.right[(r * 2)..<(r * 2 + 2)]
    }
    #expect(Self.close(sharded, gradient))
    #expect(abs(s.merged - s.whole) <= 4 * s.whole.ulp)
    #expect(s.neutral.max == s.first.max && s.neutral.excess == s.first.excess)
  }

  @Test func halfPrecision() throws {
    let (p, lse, loss, gradient) = try docCHalfPrecision()
    // Each probability is the Float kernel's, rounded once; the Float results are the Float kernel's.
    let widened: [Float] = [2.0, 1.0, 0.1, -.infinity, 0.5, 0.5, 0.5, 0.5].map { Float(BFloat16($0)) }
    let pf = try softmax(widened, cols: 4)
    #expect(p.map { Float($0) } == pf.map { Float(BFloat16($0)) })
    #expect(p[3] == 0 && p[4] == 0.25)
    #expect(lse == (try logSumExp(widened, cols: 4)))
    var g = widened
    let lf = try crossEntropyWithGradient(inPlace: &g, cols: 4, labels: [Int32(0), 2], options: CrossEntropyOptions<Float>(zLoss: 1e-4))
    #expect(loss == lf && gradient.map { Float($0) } == g.map { Float(BFloat16($0)) })
    #expect(loss.isFinite && loss > 0)
  }

  @Test func referenceLandingPage() throws {
    let r = try docCReferenceLandingPage()
    #expect(r.worst.passes)
    #expect(r.kernel[7] == -.infinity && r.reference[7] == -.infinity)
    #expect(Self.close(r.kernel, r.reference))
  }

  /// Every line of every ```swift block of the two DocC catalogs appears in this file.
  @Test func everyArticleBlockIsHere() throws {
    let here = #filePath
    let root = docCPackageRoot(here)
    let sourceLines = Set(try docCFileText(here).split(separator: "\n").map(docCTrimmed))
    var blocks = 0
    for catalog in ["Sources/SoftmaxKernels/SoftmaxKernels.docc", "Sources/SoftmaxReference/SoftmaxReference.docc"] {
      let articles = try docCMarkdownFiles(in: root + "/" + catalog)
      #expect(!articles.isEmpty, "no articles in \(catalog)")
      for article in articles {
        var inBlock = false
        for line in try docCFileText(root + "/" + catalog + "/" + article).split(separator: "\n", omittingEmptySubsequences: false) {
          let t = docCTrimmed(line)
          if !inBlock {
            if t == "```swift" { inBlock = true; blocks += 1 }
            continue
          }
          if t.hasPrefix("```") { inBlock = false; continue }
          if t.isEmpty || t.hasPrefix("import ") { continue }
          let compiled = sourceLines.contains(t)
          #expect(compiled, "\(catalog)/\(article): line not compiled by DocCArticleTests.swift: \(t)")
        }
        #expect(!inBlock, "\(catalog)/\(article): unterminated code block")
      }
    }
    #expect(blocks >= 20, "found only \(blocks) swift blocks")
  }
}

/// The package root: the path of this file up to its last `/Tests/`.
private func docCPackageRoot(_ file: String) -> String {
  let marker = Array("/Tests/".utf8), bytes = Array(file.utf8)
  var end = bytes.count - marker.count
  while end >= 0 && Array(bytes[end..<(end + marker.count)]) != marker { end -= 1 }
  return String(decoding: bytes[0..<max(end, 0)], as: UTF8.self)
}

private func docCTrimmed(_ line: Substring) -> String {
  String(line.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
}

private struct DocCFileError: Error { let path: String }

/// The whole text of a file (no Foundation).
private func docCFileText(_ path: String) throws -> String {
  guard let f = fopen(path, "r") else { throw DocCFileError(path: path) }
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

/// The names of the `.md` files in a directory, sorted.
private func docCMarkdownFiles(in directory: String) throws -> [String] {
  guard let dir = opendir(directory) else { throw DocCFileError(path: directory) }
  defer { closedir(dir) }
  var names: [String] = []
  while let entry = readdir(dir) {
    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
    if name.hasSuffix(".md") { names.append(name) }
  }
  return names.sorted()
}
