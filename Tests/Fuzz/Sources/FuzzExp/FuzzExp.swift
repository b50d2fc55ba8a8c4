import FuzzSupport
import SoftmaxKernels
import SoftmaxReference

// VectorExp.exp (the exp floor of every kernel) in both modes, out of place and in place, on any
// length: within 1 ulp of the wider-precision exp in accurate mode and 2 ulp in fast mode (1
// subnormal ulp below the normal range); exact at 0, +-inf, NaN and past the thresholds.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExp(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  fuzzFloatAndDouble(data, size, float: ExpHarness<Float>.run, double: ExpHarness<Double>.run)
}

struct ExpHarness<T: FuzzScalar> {
  static func run(_ input: inout FuzzInput) {
    let mode: KernelOptions.Mode = input.bool() ? .accurate : .fast
    let inPlace = input.bool()
    let n = input.chance(16) ? input.int(0...5000) : input.int(0...70)
    let x = input.scalars(T.self, count: n)
    let short = n > 0 && input.chance(16)
    let what = "\(T.self) exp \(mode) \(inPlace ? "in place" : "out of place") n \(n)"
    var y = [T](repeating: sentinel(T.self), count: short ? n - 1 : n + 1)
    var data = x
    let ran = expectOutcome(short ? Defect.outputTooSmall : nil, buffers: { [x, y, data] }, what) { () throws(SoftmaxError) in
      if inPlace && !short {
        try data.withUnsafeMutableBufferPointer { (b) throws(SoftmaxError) in try VectorExp.exp(UnsafeBufferPointer(b), output: b, options: KernelOptions(mode: mode)) }
      } else {
        try x.withUnsafeBufferPointer { (xb) throws(SoftmaxError) in
          try y.withUnsafeMutableBufferPointer { (yb) throws(SoftmaxError) in try VectorExp.exp(xb, output: yb, options: KernelOptions(mode: mode)) }
        }
      }
    }
    guard ran else { return }
    let out = inPlace ? data : Array(y.prefix(n))
    if !inPlace { require(y[n].bits == sentinel(T.self).bits, "\(what): wrote past n") }
    let ulps: T.Wide = mode == .accurate ? 1 : 2
    for k in 0..<n {
      let e = T.Wide.libmExp(T.Wide(x[k]))
      let v = out[k]
      let at = "\(what) x[\(k)] = \(x[k]): exp \(v) vs \(e)"
      if x[k].isNaN { require(v.isNaN, at); continue }
      let rounded = T(e)
      if !rounded.isFinite || rounded == 0 || x[k] == 0 {
        // Past the thresholds (and at 0) the answer is exact; near them allow the last ulp step.
        require(v == rounded || abs(T.Wide(v) - e) <= ulps * T.Wide(T.leastNonzeroMagnitude)
                  || (!rounded.isFinite && v == T.greatestFiniteMagnitude && e < T.Wide(T.greatestFiniteMagnitude) * (1 + T.Wide(T.ulpOfOne))), at)
        continue
      }
      let unit = T.Wide(Swift.max(rounded.ulp, T.leastNonzeroMagnitude))
      require(v.isFinite && abs(T.Wide(v) - e) <= ulps * unit, "\(at) (\(abs(T.Wide(v) - e) / unit) ulp)")
    }
  }
}
