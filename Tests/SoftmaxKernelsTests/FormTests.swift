import SoftmaxKernels
import Testing

// Every public form of every operation against its pointer form: the Span forms, the in-place
// forms, the array forms, the single-vector conveniences, the optional-losses overloads and every
// label type give bit-identical results, and no form reads or writes the gap between strided rows.
// The pointer forms themselves are checked against the references by the rest of the suite.

/// The shape every form is run on: strided rows with a gap of `stride - cols` elements.
private let rows = 5, cols = 37, stride = 41
/// What the gap between rows of an output holds before and after every call.
private let gapValue = 7.0

private func identicalArrays<T: BinaryFloatingPoint>(_ a: [T], _ b: [T]) -> Bool {
  a.count == b.count && zip(a, b).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
}

/// Deterministic logits with a masked class, an extreme and a gap of NaN between rows (read there,
/// they would poison the row).
private func stridedLogits<T: SoftmaxScalar>(_: T.Type, seed: UInt64) -> [T] {
  var state = seed
  var x = [T](repeating: .nan, count: rows * stride)
  for r in 0..<rows {
    for j in 0..<cols {
      state = state &* 6364136223846793005 &+ 1442695040888963407
      x[r * stride + j] = T(Double(state >> 11) / Double(1 << 53) * 12 - 6)
    }
  }
  x[1 * stride + 3] = -.infinity
  x[2 * stride + 5] = 40
  return x
}

/// The rows of a strided matrix, packed.
private func packed<T>(_ x: [T]) -> [T] { (0..<rows).flatMap { x[($0 * stride)..<($0 * stride + cols)] } }

/// A fresh strided output with `gapValue` everywhere.
private func stridedOutput<T: BinaryFloatingPoint>(_: T.Type) -> [T] { [T](repeating: T(gapValue), count: rows * stride) }

/// The gap between the rows of `y` still holds `gapValue`.
private func gapUntouched<T: BinaryFloatingPoint>(_ y: [T]) -> Bool {
  (0..<rows).allSatisfy { r in (cols..<stride).allSatisfy { r * stride + $0 >= y.count || y[r * stride + $0] == T(gapValue) } }
}

/// `body` with a mutable span over `a`.
private func withSpan<T, R>(_ a: inout [T], _ body: (inout MutableSpan<T>) throws(SoftmaxError) -> R) throws(SoftmaxError) -> R {
  var s = a.mutableSpan
  return try body(&s)
}

/// Class labels with an ignored row, in three integer types.
private let labels32: [Int32] = [3, 36, -100, 0, 17]

@Suite("Every form of every operation agrees with its pointer form")
struct FormTests {
  @Test(arguments: [KernelOptions.Mode.accurate, .fast])
  func softmaxFamily(mode: KernelOptions.Mode) throws {
    try checkRowwise(Float.self, mode: mode)
    try checkRowwise(Double.self, mode: mode)
    try checkRowwise(Float16.self, mode: mode)
    try checkRowwise(BFloat16.self, mode: mode)
  }

