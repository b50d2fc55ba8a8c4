import FuzzSupport
import SoftmaxKernels
import SoftmaxReference

// Softmax backward and log-softmax backward: strided pointers (a separate gradient, the gradient
// over gradOutput, and in place) and arrays, on forward outputs of fuzzed logits (the real use) and
// on arbitrary values; either mode (backward passes always run the accurate exp, so the mode must
// change nothing) and `threads` 0, 1 or 2 (validated; the inputs are too small to split); one bad
// argument in about one call in ten. Float and Double rows are checked against the oracle;
// 16-bit rows (Float16, BFloat16; the forward output computed in them) against the Float kernel
// on the widened rows, whose results are checked against the oracle in turn (see `HalfBackward`).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBackward(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  fuzzEveryType(data, size, float: BackwardHarness<Float>.run, double: BackwardHarness<Double>.run, half: HalfBackward.self)
}

/// One drawn call: the forward output y, the upstream gradient dy, the buffers and arguments.
struct BackwardCall<T: FuzzStorable> {
  var log: Bool, arrays: Bool
  var rows: Int, cols: Int
  /// y and dy packed; whether y is the forward output of fuzzed logits.
  var y: [T], dy: [T], fromForward: Bool
  var defect: Defect?
  var options: KernelOptions
  var ym: PaddedMatrix<T>, dym: PaddedMatrix<T>, dxm: PaddedMatrix<T>
  var yStride: Int, dyStride: Int
  /// Also compute the gradient over gradOutput and in place (and compare).
  var alsoShared: Bool
  var what: String

  var passedRows: Int { defect == .negativeRows ? -1 - rows : rows }
  var passedCols: Int { defect == .negativeCols ? -1 - cols : cols }

  /// Draws the call; every byte the harness reads is read here (in the order it always read them).
  static func draw(_ input: inout FuzzInput) -> BackwardCall {
    let log = input.bool(), arrays = input.chance(64)
    let rows = arrays ? input.int(1...4) : input.int(0...4), cols = input.cols()
    let pads = (input.int(0...3), input.int(0...3), input.int(0...3))
    let x = input.scalars(T.self, count: rows * cols)
    // y: the forward output of x (valid), or the raw values.
    let fromForward = !input.chance(64)
    let y = fromForward ? (log ? try! logSoftmax(x, cols: cols) : try! softmax(x, cols: cols)) : x
    let dy = input.scalars(T.self, count: rows * cols)
    let defect = Defect.draw(&input, allowed: arrays ? [.negativeCols, .countMismatch, .badThreads]
      : [.negativeRows, .negativeCols, .strideTooSmall, .inputTooSmall, .outputTooSmall, .overlap, .badThreads], rows: rows, cols: cols)
    var options = KernelOptions(mode: input.bool() ? .accurate : .fast, threads: input.int(0...2))
    if defect == .badThreads { options.threads = -1 - input.int(0...3) }
    let what = "\(T.self) \(log ? "log-" : "")softmax backward \(arrays ? "arrays" : "pointers") \(rows)x\(cols) \(options) defect \(String(describing: defect))"
    var call = BackwardCall(
      log: log, arrays: arrays, rows: rows, cols: cols, y: y, dy: dy, fromForward: fromForward, defect: defect, options: options,
      ym: PaddedMatrix(y, rows: rows, cols: cols, stride: cols + pads.0),
      dym: PaddedMatrix(dy, rows: rows, cols: cols, stride: cols + pads.1),
      dxm: PaddedMatrix<T>(rows: rows, cols: cols, stride: cols + pads.2, slack: 1),
      yStride: cols + pads.0, dyStride: cols + pads.1, alsoShared: false, what: what)
    switch defect {
    case .strideTooSmall:
      if input.bool() { call.yStride = input.int(0...(cols - 1)) } else { call.dyStride = input.int(0...(cols - 1)) }
    case .inputTooSmall:
      if input.bool() { call.ym.storage.removeLast(input.int(1...cols)) } else { call.dym.storage.removeLast(input.int(1...cols)) }
    case .outputTooSmall: call.dxm.storage.removeLast(1 + input.int(1...cols))
    default: break
    }
    // The harness read this byte last, after a successful pointer call (reading it here changes no other draw).
    call.alsoShared = !arrays && defect != .overlap && (call.dym.stride == call.dxm.stride || input.bool())
    return call
  }

