import SoftmaxKernelsCore
import SoftmaxReference
import Testing

// The fast mode's inlined exp, measured against the C library's exp in the wider type. The
// kernels only evaluate it on x - max <= 0 and -|x|, so that is the domain swept here.

private enum FastFloat4: VectorMath {
  typealias Scalar = Float
  typealias Vector = SIMD4<Float>
  static func exp(_ x: Vector) -> Vector { fastExp(x) }
  static func log(_ x: Vector) -> Vector { x }
  static func log1p(_ x: Vector) -> Vector { x }
}

private enum FastDouble2: VectorMath {
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
      worstD = max(worstD, abs(FastDouble2.exp(xd) - Double(Float80.libmExp(Float80(xd)))) / Double.leastNonzeroMagnitude)
    }
    print("fastExp worst error below the normal range: Float \(worstF), Double \(worstD) subnormal ulps")
    #expect(worstF <= 1 && worstD <= 1)
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
}
