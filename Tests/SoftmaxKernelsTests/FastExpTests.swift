import SoftmaxKernels
#if arch(x86_64) && !SOFTMAXKERNELS_PORTABLE
import SoftmaxKernelsAVX2
import SoftmaxKernelsAVX512
#endif
import SoftmaxKernelsCore
import SoftmaxReference
import Testing

// The fast mode's inlined exp, measured against the C library's exp in the wider type. The
// kernels only evaluate it on x - max <= 0 and -|x|, so that is the domain swept here.

/// The generic fast exp on 4 Float lanes (also the lane operations `DoubleWordTests` needs).
enum FastFloat4: VectorMath {
  typealias Scalar = Float
  typealias Vector = SIMD4<Float>
  static func exp(_ x: Vector) -> Vector { fastExp(x) }
  static func log(_ x: Vector) -> Vector { x }
  static func log1p(_ x: Vector) -> Vector { x }
}

enum FastDouble2: VectorMath {
  typealias Scalar = Double
  typealias Vector = SIMD2<Double>
  static func exp(_ x: Vector) -> Vector { fastExp(x) }
  static func log(_ x: Vector) -> Vector { x }
  static func log1p(_ x: Vector) -> Vector { x }
}

/// Largest error of `fastExp` in ulps of the result over `count` points of [lo, 0] (normal results).
private func worstUlps<M: VectorMath>(_: M.Type, lo: M.Scalar, count: Int) -> Double
where M.Scalar: ReferenceScalar {
  var worst = 0.0
  for k in 0...count {
    let x = lo * M.Scalar(k) / M.Scalar(count)
    let y = M.exp(x)
    let exact = M.Scalar.Wide.libmExp(M.Scalar.Wide(x))
    let ulp = M.Scalar.Wide(M.Scalar(exact).ulp)
    worst = max(worst, Double(abs(M.Scalar.Wide(y) - exact) / ulp))
  }
  return worst
}

@Suite("Fast mode exp")
struct FastExpTests {
  @Test("Float fastExp is within 2 ulp on [-87, 0]")
  func floatAccuracy() {
    let worst = worstUlps(FastFloat4.self, lo: -87, count: 200_000)
    print("fastExp Float worst error on [-87, 0]: \(worst) ulp")
    #expect(worst <= 2)
  }

  @Test("Double fastExp is within 2 ulp on [-708, 0]")
  func doubleAccuracy() {
    let worst = worstUlps(FastDouble2.self, lo: -708, count: 200_000)
    print("fastExp Double worst error on [-708, 0]: \(worst) ulp")
    #expect(worst <= 2)
  }

  @Test("fastExp underflows gradually: within 1 subnormal ulp on [-103, -87] (Float), [-744, -708] (Double)")
  func gradualUnderflow() {
    var worstF = Float(0), worstD = Double(0)
    for k in 0...20_000 {
      let xf = -87 - 16 * Float(k) / 20_000
      worstF = max(worstF, abs(FastFloat4.exp(xf) - Float(Double.libmExp(Double(xf)))) / Float.leastNonzeroMagnitude)
      let xd = -708 - 36 * Double(k) / 20_000
      worstD = max(worstD, abs(FastDouble2.exp(xd) - Double(Double.Wide.libmExp(Double.Wide(xd)))) / Double.leastNonzeroMagnitude)
    }
    print("fastExp worst error below the normal range: Float \(worstF), Double \(worstD) subnormal ulps")
    #expect(worstF <= 1 && worstD <= 1)
  }

