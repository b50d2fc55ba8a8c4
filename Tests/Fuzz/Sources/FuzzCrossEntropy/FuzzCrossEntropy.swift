import FuzzSupport
import SoftmaxKernels
import SoftmaxReference

// Cross-entropy with class labels and with probability targets: forward, fused forward+backward
// into a separate buffer, fused in place over the logits (compared bit for bit with the separate
// call), and the array conveniences; every option (ignore index, class weights, label smoothing,
// z-loss, reduction, mode, gradient scale); one bad argument in about one call in ten. Labels go
// in as Int32; on about half of the inputs the call runs again with them widened to 64 bits
// (Int64, or Int for the arrays): the same bits out, or the same rejection, and a label moved by
// 2^32 must be rejected (see `wideLabels`). Float and Double rows are checked against the
// oracle; 16-bit rows (Float16, BFloat16) against the Float kernel on the widened rows, whose
// results are checked against the oracle in turn (see `HalfCrossEntropy`).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCrossEntropy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  fuzzEveryType(
    data, size, float: CrossEntropyHarness<Float>.run, double: CrossEntropyHarness<Double>.run, half: HalfCrossEntropy.self)
}

enum Form: CaseIterable { case forward, fused, fusedInPlace, arrays }

/// One drawn call: the logits, labels or targets, options and buffers. Rows in `T`; losses,
/// weights and scale in `A` (`T` for Float and Double, Float for the 16-bit types).
struct Call<T: FuzzStorable> {
  typealias A = T.Arithmetic
  var rows: Int, cols: Int
  var logits: PaddedMatrix<T>
  var labels: [Int32]?
  var targets: PaddedMatrix<T>
  var options: CrossEntropyOptions<T>
  var scale: A
  var gradient: PaddedMatrix<T>
  var losses: [A]?
  var defect: Defect?
  /// Arguments as passed (a defect changes one of them).
  var passedRows: Int, passedCols: Int, logitsStride: Int, targetsStride: Int
  /// Pass the labels in 64 bits (see `run(_:)`), with this added to one row's label.
  var wideLabels = false, wideLabelOffset: (row: Int, offset: Int64)? = nil

  /// What the caller gets back.
  struct Result {
    var total: A; var losses: [A]?; var gradient: PaddedMatrix<T>?
    /// The array forms' second total (crossEntropyWithGradient's; the forward-only kernel may
    /// round differently): checked against the oracle like `total`.
    var otherTotal: A? = nil
  }

  /// Calls the API; the buffers it wrote are written back to `self` (also when it throws). The
  /// labels go in as `Int32`, or with `wideLabels` as the same values in 64 bits (`Int64` for the
  /// buffer forms, `Int` for the arrays), with `wideLabelOffset` added to one row.
  mutating func run(_ form: Form) throws(SoftmaxError) -> Result {
    guard wideLabels, let labels else { return try run(form, labels: labels) }
    var wide = labels.map { Int64($0) }
    if let (row, offset) = wideLabelOffset { wide[row] += offset }
    if form == .arrays { return try run(form, labels: wide.map { Int($0) }) }
    return try run(form, labels: wide)
  }

