import FuzzSupport
import SoftmaxKernels
import SoftmaxReference

// Softmax, log-softmax, logsumexp and logSumExpStates: out-of-place with strides, in place,
// and the array conveniences; accurate and fast mode; `threads` 0, 1 or 2 (validated; the
// inputs are too small to split); one bad argument in about one call in ten. Float and Double
// rows are checked against the oracle; 16-bit rows (Float16, BFloat16) against the Float kernel
// on the widened rows, whose results are checked against the oracle in turn (see `HalfForward`).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzForward(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  fuzzEveryType(data, size, float: ForwardHarness<Float>.run, double: ForwardHarness<Double>.run, half: HalfForward.self)
}

enum Operation: CaseIterable { case softmax, logSoftmax, logSumExp, states }
enum Form: CaseIterable { case outOfPlace, inPlace, array }

/// One drawn call: the operation, its form, the logits and buffers as passed.
struct ForwardCall<S: FuzzStorable> {
  typealias A = S.Arithmetic
  var op: Operation, form: Form
  var options: KernelOptions
  var rows: Int, cols: Int
  /// The logits, packed.
  var x: [S]
  var defect: Defect?
  /// Strides and pads as drawn; `inStride` is the stride passed (a defect may shrink it).
  var pads: (Int, Int), inStride: Int
  /// The input matrix (the in-place form's buffer), shortened by an input or output defect.
  var input: PaddedMatrix<S>
  /// The out-of-place outputs: rows (softmax, log-softmax), logsumexp values, states.
  var output: PaddedMatrix<S>
  var lse: PaddedMatrix<A>
  var states: [LogSumExpState<A>]
  var what: String

  var perRow: Bool { op == .logSumExp || op == .states }
  var passedRows: Int { defect == .negativeRows ? -rows - 1 : rows }
  var passedCols: Int { defect == .negativeCols ? -cols - 1 : cols }

  /// Draws the call; every byte it reads is read here (in the order the harness always read them).
  static func draw(_ input: inout FuzzInput) -> ForwardCall {
    let op = Operation.allCases[input.int(0...3)]
    let form = op == .logSumExp || op == .states ? [Form.outOfPlace, .array][input.int(0...1)] : Form.allCases[input.int(0...2)]
    var options = KernelOptions(mode: input.bool() ? .accurate : .fast, threads: input.int(0...2))
    // At most 4 x 4500 elements (or 19 rows of fewer than 64, so that whole blocks of 8 Float
    // or 4 Double rows reach the row-block kernels): below the 32768 per thread at which
    // `threads` splits the rows, so the calls run on one thread whatever `threads` says (checked
    // too); the row split itself is covered by the ThreadSanitizer run and the bit-identical
    // threads test.
    // Rows of many chunks (`cols(manyChunks:)`) do split over 2 threads.
    let cols = input.cols(manyChunks: true)
    let rows = input.int(0...(cols < 64 ? 19 : 4))
    let inPad = input.int(0...3), outPad = input.int(0...3)
    let x = input.drifting(input.scalars(S.self, count: rows * cols), cols: cols)
    let allowed: [Defect] = form == .array ? [.negativeCols, .badThreads]
      : [.negativeRows, .negativeCols, .strideTooSmall, .inputTooSmall, .outputTooSmall, .badThreads]
        + (form == .outOfPlace && op != .logSumExp && op != .states ? [.overlap] : [])
    let defect = Defect.draw(&input, allowed: allowed, rows: rows, cols: cols)
    if defect == .badThreads { options.threads = -1 - input.int(0...3) }
    let perRow = op == .logSumExp || op == .states
    var call = ForwardCall(
      op: op, form: form, options: options, rows: rows, cols: cols, x: x, defect: defect, pads: (inPad, outPad),
      inStride: cols + inPad, input: PaddedMatrix(x, rows: rows, cols: cols, stride: cols + inPad),
      output: PaddedMatrix(rows: perRow ? 0 : rows, cols: cols, stride: cols + outPad, slack: 2),
      lse: PaddedMatrix(rows: perRow ? 1 : 0, cols: rows, stride: rows, slack: 2),
      states: [LogSumExpState<A>](repeating: .empty, count: rows),
      what: "\(S.self) \(op) \(form) \(rows)x\(cols) \(options) defect \(String(describing: defect))")
    switch form {
    case .array: break
    case .inPlace:
      if defect == .strideTooSmall { call.inStride = input.int(0...(cols - 1)) }
      if defect == .inputTooSmall || defect == .outputTooSmall { call.input.storage.removeLast(input.int(1...cols)) }
    case .outOfPlace:
      if defect == .strideTooSmall { call.inStride = input.int(0...(cols - 1)) }
      if defect == .inputTooSmall { call.input.storage.removeLast(input.int(1...cols)) }
      if defect == .outputTooSmall {
        let n = 2 + input.int(1...(perRow ? rows : cols))
        if perRow { call.lse.storage.removeLast(n) } else { call.output.storage.removeLast(n) }
        call.states.removeLast()
      }
    }
    return call
  }

