import FuzzSupport
import SoftmaxKernels
import SoftmaxReference

// Binary cross-entropy with logits: the buffer forms (forward, with a separate gradient, with the
// gradient over the logits and in place; losses optional; every matrix with a row stride) and the
// two array forms, with pos_weight, every reduction, a gradient scale, either mode and `threads` 0,
// 1 or 2 (validated; the inputs are too small to split); one bad argument in about one call in ten.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBinaryCrossEntropy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  fuzzFloatAndDouble(data, size, float: BCEHarness<Float>.run, double: BCEHarness<Double>.run)
}

struct BCEHarness<T: FuzzScalar> {
  static func run(_ input: inout FuzzInput) {
    let arrays = input.chance(64)
    var rows = input.int(0...4)
    let cols = input.cols()
    if arrays && cols == 0 { rows = 0 }
    // Three choices, as when LossReduction had a .none (the sum, with the losses asked for).
    let reductionChoice = input.int(0...2)
    let reduction: LossReduction = reductionChoice == 2 ? .mean : .sum
    let scale: T = input.chance(64) ? T(Int8(bitPattern: input.byte())) / 16 : 1
    var posWeight: [T]? = input.chance(64) ? (0..<cols).map { _ in T(input.byte()) / 32 } : nil
    let x = input.scalars(T.self, count: rows * cols)
    let t = (0..<(rows * cols)).map { _ in input.target(T.self) }
    let defect = Defect.draw(&input, allowed: arrays ? [.negativeCols, .countMismatch, .badWeight, .badThreads]
      : [.negativeRows, .negativeCols, .strideTooSmall, .inputTooSmall, .outputTooSmall, .overlap, .badWeight, .countMismatch,
         .badThreads], rows: rows, cols: cols)
    if defect == .countMismatch && !arrays {  // pointer forms: a posWeight of the wrong length
      let w = posWeight ?? [T](repeating: 1, count: cols)
      posWeight = cols > 0 && input.bool() ? Array(w.dropLast(input.int(1...cols))) : w + [1]
    }
    if defect == .badWeight {
      var w = posWeight ?? [T](repeating: 1, count: cols)
      w[input.int(0...(cols - 1))] = input.bool() ? -1 : .nan
      posWeight = w
    }
    // Mode and threads, as the other harnesses draw them (the inputs are too small to split).
    var kernel = KernelOptions(mode: input.bool() ? .accurate : .fast, threads: input.int(0...2))
    if defect == .badThreads { kernel.threads = -1 - input.int(0...3) }
    let options = BinaryCrossEntropyOptions<T>(posWeight: posWeight, reduction: reduction, kernel: kernel)
    let what = "\(T.self) BCE \(arrays ? "arrays" : "pointers") \(rows)x\(cols) \(reduction)\(reductionChoice == 0 ? " (losses)" : "") \(kernel) pw \(String(describing: posWeight?.prefix(4))) defect \(String(describing: defect))"
    let (r, c) = (defect == .negativeRows ? -1 - rows : rows, defect == .negativeCols ? -1 - cols : cols)
    if arrays {
      var loss: T = 0
      var grad = x
      let tt = defect == .countMismatch ? t + [0] : t
      // The in-place (inout) form first, so that a rejected call is seen leaving its array untouched.
      let ran = expectOutcome(defect, buffers: { [x, t, grad] }, what) { () throws(SoftmaxError) in
        let both = try binaryCrossEntropyWithGradient(inPlace: &grad, cols: c, targets: tt, gradientScale: scale, options: options)
        loss = try binaryCrossEntropy(x, cols: c, targets: tt, options: options)
        require(sameBits([loss], [both]), "\(what): the two array forms disagree, \(loss) vs \(both)")
      }
      if ran { check(x: x, t: t, posWeight: posWeight, losses: nil, gradient: grad, total: loss, what) }
      return
    }
    // Row strides: each matrix padded by 0...3 elements per row.
    let pads = (input.int(0...3), input.int(0...3), input.int(0...3), input.int(0...3))
    var xm = PaddedMatrix(x, rows: rows, cols: cols, stride: cols + pads.0)
    var tm = PaddedMatrix(t, rows: rows, cols: cols, stride: cols + pads.1)
    var losses: PaddedMatrix<T>? = input.bool() || reductionChoice == 0
      ? PaddedMatrix(rows: rows, cols: cols, stride: cols + pads.2, slack: 1) : nil
    var gradient: PaddedMatrix<T>? = input.bool() ? PaddedMatrix(rows: rows, cols: cols, stride: cols + pads.3, slack: 1) : nil
    var strides = (x: xm.stride, t: tm.stride, losses: cols + pads.2, gradient: cols + pads.3)
    switch defect {
    case .strideTooSmall:  // of the logits or the targets, or of an output there is
      let bad = input.int(0...(cols - 1))
      switch input.int(0...3) {
      case 0: strides.x = bad
      case 1: strides.t = bad
      case 2 where losses != nil: strides.losses = bad
      case 3 where gradient != nil: strides.gradient = bad
      default: strides.x = bad
      }
    case .inputTooSmall: if input.bool() { xm.storage.removeLast(input.int(1...cols)) } else { tm.storage.removeLast(input.int(1...cols)) }
    case .outputTooSmall:
      if input.bool() {
        losses = PaddedMatrix(rows: rows, cols: cols, stride: cols + pads.2)
        losses!.storage.removeLast(input.int(1...cols))
      } else {
        gradient = PaddedMatrix(rows: rows, cols: cols, stride: cols + pads.3)
        gradient!.storage.removeLast(input.int(1...cols))
      }
    default: break
    }
    if defect == .overlap {  // the gradient one element into the logits
      var shared = xm.storage + [T](repeating: sentinel(T.self), count: 2)
      _ = expectOutcome(defect, buffers: { [shared, tm.storage] }, what) { () throws(SoftmaxError) in
        try shared.withUnsafeMutableBufferPointer { (b) throws(SoftmaxError) in
          try tm.storage.withUnsafeBufferPointer { (tb) throws(SoftmaxError) in
            _ = try binaryCrossEntropyWithGradient(
              UnsafeBufferPointer(b), rows: r, cols: c, stride: strides.x, targets: tb, targetsStride: strides.t,
              gradient: UnsafeMutableBufferPointer(rebasing: b[1...]), gradientStride: strides.x, options: options)
          }
        }
      }
      return
    }
    var total: T = 0
    var lossStorage = losses?.storage
    let ran = expectOutcome(defect, buffers: { [xm.storage, tm.storage, lossStorage ?? [], gradient?.storage ?? []] }, what) {
      () throws(SoftmaxError) in
      total = try xm.storage.withUnsafeBufferPointer { (xb) throws(SoftmaxError) in
        try tm.storage.withUnsafeBufferPointer { (tb) throws(SoftmaxError) in
          try withOptional(&lossStorage) { (lb) throws(SoftmaxError) in
            if gradient == nil {
              return try binaryCrossEntropy(
                xb, rows: r, cols: c, stride: strides.x, targets: tb, targetsStride: strides.t, losses: lb,
                lossesStride: strides.losses, options: options)
            }
            return try gradient!.storage.withUnsafeMutableBufferPointer { (gb) throws(SoftmaxError) in
              try binaryCrossEntropyWithGradient(
                xb, rows: r, cols: c, stride: strides.x, targets: tb, targetsStride: strides.t, gradient: gb,
                gradientStride: strides.gradient, losses: lb, lossesStride: strides.losses, gradientScale: scale, options: options)
            }
          }
        }
      }
    }
    guard ran else { return }
    if let lossStorage { losses!.storage = lossStorage }
    require(sameBits(xm.storage, PaddedMatrix(x, rows: rows, cols: cols, stride: cols + pads.0).storage), "\(what): the logits changed")
    for (name, m) in [("losses", losses), ("gradient", gradient)] {
      if let m { require(m.paddingIsUntouched(), "\(what): \(name) padding or slack written") }
    }
    if let gradient {
      // The gradient over the logits, as the same buffer passed twice and in place: the same bits,
      // the same total; and the forward call (no gradient) returns the same total.
      var shared = xm, inPlace = xm
      let (t2, t3, t4) = try! tm.storage.withUnsafeBufferPointer { tb in
        let t2 = try shared.storage.withUnsafeMutableBufferPointer { b in
          try binaryCrossEntropyWithGradient(
            UnsafeBufferPointer(b), rows: rows, cols: cols, stride: xm.stride, targets: tb, targetsStride: tm.stride, gradient: b,
            gradientStride: xm.stride, gradientScale: scale, options: options)
        }
        let t3 = try inPlace.storage.withUnsafeMutableBufferPointer { b in
          try binaryCrossEntropyWithGradient(
            inPlace: b, rows: rows, cols: cols, stride: xm.stride, targets: tb, targetsStride: tm.stride, gradientScale: scale,
            options: options)
        }
        let t4 = try xm.storage.withUnsafeBufferPointer { xb in
          try binaryCrossEntropy(xb, rows: rows, cols: cols, stride: xm.stride, targets: tb, targetsStride: tm.stride, options: options)
        }
        return (t2, t3, t4)
      }
      require(sameBits([t2, t3, t4], [total, total, total]), "\(what): totals \(t2) (aliased), \(t3) (in place), \(t4) (forward), \(total)")
      require(shared.paddingIsUntouched() && inPlace.paddingIsUntouched(), "\(what): the gradient over the logits wrote the padding")
      for row in 0..<rows {
        require(sameBits(shared.row(row), gradient.row(row)) && sameBits(inPlace.row(row), gradient.row(row)),
                "\(what): gradient over the logits differs in row \(row)")
      }
    }
    let packed = { (m: PaddedMatrix<T>) in (0..<rows).flatMap { m.row($0) } }
    check(x: x, t: t, posWeight: posWeight, losses: losses.map(packed), gradient: gradient.map(packed), total: total, what)
  }

