import SoftmaxKernels
import Testing
import SoftmaxReference

/// SPEC "Bad input": every public entry point that takes buffers rejects each bad argument with
/// its typed error before writing anything. One table of calls, generic over the scalar type and
/// run for Float and Double; after each rejected call every buffer (inputs, outputs, in-place
/// data, states) is compared byte for byte with its contents before the call.
@Suite("Validation: no writes on bad input, every entry point, Float and Double")
struct NoWriteTests {
  static let rows = 3, cols = 5, n = 16

  /// The buffers a call may touch: `a` logits / input / forward output y / in-place data, `b`
  /// output / gradient / gradInput, `c` targets / gradOutput, `losses` (4), `states` (4).
  struct Buffers<T: ReferenceScalar> {
    var a, b, c: UnsafeMutableBufferPointer<T>
    var losses: UnsafeMutableBufferPointer<T>
    var states: UnsafeMutableBufferPointer<LogSumExpState<T>>
    var ra: UnsafeBufferPointer<T> { UnsafeBufferPointer(a) }
    var rc: UnsafeBufferPointer<T> { UnsafeBufferPointer(c) }
    var rstates: UnsafeBufferPointer<LogSumExpState<T>> { UnsafeBufferPointer(states) }
  }

  struct BadCall<T: ReferenceScalar> {
    let name: String
    let expected: SoftmaxError
    let run: (Buffers<T>) throws(SoftmaxError) -> Void
    init(_ name: String, _ expected: SoftmaxError, _ run: @escaping (Buffers<T>) throws(SoftmaxError) -> Void) {
      (self.name, self.expected, self.run) = (name, expected, run)
    }
  }

  static let labels: [Int32] = [0, 4, 2]
  static let badLabels: [Int32] = [0, 5, 2]