  /// The one-step reduction (`VectorMath.expOneStepReduced`, the grouped exp-sum of the fast
  /// Float kernels) may add up to |x| 2.75e-9 relative: it must stay within
  /// (0.9 + 0.025 |x|) ulp(1) relative on the normal range, which is well inside SPEC's
  /// (|x_j - m| + 4) ulp(1) for softmax; below it that relative error (at most 3.5 ulp(1) of
  /// results under 2^-126) and the final rounding stay within 4 subnormal ulps (SPEC allows
  /// 2 leastNormalMagnitude, 2^24 of them); the special values are exact as with `fastExp`.
  @Test("Float fastExp with the one-step reduction: within (0.9 + 0.025 |x|) ulp(1) relative on [-87, 0]")
  func oneStepReduction() {
    checkOneStepReduction("generic") { FastFloat4.fastExp(SIMD4(repeating: $0), oneStepReduction: true)[0] }
    let special = FastFloat4.fastExp(SIMD4<Float>(0, -.infinity, .nan, -200), oneStepReduction: true)
    #expect(special[0] == 1 && special[1] == 0 && special[2].isNaN && special[3] == 0)
  }

  #if arch(x86_64) && !SOFTMAXKERNELS_PORTABLE
  /// The AVX-512 backend's own one-FMA exp (2^n by `vscalefps`), which the AVX-512 fast Float
  /// exp-sum calls: the same bounds, directly.
  @Test("AVX-512 fast Float exp with the one-step reduction: the same bounds", .enabled(if: InstructionSet.supported == .avx512))
  func oneStepReductionAVX512() {
    checkOneStepReduction("AVX-512") { AVX512Backend.fastFloatExpOneStepReduced(SIMD16(repeating: $0))[0] }
    let special = AVX512Backend.fastFloatExpOneStepReduced(SIMD16<Float>(0, -.infinity, .nan, -200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    #expect(special[0] == 1 && special[1] == 0 && special[2].isNaN && special[3] == 0)
  }
  #endif

  /// Sweeps `f` (a one-step-reduced exp of one lane) over [-87, 0] against (0.9 + 0.025 |x|)
  /// ulp(1) relative, and below the normal range against 4 subnormal ulps.
  func checkOneStepReduction(_ name: String, _ f: (Float) -> Float) {
    var worst = 0.0, worstSub = Float(0)
    for k in 0...200_000 {
      let x = -87 * Float(k) / 200_000
      let exact = Double.libmExp(Double(x))
      let relative = abs(Double(f(x)) - exact) / exact / Double(Float.ulpOfOne)
      worst = max(worst, relative - 0.025 * Double(abs(x)))
    }
    for k in 0...20_000 {
      let x = -87.34 - 16 * Float(k) / 20_000  // ln(2^-126) = -87.336: results below the normal range
      worstSub = max(worstSub, abs(f(x) - Float(Double.libmExp(Double(x)))) / Float.leastNonzeroMagnitude)
    }
    print("fastExp one-step Float (\(name)): worst relative error - 0.025 |x|: \(worst) ulp(1); below the normal range \(worstSub) subnormal ulps")
    #expect(worst <= 0.9, "\(name)")
    #expect(worstSub <= 4, "\(name)")
  }

  @Test("fastExp: exp(0) = 1 exactly, exp(-inf) = 0 exactly, NaN stays NaN, underflow gives 0")
  func specialValues() {
    let f = FastFloat4.exp(SIMD4<Float>(0, -.infinity, .nan, -200))  // e^-200 < least subnormal
    #expect(f[0] == 1 && f[1] == 0 && f[1].sign == .plus && f[2].isNaN && f[3] == 0)
    let d = FastDouble2.exp(SIMD2<Double>(0, -.infinity))
    #expect(d[0] == 1 && d[1] == 0)
    let d2 = FastDouble2.exp(SIMD2<Double>(.nan, -1000))  // e^-1000 < least subnormal
    #expect(d2[0].isNaN && d2[1] == 0)
  }

  /// Regression (FuzzExp): `VectorExp.exp` in fast mode clamped x at 43 (Float) / 354 (Double),
  /// so exp(128) came out as a finite 4.7e18. Its any-argument exp must be within 2 ulp up to the
  /// overflow threshold and +inf past it, through the public API on the active backend.
  @Test("fast VectorExp: within 2 ulp on [0, ln(max)], +inf past it (found by fuzzing)")
  func fastVectorExpCoversPositiveArguments() throws {
    func check<T: ReferenceScalar>(_: T.Type, top: T) throws -> Double {
      let xs = (0...20_000).map { top * T($0) / 20_000 } + [top + 1, 1000, 1e30, .infinity, .greatestFiniteMagnitude]
      var y = [T](repeating: 0, count: xs.count)
      try xs.withUnsafeBufferPointer { x in try y.withUnsafeMutableBufferPointer { try VectorExp.exp(x, output: $0, options: .fast) } }
      var worst = 0.0
      for (x, v) in zip(xs, y) {
        let exact = T.Wide.libmExp(T.Wide(x))
        if !T(exact).isFinite { #expect(v == .infinity, "exp(\(x)) = \(v)"); continue }
        worst = max(worst, Double(abs(T.Wide(v) - exact) / T.Wide(T(exact).ulp)))
      }
      return worst
    }
    let f = try check(Float.self, top: Float(Double.libmLog(Double(Float.greatestFiniteMagnitude))))
    let d = try check(Double.self, top: Double(Double.Wide.libmLog(Double.Wide(Double.greatestFiniteMagnitude))))
    print("fast VectorExp worst error on [0, ln(max)]: Float \(f), Double \(d) ulp")
    #expect(f <= 2 && d <= 2)
  }
}

#if arch(x86_64) && !SOFTMAXKERNELS_PORTABLE
@Suite("AVX-512 backend")
struct AVX512BackendTests {
  /// x values over the whole domain: a dense sweep of [lo, hi], the boundaries of the normal,
  /// subnormal and overflow ranges with their neighbours, and the special values.
  static func arguments<T: BinaryFloatingPoint>(lo: T, hi: T, edges: [T]) -> [T] {
    var xs = (0...40_000).map { lo + (hi - lo) * T($0) / 40_000 }
    for e in edges { xs += [e, e.nextUp, e.nextDown, -e] }
    xs += [0, -0.0, .infinity, -.infinity, .nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude]
    return xs
  }

  /// The AVX-512 fast exp applies 2^n with `vscalefp` instead of building it from bits: it must
  /// give the same bits as the AVX2 backend's `fastExpAnyArgument` (and 0, +inf, NaN alike).
  func checkSameBits<T: SoftmaxScalar & BinaryFloatingPoint>(
    _ xs: [T], _ avx512: KernelTable<T, T>, _ avx2: KernelTable<T, T>
  ) {
    var a = [T](repeating: 0, count: xs.count), b = a
    xs.withUnsafeBufferPointer { x in
      a.withUnsafeMutableBufferPointer { avx512.exp(x.baseAddress!, x.count, $0.baseAddress!) }
      b.withUnsafeMutableBufferPointer { avx2.exp(x.baseAddress!, x.count, $0.baseAddress!) }
    }
    var differences = 0
    for (k, x) in xs.enumerated() where !(a[k] == b[k] || (a[k].isNaN && b[k].isNaN)) {
      if differences < 5 { Issue.record("exp(\(x)): AVX-512 \(a[k]), AVX2 \(b[k])") }
      differences += 1
    }
    #expect(differences == 0)
  }

  @Test("fast exp: AVX-512 (vscalefps) gives the AVX2 backend's bits for every x",
        .enabled(if: InstructionSet.supported == .avx512, "needs a CPU with AVX-512"))
  func fastExpMatchesAVX2() {
    let ln2: Float = 0.693_147_2
    checkSameBits(
      Self.arguments(lo: Float(-110), hi: 95, edges: [88.722_84, 88.376_26, 87.336_54, 103.972_08, 104, 89, ln2 / 2]),
      AVX512Backend.fastFloat, AVX2Backend.fastFloat)
    checkSameBits(
      Self.arguments(lo: Double(-760), hi: 720, edges: [709.782_712_893_384, 708.396_418_532_264, 745.133_219_101_941_1, 746, 710, 0.346_573_590_279_972_6]),
      AVX512Backend.fastDouble, AVX2Backend.fastDouble)
  }
}
#endif