  /// `run(_:)` with the labels (nil: probability targets) in type `L`.
  mutating func run<L: ClassLabel>(_ form: Form, labels: [L]?) throws(SoftmaxError) -> Result {
    var lossBuffer = losses, grad = gradient, inPlace = logits
    defer { (losses, gradient, logits) = (lossBuffer, grad, inPlace) }
    let (r, c) = (passedRows, passedCols)
    switch form {
    case .forward:
      let total = try inPlace.storage.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
        try withOptional(&lossBuffer) { (l) throws(SoftmaxError) in
          if let labels {
            try labels.withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
              try crossEntropy(x, rows: r, cols: c, stride: logitsStride, labels: lb, losses: l, options: options)
            }
          } else {
            try targets.storage.withUnsafeBufferPointer { (t) throws(SoftmaxError) in
              try crossEntropy(x, rows: r, cols: c, stride: logitsStride, targets: t, targetsStride: targetsStride,
                               losses: l, options: options)
            }
          }
        }
      }
      return Result(total: total, losses: lossBuffer, gradient: nil)
    case .fused:
      let total = try inPlace.storage.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
        try grad.storage.withUnsafeMutableBufferPointer { (g) throws(SoftmaxError) in
          try withOptional(&lossBuffer) { (l) throws(SoftmaxError) in
            if let labels {
              try labels.withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
                try crossEntropyWithGradient(x, rows: r, cols: c, stride: logitsStride, labels: lb, gradient: g,
                                             gradientStride: gradient.stride, losses: l, gradientScale: scale, options: options)
              }
            } else {
              try targets.storage.withUnsafeBufferPointer { (t) throws(SoftmaxError) in
                try crossEntropyWithGradient(x, rows: r, cols: c, stride: logitsStride, targets: t,
                                             targetsStride: targetsStride, gradient: g, gradientStride: gradient.stride, losses: l,
                                             gradientScale: scale, options: options)
              }
            }
          }
        }
      }
      return Result(total: total, losses: lossBuffer, gradient: grad)
    case .fusedInPlace:
      let total = try inPlace.storage.withUnsafeMutableBufferPointer { (x) throws(SoftmaxError) in
        try withOptional(&lossBuffer) { (l) throws(SoftmaxError) in
          if let labels {
            try labels.withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
              try crossEntropyWithGradient(inPlace: x, rows: r, cols: c, stride: logitsStride, labels: lb, losses: l,
                                           gradientScale: scale, options: options)
            }
          } else {
            try targets.storage.withUnsafeBufferPointer { (t) throws(SoftmaxError) in
              try crossEntropyWithGradient(inPlace: x, rows: r, cols: c, stride: logitsStride, targets: t,
                                           targetsStride: targetsStride, losses: l, gradientScale: scale, options: options)
            }
          }
        }
      }
      return Result(total: total, losses: lossBuffer, gradient: inPlace)
    case .arrays:
      return try runArrays(labels: labels)
    }
  }

  /// The array conveniences take packed rows; `cols == 0` means no rows.
  func runArrays<L: ClassLabel>(labels: [L]?) throws(SoftmaxError) -> Result {
    var x = (0..<rows).flatMap { logits.row($0) }
    let original = x
    do { return try arrays(&x, labels: labels) } catch {
      require(sameBits(x, original), "arrays: a rejected crossEntropyWithGradient changed the logits (\(error))")
      throw error
    }
  }

  /// The in-place (inout) form runs first, so that a rejected call is seen leaving `x` untouched.
  func arrays<L: ClassLabel>(_ x: inout [T], labels: [L]?) throws(SoftmaxError) -> Result {
    let original = x
    let t = (0..<rows).flatMap { targets.row($0) }
    if let labels {
      let l = labels + (defect == .countMismatch ? [0] : [])
      let fusedTotal = try crossEntropyWithGradient(inPlace: &x, cols: passedCols, labels: l, gradientScale: scale, options: options)
      let losses = try crossEntropyLosses(original, cols: passedCols, labels: l, options: options)
      let total = try crossEntropy(original, cols: passedCols, labels: l, options: options)
      return Result(total: total, losses: losses, gradient: PaddedMatrix(x, rows: rows, cols: cols, stride: cols), otherTotal: fusedTotal)
    }
    let tt = t + (defect == .countMismatch ? [0] : [])
    let fusedTotal = try crossEntropyWithGradient(inPlace: &x, cols: passedCols, targets: tt, gradientScale: scale, options: options)
    let total = try crossEntropy(original, cols: passedCols, targets: tt, options: options)
    return Result(total: total, losses: nil, gradient: PaddedMatrix(x, rows: rows, cols: cols, stride: cols), otherTotal: fusedTotal)
  }

  /// The buffers a call may write, the same bits in both calls.
  func sameBuffers(_ other: Call) -> Bool {
    sameBits(logits.storage, other.logits.storage) && sameBits(gradient.storage, other.gradient.storage)
      && sameBits(losses ?? [], other.losses ?? [])
  }
}

extension Call where T: FuzzHalf {
  /// The same call on the widened logits and targets, in Float: the same shapes, strides,
  /// labels, options, scale and defect.
  func widened() -> Call<Float> {
    Call<Float>(
      rows: rows, cols: cols, logits: logits.widened(), labels: labels, targets: targets.widened(),
      options: CrossEntropyOptions<Float>(
        ignoreIndex: options.ignoreIndex, classWeights: options.classWeights, labelSmoothing: options.labelSmoothing,
        zLoss: options.zLoss, reduction: options.reduction, kernel: options.kernel),
      scale: scale, gradient: gradient.widened(), losses: losses, defect: defect, passedRows: passedRows, passedCols: passedCols,
      logitsStride: logitsStride, targetsStride: targetsStride, wideLabels: wideLabels, wideLabelOffset: wideLabelOffset)
  }
}


