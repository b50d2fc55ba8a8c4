// The AVX2 + FMA backend: 8 x Float and 4 x Double, SLEEF's 1-ulp AVX2 functions.
// This module alone is compiled with `-target-cpu haswell` (see Package.swift); nothing in it runs
// unless `SoftmaxKernels` has seen AVX2 and FMA in CPUID.
#if arch(x86_64)  // an x86-64 backend: Package.swift builds it for x86-64 hosts only
internal import CSleef
package import SoftmaxKernelsCore

/// 8 x Float with SLEEF `Sleef_*f8_u10avx2`.
enum SleefAVX2Float: VectorMath {
  typealias Scalar = Float
  typealias Vector = SIMD8<Float>
  @inline(__always) static func exp(_ x: Vector) -> Vector { Sleef_expf8_u10avx2(x) }
  @inline(__always) static func log(_ x: Vector) -> Vector { Sleef_logf8_u10avx2(x) }
  @inline(__always) static func log1p(_ x: Vector) -> Vector { Sleef_log1pf8_u10avx2(x) }
}

/// 4 x Double with SLEEF `Sleef_*d4_u10avx2`.
enum SleefAVX2Double: VectorMath {
  typealias Scalar = Double
  typealias Vector = SIMD4<Double>
  @inline(__always) static func exp(_ x: Vector) -> Vector { Sleef_expd4_u10avx2(x) }
  @inline(__always) static func log(_ x: Vector) -> Vector { Sleef_logd4_u10avx2(x) }
  @inline(__always) static func log1p(_ x: Vector) -> Vector { Sleef_log1pd4_u10avx2(x) }
}

/// Fast mode, 8 x Float: the inlined `fastExp`; log and log1p (once per row) from SLEEF; BCE's log1p inlined.
enum FastAVX2Float: VectorMath {
  typealias Scalar = Float
  typealias Vector = SIMD8<Float>
  static var inlinesExp: Bool { true }
  @inline(__always) static func exp(_ x: Vector) -> Vector { fastExp(x) }
  @inline(__always) static func expAnyArgument(_ x: Vector) -> Vector { fastExpAnyArgument(x) }
  @inline(__always) static func expOneStepReduced(_ x: Vector) -> Vector { fastExp(x, oneStepReduction: true) }
  @inline(__always) static func log(_ x: Vector) -> Vector { SleefAVX2Float.log(x) }
  @inline(__always) static func log1p(_ x: Vector) -> Vector { SleefAVX2Float.log1p(x) }
  @inline(__always) static func log1pOnUnitInterval(_ x: Vector) -> Vector { fastLog1pOnUnitInterval(x) }
}

/// Fast mode, 4 x Double: the inlined `fastExp`; log and log1p from SLEEF; BCE's log1p inlined.
enum FastAVX2Double: VectorMath {
  typealias Scalar = Double
  typealias Vector = SIMD4<Double>
  static var inlinesExp: Bool { true }
  @inline(__always) static func exp(_ x: Vector) -> Vector { fastExp(x) }
  @inline(__always) static func expAnyArgument(_ x: Vector) -> Vector { fastExpAnyArgument(x) }
  @inline(__always) static func log(_ x: Vector) -> Vector { SleefAVX2Double.log(x) }
  @inline(__always) static func log1p(_ x: Vector) -> Vector { SleefAVX2Double.log1p(x) }
  @inline(__always) static func log1pOnUnitInterval(_ x: Vector) -> Vector { fastLog1pOnUnitInterval(x) }
}

// `VectorMath.materialized` (an optimization barrier for the lane-folding trees) for 8 x Float.
// 4 x Double keeps the default: LLVM's own narrowing of a 4-lane tree is already as short.
extension VectorMath where Vector == SIMD8<Float> {
  @inline(__always) static func materialized(_ v: Vector) -> Vector { softmaxkernels_materialize_f8(v) }
}

/// The AVX2 kernel tables. Only call them on a CPU with AVX2 and FMA.
package enum AVX2Backend {
  package static let float: KernelTable<Float, Float> = KernelTable(SleefAVX2Float.self)
  package static let double: KernelTable<Double, Double> = KernelTable(SleefAVX2Double.self)
  package static let fastFloat: KernelTable<Float, Float> = KernelTable(FastAVX2Float.self)
  package static let fastDouble: KernelTable<Double, Double> = KernelTable(FastAVX2Double.self)
  package static let bfloat16: KernelTable<UInt16, Float> = KernelTable(HalfStorage<SleefAVX2Float, BFloat16Bits>.self)
  package static let fastBFloat16: KernelTable<UInt16, Float> = KernelTable(HalfStorage<FastAVX2Float, BFloat16Bits>.self)
  package static let float16: KernelTable<UInt16, Float> = KernelTable(HalfStorage<SleefAVX2Float, Binary16Native>.self)
  package static let fastFloat16: KernelTable<UInt16, Float> = KernelTable(HalfStorage<FastAVX2Float, Binary16Native>.self)
}
#endif
