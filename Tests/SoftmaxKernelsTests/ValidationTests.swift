import SoftmaxKernels
import Testing

/// Bad arguments give a typed `SoftmaxError` naming the argument and value, and nothing is
/// written: outputs and in-place inputs are compared byte for byte after each rejected call.
@Suite("Validation: typed errors, no partial writes")
struct ValidationTests {
  /// A call on `x` (input) and `y` (output / in-place data) that should throw `expected`.
  struct BadCall: CustomStringConvertible, Sendable {
    let description: String
    let expected: SoftmaxError
    let run: @Sendable (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) throws(SoftmaxError) -> Void
  }

  static let badCalls: [BadCall] = [
    BadCall(description: "negative rows", expected: .negativeDimension(argument: "rows", value: -1)) { x, y throws(SoftmaxError) in
      try softmax(UnsafeBufferPointer(x), rows: -1, cols: 4, output: y)
    },
    BadCall(description: "negative cols", expected: .negativeDimension(argument: "cols", value: -3)) { x, y throws(SoftmaxError) in
      try logSoftmax(UnsafeBufferPointer(x), rows: 2, cols: -3, output: y)
    },
    BadCall(description: "input stride < cols", expected: .strideTooSmall(argument: "stride", stride: 3, cols: 4)) { x, y throws(SoftmaxError) in
      try softmax(UnsafeBufferPointer(x), rows: 2, cols: 4, stride: 3, output: y)
    },
    BadCall(description: "output stride < cols", expected: .strideTooSmall(argument: "outputStride", stride: 2, cols: 4)) { x, y throws(SoftmaxError) in
      try logSoftmax(UnsafeBufferPointer(x), rows: 2, cols: 4, output: y, outputStride: 2)
    },
    BadCall(description: "negative stride", expected: .negativeDimension(argument: "stride", value: -8)) { _, y throws(SoftmaxError) in
      try softmax(inPlace: y, rows: 2, cols: 4, stride: -8)
    },
    BadCall(description: "input too small", expected: .bufferTooSmall(argument: "input", required: 20, actual: 16)) { x, y throws(SoftmaxError) in
      try softmax(UnsafeBufferPointer(x), rows: 5, cols: 4, output: y)
    },
    BadCall(description: "output too small with stride", expected: .bufferTooSmall(argument: "output", required: 17, actual: 16)) { x, y throws(SoftmaxError) in
      try softmax(UnsafeBufferPointer(x), rows: 2, cols: 4, output: y, outputStride: 13)
    },
    BadCall(description: "in-place data too small", expected: .bufferTooSmall(argument: "inPlace", required: 24, actual: 16)) { _, y throws(SoftmaxError) in
      try logSoftmax(inPlace: y, rows: 3, cols: 8)
    },
    BadCall(description: "logsumexp output too small", expected: .bufferTooSmall(argument: "output", required: 17, actual: 16)) { x, y throws(SoftmaxError) in
      try logSumExp(UnsafeBufferPointer(x), rows: 17, cols: 0, output: y)
    },
    BadCall(description: "size overflow", expected: .sizeOverflow(argument: "input")) { x, y throws(SoftmaxError) in
      try softmax(UnsafeBufferPointer(x), rows: Int.max / 2, cols: 4, stride: 8, output: y)
    },
    BadCall(description: "partially overlapping input and output", expected: .overlappingBuffers(input: "input", output: "output")) { x, _ throws(SoftmaxError) in
      try softmax(UnsafeBufferPointer(rebasing: x[0..<8]), rows: 2, cols: 4, output: UnsafeMutableBufferPointer(rebasing: x[2..<10]))
    },
    // Writing the row results over the logits they come from: row blocks and threads write
    // several rows' results before reading those rows (review of the row-block change).
    BadCall(description: "logsumexp output overlapping the input", expected: .overlappingBuffers(input: "input", output: "output")) { x, _ throws(SoftmaxError) in
      try logSumExp(UnsafeBufferPointer(rebasing: x[0..<10]), rows: 2, cols: 5, output: UnsafeMutableBufferPointer(rebasing: x[0..<2]))
    },
    BadCall(description: "logsumexp output inside the input's last row", expected: .overlappingBuffers(input: "input", output: "output")) { x, _ throws(SoftmaxError) in
      try logSumExp(UnsafeBufferPointer(rebasing: x[0..<12]), rows: 2, cols: 3, stride: 8, output: UnsafeMutableBufferPointer(rebasing: x[10..<12]))
    },
  ]

  @Test("each bad argument throws its typed error and writes nothing", arguments: badCalls)
  func rejectsWithoutWriting(call: BadCall) {
    var x = (0..<16).map { Float($0) * 0.25 - 1 }
    var y = [Float](repeating: .nan, count: 16)
    let xBefore = x.map(\.bitPattern), yBefore = y.map(\.bitPattern)
    var thrown: SoftmaxError?
    x.withUnsafeMutableBufferPointer { xb in
      y.withUnsafeMutableBufferPointer { yb in
        do throws(SoftmaxError) { try call.run(xb, yb) } catch { thrown = error }
      }
    }
    #expect(thrown == call.expected)
    #expect(x.map(\.bitPattern) == xBefore, "input (or in-place data) changed")
    #expect(y.map(\.bitPattern) == yBefore, "output changed")
  }

  @Test("array conveniences reject a count that is not a multiple of cols, and negative cols")
  func arrayShapeErrors() {
    var data: [Double] = [1, 2, 3, 4, 5]
    #expect(throws: SoftmaxError.countNotMultipleOfColumns(argument: "input", count: 5, cols: 2)) {
      try softmax(data, cols: 2)
    }
    #expect(throws: SoftmaxError.countNotMultipleOfColumns(argument: "inPlace", count: 5, cols: 0)) {
      try logSoftmax(inPlace: &data, cols: 0)
    }
    #expect(throws: SoftmaxError.negativeDimension(argument: "cols", value: -5)) {
      try logSumExp(data, cols: -5)
    }
    #expect(data == [1, 2, 3, 4, 5])
  }

  @Test("errors name the argument and the value")
  func errorDescriptions() {
    let e = SoftmaxError.bufferTooSmall(argument: "output", required: 20, actual: 16)
    #expect(e.description.contains("output") && e.description.contains("20") && e.description.contains("16"))
    let s = SoftmaxError.strideTooSmall(argument: "outputStride", stride: 3, cols: 4)
    #expect(s.description.contains("outputStride") && s.description.contains("3"))
  }
}