/// A drawn call with what it was drawn from.
struct Drawn<T: FuzzStorable> {
  var form: Form
  var call: Call<T>
  /// The logits and targets, packed.
  var x: [T], t: [T]
  var pads: (Int, Int, Int)
  var what: String
}

extension Drawn where T: FuzzHalf {
  func widened() -> Drawn<Float> {
    Drawn<Float>(
      form: form, call: call.widened(), x: x.map { Float($0) }, t: t.map { Float($0) }, pads: pads,
      what: "Float (widened \(T.self))" + what.dropFirst("\(T.self)".count))
  }
}

struct CrossEntropyHarness<T: FuzzStorable> {
  typealias A = T.Arithmetic

  /// Draws a call; every byte the harness reads is read here (in the order it always read them).
  static func draw(_ input: inout FuzzInput) -> Drawn<T> {
    let form = Form.allCases[input.int(0...3)]
    let useLabels = input.bool()
    var rows = input.int(0...4)
    let cols = input.cols()
    if form == .arrays && cols == 0 { rows = 0 }  // packed arrays of zero columns hold no rows
    let pads = (input.int(0...3), input.int(0...3), input.int(0...3))
    let (o, wantsLosses) = input.crossEntropyOptions(T.self, cols: cols)
    let scale = input.gradientScale(T.self)
    let x = input.scalars(T.self, count: rows * cols)
    var labels = input.labels(rows: rows, cols: cols, options: o)
    let t = (0..<(rows * cols)).map { _ in input.target(T.self) }
    let allowed: [Defect] = form == .arrays
      ? [.negativeCols, .countMismatch, .badWeight, .badOption] + (useLabels ? [.badLabel] : [])
      : [.negativeRows, .negativeCols, .strideTooSmall, .inputTooSmall, .outputTooSmall, .badWeight, .badOption, .countMismatch]
        + (useLabels ? [.badLabel] : []) + (form == .fused ? [.overlap] : [])
    var defect = Defect.draw(&input, allowed: allowed, rows: rows, cols: cols)
    if defect == .countMismatch && rows == 0 && !useLabels && form == .arrays { defect = nil }  // a 0-element targets array still needs cols
    var call = Call(
      rows: rows, cols: cols, logits: PaddedMatrix(x, rows: rows, cols: cols, stride: cols + pads.0),
      labels: useLabels ? labels : nil, targets: PaddedMatrix(t, rows: rows, cols: cols, stride: cols + pads.1),
      options: o, scale: scale, gradient: PaddedMatrix(rows: rows, cols: cols, stride: cols + pads.2, slack: 1),
      losses: input.bool() || wantsLosses ? [A](repeating: sentinel(A.self), count: rows + 1) : nil,
      defect: defect, passedRows: rows, passedCols: cols, logitsStride: cols + pads.0, targetsStride: cols + pads.1)
    switch defect {
    case .negativeRows: call.passedRows = -1 - input.int(0...3)
    case .negativeCols: call.passedCols = -1 - input.int(0...3)
    case .strideTooSmall:
      if !useLabels && input.bool() { call.targetsStride = input.int(0...(cols - 1)) }
      else { call.logitsStride = input.int(0...(cols - 1)) }
    case .inputTooSmall:  // the logits, or the labels / targets
      if input.bool() { call.logits.storage.removeLast(input.int(1...cols)) }
      else if useLabels { call.labels!.removeLast(input.int(1...rows)) }
      else { call.targets.storage.removeLast(input.int(1...cols)) }
    case .outputTooSmall:
      if form == .fused && input.bool() { call.gradient.storage.removeLast(1 + input.int(1...cols)) }
      else { call.losses = [A](repeating: sentinel(A.self), count: rows - 1) }
    case .badLabel:
      labels[input.int(0...(rows - 1))] = input.bool() ? Int32(cols + input.int(0...3)) : Int32(-1 - input.int(0...3))
      call.labels = labels
    case .badWeight:
      var w = o.classWeights ?? [A](repeating: 1, count: cols)
      w[input.int(0...(cols - 1))] = input.bool() ? -(A(input.byte()) + 1) / 64 : .nan
      call.options.classWeights = w
    case .countMismatch where form != .arrays:  // pointer forms: class weights of the wrong length
      let w = o.classWeights ?? [A](repeating: 1, count: cols)
      call.options.classWeights = cols > 0 && input.bool() ? Array(w.dropLast(input.int(1...cols))) : w + [1]
    case .badOption:
      let bad: [A] = [1.5, -0.25, .nan, .infinity]
      if input.bool() { call.options.labelSmoothing = bad[input.int(0...3)] } else { call.options.zLoss = [-1, .nan, .infinity][input.int(0...2)] }
    default: break
    }
    let what = "\(T.self) CE \(form) \(useLabels ? "labels" : "targets") \(rows)x\(cols) \(o.reduction)\(wantsLosses ? " (losses)" : "") \(o.kernel.mode) weights \(String(describing: o.classWeights?.prefix(8))) eps \(o.labelSmoothing) z \(o.zLoss) defect \(String(describing: defect))"
    return Drawn(form: form, call: call, x: x, t: t, pads: pads, what: what)
  }