  /// Every bad call, for `T`.
  static func table<T: ReferenceScalar>(_: T.Type) -> [BadCall<T>] {
    let (rows, cols) = (Self.rows, Self.cols)
    func o(classWeights: [T]? = nil, labelSmoothing: T = 0, zLoss: T = 0) -> CrossEntropyOptions<T> {
      var o = CrossEntropyOptions<T>()
      (o.classWeights, o.labelSmoothing, o.zLoss) = (classWeights, labelSmoothing, zLoss)
      return o
    }
    func withLabels<R>(_ l: [Int32], _ body: (UnsafeBufferPointer<Int32>) throws(SoftmaxError) -> R) throws(SoftmaxError) -> R {
      try l.withUnsafeBufferPointer { (p) throws(SoftmaxError) in try body(p) }
    }
    let nanWeights = (0..<cols).map { $0 == 3 ? T.nan : 1 }
    return [
      // Forward.
      BadCall("softmax: negative rows", .negativeDimension(argument: "rows", value: -1)) { (s) throws(SoftmaxError) in
        try softmax(s.ra, rows: -1, cols: cols, output: s.b) },
      BadCall("softmax: input stride < cols", .strideTooSmall(argument: "stride", stride: 4, cols: 5)) { (s) throws(SoftmaxError) in
        try softmax(s.ra, rows: 2, cols: cols, stride: 4, output: s.b) },
      BadCall("softmax: output too small", .bufferTooSmall(argument: "output", required: 17, actual: 16)) { (s) throws(SoftmaxError) in
        try softmax(s.ra, rows: 2, cols: cols, stride: 5, output: s.b, outputStride: 12) },
      BadCall("softmax: overlap", .overlappingBuffers(input: "input", output: "output")) { (s) throws(SoftmaxError) in
        try softmax(UnsafeBufferPointer(rebasing: s.ra[0..<10]), rows: 2, cols: cols, output: UnsafeMutableBufferPointer(rebasing: s.a[1..<11])) },
      BadCall("softmax in place: stride < cols", .strideTooSmall(argument: "stride", stride: 3, cols: 5)) { (s) throws(SoftmaxError) in
        try softmax(inPlace: s.a, rows: 2, cols: cols, stride: 3) },
      BadCall("softmax in place: data too small", .bufferTooSmall(argument: "inPlace", required: 20, actual: 16)) { (s) throws(SoftmaxError) in
        try softmax(inPlace: s.a, rows: 4, cols: cols) },
      BadCall("logSoftmax: output stride < cols", .strideTooSmall(argument: "outputStride", stride: 2, cols: 5)) { (s) throws(SoftmaxError) in
        try logSoftmax(s.ra, rows: 2, cols: cols, output: s.b, outputStride: 2) },
      BadCall("logSoftmax: input too small", .bufferTooSmall(argument: "input", required: 20, actual: 16)) { (s) throws(SoftmaxError) in
        try logSoftmax(s.ra, rows: 4, cols: cols, output: s.b) },
      BadCall("logSoftmax in place: negative cols", .negativeDimension(argument: "cols", value: -5)) { (s) throws(SoftmaxError) in
        try logSoftmax(inPlace: s.a, rows: 2, cols: -5) },
      BadCall("logSumExp: output too small", .bufferTooSmall(argument: "output", required: 5, actual: 4)) { (s) throws(SoftmaxError) in
        try logSumExp(UnsafeBufferPointer(rebasing: s.ra[0..<15]), rows: 5, cols: 3, output: s.losses) },
      BadCall("logSumExp: output over the input", .overlappingBuffers(input: "input", output: "output")) { (s) throws(SoftmaxError) in
        try logSumExp(UnsafeBufferPointer(rebasing: s.ra[0..<15]), rows: rows, cols: cols, output: UnsafeMutableBufferPointer(rebasing: s.a[13..<16])) },
      // Backward (y in a, dy in c, dx in b). The gradient of the output (dy) is the primary input,
      // checked first: with 4 rows both dy and y are too small, and dy is named.
      BadCall("softmaxBackward: gradOutput too small", .bufferTooSmall(argument: "gradOutput", required: 20, actual: 16)) { (s) throws(SoftmaxError) in
        try softmaxBackward(s.rc, rows: 4, cols: cols, output: s.ra, gradient: s.b) },
      BadCall("softmaxBackward: output too small", .bufferTooSmall(argument: "output", required: 15, actual: 14)) { (s) throws(SoftmaxError) in
        try softmaxBackward(s.rc, rows: rows, cols: cols, output: UnsafeBufferPointer(rebasing: s.ra[0..<14]), gradient: s.b) },
      BadCall("softmaxBackward: gradOutput stride < cols", .strideTooSmall(argument: "stride", stride: 4, cols: 5)) { (s) throws(SoftmaxError) in
        try softmaxBackward(s.rc, rows: rows, cols: cols, stride: 4, output: s.ra, gradient: s.b) },
      BadCall("softmaxBackward: output stride < cols", .strideTooSmall(argument: "outputStride", stride: 3, cols: 5)) { (s) throws(SoftmaxError) in
        try softmaxBackward(s.rc, rows: rows, cols: cols, output: s.ra, outputStride: 3, gradient: s.b) },
      BadCall("softmaxBackward: gradient too small", .bufferTooSmall(argument: "gradient", required: 15, actual: 14)) { (s) throws(SoftmaxError) in
        try softmaxBackward(s.rc, rows: rows, cols: cols, output: s.ra, gradient: UnsafeMutableBufferPointer(rebasing: s.b[0..<14])) },
      BadCall("softmaxBackward: gradient partly over output", .overlappingBuffers(input: "output", output: "gradient")) { (s) throws(SoftmaxError) in
        try softmaxBackward(s.rc, rows: 2, cols: cols, output: UnsafeBufferPointer(rebasing: s.ra[0..<10]), gradient: UnsafeMutableBufferPointer(rebasing: s.a[2..<12])) },
      BadCall("logSoftmaxBackward: negative rows", .negativeDimension(argument: "rows", value: -2)) { (s) throws(SoftmaxError) in
        try logSoftmaxBackward(s.rc, rows: -2, cols: cols, output: s.ra, gradient: s.b) },
      BadCall("logSoftmaxBackward: gradient stride < cols", .strideTooSmall(argument: "gradientStride", stride: 1, cols: 5)) { (s) throws(SoftmaxError) in
        try logSoftmaxBackward(s.rc, rows: rows, cols: cols, output: s.ra, gradient: s.b, gradientStride: 1) },
      BadCall("logSoftmaxBackward: gradient partly over gradOutput", .overlappingBuffers(input: "gradOutput", output: "gradient")) { (s) throws(SoftmaxError) in
        try logSoftmaxBackward(UnsafeBufferPointer(rebasing: s.rc[0..<10]), rows: 2, cols: cols, output: s.ra, gradient: UnsafeMutableBufferPointer(rebasing: s.c[5..<15])) },
      // Backward in place (dy / dx in c, y in a).
      BadCall("softmaxBackward in place: too small", .bufferTooSmall(argument: "inPlace", required: 20, actual: 16)) { (s) throws(SoftmaxError) in
        try softmaxBackward(inPlace: s.c, rows: 4, cols: cols, output: s.ra) },
      BadCall("logSoftmaxBackward in place: stride < cols", .strideTooSmall(argument: "stride", stride: 2, cols: 5)) { (s) throws(SoftmaxError) in
        try logSoftmaxBackward(inPlace: s.c, rows: rows, cols: cols, stride: 2, output: s.ra) },
      BadCall("logSoftmaxBackward in place: partly over output", .overlappingBuffers(input: "output", output: "inPlace")) { (s) throws(SoftmaxError) in
        try logSoftmaxBackward(inPlace: UnsafeMutableBufferPointer(rebasing: s.a[3..<13]), rows: 2, cols: cols, output: UnsafeBufferPointer(rebasing: s.ra[0..<10])) },
      BadCall("softmaxBackward: negative thread count", .invalidThreadCount(-1)) { (s) throws(SoftmaxError) in
        try softmaxBackward(s.rc, rows: rows, cols: cols, output: s.ra, gradient: s.b, options: KernelOptions(threads: -1)) },
      // Binary cross-entropy, pointer form (logits a, targets c, losses b, gradient... b or a).
      BadCall("BCE: targets too small", .bufferTooSmall(argument: "targets", required: 15, actual: 14)) { (s) throws(SoftmaxError) in
        _ = try binaryCrossEntropy(s.ra, rows: rows, cols: cols, targets: UnsafeBufferPointer(rebasing: s.rc[0..<14]), losses: s.b) },
      BadCall("BCE: losses too small", .bufferTooSmall(argument: "losses", required: 15, actual: 4)) { (s) throws(SoftmaxError) in
        _ = try binaryCrossEntropyWithGradient(s.ra, rows: rows, cols: cols, targets: s.rc, gradient: s.b, losses: s.losses) },
      BadCall("BCE: gradient too small", .bufferTooSmall(argument: "gradient", required: 15, actual: 4)) { (s) throws(SoftmaxError) in
        _ = try binaryCrossEntropyWithGradient(s.ra, rows: rows, cols: cols, targets: s.rc, gradient: s.losses, losses: s.b) },
      BadCall("BCE: NaN posWeight", .invalidWeight(argument: "posWeight", index: 3, value: .nan)) { (s) throws(SoftmaxError) in
        _ = try binaryCrossEntropy(s.ra, rows: rows, cols: cols, targets: s.rc, losses: s.b, options: .init(posWeight: nanWeights)) },
      BadCall("BCE: posWeight count", .countMismatch(argument: "posWeight", expected: 5, actual: 2)) { (s) throws(SoftmaxError) in
        _ = try binaryCrossEntropyWithGradient(s.ra, rows: rows, cols: cols, targets: s.rc, gradient: s.b, options: .init(posWeight: [1, 1])) },
      BadCall("BCE: gradient partly over logits", .overlappingBuffers(input: "logits", output: "gradient")) { (s) throws(SoftmaxError) in
        _ = try binaryCrossEntropyWithGradient(UnsafeBufferPointer(rebasing: s.ra[0..<10]), rows: 2, cols: cols, targets: s.rc, gradient: UnsafeMutableBufferPointer(rebasing: s.a[1..<11])) },
      BadCall("BCE: logits stride < cols", .strideTooSmall(argument: "stride", stride: 4, cols: 5)) { (s) throws(SoftmaxError) in
        _ = try binaryCrossEntropy(s.ra, rows: rows, cols: cols, stride: 4, targets: s.rc, losses: s.b) },
      BadCall("BCE: losses stride < cols", .strideTooSmall(argument: "lossesStride", stride: 2, cols: 5)) { (s) throws(SoftmaxError) in
        _ = try binaryCrossEntropy(s.ra, rows: rows, cols: cols, targets: s.rc, losses: s.b, lossesStride: 2) },
      BadCall("BCE in place: too small", .bufferTooSmall(argument: "inPlace", required: 20, actual: 16)) { (s) throws(SoftmaxError) in
        _ = try binaryCrossEntropyWithGradient(inPlace: s.a, rows: 4, cols: cols, targets: s.rc, losses: s.b) },
      BadCall("BCE in place: targets over the logits", .overlappingBuffers(input: "targets", output: "inPlace")) { (s) throws(SoftmaxError) in
        _ = try binaryCrossEntropyWithGradient(inPlace: s.a, rows: rows, cols: cols, targets: UnsafeBufferPointer(rebasing: s.ra[1..<16]), losses: s.b) },
      BadCall("BCE: negative thread count", .invalidThreadCount(-3)) { (s) throws(SoftmaxError) in
        _ = try binaryCrossEntropyWithGradient(s.ra, rows: rows, cols: cols, targets: s.rc, gradient: s.b, options: .init(kernel: KernelOptions(threads: -3))) },
      // Mergeable logsumexp states.
      BadCall("logSumExpStates: states too small", .bufferTooSmall(argument: "states", required: 3, actual: 2)) { (s) throws(SoftmaxError) in
        try logSumExpStates(s.ra, rows: rows, cols: cols, states: UnsafeMutableBufferPointer(rebasing: s.states[0..<2])) },
      BadCall("logSumExpStates: stride < cols", .strideTooSmall(argument: "stride", stride: 4, cols: 5)) { (s) throws(SoftmaxError) in
        try logSumExpStates(s.ra, rows: rows, cols: cols, stride: 4, states: s.states) },
      // Sharded cross-entropy (a shard of columns 2..<5 of 5).
      BadCall("crossEntropyShard: states too small", .bufferTooSmall(argument: "states", required: 3, actual: 1)) { (s) throws(SoftmaxError) in
        _ = try withLabels(labels) { (l) throws(SoftmaxError) in
          try crossEntropyShardWithGradient(s.ra, rows: rows, cols: 3, stride: cols, columnOffset: 2, totalCols: cols, labels: l,
                                states: UnsafeBufferPointer(rebasing: s.rstates[0..<1]), gradient: s.b, gradientStride: cols, losses: s.losses) } },
      BadCall("crossEntropyShard: label out of range", .labelOutOfRange(argument: "labels", row: 1, value: 5, cols: 5)) { (s) throws(SoftmaxError) in
        _ = try withLabels(badLabels) { (l) throws(SoftmaxError) in
          try crossEntropyShardWithGradient(s.ra, rows: rows, cols: 3, stride: cols, columnOffset: 2, totalCols: cols, labels: l,
                                states: s.rstates, gradient: s.b, gradientStride: cols, losses: s.losses) } },
      BadCall("crossEntropyShard: shard past totalCols", .countMismatch(argument: "totalCols", expected: 6, actual: 5)) { (s) throws(SoftmaxError) in
        _ = try withLabels(labels) { (l) throws(SoftmaxError) in
          try crossEntropyShardWithGradient(s.ra, rows: rows, cols: 3, stride: cols, columnOffset: 3, totalCols: cols, labels: l,
                                states: s.rstates, gradient: s.b, gradientStride: cols, losses: s.losses) } },
      BadCall("crossEntropyShard: gradient stride < cols", .strideTooSmall(argument: "gradientStride", stride: 2, cols: 3)) { (s) throws(SoftmaxError) in
        _ = try withLabels(labels) { (l) throws(SoftmaxError) in
          try crossEntropyShardWithGradient(s.ra, rows: rows, cols: 3, stride: cols, columnOffset: 2, totalCols: cols, labels: l,
                                states: s.rstates, gradient: s.b, gradientStride: 2, losses: s.losses) } },
      BadCall("crossEntropyShard: NaN class weight", .invalidWeight(argument: "classWeights", index: 3, value: .nan)) { (s) throws(SoftmaxError) in
        _ = try withLabels(labels) { (l) throws(SoftmaxError) in
          try crossEntropyShardWithGradient(s.ra, rows: rows, cols: 3, stride: cols, columnOffset: 2, totalCols: cols, labels: l,
                                states: s.rstates, gradient: s.b, gradientStride: cols, losses: s.losses, options: o(classWeights: nanWeights)) } },
      // Cross-entropy: strides of every buffer, NaN options, for each entry point.
      BadCall("crossEntropy labels: logits stride < cols", .strideTooSmall(argument: "stride", stride: 4, cols: 5)) { (s) throws(SoftmaxError) in
        _ = try withLabels(labels) { (l) throws(SoftmaxError) in try crossEntropy(s.ra, rows: rows, cols: cols, stride: 4, labels: l, losses: s.losses) } },
      BadCall("crossEntropyWithGradient labels: gradient stride < cols", .strideTooSmall(argument: "gradientStride", stride: 3, cols: 5)) { (s) throws(SoftmaxError) in
        _ = try withLabels(labels) { (l) throws(SoftmaxError) in
          try crossEntropyWithGradient(s.ra, rows: rows, cols: cols, labels: l, gradient: s.b, gradientStride: 3, losses: s.losses) } },
      BadCall("crossEntropyWithGradient labels in place: stride < cols", .strideTooSmall(argument: "stride", stride: 4, cols: 5)) { (s) throws(SoftmaxError) in
        _ = try withLabels(labels) { (l) throws(SoftmaxError) in try crossEntropyWithGradient(inPlace: s.a, rows: rows, cols: cols, stride: 4, labels: l, losses: s.losses) } },
      BadCall("crossEntropy targets: targets stride < cols", .strideTooSmall(argument: "targetsStride", stride: 2, cols: 5)) { (s) throws(SoftmaxError) in
        _ = try crossEntropy(s.ra, rows: rows, cols: cols, targets: s.rc, targetsStride: 2, losses: s.losses) },
      BadCall("crossEntropyWithGradient targets: gradient stride < cols", .strideTooSmall(argument: "gradientStride", stride: 4, cols: 5)) { (s) throws(SoftmaxError) in
        _ = try crossEntropyWithGradient(s.ra, rows: rows, cols: cols, targets: s.rc, gradient: s.b, gradientStride: 4, losses: s.losses) },
      BadCall("crossEntropyWithGradient targets in place: targets stride < cols", .strideTooSmall(argument: "targetsStride", stride: 1, cols: 5)) { (s) throws(SoftmaxError) in
        _ = try crossEntropyWithGradient(inPlace: s.a, rows: rows, cols: cols, targets: s.rc, targetsStride: 1, losses: s.losses) },
      BadCall("crossEntropyWithGradient labels in place: NaN label smoothing", .invalidOption(argument: "labelSmoothing", value: .nan, expected: "in [0, 1]")) { (s) throws(SoftmaxError) in
        _ = try withLabels(labels) { (l) throws(SoftmaxError) in try crossEntropyWithGradient(inPlace: s.a, rows: rows, cols: cols, labels: l, losses: s.losses, options: o(labelSmoothing: .nan)) } },
      BadCall("crossEntropyWithGradient targets: NaN z-loss", .invalidOption(argument: "zLoss", value: .nan, expected: "finite and >= 0")) { (s) throws(SoftmaxError) in
        _ = try crossEntropyWithGradient(s.ra, rows: rows, cols: cols, targets: s.rc, gradient: s.b, losses: s.losses, options: o(zLoss: .nan)) },
      BadCall("crossEntropyWithGradient labels in place: NaN class weight", .invalidWeight(argument: "classWeights", index: 3, value: .nan)) { (s) throws(SoftmaxError) in
        _ = try withLabels(labels) { (l) throws(SoftmaxError) in try crossEntropyWithGradient(inPlace: s.a, rows: rows, cols: cols, labels: l, losses: s.losses, options: o(classWeights: nanWeights)) } },
      BadCall("crossEntropyWithGradient targets in place: NaN class weight", .invalidWeight(argument: "classWeights", index: 3, value: .nan)) { (s) throws(SoftmaxError) in
        _ = try crossEntropyWithGradient(inPlace: s.a, rows: rows, cols: cols, targets: s.rc, losses: s.losses, options: o(classWeights: nanWeights)) },
      BadCall("crossEntropy labels: label out of range in the last row", .labelOutOfRange(argument: "labels", row: 2, value: 7, cols: 5)) { (s) throws(SoftmaxError) in
        _ = try withLabels([1, 2, 7]) { (l) throws(SoftmaxError) in try crossEntropyWithGradient(inPlace: s.a, rows: rows, cols: cols, labels: l, losses: s.losses) } },
      BadCall("crossEntropy Int64 labels: a label past Int32's range", .labelOutOfRange(argument: "labels", row: 1, value: 1 << 33, cols: 5)) { (s) throws(SoftmaxError) in
        _ = try [Int64(0), 1 << 33, 2].withUnsafeBufferPointer { (l) throws(SoftmaxError) in
          try crossEntropyWithGradient(inPlace: s.a, rows: rows, cols: cols, labels: l, losses: s.losses) } },
    ]
  }