  /// Makes the call and checks what needs no oracle: the defect's error with no write, the
  /// padding untouched, the gradient over gradOutput and in place the same bits. The
  /// rejection's error, or the gradient.
  func run() -> (error: SoftmaxError?, dx: PaddedMatrix<T>?) {
    var thrown: SoftmaxError?
    let (r, c) = (passedRows, passedCols)
    if arrays {
      var dx: [T] = []
      let dyArg = defect == .countMismatch ? dy + [0] : dy
      let ran = expectOutcome(defect, buffers: { [y, dy] }, what) { () throws(SoftmaxError) in
        do throws(SoftmaxError) {
          dx = log ? try logSoftmaxBackward(dyArg, cols: c, output: y, options: options)
            : try softmaxBackward(dyArg, cols: c, output: y, options: options)
        } catch { thrown = error; throw error }
      }
      return ran ? (nil, PaddedMatrix(dx, rows: rows, cols: cols, stride: cols)) : (thrown, nil)
    }
    var (ym, dym, dxm) = (ym, dym, dxm)
    if defect == .overlap {  // gradInput one element into the output y
      var shared = ym.storage + [T](repeating: sentinel(T.self), count: dxm.storage.count)
      _ = expectOutcome(defect, buffers: { [shared, dym.storage] }, what) { () throws(SoftmaxError) in
        do throws(SoftmaxError) {
          try shared.withUnsafeMutableBufferPointer { (b) throws(SoftmaxError) in
            try dym.storage.withUnsafeBufferPointer { (d) throws(SoftmaxError) in
              let out = UnsafeMutableBufferPointer(rebasing: b[1...])
              if log {
                try logSoftmaxBackward(d, rows: r, cols: c, stride: dyStride, output: UnsafeBufferPointer(b), outputStride: yStride,
                                       gradient: out, gradientStride: dxm.stride, options: options)
              } else {
                try softmaxBackward(d, rows: r, cols: c, stride: dyStride, output: UnsafeBufferPointer(b), outputStride: yStride,
                                    gradient: out, gradientStride: dxm.stride, options: options)
              }
            }
          }
        } catch { thrown = error; throw error }
      }
      return (thrown, nil)
    }
    let ran = expectOutcome(defect, buffers: { [ym.storage, dym.storage, dxm.storage] }, what) { () throws(SoftmaxError) in
      do throws(SoftmaxError) {
        try ym.storage.withUnsafeBufferPointer { (yb) throws(SoftmaxError) in
          try dym.storage.withUnsafeBufferPointer { (d) throws(SoftmaxError) in
            try dxm.storage.withUnsafeMutableBufferPointer { (out) throws(SoftmaxError) in
              if log {
                try logSoftmaxBackward(d, rows: r, cols: c, stride: dyStride, output: yb, outputStride: yStride,
                                       gradient: out, gradientStride: dxm.stride, options: options)
              } else {
                try softmaxBackward(d, rows: r, cols: c, stride: dyStride, output: yb, outputStride: yStride,
                                    gradient: out, gradientStride: dxm.stride, options: options)
              }
            }
          }
        }
      } catch { thrown = error; throw error }
    }
    guard ran else { return (thrown, nil) }
    require(dxm.paddingIsUntouched(), "\(what): gradInput padding written")
    // The gradient may be gradOutput itself (same base and stride), passed as two buffers or as
    // the in-place form: the same bits. The in-place call runs in the other mode on one thread:
    // neither may change a bit.
    if alsoShared {
      var shared = PaddedMatrix(dy, rows: rows, cols: cols, stride: dxm.stride)
      var inPlace = shared
      let other = KernelOptions(mode: options.mode == .fast ? .accurate : .fast, threads: 1)
      try! ym.storage.withUnsafeBufferPointer { yb in
        try shared.storage.withUnsafeMutableBufferPointer { b in
          if log {
            try logSoftmaxBackward(UnsafeBufferPointer(b), rows: rows, cols: cols, stride: dxm.stride, output: yb, outputStride: yStride,
                                   gradient: b, gradientStride: dxm.stride, options: options)
          } else {
            try softmaxBackward(UnsafeBufferPointer(b), rows: rows, cols: cols, stride: dxm.stride, output: yb, outputStride: yStride,
                                gradient: b, gradientStride: dxm.stride, options: options)
          }
        }
        try inPlace.storage.withUnsafeMutableBufferPointer { b in
          if log {
            try logSoftmaxBackward(inPlace: b, rows: rows, cols: cols, stride: dxm.stride, output: yb, outputStride: yStride, options: other)
          } else {
            try softmaxBackward(inPlace: b, rows: rows, cols: cols, stride: dxm.stride, output: yb, outputStride: yStride, options: other)
          }
        }
      }
      require(shared.paddingIsUntouched() && inPlace.paddingIsUntouched(), "\(what): the gradient over gradOutput wrote its padding")
      for r in 0..<rows {
        require(sameBits(shared.row(r), dxm.row(r)), "\(what): gradient over gradOutput differs in row \(r)")
        require(sameBits(inPlace.row(r), dxm.row(r)), "\(what): in-place gradient differs in row \(r)")
      }
    }
    return (nil, dxm)
  }
}