  /// Makes the call and checks what needs no oracle: the defect's error with no write, the
  /// same results with 64-bit labels (on about half of the inputs, `alsoWideLabels`), the
  /// inputs untouched, in place equal to separate. The rejection's error, or the call after it
  /// ran and its result.
  static func exercise(_ drawn: Drawn<T>, alsoWideLabels: Bool) -> (error: SoftmaxError?, call: Call<T>, result: Call<T>.Result?) {
    var call = drawn.call
    let (form, x, t, pads, what) = (drawn.form, drawn.x, drawn.t, drawn.pads, drawn.what)
    let (rows, cols, defect, useLabels) = (call.rows, call.cols, call.defect, call.labels != nil)
    if defect == .overlap { return (overlapping(call), call, nil) }
    var result: Call<T>.Result?
    var thrown: SoftmaxError?
    let initial = call
    let ran = expectOutcome(defect, buffers: { ([call.logits.storage, call.gradient.storage], [call.losses ?? []]) }, what) {
      () throws(SoftmaxError) in
      do throws(SoftmaxError) { result = try call.run(form) } catch { thrown = error; throw error }
    }
    if useLabels && alsoWideLabels {
      wideLabels(initial, form, after: call, result: ran ? result : nil, thrown: thrown, what)
    }
    guard ran, let result else { return (thrown, call, nil) }
    if form == .forward || form == .fused {
      require(sameBits(call.logits.storage, PaddedMatrix(x, rows: rows, cols: cols, stride: cols + pads.0).storage),
              "\(what): the logits changed")
    }
    require(sameBits(call.targets.storage, PaddedMatrix(t, rows: rows, cols: cols, stride: cols + pads.1).storage), "\(what): the targets changed")
    if form == .fusedInPlace {  // in place must equal the separate buffer bit for bit
      var separate = call
      separate.logits = PaddedMatrix(x, rows: rows, cols: cols, stride: cols + pads.0)
      separate.gradient = PaddedMatrix(rows: rows, cols: cols, stride: cols + pads.0)
      separate.losses = separate.losses.map { [A](repeating: sentinel(A.self), count: $0.count) }
      let s = try! separate.run(.fused)
      require(sameBits([s.total], [result.total]) && sameBits(s.losses ?? [], result.losses ?? []),
              "\(what): in place \(result.total) differs from separate \(s.total)")
      for r in 0..<rows { require(sameBits(s.gradient!.row(r), result.gradient!.row(r)), "\(what): in-place gradient row \(r) differs") }
    }
    return (nil, call, result)
  }