  func checkRowwise<T: SoftmaxScalar>(_: T.Type, mode: KernelOptions.Mode) throws {
    let options = KernelOptions(mode: mode)
    let x = stridedLogits(T.self, seed: 1)
    typealias Pointer = (UnsafeBufferPointer<T>, UnsafeMutableBufferPointer<T>) throws(SoftmaxError) -> Void
    typealias SpanForm = (Span<T>, inout MutableSpan<T>) throws(SoftmaxError) -> Void
    typealias InPlacePointer = (UnsafeMutableBufferPointer<T>) throws(SoftmaxError) -> Void
    typealias InPlaceSpan = (inout MutableSpan<T>) throws(SoftmaxError) -> Void
    func check(
      _ name: String, _ pointer: Pointer, _ span: SpanForm, _ inPlacePointer: InPlacePointer, _ inPlaceSpan: InPlaceSpan,
      array: ([T]) throws(SoftmaxError) -> [T], arrayInPlace: (inout [T]) throws(SoftmaxError) -> Void,
      vector: ([T]) throws(SoftmaxError) -> [T]
    ) throws {
      var expected = stridedOutput(T.self)
      try x.withUnsafeBufferPointer { xb in try expected.withUnsafeMutableBufferPointer { try pointer(xb, $0) } }
      #expect(gapUntouched(expected), "\(name) pointer form wrote the gap")
      var viaSpan = stridedOutput(T.self)
      try withSpan(&viaSpan) { (s) throws(SoftmaxError) in try span(x.span, &s) }
      #expect(identicalArrays(viaSpan, expected), "\(name) Span form")
      // In place: the gap of the input holds NaN and must stay NaN.
      var inPlace = x
      try inPlace.withUnsafeMutableBufferPointer { try inPlacePointer($0) }
      #expect(identicalArrays(packed(inPlace), packed(expected)) && identicalArrays(inPlace.filter(\.isNaN).map { _ in 0 }, x.filter(\.isNaN).map { _ in 0 }), "\(name) pointer in place")
      var inPlaceSpanResult = x
      try withSpan(&inPlaceSpanResult) { (s) throws(SoftmaxError) in try inPlaceSpan(&s) }
      #expect(identicalArrays(inPlaceSpanResult, inPlace), "\(name) Span in place")
      #expect(identicalArrays(try array(packed(x)), packed(expected)), "\(name) array form")
      var arrayData = packed(x)
      try arrayInPlace(&arrayData)
      #expect(identicalArrays(arrayData, packed(expected)), "\(name) array in place")
      #expect(identicalArrays(try vector(Array(x[0..<cols])), Array(expected[0..<cols])), "\(name) single vector")
    }
    try check(
      "softmax",
      { (a, b) throws(SoftmaxError) in try softmax(a, rows: rows, cols: cols, stride: stride, output: b, outputStride: stride, options: options) },
      { (a, b) throws(SoftmaxError) in try softmax(a, rows: rows, cols: cols, stride: stride, output: &b, outputStride: stride, options: options) },
      { (a) throws(SoftmaxError) in try softmax(inPlace: a, rows: rows, cols: cols, stride: stride, options: options) },
      { (a) throws(SoftmaxError) in try softmax(inPlace: &a, rows: rows, cols: cols, stride: stride, options: options) },
      array: { (a) throws(SoftmaxError) in try softmax(a, cols: cols, options: options) },
      arrayInPlace: { (a) throws(SoftmaxError) in try softmax(inPlace: &a, cols: cols, options: options) },
      vector: { (a) throws(SoftmaxError) in try softmax(a, options: options) })
    try check(
      "logSoftmax",
      { (a, b) throws(SoftmaxError) in try logSoftmax(a, rows: rows, cols: cols, stride: stride, output: b, outputStride: stride, options: options) },
      { (a, b) throws(SoftmaxError) in try logSoftmax(a, rows: rows, cols: cols, stride: stride, output: &b, outputStride: stride, options: options) },
      { (a) throws(SoftmaxError) in try logSoftmax(inPlace: a, rows: rows, cols: cols, stride: stride, options: options) },
      { (a) throws(SoftmaxError) in try logSoftmax(inPlace: &a, rows: rows, cols: cols, stride: stride, options: options) },
      array: { (a) throws(SoftmaxError) in try logSoftmax(a, cols: cols, options: options) },
      arrayInPlace: { (a) throws(SoftmaxError) in try logSoftmax(inPlace: &a, cols: cols, options: options) },
      vector: { (a) throws(SoftmaxError) in try logSoftmax(a, options: options) })

    // logsumexp: one value per row.
    var lse = [T.Arithmetic](repeating: 0, count: rows)
    try x.withUnsafeBufferPointer { xb in
      try lse.withUnsafeMutableBufferPointer { try logSumExp(xb, rows: rows, cols: cols, stride: stride, output: $0, options: options) }
    }
    var lseSpan = [T.Arithmetic](repeating: 0, count: rows)
    try withSpan(&lseSpan) { (s) throws(SoftmaxError) in try logSumExp(x.span, rows: rows, cols: cols, stride: stride, output: &s, options: options) }
    #expect(identicalArrays(lseSpan, lse), "logSumExp Span form")
    #expect(identicalArrays(try logSumExp(packed(x), cols: cols, options: options), lse), "logSumExp array form")
    #expect(identicalArrays([try logSumExp(Array(x[0..<cols]), options: options)], [lse[0]]), "logSumExp single vector")
    #expect(try logSumExp([T](), options: options) == -.infinity)

    // logsumexp states.
    var states = [LogSumExpState<T.Arithmetic>](repeating: .empty, count: rows)
    try x.withUnsafeBufferPointer { xb in
      try states.withUnsafeMutableBufferPointer { try logSumExpStates(xb, rows: rows, cols: cols, stride: stride, states: $0, options: options) }
    }
    var statesSpan = [LogSumExpState<T.Arithmetic>](repeating: .empty, count: rows)
    do {
      var s = statesSpan.mutableSpan
      try logSumExpStates(x.span, rows: rows, cols: cols, stride: stride, states: &s, options: options)
    }
    let statesArray = try logSumExpStates(packed(x), cols: cols, options: options)
    for r in 0..<rows {
      #expect(statesSpan[r].max == states[r].max && statesSpan[r].excess == states[r].excess, "logSumExpStates Span form")
      #expect(statesArray[r].max == states[r].max && statesArray[r].excess == states[r].excess, "logSumExpStates array form")
    }

    // exp.
    let e = Array(x[0..<cols])
    var expOut = [T](repeating: 0, count: cols), expSpan = [T](repeating: 0, count: cols)
    try e.withUnsafeBufferPointer { eb in try expOut.withUnsafeMutableBufferPointer { try VectorExp.exp(eb, output: $0, options: options) } }
    try withSpan(&expSpan) { (s) throws(SoftmaxError) in try VectorExp.exp(e.span, output: &s, options: options) }
    #expect(identicalArrays(expSpan, expOut), "VectorExp Span form")
  }

  @Test func backwardPasses() throws {
    try checkBackward(Float.self)
    try checkBackward(Double.self)
    try checkBackward(Float16.self)
    try checkBackward(BFloat16.self)
  }