extension BackwardCall where T: FuzzHalf {
  /// The same call on y and dy widened to Float: the same shapes, strides, options and defect.
  func widened() -> BackwardCall<Float> {
    BackwardCall<Float>(
      log: log, arrays: arrays, rows: rows, cols: cols, y: y.map { Float($0) }, dy: dy.map { Float($0) }, fromForward: fromForward,
      defect: defect, options: options, ym: ym.widened(), dym: dym.widened(), dxm: dxm.widened(), yStride: yStride,
      dyStride: dyStride, alsoShared: alsoShared, what: "Float (widened \(T.self))" + what.dropFirst("\(T.self)".count))
  }
}

/// NaN in dy (or in y, for softmax backward) reaches the whole row of dx.
func checkNaNRows<T: FuzzStorable>(_ call: BackwardCall<T>, _ dx: PaddedMatrix<T>) {
  let cols = call.cols
  for r in 0..<call.rows {
    let yr = call.y[(r * cols)..<((r + 1) * cols)], dyr = call.dy[(r * cols)..<((r + 1) * cols)], dxr = dx.row(r)
    if dyr.hasNaN || (!call.log && yr.hasNaN) {
      require(dxr.allSatisfy { $0.isNaN }, "\(call.what) row \(r): NaN input gave \(dxr.prefix(8))")
    }
  }
}

struct BackwardHarness<T: FuzzScalar> {
  static func run(_ input: inout FuzzInput) {
    let call = BackwardCall<T>.draw(&input)
    guard let dx = call.run().dx else { return }
    checkRows(call, dx)
  }

  /// NaN in dy reaches the whole row; on a forward output with moderate dy the result is finite
  /// and within 8 eps of every product of the oracle (as the property tests).
  static func checkRows(_ call: BackwardCall<T>, _ dx: PaddedMatrix<T>) {
    checkNaNRows(call, dx)
    let (rows, cols, log, y, dy, what) = (dx.rows, dx.cols, call.log, call.y, call.dy, call.what)
    for r in 0..<rows {
      let yr = Array(y[(r * cols)..<((r + 1) * cols)]), dyr = Array(dy[(r * cols)..<((r + 1) * cols)]), dxr = dx.row(r)
      guard call.fromForward, !dyr.hasNaN, !yr.hasNaN, dyr.allSatisfy({ abs($0) <= 1e15 }) else { continue }
      let o = log ? Oracle.logSoftmaxBackward(output: yr, gradOutput: dyr, rows: 1, cols: cols)
        : Oracle.softmaxBackward(output: yr, gradOutput: dyr, rows: 1, cols: cols)
      let eps = T.Wide(T.ulpOfOne), tiny = 4 * T.Wide(T.leastNormalMagnitude)
      let sAbs = zip(yr, dyr).reduce(T.Wide(0)) { $0 + (log ? abs(T.Wide($1.1)) : abs(T.Wide($1.1) * T.Wide($1.0))) }
      for j in 0..<cols {
        let yw = T.Wide(yr[j]), dyw = T.Wide(dyr[j])
        let budget = log ? 8 * eps * (abs(dyw) + T.Wide.libmExp(yw) * sAbs) + tiny : 8 * eps * abs(yw) * (abs(dyw) + sAbs) + tiny
        require(dxr[j].isFinite && abs(T.Wide(dxr[j]) - o[j]) <= budget,
                "\(what) row \(r) col \(j): \(dxr[j]) vs oracle \(o[j]) (budget \(budget), y \(yr[j]), dy \(dyr[j]))")
      }
    }
  }
}

/// 16-bit rows: the call on them (y the forward output computed in the 16-bit type), and the
/// same call on y and dy widened to Float. The same rejection, or each 16-bit gradient element
/// the Float one rounded once; the Float gradient against the oracle
/// (`BackwardHarness<Float>.checkRows`); NaN rows NaN in the 16-bit gradient.
enum HalfBackward: HalfHarness {
  static func run<H: FuzzHalf>(_: H.Type, _ input: inout FuzzInput) {
    let call = BackwardCall<H>.draw(&input)
    let wide = call.widened()
    let (halfError, half) = call.run()
    let (floatError, float) = wide.run()
    requireSameOutcome(halfError, floatError, call.what)
    guard let half, let float else { return }
    for r in 0..<half.rows { requireRounded(half.row(r), float.row(r), "\(call.what) row \(r)") }
    BackwardHarness<Float>.checkRows(wide, float)
    checkNaNRows(call, half)
  }
}
