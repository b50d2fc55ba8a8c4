import PropertyBased
import SoftmaxKernels
import SoftmaxReference
import Testing

// Shared test machinery: row generators (random and adversarial), and one checker that runs every
// forward kernel on a matrix and compares it with the scalar reference and the oracle.

/// A packed row-major test matrix.
struct Matrix<T: ReferenceScalar>: CustomStringConvertible {
  var values: [T]
  var rows: Int
  var cols: Int

  var description: String {
    let shown = values.prefix(12).map { "\($0)" }.joined(separator: ", ")
    return "\(rows)x\(cols) [\(shown)\(values.count > 12 ? ", ..." : "")]"
  }

  func row(_ r: Int) -> ArraySlice<T> { values[(r * cols)..<((r + 1) * cols)] }
}

/// Draws from a seeded generator (PropertyBased's, so failures print a reproducible seed).
struct Draw {
  var rng: any SeededRandomNumberGenerator

  mutating func int(_ r: ClosedRange<Int>) -> Int { Int.random(in: r, using: &rng) }
  mutating func double(_ r: ClosedRange<Double>) -> Double { Double.random(in: r, using: &rng) }
  mutating func chance(_ p: Double) -> Bool { double(0...1) < p }

  /// A roughly normal value (sum of uniforms) times `scale`.
  mutating func gaussian(scale: Double) -> Double {
    (double(-1...1) + double(-1...1) + double(-1...1)) * scale
  }
}

/// Kinds of adversarial rows.
enum Adversary: CaseIterable {
  case huge, tiny, masked, fullyMasked, positiveInfinity, nan, constant, mixedExtremes
  /// Ordinary values with one NaN, +inf or -inf, usually in the second half of the row: the
  /// row's first chunks are clean, so in-place softmax has overwritten them when it meets it.
  case lateSpecial
}

enum Rows {
  /// Random logits: `rows` in `rowRange`, `cols` in `cols`, values of a random scale, a few masked.
  static func random<T: ReferenceScalar>(_: T.Type, rows rowRange: ClosedRange<Int> = 1...3, cols colRange: ClosedRange<Int>)
    -> Generator<Matrix<T>, Shrink.None<Matrix<T>>>
  {
    Generator { rng in
      var d = Draw(rng: rng)
      defer { rng = d.rng }
      let rows = d.int(rowRange), cols = d.int(colRange)
      let scale = [0.01, 1, 10, 100, 1e4][d.int(0...4)]
      let maskRate = d.chance(0.3) ? d.double(0...0.5) : 0
      // Tails: in a third of the matrices, about 3% of the values are up to e^7 (1100) times
      // larger than the (at most 3 x scale) bulk.
      let tailRate = d.chance(0.3) ? 0.03 : 0
      var v = [T]()
      v.reserveCapacity(rows * cols)
      for _ in 0..<(rows * cols) {
        let tail = d.chance(tailRate) ? Double.libmExp(d.double(0...7)) : 1
        v.append(d.chance(maskRate) ? -.infinity : T(d.gaussian(scale: scale) * tail))
      }
      return Matrix(values: v, rows: rows, cols: cols)
    }
  }

  /// Adversarial rows (each row its own kind): huge, tiny, masked, fully masked, +inf, NaN,
  /// constant, mixed extremes, one late special value.
  static func adversarial<T: ReferenceScalar>(_: T.Type, rows rowRange: ClosedRange<Int> = 1...3, cols colRange: ClosedRange<Int>)
    -> Generator<Matrix<T>, Shrink.None<Matrix<T>>>
  {
    Generator { rng in
      var d = Draw(rng: rng)
      defer { rng = d.rng }
      let rows = d.int(rowRange), cols = d.int(colRange)
      var v = [T]()
      for _ in 0..<rows {
        let kind = Adversary.allCases[d.int(0...(Adversary.allCases.count - 1))]
        let constant = T(d.gaussian(scale: 1e3))
        let start = v.count
        for _ in 0..<cols { v.append(element(kind, constant: constant, &d)) }
        if kind == .lateSpecial && cols > 0 {
          let at = d.chance(0.8) ? d.int((cols / 2)...(cols - 1)) : d.int(0...(cols - 1))
          v[start + at] = [T.nan, .infinity, -.infinity][d.int(0...2)]
        }
      }
      return Matrix(values: v, rows: rows, cols: cols)
    }
  }