  func checkBackward<T: SoftmaxScalar>(_: T.Type) throws {
    let x = stridedLogits(T.self, seed: 2)
    var dy = stridedLogits(T.self, seed: 3)
    for i in dy.indices where dy[i].isNaN || !dy[i].isFinite { dy[i] = i % stride < cols ? 1 : .nan }
    for (name, forward) in [("softmaxBackward", true), ("logSoftmaxBackward", false)] {
      var y = stridedOutput(T.self)
      try x.withUnsafeBufferPointer { xb in
        try y.withUnsafeMutableBufferPointer { (yb) throws(SoftmaxError) in
          if forward {
            try softmax(xb, rows: rows, cols: cols, stride: stride, output: yb, outputStride: stride)
          } else {
            try logSoftmax(xb, rows: rows, cols: cols, stride: stride, output: yb, outputStride: stride)
          }
        }
      }
      func pointerForm(_ dyb: UnsafeBufferPointer<T>, _ yb: UnsafeBufferPointer<T>, _ dx: UnsafeMutableBufferPointer<T>, threads: Int) throws(SoftmaxError) {
        let o = KernelOptions(threads: threads)
        if forward {
          try softmaxBackward(dyb, rows: rows, cols: cols, stride: stride, output: yb, outputStride: stride, gradient: dx, gradientStride: stride, options: o)
        } else {
          try logSoftmaxBackward(dyb, rows: rows, cols: cols, stride: stride, output: yb, outputStride: stride, gradient: dx, gradientStride: stride, options: o)
        }
      }
      var expected = stridedOutput(T.self)
      try dy.withUnsafeBufferPointer { dyb in try y.withUnsafeBufferPointer { yb in try expected.withUnsafeMutableBufferPointer { try pointerForm(dyb, yb, $0, threads: 1) } } }
      #expect(gapUntouched(expected), "\(name) pointer form wrote the gap")
      var threaded = stridedOutput(T.self)
      try dy.withUnsafeBufferPointer { dyb in try y.withUnsafeBufferPointer { yb in try threaded.withUnsafeMutableBufferPointer { try pointerForm(dyb, yb, $0, threads: 0) } } }
      #expect(identicalArrays(threaded, expected), "\(name) with threads")
      var viaSpan = stridedOutput(T.self)
      try withSpan(&viaSpan) { (s) throws(SoftmaxError) in
        if forward {
          try softmaxBackward(dy.span, rows: rows, cols: cols, stride: stride, output: y.span, outputStride: stride, gradient: &s, gradientStride: stride)
        } else {
          try logSoftmaxBackward(dy.span, rows: rows, cols: cols, stride: stride, output: y.span, outputStride: stride, gradient: &s, gradientStride: stride)
        }
      }
      #expect(identicalArrays(viaSpan, expected), "\(name) Span form")
      var inPlacePointer = dy
      try y.withUnsafeBufferPointer { yb in
        try inPlacePointer.withUnsafeMutableBufferPointer { (d) throws(SoftmaxError) in
          if forward {
            try softmaxBackward(inPlace: d, rows: rows, cols: cols, stride: stride, output: yb, outputStride: stride)
          } else {
            try logSoftmaxBackward(inPlace: d, rows: rows, cols: cols, stride: stride, output: yb, outputStride: stride)
          }
        }
      }
      #expect(identicalArrays(packed(inPlacePointer), packed(expected)), "\(name) pointer in place")
      var inPlaceSpan = dy
      try withSpan(&inPlaceSpan) { (s) throws(SoftmaxError) in
        if forward {
          try softmaxBackward(inPlace: &s, rows: rows, cols: cols, stride: stride, output: y.span, outputStride: stride)
        } else {
          try logSoftmaxBackward(inPlace: &s, rows: rows, cols: cols, stride: stride, output: y.span, outputStride: stride)
        }
      }
      #expect(identicalArrays(inPlaceSpan, inPlacePointer), "\(name) Span in place")
      let arrayResult = forward
        ? try softmaxBackward(packed(dy), cols: cols, output: packed(y))
        : try logSoftmaxBackward(packed(dy), cols: cols, output: packed(y))
      #expect(identicalArrays(arrayResult, packed(expected)), "\(name) array form")
    }
  }

  @Test(arguments: [KernelOptions.Mode.accurate, .fast])
  func crossEntropyForms(mode: KernelOptions.Mode) throws {
    try checkCrossEntropy(Float.self, mode: mode)
    try checkCrossEntropy(Double.self, mode: mode)
    try checkCrossEntropy(Float16.self, mode: mode)
    try checkCrossEntropy(BFloat16.self, mode: mode)
  }

