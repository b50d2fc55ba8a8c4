import FuzzSupport
import SoftmaxKernels
import SoftmaxReference

// Softmax, log-softmax, logsumexp and logSumExpStates: out-of-place with strides, in place,
// and the array conveniences; accurate and fast mode; `threads` 0, 1 or 2 (validated; the
// inputs are too small to split); one bad argument in about one call in ten.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzForward(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  fuzzFloatAndDouble(data, size, float: ForwardHarness<Float>.run, double: ForwardHarness<Double>.run)
}

enum Operation: CaseIterable { case softmax, logSoftmax, logSumExp, states }
enum Form: CaseIterable { case outOfPlace, inPlace, array }

struct ForwardHarness<T: FuzzScalar> {
  static func run(_ input: inout FuzzInput) {
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
    let x = input.drifting(input.scalars(T.self, count: rows * cols), cols: cols)
    let allowed: [Defect] = form == .array ? [.negativeCols, .badThreads]
      : [.negativeRows, .negativeCols, .strideTooSmall, .inputTooSmall, .outputTooSmall, .badThreads]
        + (form == .outOfPlace && op != .logSumExp && op != .states ? [.overlap] : [])
    let defect = Defect.draw(&input, allowed: allowed, rows: rows, cols: cols)
    if defect == .badThreads { options.threads = -1 - input.int(0...3) }
    let what = "\(T.self) \(op) \(form) \(rows)x\(cols) \(options) defect \(String(describing: defect))"
    switch form {
    case .array: array(op, x, rows: rows, cols: cols, options: options, defect: defect, what)
    case .inPlace: inPlace(op, x, rows: rows, cols: cols, pad: inPad, options: options, defect: defect, what, &input)
    case .outOfPlace:
      outOfPlace(op, x, rows: rows, cols: cols, pads: (inPad, outPad), options: options, defect: defect, what, &input)
    }
  }

  /// Checks row r of the result against the contract.
  static func check(_ op: Operation, x: [T], y: [T], lse: T, _ what: String) {
    switch op {
    case .softmax: RowContract.softmax(x: x, y: y, what)
    case .logSoftmax: RowContract.logSoftmax(x: x, y: y, what)
    case .logSumExp, .states: RowContract.logSumExp(x: x, lse: lse, what)
    }
  }

  static func array(_ op: Operation, _ x: [T], rows: Int, cols: Int, options: KernelOptions, defect: Defect?, _ what: String) {
    let c = defect == .negativeCols ? -cols - 1 : cols
    var result: [T] = []
    var y = x  // the in-place array form's buffer: untouched when it throws
    let ran = expectOutcome(defect, buffers: { [x, y] }, what) { () throws(SoftmaxError) in
      switch op {
      case .softmax: result = try softmax(x, cols: c, options: options)
      case .logSoftmax:
        try logSoftmax(inPlace: &y, cols: c, options: options)
        result = y
      case .logSumExp: result = try logSumExp(x, cols: c, options: options)
      case .states: result = try logSumExpStates(x, cols: c, options: options).map(\.logSumExp)
      }
    }
    guard ran, cols > 0 else { return }
    let perRow = op == .logSumExp || op == .states
    require(result.count == (perRow ? rows : rows * cols), "\(what): \(result.count) results")
    for r in 0..<rows {
      let row = Array(x[(r * cols)..<((r + 1) * cols)])
      check(op, x: row, y: perRow ? [] : Array(result[(r * cols)..<((r + 1) * cols)]), lse: perRow ? result[r] : 0, "\(what) row \(r)")
    }
    if op == .softmax && rows == 1 {  // the one-row convenience equals the matrix call
      require(sameBits(try! softmax(x, options: options), result), "\(what): softmax(_:) differs from softmax(_:cols:)")
    }
  }

  static func inPlace(
    _ op: Operation, _ x: [T], rows: Int, cols: Int, pad: Int, options: KernelOptions, defect: Defect?, _ what: String,
    _ input: inout FuzzInput
  ) {
    let stride = defect == .strideTooSmall ? input.int(0...(cols - 1)) : cols + pad
    var m = PaddedMatrix(x, rows: rows, cols: cols, stride: cols + pad)
    if defect == .inputTooSmall || defect == .outputTooSmall { m.storage.removeLast(input.int(1...cols)) }
    let (r, c) = (defect == .negativeRows ? -rows - 1 : rows, defect == .negativeCols ? -cols - 1 : cols)
    let ran = expectOutcome(defect, buffers: { [m.storage] }, what) { () throws(SoftmaxError) in
      try m.storage.withUnsafeMutableBufferPointer { (b) throws(SoftmaxError) in
        if op == .softmax {
          try softmax(inPlace: b, rows: r, cols: c, stride: stride, options: options)
        } else {
          try logSoftmax(inPlace: b, rows: r, cols: c, stride: stride, options: options)
        }
      }
    }
    guard ran else { return }
    require(m.paddingIsUntouched(), "\(what): stride padding written")
    for row in 0..<rows { check(op, x: Array(x[(row * cols)..<((row + 1) * cols)]), y: m.row(row), lse: 0, "\(what) row \(row)") }
  }