  /// Per element: NaN in, NaN out; for targets in [0, 1] no NaN even at +-inf logits (the limit),
  /// loss >= 0, gradient finite; within 8 ulp of the oracle's loss.
  static func check(x: [T], t: [T], posWeight: [T]?, losses: [T]?, gradient: [T]?, total: T, _ what: String) {
    let cols = Swift.max(posWeight?.count ?? 1, 1)
    var clean = true
    for k in x.indices {
      let at = "\(what) element \(k) x \(x[k]) t \(t[k]) pw \(posWeight.map { "\($0[k % cols])" } ?? "1")"
      let valid = t[k] >= 0 && t[k] <= 1
      clean = clean && valid && !x[k].isNaN
      if x[k].isNaN || t[k].isNaN {
        require(losses.map { $0[k].isNaN } ?? true, "\(at): NaN input gave loss \(losses![k])")
        continue
      }
      guard valid else { continue }
      if let losses {
        require(!losses[k].isNaN && losses[k] >= 0, "\(at): loss \(losses[k])")
        let pw = posWeight.map { $0[k % cols] } ?? 1
        if abs(x[k]) <= 1e30 && pw <= 1e3 { require(losses[k].isFinite, "\(at): loss \(losses[k])") }
        let o = Oracle.binaryCrossEntropyWithLogits(logits: [x[k]], targets: [t[k]], rows: 1, cols: 1,
                                                    posWeight: posWeight.map { [$0[k % cols]] }, reduction: .sum).losses[0]
        if o.isFinite && losses[k].isFinite {
          let ulp = T.Wide(T(o).isFinite ? Swift.max(T(abs(o)), T.leastNonzeroMagnitude).ulp : T.greatestFiniteMagnitude.ulp)
          // Below the normal range exp(-|x|) has lost bits: absolute error 2 leastNormal (times
          // pos_weight), as SPEC allows softmax there.
          let subnormal = o < T.Wide(T.leastNormalMagnitude) * T.Wide(Swift.max(1, pw)) ? 2 * T.Wide(T.leastNormalMagnitude) * T.Wide(Swift.max(1, pw)) : 0
          require(abs(T.Wide(losses[k]) - o) <= 8 * ulp + subnormal, "\(at): loss \(losses[k]) vs oracle \(o)")
        }
      }
      if let gradient { require(gradient[k].isFinite, "\(at): gradient \(gradient[k])") }
    }
    if clean { require(!total.isNaN, "\(what): total \(total) from clean elements") }
  }
}