  /// Labels and targets: forward with and without losses, fused gradient into a buffer and in
  /// place, with spans, pointers and arrays, and labels as Int32, Int64 and Int.
  func checkCrossEntropy<T: SoftmaxScalar>(_: T.Type, mode: KernelOptions.Mode) throws {
    let x = stridedLogits(T.self, seed: 4)
    let options = CrossEntropyOptions<T>(labelSmoothing: 0.05, zLoss: 1e-3, kernel: KernelOptions(mode: mode))
    let labels64 = labels32.map(Int64.init), labelsInt = labels32.map(Int.init)
    var targets = stridedOutput(T.self)
    for r in 0..<rows { for j in 0..<cols { targets[r * stride + j] = T(1) / T(cols) } }

    // The pointer forms with Int32 labels: the results everything else must reproduce.
    var lossesRef = [T.Arithmetic](repeating: 0, count: rows), gradientRef = stridedOutput(T.self)
    let lossRef = try x.withUnsafeBufferPointer { xb in
      try labels32.withUnsafeBufferPointer { lb in
        try lossesRef.withUnsafeMutableBufferPointer { ob in
          try crossEntropy(xb, rows: rows, cols: cols, stride: stride, labels: lb, losses: ob, options: options)
        }
      }
    }
    let gradLossRef = try x.withUnsafeBufferPointer { xb in
      try labels32.withUnsafeBufferPointer { lb in
        try gradientRef.withUnsafeMutableBufferPointer { gb in
          try crossEntropyWithGradient(xb, rows: rows, cols: cols, stride: stride, labels: lb, gradient: gb, gradientStride: stride, options: options)
        }
      }
    }
    #expect(identicalArrays([gradLossRef], [lossRef]))
    #expect(gapUntouched(gradientRef))

    // Every label type, pointer forms.
    func pointerForms<L: ClassLabel>(_ labels: [L]) throws -> (T.Arithmetic, [T.Arithmetic], [T], [T], T.Arithmetic) {
      var losses = [T.Arithmetic](repeating: 0, count: rows), g = stridedOutput(T.self), inPlace = x
      let loss = try x.withUnsafeBufferPointer { xb in
        try labels.withUnsafeBufferPointer { lb in
          try losses.withUnsafeMutableBufferPointer { ob in
            try crossEntropy(xb, rows: rows, cols: cols, stride: stride, labels: lb, losses: ob, options: options)
          }
        }
      }
      _ = try x.withUnsafeBufferPointer { xb in
        try labels.withUnsafeBufferPointer { lb in
          try g.withUnsafeMutableBufferPointer { gb in
            try crossEntropyWithGradient(xb, rows: rows, cols: cols, stride: stride, labels: lb, gradient: gb, gradientStride: stride, losses: nil, options: options)
          }
        }
      }
      var lossesInPlace = [T.Arithmetic](repeating: 0, count: rows)
      let lossInPlace = try labels.withUnsafeBufferPointer { lb in
        try lossesInPlace.withUnsafeMutableBufferPointer { ob in
          try inPlace.withUnsafeMutableBufferPointer { xb in
            try crossEntropyWithGradient(inPlace: xb, rows: rows, cols: cols, stride: stride, labels: lb, losses: ob, options: options)
          }
        }
      }
      #expect(identicalArrays(lossesInPlace, losses))
      return (loss, losses, g, packed(inPlace), lossInPlace)
    }
    for (name, result) in [("Int32", try pointerForms(labels32)), ("Int64", try pointerForms(labels64)), ("Int", try pointerForms(labelsInt))] {
      #expect(identicalArrays([result.0, result.4], [lossRef, lossRef]), "\(name) labels: loss")
      #expect(identicalArrays(result.1, lossesRef), "\(name) labels: losses")
      #expect(identicalArrays(result.2, gradientRef) && identicalArrays(result.3, packed(gradientRef)), "\(name) labels: gradient")
    }

    // Span forms (Int64 labels): forward, forward + losses, gradient, gradient + losses, in place,
    // in place + losses.
    #expect(identicalArrays([try crossEntropy(x.span, rows: rows, cols: cols, stride: stride, labels: labels64.span, options: options)], [lossRef]))
    var spanLosses = [T.Arithmetic](repeating: 0, count: rows)
    let spanLoss = try withSpan(&spanLosses) { (o) throws(SoftmaxError) in
      try crossEntropy(x.span, rows: rows, cols: cols, stride: stride, labels: labels64.span, losses: &o, options: options)
    }
    #expect(identicalArrays([spanLoss], [lossRef]) && identicalArrays(spanLosses, lossesRef), "Span forward + losses")
    var spanGradient = stridedOutput(T.self)
    let spanGradLoss = try withSpan(&spanGradient) { (g) throws(SoftmaxError) in
      try crossEntropyWithGradient(x.span, rows: rows, cols: cols, stride: stride, labels: labels32.span, gradient: &g, gradientStride: stride, options: options)
    }
    #expect(identicalArrays([spanGradLoss], [lossRef]) && identicalArrays(spanGradient, gradientRef), "Span gradient")
    var spanGradient2 = stridedOutput(T.self), spanLosses2 = [T.Arithmetic](repeating: 0, count: rows)
    _ = try withSpan(&spanGradient2) { (g) throws(SoftmaxError) in
      try withSpan(&spanLosses2) { (o) throws(SoftmaxError) in
        try crossEntropyWithGradient(x.span, rows: rows, cols: cols, stride: stride, labels: labelsInt.span, gradient: &g, gradientStride: stride, losses: &o, options: options)
      }
    }
    #expect(identicalArrays(spanGradient2, gradientRef) && identicalArrays(spanLosses2, lossesRef), "Span gradient + losses")
    var spanInPlace = x
    let spanInPlaceLoss = try withSpan(&spanInPlace) { (s) throws(SoftmaxError) in
      try crossEntropyWithGradient(inPlace: &s, rows: rows, cols: cols, stride: stride, labels: labels64.span, options: options)
    }
    #expect(identicalArrays([spanInPlaceLoss], [lossRef]) && identicalArrays(packed(spanInPlace), packed(gradientRef)), "Span in place")
    var spanInPlace2 = x, spanLosses3 = [T.Arithmetic](repeating: 0, count: rows)
    _ = try withSpan(&spanInPlace2) { (s) throws(SoftmaxError) in
      try withSpan(&spanLosses3) { (o) throws(SoftmaxError) in
        try crossEntropyWithGradient(inPlace: &s, rows: rows, cols: cols, stride: stride, labels: labels32.span, losses: &o, options: options)
      }
    }
    #expect(identicalArrays(packed(spanInPlace2), packed(gradientRef)) && identicalArrays(spanLosses3, lossesRef), "Span in place + losses")

    // Array forms.
    #expect(identicalArrays([try crossEntropy(packed(x), cols: cols, labels: labelsInt, options: options)], [lossRef]), "array loss")
    #expect(identicalArrays(try crossEntropyLosses(packed(x), cols: cols, labels: labels64, options: options), lossesRef), "array losses")
    var arrayInPlace = packed(x)
    let arrayLoss = try crossEntropyWithGradient(inPlace: &arrayInPlace, cols: cols, labels: labels32, options: options)
    #expect(identicalArrays([arrayLoss], [lossRef]) && identicalArrays(arrayInPlace, packed(gradientRef)), "array in place")

    // Probability targets: the same forms.
    var tLossesRef = [T.Arithmetic](repeating: 0, count: rows), tGradientRef = stridedOutput(T.self)
    let tLossRef = try x.withUnsafeBufferPointer { xb in
      try targets.withUnsafeBufferPointer { tb in
        try tGradientRef.withUnsafeMutableBufferPointer { gb in
          try tLossesRef.withUnsafeMutableBufferPointer { ob in
            try crossEntropyWithGradient(xb, rows: rows, cols: cols, stride: stride, targets: tb, targetsStride: stride, gradient: gb, gradientStride: stride, losses: ob, options: options)
          }
        }
      }
    }
    let tForward = try x.withUnsafeBufferPointer { xb in
      try targets.withUnsafeBufferPointer { tb in try crossEntropy(xb, rows: rows, cols: cols, stride: stride, targets: tb, targetsStride: stride, options: options) }
    }
    #expect(identicalArrays([tForward], [tLossRef]), "targets pointer forward")
    var tPointerInPlace = x
    let tPointerInPlaceLoss = try targets.withUnsafeBufferPointer { tb in
      try tPointerInPlace.withUnsafeMutableBufferPointer { xb in
        try crossEntropyWithGradient(inPlace: xb, rows: rows, cols: cols, stride: stride, targets: tb, targetsStride: stride, options: options)
      }
    }
    #expect(identicalArrays([tPointerInPlaceLoss], [tLossRef]) && identicalArrays(packed(tPointerInPlace), packed(tGradientRef)), "targets pointer in place")
    #expect(identicalArrays([try crossEntropy(x.span, rows: rows, cols: cols, stride: stride, targets: targets.span, targetsStride: stride, options: options)], [tLossRef]), "targets Span forward")
    var tSpanLosses = [T.Arithmetic](repeating: 0, count: rows)
    _ = try withSpan(&tSpanLosses) { (o) throws(SoftmaxError) in
      try crossEntropy(x.span, rows: rows, cols: cols, stride: stride, targets: targets.span, targetsStride: stride, losses: &o, options: options)
    }
    #expect(identicalArrays(tSpanLosses, tLossesRef), "targets Span forward + losses")
    var tSpanGradient = stridedOutput(T.self)
    _ = try withSpan(&tSpanGradient) { (g) throws(SoftmaxError) in
      try crossEntropyWithGradient(x.span, rows: rows, cols: cols, stride: stride, targets: targets.span, targetsStride: stride, gradient: &g, gradientStride: stride, options: options)
    }
    #expect(identicalArrays(tSpanGradient, tGradientRef), "targets Span gradient")
    var tSpanGradient2 = stridedOutput(T.self), tSpanLosses2 = [T.Arithmetic](repeating: 0, count: rows)
    _ = try withSpan(&tSpanGradient2) { (g) throws(SoftmaxError) in
      try withSpan(&tSpanLosses2) { (o) throws(SoftmaxError) in
        try crossEntropyWithGradient(x.span, rows: rows, cols: cols, stride: stride, targets: targets.span, targetsStride: stride, gradient: &g, gradientStride: stride, losses: &o, options: options)
      }
    }
    #expect(identicalArrays(tSpanGradient2, tGradientRef) && identicalArrays(tSpanLosses2, tLossesRef), "targets Span gradient + losses")
    var tSpanInPlace = x
    _ = try withSpan(&tSpanInPlace) { (s) throws(SoftmaxError) in
      try crossEntropyWithGradient(inPlace: &s, rows: rows, cols: cols, stride: stride, targets: targets.span, targetsStride: stride, options: options)
    }
    #expect(identicalArrays(packed(tSpanInPlace), packed(tGradientRef)), "targets Span in place")
    var tSpanInPlace2 = x, tSpanLosses3 = [T.Arithmetic](repeating: 0, count: rows)
    _ = try withSpan(&tSpanInPlace2) { (s) throws(SoftmaxError) in
      try withSpan(&tSpanLosses3) { (o) throws(SoftmaxError) in
        try crossEntropyWithGradient(inPlace: &s, rows: rows, cols: cols, stride: stride, targets: targets.span, targetsStride: stride, losses: &o, options: options)
      }
    }
    #expect(identicalArrays(packed(tSpanInPlace2), packed(tGradientRef)) && identicalArrays(tSpanLosses3, tLossesRef), "targets Span in place + losses")
    let packedTargets = packed(targets)
    #expect(identicalArrays([try crossEntropy(packed(x), cols: cols, targets: packedTargets, options: options)], [tLossRef]), "targets array")
    #expect(identicalArrays(try crossEntropyLosses(packed(x), cols: cols, targets: packedTargets, options: options), tLossesRef), "targets array losses")
    var tArrayInPlace = packed(x)
    _ = try crossEntropyWithGradient(inPlace: &tArrayInPlace, cols: cols, targets: packedTargets, options: options)
    #expect(identicalArrays(tArrayInPlace, packed(tGradientRef)), "targets array in place")
  }