  /// What a call that ran gave: the output rows (softmax, log-softmax) or the logsumexp values.
  struct Result {
    var rows: [[S]]
    var lse: [A]
  }

  /// Makes the call and checks what needs no oracle: the defect's error with no write, the
  /// padding and the input untouched. The rejection's error, or the result.
  func run() -> (error: SoftmaxError?, result: Result?) {
    switch form {
    case .array: return array()
    case .inPlace: return inPlace()
    case .outOfPlace: return outOfPlace()
    }
  }

  func array() -> (error: SoftmaxError?, result: Result?) {
    var result: [S] = [], lse: [A] = []
    var y = x  // the in-place array form's buffer: untouched when it throws
    var thrown: SoftmaxError?
    let ran = expectOutcome(defect, buffers: { [x, y] }, what) { () throws(SoftmaxError) in
      do throws(SoftmaxError) {
        switch op {
        case .softmax: result = try softmax(x, cols: passedCols, options: options)
        case .logSoftmax:
          try logSoftmax(inPlace: &y, cols: passedCols, options: options)
          result = y
        case .logSumExp: lse = try logSumExp(x, cols: passedCols, options: options)
        case .states: lse = try logSumExpStates(x, cols: passedCols, options: options).map(\.logSumExp)
        }
      } catch { thrown = error; throw error }
    }
    guard ran else { return (thrown, nil) }
    guard cols > 0 else { return (nil, Result(rows: [], lse: [])) }
    require(perRow ? lse.count == rows : result.count == rows * cols, "\(what): \(perRow ? lse.count : result.count) results")
    if op == .softmax && rows == 1 {  // the one-row convenience equals the matrix call
      require(sameBits(try! softmax(x, options: options), result), "\(what): softmax(_:) differs from softmax(_:cols:)")
    }
    return (nil, Result(rows: perRow ? [] : (0..<rows).map { Array(result[($0 * cols)..<(($0 + 1) * cols)]) }, lse: lse))
  }

  func inPlace() -> (error: SoftmaxError?, result: Result?) {
    var m = input
    var thrown: SoftmaxError?
    let ran = expectOutcome(defect, buffers: { [m.storage] }, what) { () throws(SoftmaxError) in
      do throws(SoftmaxError) {
        try m.storage.withUnsafeMutableBufferPointer { (b) throws(SoftmaxError) in
          if op == .softmax {
            try softmax(inPlace: b, rows: passedRows, cols: passedCols, stride: inStride, options: options)
          } else {
            try logSoftmax(inPlace: b, rows: passedRows, cols: passedCols, stride: inStride, options: options)
          }
        }
      } catch { thrown = error; throw error }
    }
    guard ran else { return (thrown, nil) }
    require(m.paddingIsUntouched(), "\(what): stride padding written")
    return (nil, Result(rows: (0..<rows).map { m.row($0) }, lse: []))
  }

  func outOfPlace() -> (error: SoftmaxError?, result: Result?) {
    var (xm, ym, lm, states) = (input, output, lse, states)
    let (r, c, outStride) = (passedRows, passedCols, cols + pads.1)
    var thrown: SoftmaxError?
    if defect == .overlap {
      // The output starts one element into the input: partially overlapping, not in place.
      var shared = xm.storage + [S](repeating: sentinel(S.self), count: pads.1 * rows + 1)
      _ = expectOutcome(defect, buffers: { [shared] }, what) { () throws(SoftmaxError) in
        do throws(SoftmaxError) {
          try shared.withUnsafeMutableBufferPointer { (b) throws(SoftmaxError) in
            let xb = UnsafeBufferPointer(b)
            let yb = UnsafeMutableBufferPointer(rebasing: b[1...])
            if op == .softmax {
              try softmax(xb, rows: r, cols: c, stride: inStride, output: yb, outputStride: outStride, options: options)
            } else {
              try logSoftmax(xb, rows: r, cols: c, stride: inStride, output: yb, outputStride: outStride, options: options)
            }
          }
        } catch { thrown = error; throw error }
      }
      return (thrown, nil)
    }
    let statesBits = { states.map { [$0.max, $0.excess] }.flatMap { $0 } }
    let ran = expectOutcome(defect, buffers: { ([xm.storage, ym.storage], [lm.storage, statesBits()]) }, what) {
      () throws(SoftmaxError) in
      do throws(SoftmaxError) {
        try xm.storage.withUnsafeBufferPointer { (xb) throws(SoftmaxError) in
          switch op {
          case .softmax, .logSoftmax:
            try ym.storage.withUnsafeMutableBufferPointer { (yb) throws(SoftmaxError) in
              if op == .softmax {
                try softmax(xb, rows: r, cols: c, stride: inStride, output: yb, outputStride: outStride, options: options)
              } else {
                try logSoftmax(xb, rows: r, cols: c, stride: inStride, output: yb, outputStride: outStride, options: options)
              }
            }
          case .logSumExp:
            try lm.storage.withUnsafeMutableBufferPointer { (yb) throws(SoftmaxError) in
              try logSumExp(xb, rows: r, cols: c, stride: inStride, output: yb, options: options)
            }
          case .states:
            try states.withUnsafeMutableBufferPointer { (sb) throws(SoftmaxError) in
              try logSumExpStates(xb, rows: r, cols: c, stride: inStride, states: sb, options: options)
            }
          }
        }
      } catch { thrown = error; throw error }
    }
    guard ran else { return (thrown, nil) }
    require(sameBits(xm.storage, input.storage), "\(what): the input changed")
    require(ym.paddingIsUntouched() && lm.paddingIsUntouched(), "\(what): output padding written")
    switch op {
    case .logSumExp: return (nil, Result(rows: [], lse: Array(lm.storage.prefix(rows))))
    // A state of an empty row has no logsumexp to check (the check skips rows of 0 columns).
    case .states: return (nil, Result(rows: [], lse: cols > 0 ? states.map(\.logSumExp) : []))
    default: return (nil, Result(rows: (0..<rows).map { ym.row($0) }, lse: []))
    }
  }
}

