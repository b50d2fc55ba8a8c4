import FuzzSupport
import SoftmaxKernels
import SoftmaxReference

// Softmax backward and log-softmax backward: strided pointers (a separate gradient, the gradient
// over gradOutput, and in place) and arrays, on forward outputs of fuzzed logits (the real use) and
// on arbitrary values; either mode (backward passes always run the accurate exp, so the mode must
// change nothing) and `threads` 0, 1 or 2 (validated; the inputs are too small to split); one bad
// argument in about one call in ten.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBackward(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  fuzzFloatAndDouble(data, size, float: BackwardHarness<Float>.run, double: BackwardHarness<Double>.run)
}

struct BackwardHarness<T: FuzzScalar> {
  static func run(_ input: inout FuzzInput) {
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
    var ym = PaddedMatrix(y, rows: rows, cols: cols, stride: cols + pads.0)
    var dym = PaddedMatrix(dy, rows: rows, cols: cols, stride: cols + pads.1)
    var dxm = PaddedMatrix<T>(rows: rows, cols: cols, stride: cols + pads.2, slack: 1)
    let (r, c) = (defect == .negativeRows ? -1 - rows : rows, defect == .negativeCols ? -1 - cols : cols)
    var yStride = cols + pads.0, dyStride = dym.stride
    switch defect {
    case .strideTooSmall: if input.bool() { yStride = input.int(0...(cols - 1)) } else { dyStride = input.int(0...(cols - 1)) }
    case .inputTooSmall: if input.bool() { ym.storage.removeLast(input.int(1...cols)) } else { dym.storage.removeLast(input.int(1...cols)) }
    case .outputTooSmall: dxm.storage.removeLast(1 + input.int(1...cols))
    default: break
    }
    if arrays {
      var dx: [T] = []
      let dyArg = defect == .countMismatch ? dy + [0] : dy
      let ran = expectOutcome(defect, buffers: { [y, dy] }, what) { () throws(SoftmaxError) in
        dx = log ? try logSoftmaxBackward(dyArg, cols: c, output: y, options: options) : try softmaxBackward(dyArg, cols: c, output: y, options: options)
      }
      if ran { checkRows(log: log, y: y, dy: dy, dx: PaddedMatrix(dx, rows: rows, cols: cols, stride: cols), fromForward: fromForward, what) }
      return
    }
    if defect == .overlap {  // gradInput one element into the output y
      var shared = ym.storage + [T](repeating: sentinel(T.self), count: dxm.storage.count)
      _ = expectOutcome(defect, buffers: { [shared, dym.storage] }, what) { () throws(SoftmaxError) in
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
      }
      return
    }
    let ran = expectOutcome(defect, buffers: { [ym.storage, dym.storage, dxm.storage] }, what) { () throws(SoftmaxError) in
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
    }
    guard ran else { return }
    require(dxm.paddingIsUntouched(), "\(what): gradInput padding written")
    checkRows(log: log, y: y, dy: dy, dx: dxm, fromForward: fromForward, what)
    // The gradient may be gradOutput itself (same base and stride), passed as two buffers or as
    // the in-place form: the same bits. The in-place call runs in the other mode on one thread:
    // neither may change a bit.
    if dym.stride == dxm.stride || input.bool() {
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
  }

  /// NaN in dy reaches the whole row; on a forward output with moderate dy the result is finite
  /// and within 8 eps of every product of the oracle (as the property tests).
  static func checkRows(log: Bool, y: [T], dy: [T], dx: PaddedMatrix<T>, fromForward: Bool, _ what: String) {
    let (rows, cols) = (dx.rows, dx.cols)
    for r in 0..<rows {
      let yr = Array(y[(r * cols)..<((r + 1) * cols)]), dyr = Array(dy[(r * cols)..<((r + 1) * cols)]), dxr = dx.row(r)
      if dyr.hasNaN || (!log && yr.hasNaN) {
        require(dxr.allSatisfy { $0.isNaN }, "\(what) row \(r): NaN input gave \(dxr.prefix(8))")
        continue
      }
      guard fromForward, !yr.hasNaN, dyr.allSatisfy({ abs($0) <= 1e15 }) else { continue }
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