  @Test func shardForms() throws {
    try checkShards(Float.self)
    try checkShards(Double.self)
    try checkShards(Float16.self)
    try checkShards(BFloat16.self)
  }

  /// The shard forms on a vocabulary of `cols` classes split in two shards, against the
  /// unsharded pointer form.
  func checkShards<T: SoftmaxScalar>(_: T.Type) throws {
    // Finite logits: with label smoothing a masked class makes the loss +inf, and inf - inf
    // would hide the comparison below.
    let x = packed(stridedLogits(T.self, seed: 5)).map { $0.isFinite ? $0 : -20 }
    let options = CrossEntropyOptions<T>(labelSmoothing: 0.1)
    let labels = labels32.map(Int64.init)
    var wholeGradient = x
    let wholeLoss = try crossEntropyWithGradient(inPlace: &wholeGradient, cols: cols, labels: labels, options: options)
    let split = 20
    let left = (0..<rows).flatMap { x[($0 * cols)..<($0 * cols + split)] }
    let right = (0..<rows).flatMap { x[($0 * cols + split)..<($0 * cols + cols)] }
    let states = zip(try logSumExpStates(left, cols: split), try logSumExpStates(right, cols: cols - split)).map { $0.merged(with: $1) }
    let shards = [(left, 0, split), (right, split, cols - split)]
    var total = [T.Arithmetic](repeating: 0, count: 6)
    var gradients = [[T]]()
    for (shard, offset, width) in shards {
      // Pointer: forward, separate gradient + losses, in place.
      var losses = [T.Arithmetic](repeating: 0, count: rows), g = [T](repeating: 0, count: shard.count), inPlace = shard
      let forward = try shard.withUnsafeBufferPointer { xb in
        try labels.withUnsafeBufferPointer { lb in
          try states.withUnsafeBufferPointer { sb in
            try crossEntropyShard(xb, rows: rows, cols: width, columnOffset: offset, totalCols: cols, labels: lb, states: sb, options: options)
          }
        }
      }
      let withGradient = try shard.withUnsafeBufferPointer { xb in
        try labels.withUnsafeBufferPointer { lb in
          try states.withUnsafeBufferPointer { sb in
            try g.withUnsafeMutableBufferPointer { gb in
              try losses.withUnsafeMutableBufferPointer { ob in
                try crossEntropyShardWithGradient(xb, rows: rows, cols: width, columnOffset: offset, totalCols: cols, labels: lb, states: sb, gradient: gb, losses: ob, options: options)
              }
            }
          }
        }
      }
      let inPlaceLoss = try labels.withUnsafeBufferPointer { lb in
        try states.withUnsafeBufferPointer { sb in
          try inPlace.withUnsafeMutableBufferPointer { xb in
            try crossEntropyShardWithGradient(inPlace: xb, rows: rows, cols: width, columnOffset: offset, totalCols: cols, labels: lb, states: sb, options: options)
          }
        }
      }
      #expect(identicalArrays([withGradient, inPlaceLoss], [forward, forward]) && identicalArrays(inPlace, g), "pointer shard forms")
      // Span: forward, forward + losses, gradient, gradient + losses, in place, in place + losses.
      var l1 = [T.Arithmetic](repeating: 0, count: rows), g1 = [T](repeating: 0, count: shard.count), g2 = g1, l2 = l1, p1 = shard, p2 = shard, l3 = l1
      let s0 = try crossEntropyShard(shard.span, rows: rows, cols: width, columnOffset: offset, totalCols: cols, labels: labels.span, states: states.span, options: options)
      let s1 = try withSpan(&l1) { (o) throws(SoftmaxError) in
        try crossEntropyShard(shard.span, rows: rows, cols: width, columnOffset: offset, totalCols: cols, labels: labels.span, states: states.span, losses: &o, options: options)
      }
      let s2 = try withSpan(&g1) { (d) throws(SoftmaxError) in
        try crossEntropyShardWithGradient(shard.span, rows: rows, cols: width, columnOffset: offset, totalCols: cols, labels: labels.span, states: states.span, gradient: &d, options: options)
      }
      let s3 = try withSpan(&g2) { (d) throws(SoftmaxError) in
        try withSpan(&l2) { (o) throws(SoftmaxError) in
          try crossEntropyShardWithGradient(shard.span, rows: rows, cols: width, columnOffset: offset, totalCols: cols, labels: labels.span, states: states.span, gradient: &d, losses: &o, options: options)
        }
      }
      let s4 = try withSpan(&p1) { (d) throws(SoftmaxError) in
        try crossEntropyShardWithGradient(inPlace: &d, rows: rows, cols: width, columnOffset: offset, totalCols: cols, labels: labels.span, states: states.span, options: options)
      }
      let s5 = try withSpan(&p2) { (d) throws(SoftmaxError) in
        try withSpan(&l3) { (o) throws(SoftmaxError) in
          try crossEntropyShardWithGradient(inPlace: &d, rows: rows, cols: width, columnOffset: offset, totalCols: cols, labels: labels.span, states: states.span, losses: &o, options: options)
        }
      }
      #expect(identicalArrays([s0, s1, s2, s3, s4, s5], [T.Arithmetic](repeating: forward, count: 6)), "Span shard losses")
      #expect(identicalArrays(l1, losses) && identicalArrays(l2, losses) && identicalArrays(l3, losses), "Span shard per-row losses")
      #expect(identicalArrays(g1, g) && identicalArrays(g2, g) && identicalArrays(p1, g) && identicalArrays(p2, g), "Span shard gradients")
      for k in total.indices { total[k] += [s0, s1, s2, s3, s4, s5][k] }
      gradients.append(g)
    }
    // The shards add up to the unsharded loss and gradient (within rounding).
    for t in total { #expect(abs(t - wholeLoss) <= 8 * T.Arithmetic.ulpOfOne * abs(wholeLoss)) }
    for r in 0..<rows {
      for j in 0..<cols {
        let g = j < split ? gradients[0][r * split + j] : gradients[1][r * (cols - split) + j - split]
        let w = wholeGradient[r * cols + j]
        #expect(abs(g - w) <= 8 * T.ulpOfOne * Swift.max(abs(w), T.leastNormalMagnitude), "shard gradient r=\(r) j=\(j)")
      }
    }
  }

  @Test(arguments: [KernelOptions.Mode.accurate, .fast])
  func binaryCrossEntropyForms(mode: KernelOptions.Mode) throws {
    try checkBinaryCrossEntropy(Float.self, mode: mode)
    try checkBinaryCrossEntropy(Double.self, mode: mode)
    try checkBinaryCrossEntropy(Float16.self, mode: mode)
    try checkBinaryCrossEntropy(BFloat16.self, mode: mode)
  }

  func checkBinaryCrossEntropy<T: SoftmaxScalar>(_: T.Type, mode: KernelOptions.Mode) throws {
    var x = stridedLogits(T.self, seed: 6)
    for i in x.indices where !x[i].isFinite && i % stride < cols { x[i] = -30 }
    var targets = stridedOutput(T.self)
    for r in 0..<rows { for j in 0..<cols { targets[r * stride + j] = T((r + j) % 3) / 2 } }
    let posWeight = (0..<cols).map { T.Arithmetic(1 + $0 % 4) / 2 }
    let options = BinaryCrossEntropyOptions<T>(posWeight: posWeight, reduction: .sum, kernel: KernelOptions(mode: mode))
    var lossesRef = stridedOutput(T.Arithmetic.self), gradientRef = stridedOutput(T.self)
    let lossRef = try x.withUnsafeBufferPointer { xb in
      try targets.withUnsafeBufferPointer { tb in
        try gradientRef.withUnsafeMutableBufferPointer { gb in
          try lossesRef.withUnsafeMutableBufferPointer { ob in
            try binaryCrossEntropyWithGradient(xb, rows: rows, cols: cols, stride: stride, targets: tb, targetsStride: stride, gradient: gb, gradientStride: stride, losses: ob, lossesStride: stride, options: options)
          }
        }
      }
    }
    #expect(gapUntouched(lossesRef) && gapUntouched(gradientRef))
    // Pointer forward, pointer in place.
    var pLosses = stridedOutput(T.Arithmetic.self)
    let pLoss = try x.withUnsafeBufferPointer { xb in
      try targets.withUnsafeBufferPointer { tb in
        try pLosses.withUnsafeMutableBufferPointer { ob in
          try binaryCrossEntropy(xb, rows: rows, cols: cols, stride: stride, targets: tb, targetsStride: stride, losses: ob, lossesStride: stride, options: options)
        }
      }
    }
    #expect(identicalArrays([pLoss], [lossRef]) && identicalArrays(pLosses, lossesRef), "BCE pointer forward")
    var pInPlace = x
    let pInPlaceLoss = try targets.withUnsafeBufferPointer { tb in
      try pInPlace.withUnsafeMutableBufferPointer { xb in
        try binaryCrossEntropyWithGradient(inPlace: xb, rows: rows, cols: cols, stride: stride, targets: tb, targetsStride: stride, options: options)
      }
    }
    #expect(identicalArrays([pInPlaceLoss], [lossRef]) && identicalArrays(packed(pInPlace), packed(gradientRef)), "BCE pointer in place")
    // Threads: the same elementwise results; the sum within rounding of the partial sums.
    var threaded = x
    var threadedOptions = options
    threadedOptions.kernel.threads = 2
    let threadedLoss = try targets.withUnsafeBufferPointer { tb in
      try threaded.withUnsafeMutableBufferPointer { xb in
        try binaryCrossEntropyWithGradient(inPlace: xb, rows: rows, cols: cols, stride: stride, targets: tb, targetsStride: stride, options: threadedOptions)
      }
    }
    #expect(identicalArrays(threaded, pInPlace) && abs(threadedLoss - lossRef) <= 4 * T.Arithmetic.ulpOfOne * abs(lossRef), "BCE threads")
    // Span: forward, forward + losses, gradient, gradient + losses, in place, in place + losses.
    #expect(identicalArrays([try binaryCrossEntropy(x.span, rows: rows, cols: cols, stride: stride, targets: targets.span, targetsStride: stride, options: options)], [lossRef]))
    var l1 = stridedOutput(T.Arithmetic.self), g1 = stridedOutput(T.self), g2 = g1, l2 = l1, p1 = x, p2 = x, l3 = l1
    let s1 = try withSpan(&l1) { (o) throws(SoftmaxError) in
      try binaryCrossEntropy(x.span, rows: rows, cols: cols, stride: stride, targets: targets.span, targetsStride: stride, losses: &o, lossesStride: stride, options: options)
    }
    let s2 = try withSpan(&g1) { (d) throws(SoftmaxError) in
      try binaryCrossEntropyWithGradient(x.span, rows: rows, cols: cols, stride: stride, targets: targets.span, targetsStride: stride, gradient: &d, gradientStride: stride, options: options)
    }
    let s3 = try withSpan(&g2) { (d) throws(SoftmaxError) in
      try withSpan(&l2) { (o) throws(SoftmaxError) in
        try binaryCrossEntropyWithGradient(x.span, rows: rows, cols: cols, stride: stride, targets: targets.span, targetsStride: stride, gradient: &d, gradientStride: stride, losses: &o, lossesStride: stride, options: options)
      }
    }
    let s4 = try withSpan(&p1) { (d) throws(SoftmaxError) in
      try binaryCrossEntropyWithGradient(inPlace: &d, rows: rows, cols: cols, stride: stride, targets: targets.span, targetsStride: stride, options: options)
    }
    let s5 = try withSpan(&p2) { (d) throws(SoftmaxError) in
      try withSpan(&l3) { (o) throws(SoftmaxError) in
        try binaryCrossEntropyWithGradient(inPlace: &d, rows: rows, cols: cols, stride: stride, targets: targets.span, targetsStride: stride, losses: &o, lossesStride: stride, options: options)
      }
    }
    #expect(identicalArrays([s1, s2, s3, s4, s5], [T.Arithmetic](repeating: lossRef, count: 5)), "BCE Span losses")
    #expect(identicalArrays(l1, lossesRef) && identicalArrays(l2, lossesRef) && identicalArrays(l3, lossesRef), "BCE Span elementwise losses")
    #expect(identicalArrays(g1, gradientRef) && identicalArrays(g2, gradientRef), "BCE Span gradients")
    #expect(identicalArrays(packed(p1), packed(gradientRef)) && identicalArrays(packed(p2), packed(gradientRef)), "BCE Span in place")
    // Arrays.
    #expect(identicalArrays([try binaryCrossEntropy(packed(x), cols: cols, targets: packed(targets), options: options)], [lossRef]), "BCE array")
    var arrayInPlace = packed(x)
    let arrayLoss = try binaryCrossEntropyWithGradient(inPlace: &arrayInPlace, cols: cols, targets: packed(targets), options: options)
    #expect(identicalArrays([arrayLoss], [lossRef]) && identicalArrays(arrayInPlace, packed(gradientRef)), "BCE array in place")
  }

  @Test func singleVectorConveniencesThrow() {
    let bad = KernelOptions(threads: -1)
    #expect(throws: SoftmaxError.invalidThreadCount(-1)) { try softmax([Float(1), 2], options: bad) }
    #expect(throws: SoftmaxError.invalidThreadCount(-1)) { try logSoftmax([Double(1), 2], options: bad) }
    #expect(throws: SoftmaxError.invalidThreadCount(-1)) { try logSumExp([Float(1), 2], options: bad) }
    #expect(throws: SoftmaxError.invalidThreadCount(-1)) { try logSumExp([Float](), options: bad) }
    var out = [Float](repeating: 0, count: 2)
    #expect(throws: SoftmaxError.invalidThreadCount(-1)) {
      try withSpan(&out) { (o) throws(SoftmaxError) in try VectorExp.exp([Float(1), 2].span, output: &o, options: bad) }
    }
    #expect(out == [0, 0])
  }

  @Test func int64LabelsOutsideInt32AreRejectedOrIgnored() throws {
    let x: [Float] = [1, 2, 3, 4, 5, 6]
    // A 64-bit label past Int32's range is out of range, not truncated onto a valid class.
    #expect(throws: SoftmaxError.labelOutOfRange(argument: "labels", row: 1, value: 1 << 32 | 1, cols: 3)) {
      try crossEntropy(x, cols: 3, labels: [Int64(0), 1 << 32 | 1])
    }
    // An ignore index past Int32's range still ignores exactly the rows that carry it.
    let options = CrossEntropyOptions<Float>(ignoreIndex: -(1 << 40), reduction: .sum)
    let ignored = try crossEntropyLosses(x, cols: 3, labels: [Int64(2), -(1 << 40)], options: options)
    let plain = try crossEntropyLosses(Array(x[0..<3]), cols: 3, labels: [Int64(2)], options: options)
    #expect(ignored == [plain[0], 0])
    // With Int32 labels that index can match nothing, so -100 is out of range there.
    #expect(throws: SoftmaxError.labelOutOfRange(argument: "labels", row: 1, value: -100, cols: 3)) {
      try crossEntropy(x, cols: 3, labels: [Int32(2), -100], options: options)
    }
  }
}
