import FuzzSupport
import SoftmaxKernels
import SoftmaxReference

// Binary cross-entropy with logits: the pointer form (losses and gradient optional) and the two
// array forms, with pos_weight, every reduction and a gradient scale; one bad argument in about
// one call in ten.

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
    let reduction = LossReduction.allCases[input.int(0...2)]
    let scale: T = input.chance(64) ? T(Int8(bitPattern: input.byte())) / 16 : 1
    var posWeight: [T]? = input.chance(64) ? (0..<cols).map { _ in T(input.byte()) / 32 } : nil
    let x = input.scalars(T.self, count: rows * cols)
    let t = (0..<(rows * cols)).map { _ in input.target(T.self) }
    let defect = Defect.draw(&input, allowed: arrays ? [.negativeCols, .countMismatch, .badWeight]
      : [.negativeRows, .negativeCols, .inputTooSmall, .outputTooSmall, .overlap, .badWeight, .countMismatch], rows: rows, cols: cols)
    if defect == .countMismatch && !arrays {  // pointer forms: a posWeight of the wrong length
      let w = posWeight ?? [T](repeating: 1, count: cols)
      posWeight = cols > 0 && input.bool() ? Array(w.dropLast(input.int(1...cols))) : w + [1]
    }
    if defect == .badWeight {
      var w = posWeight ?? [T](repeating: 1, count: cols)
      w[input.int(0...(cols - 1))] = input.bool() ? -1 : .nan
      posWeight = w
    }
    let what = "\(T.self) BCE \(arrays ? "arrays" : "pointers") \(rows)x\(cols) \(reduction) pw \(String(describing: posWeight?.prefix(4))) defect \(String(describing: defect))"
    let (r, c) = (defect == .negativeRows ? -1 - rows : rows, defect == .negativeCols ? -1 - cols : cols)
    if arrays {
      var loss: T = 0, grad: [T] = []
      let tt = defect == .countMismatch ? t + [0] : t
      let ran = expectOutcome(defect, buffers: { [x, t] }, what) { () throws(SoftmaxError) in
        loss = try binaryCrossEntropyWithLogits(logits: x, targets: tt, cols: c, posWeight: posWeight, reduction: reduction)
        let both = try binaryCrossEntropyWithLogitsAndGradient(logits: x, targets: tt, cols: c, posWeight: posWeight,
                                                               reduction: reduction, gradientScale: scale)
        require(sameBits([loss], [both.loss]), "\(what): the two array forms disagree, \(loss) vs \(both.loss)")
        grad = both.gradient
      }
      if ran { check(x: x, t: t, posWeight: posWeight, losses: nil, gradient: grad, total: loss, what) }
      return
    }
    var xs = x, ts = t
    var losses: [T]? = input.bool() ? [T](repeating: sentinel(T.self), count: rows * cols + 1) : nil
    var gradient: [T]? = input.bool() ? [T](repeating: sentinel(T.self), count: rows * cols + 1) : nil
    if defect == .inputTooSmall { if input.bool() { xs.removeLast() } else { ts.removeLast() } }
    if defect == .outputTooSmall {
      if input.bool() { losses = [T](repeating: 0, count: rows * cols - 1) } else { gradient = [T](repeating: 0, count: rows * cols - 1) }
    }
    if defect == .overlap {  // the gradient one element into the logits
      var shared = xs + [T](repeating: sentinel(T.self), count: 2)
      _ = expectOutcome(defect, buffers: { [shared, ts] }, what) { () throws(SoftmaxError) in
        try shared.withUnsafeMutableBufferPointer { (b) throws(SoftmaxError) in
          try ts.withUnsafeBufferPointer { (tb) throws(SoftmaxError) in
            _ = try binaryCrossEntropyWithLogits(logits: UnsafeBufferPointer(b), targets: tb, rows: r, cols: c, posWeight: posWeight,
                                                 reduction: reduction, gradient: UnsafeMutableBufferPointer(rebasing: b[1...]))
          }
        }
      }
      return
    }
    var total: T = 0
    let ran = expectOutcome(defect, buffers: { [xs, ts, losses ?? [], gradient ?? []] }, what) { () throws(SoftmaxError) in
      total = try xs.withUnsafeBufferPointer { (xb) throws(SoftmaxError) in
        try ts.withUnsafeBufferPointer { (tb) throws(SoftmaxError) in
          try withOptional(&losses) { (lb) throws(SoftmaxError) in
            try withOptional(&gradient) { (gb) throws(SoftmaxError) in
              try binaryCrossEntropyWithLogits(logits: xb, targets: tb, rows: r, cols: c, posWeight: posWeight, reduction: reduction,
                                               gradientScale: scale, losses: lb, gradient: gb)
            }
          }
        }
      }
    }
    guard ran else { return }
    if let gradient {  // the gradient may overwrite the logits buffer itself: the same bits
      var shared = xs
      let t2 = try! shared.withUnsafeMutableBufferPointer { b in
        try ts.withUnsafeBufferPointer { tb in
          try binaryCrossEntropyWithLogits(logits: UnsafeBufferPointer(b), targets: tb, rows: rows, cols: cols, posWeight: posWeight,
                                           reduction: reduction, gradientScale: scale, gradient: b)
        }
      }
      require(sameBits([t2], [total]) && sameBits(shared, Array(gradient.prefix(rows * cols))), "\(what): gradient over the logits differs")
    }
    for b in [losses, gradient] { if let b { require(b.last!.bits == sentinel(T.self).bits, "\(what): wrote past rows * cols") } }
    check(x: x, t: t, posWeight: posWeight, losses: losses.map { Array($0.dropLast()) }, gradient: gradient.map { Array($0.dropLast()) },
          total: total, what)
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
                                                    posWeight: posWeight.map { [$0[k % cols]] }, reduction: .none).losses[0]
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