extension ForwardCall where S: FuzzHalf {
  /// The same call on the widened logits, in Float: the same shapes, strides, options and defect.
  func widened() -> ForwardCall<Float> {
    ForwardCall<Float>(
      op: op, form: form, options: options, rows: rows, cols: cols, x: x.map { Float($0) }, defect: defect, pads: pads,
      inStride: inStride, input: input.widened(), output: output.widened(), lse: lse, states: states,
      what: "Float (widened \(S.self))" + what.dropFirst("\(S.self)".count))
  }
}

struct ForwardHarness<T: FuzzScalar> {
  static func run(_ input: inout FuzzInput) {
    let call = ForwardCall<T>.draw(&input)
    guard let result = call.run().result else { return }
    check(call, result)
  }

  /// SPEC's rules and the oracle on every row of the result.
  static func check(_ call: ForwardCall<T>, _ result: ForwardCall<T>.Result) {
    for r in 0..<(result.rows.isEmpty ? result.lse.count : result.rows.count) {
      let x = Array(call.x[(r * call.cols)..<((r + 1) * call.cols)]), at = "\(call.what) row \(r)"
      switch call.op {
      case .softmax: RowContract.softmax(x: x, y: result.rows[r], at)
      case .logSoftmax: RowContract.logSoftmax(x: x, y: result.rows[r], at)
      case .logSumExp, .states: RowContract.logSumExp(x: x, lse: result.lse[r], at)
      }
    }
  }
}

/// 16-bit rows: the call on them, and the same call on the rows widened to Float. The same
/// rejection, or each 16-bit output the Float output rounded once and each Float result
/// (logsumexp, states) the same; the Float results against the oracle (`ForwardHarness<Float>`);
/// SPEC's edge rules on the 16-bit outputs themselves.
enum HalfForward: HalfHarness {
  static func run<H: FuzzHalf>(_: H.Type, _ input: inout FuzzInput) {
    let call = ForwardCall<H>.draw(&input)
    let wide = call.widened()
    let (halfError, half) = call.run()
    let (floatError, float) = wide.run()
    requireSameOutcome(halfError, floatError, call.what)
    guard let half, let float else { return }
    require(half.rows.count == float.rows.count, "\(call.what): \(half.rows.count) rows, Float \(float.rows.count)")
    for r in half.rows.indices { requireRounded(half.rows[r], float.rows[r], "\(call.what) row \(r)") }
    requireSame(half.lse, float.lse, "\(call.what) logsumexp")
    ForwardHarness<Float>.check(wide, float)
    for r in half.rows.indices {
      let x = Array(call.x[(r * call.cols)..<((r + 1) * call.cols)]), y = half.rows[r], at = "\(call.what) row \(r)"
      if x.contains(where: \.isNaN) {
        require(y.allSatisfy(\.isNaN), "\(at): NaN row gave \(y.prefix(8))")
        continue
      }
      let m = x.max() ?? -.infinity
      for j in x.indices {
        if call.op == .softmax {
          require(y[j] >= 0 && y[j] <= 1, "\(at): y[\(j)] = \(y[j]) outside [0, 1] (x = \(x[j]))")
          if x[j] == -.infinity || m == -.infinity { require(y[j] == 0, "\(at): masked y[\(j)] = \(y[j])") }
        } else {
          require(!y[j].isNaN && y[j] <= 0, "\(at): log-probability y[\(j)] = \(y[j]) (x = \(x[j]))")
          if x[j] == -.infinity { require(y[j] == -.infinity, "\(at): masked y[\(j)] = \(y[j])") }
        }
      }
    }
  }
}
