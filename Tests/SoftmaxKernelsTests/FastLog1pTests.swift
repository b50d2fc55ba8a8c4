import SoftmaxKernels
#if arch(x86_64) && !SOFTMAXKERNELS_PORTABLE
import SoftmaxKernelsAVX512
#endif
import SoftmaxKernelsCore
import SoftmaxReference
import Testing

// The fast mode's inlined log1p on [0, 1] (binary cross-entropy's ln(1 + e^-|x|)), measured
// against the C library's log1p in the wider type: within 1 ulp, SLEEF's u10 promise, over a
// sweep of every 997th Float of [0, 1] (SOFTMAXKERNELS_LOG1P_STEP=1 makes it every Float) and
// Doubles spread over the same binades, the reduction's boundary u = sqrt 2 and the special values.

@Suite("Fast mode log1p on [0, 1]")
struct FastLog1pTests {
  /// The sweep's x: every `step`-th bit pattern of [0, 1] for Float; for Double, `count` points
  /// per binade from 2^-1074 up, and uniform points of [0, 1]. Both add the neighbours of
  /// sqrt 2 - 1 (where the reduction switches), 0, 1 and the least subnormal.
  static func floats(step: UInt32) -> [Float] {
    var xs = stride(from: UInt32(0), through: Float(1).bitPattern, by: Int(step)).map { Float(bitPattern: $0) }
    var e = Float(2).squareRoot() - 1
    e = e.nextDown.nextDown
    for _ in 0..<5 { xs.append(e); e = e.nextUp }
    return xs + [0, 1, Float(1).nextDown, .leastNonzeroMagnitude, .leastNormalMagnitude]
  }

  static func doubles(perBinade count: Int) -> [Double] {
    var xs: [Double] = []
    var d = SplitMix(seed: 11)
    for exponent in -1074..<0 {
      let lo = Double(sign: .plus, exponent: exponent, significand: 1)
      for _ in 0..<count { xs.append(Swift.min(1, lo * (1 + d.next(0...1)))) }
    }
    for k in 0...100_000 { xs.append(Double(k) / 100_000) }
    var e = Double(2).squareRoot() - 1
    e = e.nextDown.nextDown
    for _ in 0..<5 { xs.append(e); e = e.nextUp }
    return xs + [0, 1, Double(1).nextDown, .leastNonzeroMagnitude, .leastNormalMagnitude]
  }

  /// Worst error in ulps of the result (a subnormal result's ulp is the least nonzero
  /// magnitude) of `f`, `lanes` at a time, against the wider type's log1p.
  static func worstUlps<T: ReferenceScalar>(_ xs: [T], lanes: Int, _ f: ([T]) -> [T]) -> (ulps: Double, at: T) {
    var worst = (ulps: 0.0, at: T(0))
    var k = 0
    while k < xs.count {
      let chunk = Array(xs[k..<Swift.min(k + lanes, xs.count)])
      let y = f(chunk + [T](repeating: 0, count: lanes - chunk.count))
      for (i, x) in chunk.enumerated() {
        let exact = T.Wide.libmLog1p(T.Wide(x))
        let e = Double(abs(T.Wide(y[i]) - exact) / T.Wide(T(exact).ulp))
        if !(e <= worst.ulps) { worst = (e, x) }
      }
      k += lanes
    }
    return worst
  }

  static var floatStep: UInt32 { ProcessInfoLite.environment("SOFTMAXKERNELS_LOG1P_STEP").flatMap { UInt32($0) } ?? 997 }

  @Test("Float: within 1 ulp on [0, 1] (generic, 4 lanes)")
  func floatGeneric() {
    let w = Self.worstUlps(Self.floats(step: Self.floatStep), lanes: 4) { v in
      let r = FastFloat4.fastLog1pOnUnitInterval(SIMD4(v))
      return (0..<4).map { r[$0] }
    }
    print("fast log1p Float (generic) worst error on [0, 1]: \(w.ulps) ulp at x = \(w.at)")
    #expect(w.ulps <= 1, "at x = \(w.at)")
  }

  @Test("Double: within 1 ulp on [0, 1] (generic, 2 lanes)")
  func doubleGeneric() {
    let w = Self.worstUlps(Self.doubles(perBinade: 200), lanes: 2) { v in
      let r = FastDouble2.fastLog1pOnUnitInterval(SIMD2(v))
      return [r[0], r[1]]
    }
    print("fast log1p Double (generic) worst error on [0, 1]: \(w.ulps) ulp at x = \(w.at)")
    #expect(w.ulps <= 1, "at x = \(w.at)")
  }

  @Test("Exact where it must be: log1p(0) = +0, log1p(subnormal) = x, NaN stays NaN")
  func specialValues() {
    let f = FastFloat4.fastLog1pOnUnitInterval(SIMD4<Float>(0, .leastNonzeroMagnitude, .nan, 0x1p-30))
    #expect(f[0] == 0 && f[0].sign == .plus && f[1] == .leastNonzeroMagnitude && f[2].isNaN && f[3] == 0x1p-30)
    let d = FastDouble2.fastLog1pOnUnitInterval(SIMD2<Double>(0, .nan))
    #expect(d[0] == 0 && d[0].sign == .plus && d[1].isNaN)
    let d2 = FastDouble2.fastLog1pOnUnitInterval(SIMD2<Double>(.leastNonzeroMagnitude, 0x1p-60))
    #expect(d2[0] == .leastNonzeroMagnitude && d2[1] == 0x1p-60)
  }

  #if arch(x86_64) && !SOFTMAXKERNELS_PORTABLE
  /// The AVX-512 backend's instance (its own FMA and lane-select intrinsics): the same bound.
  @Test("AVX-512: within 1 ulp on [0, 1], Float and Double", .enabled(if: InstructionSet.supported == .avx512))
  func avx512() {
    let wf = Self.worstUlps(Self.floats(step: Self.floatStep), lanes: 16) { v in
      let r = AVX512Backend.fastFloatLog1pOnUnitInterval(SIMD16(v))
      return (0..<16).map { r[$0] }
    }
    let wd = Self.worstUlps(Self.doubles(perBinade: 200), lanes: 8) { v in
      let r = AVX512Backend.fastDoubleLog1pOnUnitInterval(SIMD8(v))
      return (0..<8).map { r[$0] }
    }
    print("fast log1p AVX-512 worst error on [0, 1]: Float \(wf.ulps) ulp at \(wf.at), Double \(wd.ulps) ulp at \(wd.at)")
    #expect(wf.ulps <= 1, "Float at x = \(wf.at)")
    #expect(wd.ulps <= 1, "Double at x = \(wd.at)")
    let special = AVX512Backend.fastFloatLog1pOnUnitInterval(SIMD16<Float>(0, .nan, .leastNonzeroMagnitude, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    #expect(special[0] == 0 && special[1].isNaN && special[2] == .leastNonzeroMagnitude)
  }
  #endif
}