  /// The same call with the labels in 64 bits (the same values widened) must give the same bits
  /// as with 32-bit labels, `after` the call and its `result`, or throw the same error as it did;
  /// and a valid call with one label moved by 2^32 (which truncation to 32 bits would take back
  /// to a valid label or the ignore index) must be rejected with every buffer untouched.
  static func wideLabels(
    _ initial: Call<T>, _ form: Form, after narrow: Call<T>, result: Call<T>.Result?, thrown: SoftmaxError?, _ what: String
  ) {
    let at = "\(what) with 64-bit labels"
    var wide = initial
    wide.wideLabels = true
    do {
      let r = try wide.run(form)
      guard let result else { return require(false, "\(at): accepted, 32-bit labels threw \(thrown.map { "\($0)" } ?? "?")") }
      require(sameBits([r.total, r.otherTotal ?? 0], [result.total, result.otherTotal ?? 0]),
              "\(at): total \(r.total) (\(String(describing: r.otherTotal))), 32-bit \(result.total) (\(String(describing: result.otherTotal)))")
      require(sameBits(r.losses ?? [], result.losses ?? []), "\(at): losses differ")
      require(sameBits(r.gradient?.storage ?? [], result.gradient?.storage ?? []), "\(at): gradient differs")
      require(wide.sameBuffers(narrow), "\(at): buffers differ")
    } catch {
      require(thrown.map { "\($0)" } == "\(error)", "\(at): threw \(error), 32-bit labels \(thrown.map { "\($0)" } ?? "ran")")
      require(wide.sameBuffers(initial), "\(at): buffers changed by a rejected call")
    }
    guard result != nil, initial.rows > 0 else { return }
    var past = initial
    past.wideLabels = true
    past.wideLabelOffset = (initial.rows - 1, initial.rows % 2 == 0 ? 1 << 32 : -(1 << 32))
    do {
      _ = try past.run(form)
      require(false, "\(at): a label moved by 2^32 was accepted (offset \(past.wideLabelOffset!))")
    } catch {
      guard case .labelOutOfRange = error else { return require(false, "\(at): a label moved by 2^32 gave \(error)") }
      require(past.sameBuffers(initial), "\(at): buffers changed by a rejected call")
    }
  }

  /// The gradient buffer starts one element into the logits: must be rejected untouched. Returns the error.
  static func overlapping(_ call: Call<T>) -> SoftmaxError? {
    var shared = call.logits.storage + [T](repeating: sentinel(T.self), count: call.gradient.storage.count)
    var thrown: SoftmaxError?
    _ = expectOutcome(Defect.overlap, buffers: { [shared] }, "\(T.self) CE overlap") { () throws(SoftmaxError) in
      do throws(SoftmaxError) {
      try shared.withUnsafeMutableBufferPointer { (b) throws(SoftmaxError) in
        let g = UnsafeMutableBufferPointer(rebasing: b[1...])
        if let labels = call.labels {
          _ = try labels.withUnsafeBufferPointer { (lb) throws(SoftmaxError) in
            try crossEntropyWithGradient(UnsafeBufferPointer(b), rows: call.rows, cols: call.cols, stride: call.logitsStride,
                                         labels: lb, gradient: g, gradientStride: call.gradient.stride, options: call.options)
          }
        } else {
          _ = try call.targets.storage.withUnsafeBufferPointer { (t) throws(SoftmaxError) in
            try crossEntropyWithGradient(UnsafeBufferPointer(b), rows: call.rows, cols: call.cols, stride: call.logitsStride,
                                         targets: t, targetsStride: call.targets.stride, gradient: g,
                                         gradientStride: call.gradient.stride, options: call.options)
          }
        }
      }
      } catch { thrown = error; throw error }
    }
    return thrown
  }
}

extension CrossEntropyHarness where T: FuzzScalar {
  static func run(_ input: inout FuzzInput) {
    let drawn = draw(&input)
    let (_, call, result) = exercise(drawn, alsoWideLabels: input.alsoWideLabels)
    guard let result else { return }
    RowChecks(call: call, x: drawn.x, what: drawn.what).check(result)
  }
}

/// 16-bit rows: the call on them, and the same call on the rows and targets widened to Float.
/// The same rejection, or the same Float results (total, losses) and each 16-bit gradient
/// element the Float one rounded once; the Float results against the oracle
/// (`RowChecks<Float>.check`), SPEC's edge rules on the 16-bit results (`RowChecks.edges`).
enum HalfCrossEntropy: HalfHarness {
  static func run<H: FuzzHalf>(_: H.Type, _ input: inout FuzzInput) {
    let drawn = CrossEntropyHarness<H>.draw(&input)
    let wide = drawn.widened()
    let (halfError, halfCall, half) = CrossEntropyHarness<H>.exercise(drawn, alsoWideLabels: input.alsoWideLabels)
    let (floatError, floatCall, float) = CrossEntropyHarness<Float>.exercise(wide, alsoWideLabels: false)
    requireSameOutcome(halfError, floatError, drawn.what)
    guard let half, let float else { return }
    let what = drawn.what
    requireSame([half.total, half.otherTotal ?? 0], [float.total, float.otherTotal ?? 0], "\(what): total")
    requireSame(half.losses ?? [], float.losses ?? [], "\(what): losses")
    require((half.gradient == nil) == (float.gradient == nil), "\(what): a gradient from one call only")
    if let g = half.gradient, let f = float.gradient {
      for r in 0..<g.rows { requireRounded(g.row(r), f.row(r), "\(what): gradient row \(r)") }
    }
    RowChecks(call: floatCall, x: wide.x, what: wide.what).check(float)
    _ = RowChecks(call: halfCall, x: drawn.x, what: what).edges(half)
  }
}