  static func outOfPlace(
    _ op: Operation, _ x: [T], rows: Int, cols: Int, pads: (Int, Int), options: KernelOptions, defect: Defect?,
    _ what: String, _ input: inout FuzzInput
  ) {
    let inStride = defect == .strideTooSmall ? input.int(0...(cols - 1)) : cols + pads.0
    var xm = PaddedMatrix(x, rows: rows, cols: cols, stride: cols + pads.0)
    if defect == .inputTooSmall { xm.storage.removeLast(input.int(1...cols)) }
    let perRow = op == .logSumExp || op == .states
    var ym = PaddedMatrix<T>(rows: perRow ? 1 : rows, cols: perRow ? rows : cols, stride: perRow ? rows : cols + pads.1, slack: 2)
    if defect == .outputTooSmall { ym.storage.removeLast(2 + input.int(1...(perRow ? rows : cols))) }
    var states = [LogSumExpState<T>](repeating: .empty, count: defect == .outputTooSmall ? rows - 1 : rows)
    let (r, c) = (defect == .negativeRows ? -rows - 1 : rows, defect == .negativeCols ? -cols - 1 : cols)
    let ran: Bool
    if defect == .overlap {
      // The output starts one element into the input: partially overlapping, not in place.
      var shared = xm.storage + [T](repeating: sentinel(T.self), count: pads.1 * rows + 1)
      ran = expectOutcome(defect, buffers: { [shared] }, what) { () throws(SoftmaxError) in
        try shared.withUnsafeMutableBufferPointer { (b) throws(SoftmaxError) in
          let xb = UnsafeBufferPointer(b)
          let yb = UnsafeMutableBufferPointer(rebasing: b[1...])
          if op == .softmax {
            try softmax(xb, rows: r, cols: c, stride: inStride, output: yb, outputStride: cols + pads.1, options: options)
          } else {
            try logSoftmax(xb, rows: r, cols: c, stride: inStride, output: yb, outputStride: cols + pads.1, options: options)
          }
        }
      }
      return
    }
    let statesBits = { states.map { [$0.max, $0.excess] }.flatMap { $0 } }
    ran = expectOutcome(defect, buffers: { [xm.storage, ym.storage, statesBits()] }, what) { () throws(SoftmaxError) in
      try xm.storage.withUnsafeBufferPointer { (xb) throws(SoftmaxError) in
        try ym.storage.withUnsafeMutableBufferPointer { (yb) throws(SoftmaxError) in
          switch op {
          case .softmax:
            try softmax(xb, rows: r, cols: c, stride: inStride, output: yb, outputStride: cols + pads.1, options: options)
          case .logSoftmax:
            try logSoftmax(xb, rows: r, cols: c, stride: inStride, output: yb, outputStride: cols + pads.1, options: options)
          case .logSumExp:
            try logSumExp(xb, rows: r, cols: c, stride: inStride, output: yb, options: options)
          case .states:
            try states.withUnsafeMutableBufferPointer { (sb) throws(SoftmaxError) in
              try logSumExpStates(xb, rows: r, cols: c, stride: inStride, states: sb, options: options)
            }
          }
        }
      }
    }
    guard ran else { return }
    require(sameBits(xm.storage, PaddedMatrix(x, rows: rows, cols: cols, stride: cols + pads.0).storage),
            "\(what): the input changed")
    require(ym.paddingIsUntouched(), "\(what): output padding written")
    for row in 0..<rows {
      let xr = Array(x[(row * cols)..<((row + 1) * cols)])
      switch op {
      case .logSumExp: check(op, x: xr, y: [], lse: ym.storage[row], "\(what) row \(row)")
      case .states:
        if cols > 0 { check(op, x: xr, y: [], lse: states[row].logSumExp, "\(what) row \(row)") }
      default: check(op, x: xr, y: ym.row(row), lse: 0, "\(what) row \(row)")
      }
    }
  }
}
