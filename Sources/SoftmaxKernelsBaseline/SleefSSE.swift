// The baseline (portable) backend: 4 x Float and 2 x Double through SLEEF's 128-bit functions,
// compiled with default flags. On x86-64 (any CPU) `Sleef_expf4_u10` and the others are SLEEF's
// dispatchers, which pick SSE2 or SSE4.1 code at run time; on arm64 the same names are SLEEF's
// aliases of its AdvSIMD functions (`Sleef_expf4_u10advsimd`, ...), taking `float32x4_t` /
// `float64x2_t`, which Swift imports as SIMD4<Float> / SIMD2<Double> as it does `__m128` /
// `__m128d`. Nothing here is x86-specific: it is the only backend on every other architecture.
internal import CSleef
package import SoftmaxKernelsCore

/// 4 x Float with SLEEF `Sleef_*f4_u10`.
enum SleefSSEFloat: VectorMath {
  typealias Scalar = Float
  typealias Vector = SIMD4<Float>
  @inline(__always) static func exp(_ x: Vector) -> Vector { Sleef_expf4_u10(x) }
  @inline(__always) static func log(_ x: Vector) -> Vector { Sleef_logf4_u10(x) }
  @inline(__always) static func log1p(_ x: Vector) -> Vector { Sleef_log1pf4_u10(x) }
}

/// 2 x Double with SLEEF `Sleef_*d2_u10`.
enum SleefSSEDouble: VectorMath {
  typealias Scalar = Double
  typealias Vector = SIMD2<Double>
  @inline(__always) static func exp(_ x: Vector) -> Vector { Sleef_expd2_u10(x) }
  @inline(__always) static func log(_ x: Vector) -> Vector { Sleef_logd2_u10(x) }
  @inline(__always) static func log1p(_ x: Vector) -> Vector { Sleef_log1pd2_u10(x) }
}

/// Fast mode, 4 x Float: the inlined `fastExp`; log and log1p from SLEEF; BCE's log1p inlined.
enum FastSSEFloat: VectorMath {
  typealias Scalar = Float
  typealias Vector = SIMD4<Float>
  static var inlinesExp: Bool { true }
  @inline(__always) static func exp(_ x: Vector) -> Vector { fastExp(x) }
  @inline(__always) static func expAnyArgument(_ x: Vector) -> Vector { fastExpAnyArgument(x) }
  @inline(__always) static func expOneStepReduced(_ x: Vector) -> Vector { fastExp(x, oneStepReduction: true) }
  @inline(__always) static func log(_ x: Vector) -> Vector { SleefSSEFloat.log(x) }
  @inline(__always) static func log1p(_ x: Vector) -> Vector { SleefSSEFloat.log1p(x) }
  @inline(__always) static func log1pOnUnitInterval(_ x: Vector) -> Vector { fastLog1pOnUnitInterval(x) }
}

/// Fast mode, 2 x Double: the inlined `fastExp`; log and log1p from SLEEF; BCE's log1p inlined.
enum FastSSEDouble: VectorMath {
  typealias Scalar = Double
  typealias Vector = SIMD2<Double>
  static var inlinesExp: Bool { true }
  @inline(__always) static func exp(_ x: Vector) -> Vector { fastExp(x) }
  @inline(__always) static func expAnyArgument(_ x: Vector) -> Vector { fastExpAnyArgument(x) }
  @inline(__always) static func log(_ x: Vector) -> Vector { SleefSSEDouble.log(x) }
  @inline(__always) static func log1p(_ x: Vector) -> Vector { SleefSSEDouble.log1p(x) }
  @inline(__always) static func log1pOnUnitInterval(_ x: Vector) -> Vector { fastLog1pOnUnitInterval(x) }
}

/// The baseline kernel tables: safe on every x86-64 CPU, and the kernels of every other architecture.
#if os(Linux) && (!arch(x86_64) || SOFTMAXKERNELS_PORTABLE)
/// binary16 through the CPU's conversions (FCVT on arm64; on x86-64 the portable configuration
/// runs this code through the compiler's software conversions).
typealias Float16Format = Binary16Native
#else
/// binary16 by integer arithmetic: SSE2 has no conversion instructions (and Darwin has no
/// `Float16` on x86-64, nor before macOS 11).
typealias Float16Format = Binary16Bits
#endif

package enum BaselineBackend {
  package static let float: KernelTable<Float, Float> = KernelTable(SleefSSEFloat.self)
  package static let double: KernelTable<Double, Double> = KernelTable(SleefSSEDouble.self)
  package static let fastFloat: KernelTable<Float, Float> = KernelTable(FastSSEFloat.self)
  package static let fastDouble: KernelTable<Double, Double> = KernelTable(FastSSEDouble.self)
  package static let bfloat16: KernelTable<UInt16, Float> = KernelTable(HalfStorage<SleefSSEFloat, BFloat16Bits>.self)
  package static let fastBFloat16: KernelTable<UInt16, Float> = KernelTable(HalfStorage<FastSSEFloat, BFloat16Bits>.self)
  package static let float16: KernelTable<UInt16, Float> = KernelTable(HalfStorage<SleefSSEFloat, Float16Format>.self)
  package static let fastFloat16: KernelTable<UInt16, Float> = KernelTable(HalfStorage<FastSSEFloat, Float16Format>.self)
}