/// SPEC's rules on each row of a successful call.
struct RowChecks<T: FuzzStorable> {
  typealias A = T.Arithmetic
  let call: Call<T>
  let x: [T]
  let what: String

  /// The rules that need no oracle (so they hold for 16-bit results as well): padding, ignored,
  /// NaN, masked and fully masked rows, finite results of moderate rows, the total. Returns
  /// whether every row is clean (no NaN logits, targets in [0, 1]).
  func edges(_ result: Call<T>.Result) -> Bool {
    let (rows, cols, o) = (call.rows, call.cols, call.options)
    if let g = result.gradient, call.logits.storage.count > 0 || g.storage.count > 0 {
      require(g.paddingIsUntouched(), "\(what): gradient padding written")
    }
    if let l = result.losses, l.count > rows { require(l[rows].bits == sentinel(A.self).bits, "\(what): losses[rows] written") }
    var allClean = true, anyCounted = false
    for r in 0..<rows {
      let row = Array(x[(r * cols)..<((r + 1) * cols)])
      let label = call.labels?[r]
      let ignored = label != nil && Int(label!) == o.ignoreIndex
      let targetsRow = call.targets.row(r)
      let clean = !row.hasNaN && (call.labels != nil || targetsRow.allSatisfy { $0 >= 0 && $0 <= 1 })
      allClean = allClean && clean
      anyCounted = anyCounted || !ignored
      let loss = result.losses?[r]
      let grad = result.gradient?.row(r)
      let at = "\(what) row \(r) label \(String(describing: label)) ignore \(String(describing: o.ignoreIndex)) x \(row.prefix(8)) t \(targetsRow.prefix(8))"
      if ignored && clean {
        require(loss == nil || loss == 0, "\(at): ignored row has loss \(loss!)")
        require(grad == nil || grad!.allSatisfy { $0 == 0 }, "\(at): ignored row has gradient \(grad!.prefix(8))")
        continue
      }
      if row.hasNaN && !ignored {
        require(loss == nil || loss!.isNaN, "\(at): NaN row has loss \(loss!)")
        require(grad == nil || grad!.allSatisfy { $0.isNaN }, "\(at): NaN row has gradient \(grad!.prefix(8))")
        continue
      }
      guard clean else { continue }
      let m = row.max() ?? -.infinity
      if let loss {
        require(!loss.isNaN && loss >= 0, "\(at): loss \(loss)")
        // A masked class with a positive coefficient (target weight, smoothing share) costs +inf;
        // with coefficient 0 it counts as 0 (SPEC: 0 * (-inf) counts as 0).
        let n = A(cols), eps = o.labelSmoothing
        let maskedCosts = (0..<cols).contains { j in
          let w = o.classWeights?[j] ?? 1
          let target = label.map { Int($0) == j ? A(1) : 0 } ?? A(targetsRow[j])
          return row[j] == -.infinity && w * ((1 - eps) * target + eps / n) > 0
        }
        if maskedCosts { require(loss == .infinity, "\(at): a masked class with a positive coefficient, loss \(loss)") }
        if row.allSatisfy({ A(abs($0)) <= 1e15 }) { require(loss.isFinite, "\(at): finite logits gave loss \(loss)") }
      }
      if let grad {
        require(!grad.hasNaN, "\(at): NaN in the gradient \(grad.prefix(8)) of a row without NaN")
        if m == -.infinity { require(grad.allSatisfy { $0 == 0 }, "\(at): fully masked row has gradient \(grad.prefix(8))") }
        // A masked class gets gradient 0, unless it is (part of) the target: then the finite
        // limit, scale * (0 - its share), which pushes its logit up.
        for j in 0..<cols where row[j] == -.infinity {
          let w = o.classWeights?[j] ?? 1
          let target = label.map { Int($0) == j ? A(1) : 0 } ?? A(targetsRow[j])
          let share = w * ((1 - o.labelSmoothing) * target + o.labelSmoothing / A(cols))
          if share == 0 || m == -.infinity {
            require(grad[j] == 0, "\(at): masked class \(j) has gradient \(grad[j])")
          } else {
            require(grad[j].isFinite && (grad[j] == 0 || (grad[j] < 0) == (call.scale > 0)),
                    "\(at): masked target class \(j) has gradient \(grad[j]) (scale \(call.scale))")
          }
        }
        // Moderate logits (masked entries allowed when the label is masked): the gradient is
        // finite. Not with huge ones: z-loss's 2 z L p_j / D can pass the range (found by
        // FuzzCrossEntropy: L = -1.7e38, z = 0.2, D = 0.047), and then -inf is its rounding.
        // (Float16's range ends at 65504: moderate means |x| <= 64 there, `moderateLogit`.)
        let moderate = row.allSatisfy { abs($0) <= T.moderateLogit }
        let maskedLabel = label.map { row[Int($0)] == -.infinity } ?? false
        if moderate || m == -.infinity || maskedLabel && row.allSatisfy({ $0 == -.infinity || abs($0) <= T.moderateLogit }) {
          require(grad.allSatisfy { $0.isFinite }, "\(at): gradient not finite \(grad.prefix(40)) row \(row.prefix(40))")
        }
      }
    }
    if allClean { require(!result.total.isNaN, "\(what): total \(result.total) from rows without NaN") }
    if allClean && !anyCounted { require(result.total == 0, "\(what): nothing counted but total \(result.total)") }
    return allClean
  }
}