  static func element<T: ReferenceScalar>(_ kind: Adversary, constant: T, _ d: inout Draw) -> T {
    let big: [T] = [1e30, -1e30, T.greatestFiniteMagnitude, -T.greatestFiniteMagnitude, 1e38, -1e38]
    let small: [T] = [T.leastNonzeroMagnitude, -T.leastNonzeroMagnitude, T.leastNormalMagnitude, 0, -0.0]
    switch kind {
    case .huge: return d.chance(0.5) ? big[d.int(0...(big.count - 1))] : T(d.gaussian(scale: 1e30))
    case .tiny: return small[d.int(0...(small.count - 1))] * T(d.int(1...4))
    case .masked: return d.chance(0.8) ? -.infinity : T(d.gaussian(scale: 10))
    case .fullyMasked: return -.infinity
    case .positiveInfinity: return d.chance(0.2) ? .infinity : (d.chance(0.2) ? -.infinity : T(d.gaussian(scale: 10)))
    case .nan: return d.chance(0.1) ? .nan : (d.chance(0.1) ? .infinity : T(d.gaussian(scale: 10)))
    case .constant: return constant
    case .lateSpecial: return T(d.gaussian(scale: 10))
    case .mixedExtremes:
      switch d.int(0...4) {
      case 0: return big[d.int(0...(big.count - 1))]
      case 1: return small[d.int(0...(small.count - 1))]
      case 2: return -.infinity
      default: return T(d.gaussian(scale: 50))
      }
    }
  }
}

/// Runs softmax, log-softmax and logsumexp (out of place with padded strides, and in place) on
/// `m`, and checks them against the scalar reference and the oracle with SPEC.md's bounds, and
/// the contract's sign and NaN rules. Returns the worst softmax and log-scale errors seen.
@discardableResult
func checkForwardKernels<T: ReferenceScalar>(
  _ m: Matrix<T>, options: KernelOptions = .accurate, sourceLocation: SourceLocation = #_sourceLocation
) throws -> (softmax: ElementError, logScale: ElementError) {
  let (rows, cols) = (m.rows, m.cols)
  // Row strides > cols, and different for the input and the outputs.
  let pad = cols % 3, outPad = (cols + 1) % 4
  let sentinel = T(-12345.5)
  var strided = [T](repeating: sentinel, count: rows * (cols + pad))
  for r in 0..<rows { for j in 0..<cols { strided[r * (cols + pad) + j] = m.values[r * cols + j] } }

  var sm = [T](repeating: sentinel, count: rows * (cols + outPad))
  var lsm = sm
  var lse = [T](repeating: sentinel, count: rows + 1)  // one guard element past the last row
  try strided.withUnsafeBufferPointer { x in
    try sm.withUnsafeMutableBufferPointer { y in
      try softmax(x, rows: rows, cols: cols, stride: cols + pad, output: y, outputStride: cols + outPad, options: options)
    }
    try lsm.withUnsafeMutableBufferPointer { y in
      try logSoftmax(x, rows: rows, cols: cols, stride: cols + pad, output: y, outputStride: cols + outPad, options: options)
    }
    try lse.withUnsafeMutableBufferPointer { y in
      try logSumExp(x, rows: rows, cols: cols, stride: cols + pad, output: y, options: options)
    }
  }
  // In place on the packed matrix must give bit-identical results.
  let smInPlace = try softmax(m.values, cols: cols, options: options)
  let lsmInPlace = try logSoftmax(m.values, cols: cols, options: options)

  let refSM = Reference.softmax(m.values, rows: rows, cols: cols), oraSM = Oracle.softmax(m.values, rows: rows, cols: cols)
  let refLSM = Reference.logSoftmax(m.values, rows: rows, cols: cols), oraLSM = Oracle.logSoftmax(m.values, rows: rows, cols: cols)
  let refLSE = Reference.logSumExp(m.values, rows: rows, cols: cols), oraLSE = Oracle.logSumExp(m.values, rows: rows, cols: cols)

  var worstSM = ElementError(error: 0, bound: 1), worstLog = ElementError(error: 0, bound: 1)
  var failures: [String] = []
  func note(_ s: String) { if failures.count < 5 { failures.append(s) } }

  for r in 0..<rows {
    let row = m.row(r)
    let rowMax = row.reduce(-T.infinity) { $1 > $0 ? $1 : $0 }
    let rowHasNaN = row.contains { $0.isNaN }
    // The scalar reference forms lse = m + l and log-softmax = (x - m) - l with l = log1p(excess)
    // rounded on its own, so when m and l nearly cancel (m < 0, lse near 0) its error is in units
    // of ulp(l), up to twice SPEC's unit (seen: 4.03 units). Its check is a sanity check of the
    // test machinery, so it gets |l| in the scale too; the kernels are held to SPEC's bound alone.
    let l = rowMax.isFinite && oraLSE[r].isFinite ? abs(oraLSE[r] - T.Wide(rowMax)) : 0
    func referenceScale(_ x: T) -> T { Swift.max(abs(x), T(l)) }
    // logsumexp
    for (name, value) in [("kernel", lse[r]), ("reference", refLSE[r])] {
      let e = Accuracy.logScale(value, oracle: oraLSE[r], x: name == "kernel" ? rowMax : referenceScale(rowMax), lse: oraLSE[r])
      if name == "kernel" { worstLog = max(worstLog, e) }
      if !e.passes { note("lse \(name) row \(r): \(value) vs oracle \(oraLSE[r]) (\(e.error) > \(e.bound) ulp)") }
    }
    for j in 0..<cols {
      let k = r * cols + j, ks = r * (cols + outPad) + j, x = m.values[k]
      if !identical(smInPlace[k], sm[ks]) { note("softmax in-place differs at \(r),\(j)") }
      if !identical(lsmInPlace[k], lsm[ks]) { note("log-softmax in-place differs at \(r),\(j)") }
      for (name, y) in [("kernel", sm[ks]), ("reference", refSM[k])] {
        let e = Accuracy.softmax(y, oracle: oraSM[k], x: x, max: rowMax)
        if name == "kernel" { worstSM = max(worstSM, e) }
        if !e.passes { note("softmax \(name) at \(r),\(j) x=\(x): \(y) vs oracle \(oraSM[k]) (\(e.error) > \(e.bound) ulp)") }
        if !rowHasNaN && !(y >= 0 && y <= 1) { note("softmax \(name) out of [0, 1] at \(r),\(j): \(y)") }
      }
      for (name, y) in [("kernel", lsm[ks]), ("reference", refLSM[k])] {
        let e = Accuracy.logScale(y, oracle: oraLSM[k], x: name == "kernel" ? x : referenceScale(x), lse: oraLSE[r])
        if name == "kernel" { worstLog = max(worstLog, e) }
        if !e.passes { note("log-softmax \(name) at \(r),\(j) x=\(x): \(y) vs oracle \(oraLSM[k]) (\(e.error) > \(e.bound) ulp)") }
        if !rowHasNaN && !(y <= 0) { note("log-softmax \(name) > 0 or NaN at \(r),\(j): \(y)") }
      }
      if rowHasNaN && !(sm[ks].isNaN && lsm[ks].isNaN) { note("NaN row \(r) not NaN at \(j)") }
      // SPEC: a masked class gets exactly +0 and -inf, as does every finite entry of a row with
      // a +inf (the accuracy bounds above let 2 leastNormalMagnitude through: not here).
      if !rowHasNaN && (x == -.infinity || (rowMax == .infinity && x != .infinity)) {
        if !(sm[ks] == 0 && sm[ks].sign == .plus) { note("softmax at \(r),\(j) x=\(x) not exactly +0: \(sm[ks])") }
        if lsm[ks] != -.infinity { note("log-softmax at \(r),\(j) x=\(x) not exactly -inf: \(lsm[ks])") }
      }
    }
    for j in cols..<(cols + outPad) {
      let ks = r * (cols + outPad) + j
      if sm[ks] != sentinel || lsm[ks] != sentinel { note("stride padding written at \(r),\(j)") }
    }
  }
  if lse[rows] != sentinel { note("logsumexp wrote past its last row") }
  #expect(failures.isEmpty, "\(T.self) \(options.mode) \(m): \(failures.joined(separator: "; "))", sourceLocation: sourceLocation)
  return (worstSM, worstLog)
}