  /// Runs every call of `table(T.self)` on fresh buffers and checks its error and that no byte of
  /// any buffer changed. Errors are compared by description, so NaN values match.
  static func run<T: ReferenceScalar>(_: T.Type) {
    for call in table(T.self) {
      var a = (0..<n).map { T($0) * 0.37 - 2 }, b = [T](repeating: .pi, count: n)
      var c = (0..<n).map { T($0 % 5) / 5 }, losses = [T](repeating: -.pi, count: 4)
      var states = try! logSumExpStates(Array(a[0..<12]), cols: 3)
      func bytes<E>(_ x: [E]) -> [UInt8] { x.withUnsafeBytes { Array($0) } }
      let before = [bytes(a), bytes(b), bytes(c), bytes(losses), bytes(states)]
      var thrown: SoftmaxError?
      a.withUnsafeMutableBufferPointer { pa in
        b.withUnsafeMutableBufferPointer { pb in
          c.withUnsafeMutableBufferPointer { pc in
            losses.withUnsafeMutableBufferPointer { pl in
              states.withUnsafeMutableBufferPointer { ps in
                do throws(SoftmaxError) { try call.run(Buffers(a: pa, b: pb, c: pc, losses: pl, states: ps)) } catch { thrown = error }
              }
            }
          }
        }
      }
      #expect(thrown.map { "\($0)" } == "\(call.expected)", "\(T.self) \(call.name): got \(thrown.map { "\($0)" } ?? "no error")")
      let after = [bytes(a), bytes(b), bytes(c), bytes(losses), bytes(states)]
      for (k, name) in ["a (input / in-place data)", "b (output / gradient)", "c (targets / gradOutput)", "losses", "states"].enumerated() {
        let unchanged = after[k] == before[k]
        #expect(unchanged, "\(T.self) \(call.name): \(name) written")
      }
    }
  }

  @Test func float() { Self.run(Float.self) }
  @Test func double() { Self.run(Double.self) }
}