extension RowChecks where T: FuzzScalar {
  /// The edge rules, then the oracle: each clean row's loss without options (SPEC's bound), and
  /// when every row is clean every loss, gradient element and the total (a loose tolerance).
  func check(_ result: Call<T>.Result) {
    let allClean = edges(result)
    let (cols, o) = (call.cols, call.options)
    if o.classWeights == nil && o.labelSmoothing == 0 && o.zLoss == 0, let losses = result.losses, let labels = call.labels {
      for r in 0..<call.rows {
        let row = Array(x[(r * cols)..<((r + 1) * cols)]), label = Int(labels[r])
        guard label != o.ignoreIndex, !row.hasNaN else { continue }
        let loss = losses[r], at = "\(what) row \(r) label \(label) x \(row.prefix(8))"
        let oracle = Oracle.crossEntropy(logits: row, rows: 1, cols: cols, labels: [label], settings: CrossEntropySettings(o))
        let lse = Oracle.logSumExp(row, rows: 1, cols: cols)[0]
        let e = Accuracy.logScale(loss, oracle: oracle.losses[0], x: row[label], lse: lse)
        require(e.passes, "\(at): loss \(loss) vs oracle \(oracle.losses[0]): \(e.error) > \(e.bound) ulp")
      }
    }
    if allClean { compareWithOracle(result) }
  }