/// Each row's softmax, log-softmax and logsumexp in `m` are bit-identical to those of the row on
/// its own: a row's result does not depend on its neighbours (the row blocks take rows `width` at
/// a time; a block with a non-finite row, or a last partial block, must not change the others).
func checkRowsIndependent<T: ReferenceScalar>(
  _ m: Matrix<T>, options: KernelOptions = .accurate, sourceLocation: SourceLocation = #_sourceLocation
) throws {
  guard m.cols > 0 else { return }
  let sm = try softmax(m.values, cols: m.cols, options: options)
  let lsm = try logSoftmax(m.values, cols: m.cols, options: options)
  let lse = try logSumExp(m.values, cols: m.cols, options: options)
  var failures: [String] = []
  for r in 0..<m.rows {
    let row = Array(m.row(r)), range = (r * m.cols)..<((r + 1) * m.cols)
    if !sm[range].elementsEqual(try softmax(row, cols: m.cols, options: options), by: identical) { failures.append("softmax row \(r)") }
    if !lsm[range].elementsEqual(try logSoftmax(row, cols: m.cols, options: options), by: identical) { failures.append("log-softmax row \(r)") }
    if !identical(lse[r], try logSumExp(row, cols: m.cols, options: options)[0]) { failures.append("logsumexp row \(r)") }
  }
  #expect(failures.isEmpty, "\(T.self) \(options.mode) \(m): differs from the row alone: \(failures.prefix(5))", sourceLocation: sourceLocation)
}

/// Same value, same sign of zero, or both NaN.
func identical<T: BinaryFloatingPoint>(_ a: T, _ b: T) -> Bool {
  (a.isNaN && b.isNaN) || (a == b && a.sign == b.sign)
}