  /// Every loss, gradient element and the reduced loss against the oracle, with a loose tolerance:
  /// 64 eps of the magnitudes entering the value (the SPEC-tight budgets are the property tests'
  /// job). A wrong denominator, gradient scale, smoothing, weight or z-loss term is an O(1) error
  /// and cannot pass.
  func compareWithOracle(_ result: Call<T>.Result) {
    let (rows, cols, o) = (call.rows, call.cols, call.options)
    let settings = CrossEntropySettings<T>(o)
    let targets = (0..<rows).flatMap { call.targets.row($0) }
    let ora = call.labels.map {
      Oracle.crossEntropy(logits: x, rows: rows, cols: cols, labels: $0.map { Int($0) }, settings: settings, gradientScale: call.scale)
    } ?? Oracle.crossEntropy(logits: x, rows: rows, cols: cols, targets: targets, settings: settings, gradientScale: call.scale)
    let eps = T.Wide(T.ulpOfOne), tiny = T.Wide(T.leastNormalMagnitude)
    // Per row: the coefficient c_j of (L - x_j) and the loss tolerance.
    var coefficients: [[T.Wide]] = [], tolerances: [T.Wide] = [], rowSum: T.Wide = 0
    for r in 0..<rows {
      let row = Array(x[(r * cols)..<((r + 1) * cols)])
      let lse = cols == 0 ? -T.Wide.infinity : Oracle.logSumExp(row, rows: 1, cols: cols)[0]
      let label = call.labels.map { Int($0[r]) }
      let ignored = label != nil && label! == o.ignoreIndex
      let c: [T.Wide] = (0..<cols).map { j in
        if ignored { return 0 }
        let w = T.Wide(o.classWeights?[j] ?? 1), e = T.Wide(o.labelSmoothing)
        let t: T.Wide = label.map { $0 == j ? 1 : 0 } ?? T.Wide(targets[r * cols + j])
        return w * ((1 - e) * t + e / T.Wide(cols))
      }
      var mag = abs(ora.losses[r]), tinyCoefficients: T.Wide = 0
      // c_j = w_j (keep p_j + floor) is rounded in T; where it falls below T's normal range its
      // absolute error is up to half a least nonzero magnitude per operation, not eps relative
      // (w 3.02 times a target 1e-45 is 3e-45 in Float: a 2.5% error, found by FuzzCrossEntropy).
      let subnormalStep = T.Wide(T.leastNonzeroMagnitude)
      for j in 0..<cols where row[j].isFinite {
        let size: T.Wide = (lse.isFinite ? abs(lse) : 0) + abs(T.Wide(row[j]))
        let w = T.Wide(o.classWeights?[j] ?? 1)
        mag += c[j] * size
        if c[j] != 0 { tinyCoefficients += (1 + w) * subnormalStep * size }
      }
      if lse.isFinite { mag += 2 * T.Wide(o.zLoss) * lse * lse }
      coefficients.append(c)
      tolerances.append(64 * eps * mag + tinyCoefficients + 8 * tiny)
      rowSum += ora.losses[r]
    }
    // scale / D, D the mean's denominator (1 for sum and none): the ratio of the reduced loss to the sum.
    let perRow = rowSum != 0 && ora.loss != 0 && rowSum.isFinite ? abs(ora.loss / rowSum) : 1
    for r in 0..<rows {
      let row = Array(x[(r * cols)..<((r + 1) * cols)])
      let at = "\(what) row \(r) x \(row.prefix(8))"
      if let losses = result.losses {
        require(close(T.Wide(losses[r]), ora.losses[r], tolerances[r]),
                "\(at): loss \(losses[r]) vs oracle \(ora.losses[r]) (tolerance \(tolerances[r]))")
      }
      guard let g = result.gradient?.row(r), o.zLoss == 0, cols > 0 else { continue }
      // g_j = scale / D * (A p_j - c_j), A = sum of c: p_j's error grows with |x_j - m|, and
      // A p_j - c_j may cancel, so the tolerance is relative to both terms.
      let p = Oracle.softmax(row, rows: 1, cols: cols)
      let a = coefficients[r].reduce(0, +)
      let m = T.Wide(row.max()!)
      let unit = abs(T.Wide(call.scale)) * perRow
      for j in 0..<cols {
        let w = ora.gradient[r * cols + j]
        let shift = m.isFinite && row[j].isFinite ? abs(T.Wide(row[j]) - m) : 0
        let terms = p[j].isFinite ? unit * (a * p[j] + coefficients[r][j]) : 0
        let tol = 8 * eps * (terms * (shift + 16) + abs(w)) + 8 * tiny * Swift.max(1, unit * a)
        require(close(T.Wide(g[j]), w, tol), "\(at): gradient[\(j)] \(g[j]) vs oracle \(w) (tolerance \(tol))")
      }
    }
    let tol = tolerances.reduce(0, +) * perRow + 8 * eps * abs(ora.loss) + 8 * tiny
    for other in [result.otherTotal].compactMap({ $0 }) {
      require(close(T.Wide(other), ora.loss, tol),
              "\(what): crossEntropyWithGradient total \(other) vs oracle \(ora.loss) (tolerance \(tol))")
    }
    require(close(T.Wide(result.total), ora.loss, tol), "\(what): total \(result.total) vs oracle \(ora.loss) (tolerance \(tol))")
  }

  /// `v` (a T result) against the wide oracle `w`: NaN meets NaN, an infinite oracle must be met
  /// exactly; an oracle past T's range may also come out as the infinity it rounds to.
  func close(_ v: T.Wide, _ w: T.Wide, _ tolerance: T.Wide) -> Bool {
    if v.isNaN || w.isNaN { return v.isNaN && w.isNaN }
    if !w.isFinite { return v == w }
    if !T(w).isFinite && v == T.Wide(T(w)) { return true }
    return abs(v - w) <= tolerance
  }
}
