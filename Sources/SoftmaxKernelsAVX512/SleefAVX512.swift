// The AVX-512 backend: 16 x Float and 8 x Double, SLEEF's 1-ulp AVX-512F functions.
// This module alone is compiled for Skylake-AVX512 with 512-bit vectors preferred (see
// Package.swift); nothing in it runs unless `SoftmaxKernels` has seen AVX-512 F/CD/BW/DQ/VL, BMI1,
// BMI2, LZCNT, MOVBE and POPCNT in CPUID and the OS saving the ZMM and mask registers.
#if arch(x86_64)  // an x86-64 backend: Package.swift builds it for x86-64 hosts only
internal import CSleef
package import SoftmaxKernelsCore

/// 16 x Float with SLEEF `Sleef_*f16_u10avx512f`.
enum SleefAVX512Float: VectorMath {
  typealias Scalar = Float
  typealias Vector = SIMD16<Float>
  @inline(__always) static func exp(_ x: Vector) -> Vector { Sleef_expf16_u10avx512f(x) }
  @inline(__always) static func log(_ x: Vector) -> Vector { Sleef_logf16_u10avx512f(x) }
  @inline(__always) static func log1p(_ x: Vector) -> Vector { Sleef_log1pf16_u10avx512f(x) }
}

/// 8 x Double with SLEEF `Sleef_*d8_u10avx512f`.
enum SleefAVX512Double: VectorMath {
  typealias Scalar = Double
  typealias Vector = SIMD8<Double>
  @inline(__always) static func exp(_ x: Vector) -> Vector { Sleef_expd8_u10avx512f(x) }
  @inline(__always) static func log(_ x: Vector) -> Vector { Sleef_logd8_u10avx512f(x) }
  @inline(__always) static func log1p(_ x: Vector) -> Vector { Sleef_log1pd8_u10avx512f(x) }
}

/// Fast mode, 16 x Float: the inlined `fastExp`; log and log1p (once per row) from SLEEF; BCE's log1p inlined.
enum FastAVX512Float: VectorMath {
  typealias Scalar = Float
  typealias Vector = SIMD16<Float>
  static var inlinesExp: Bool { true }
  /// The kernels' exp (x <= 0, as `VectorMath.exp` allows): no upper clamp.
  @inline(__always) static func exp(_ x: Vector) -> Vector { fastExpScaleF(x, anyArgument: false) }
  @inline(__always) static func expAnyArgument(_ x: Vector) -> Vector { fastExpScaleF(x, anyArgument: true) }
  @inline(__always) static func expOneStepReduced(_ x: Vector) -> Vector {
    fastExpScaleF(x, anyArgument: false, oneStepReduction: true)
  }
  @inline(__always) static func log(_ x: Vector) -> Vector { SleefAVX512Float.log(x) }
  @inline(__always) static func log1p(_ x: Vector) -> Vector { SleefAVX512Float.log1p(x) }
  @inline(__always) static func log1pOnUnitInterval(_ x: Vector) -> Vector { fastLog1pOnUnitInterval(x) }
}

/// Fast mode, 8 x Double: the inlined `fastExp`; log and log1p from SLEEF; BCE's log1p inlined.
enum FastAVX512Double: VectorMath {
  typealias Scalar = Double
  typealias Vector = SIMD8<Double>
  static var inlinesExp: Bool { true }
  /// The kernels' exp (x <= 0, as `VectorMath.exp` allows): no upper clamp.
  @inline(__always) static func exp(_ x: Vector) -> Vector { fastExpScaleF(x, anyArgument: false) }
  @inline(__always) static func expAnyArgument(_ x: Vector) -> Vector { fastExpScaleF(x, anyArgument: true) }
  @inline(__always) static func log(_ x: Vector) -> Vector { SleefAVX512Double.log(x) }
  @inline(__always) static func log1p(_ x: Vector) -> Vector { SleefAVX512Double.log1p(x) }
  @inline(__always) static func log1pOnUnitInterval(_ x: Vector) -> Vector { fastLog1pOnUnitInterval(x) }
}

// The lane operations of `VectorMath` at 512 bits, through the shim's intrinsics (see shim.h for
// why the generic SIMD versions the narrower backends use do not do here). Same semantics:
// max/min keep `a` when either lane is NaN, selects treat a NaN comparison as false.

extension VectorMath where Vector == SIMD16<Float> {
  /// The fast mode's exp (`fastExpReduced`, the same reduction and polynomial as `fastExp`) with
  /// 2^n applied by `vscalefp`: one rounding, so the same bits as `fastExpAnyArgument` for every
  /// x, for 4 operations fewer. x is clamped below at -104 (exactly 0) and, with `anyArgument`,
  /// above at 89 (+inf). Without that clamp (the kernels' exp: x <= 0) it is still right for
  /// every finite x, as 2^n saturates, but not for x = +inf (NaN). NaN stays NaN.
  /// `oneStepReduction`: see `fastExpReduced`.
  @inline(__always) static func fastExpScaleF(_ x: Vector, anyArgument: Bool, oneStepReduction: Bool = false) -> Vector {
    let xc = max(anyArgument ? min(x, Vector(repeating: 89)) : x, Vector(repeating: -104))
    let (_, n, er) = fastExpReduced(xc, oneStepReduction: oneStepReduction)
    return softmaxkernels_scalef_f16(er, n)
  }
  @inline(__always) static func load(_ p: UnsafePointer<Scalar>, count: Int, padding: Scalar) -> Vector {
    softmaxkernels_load_f16(p, Int32(truncatingIfNeeded: count), padding)
  }
  @inline(__always) static func store(_ v: Vector, to p: UnsafeMutablePointer<Scalar>, count: Int) {
    softmaxkernels_store_f16(p, v, Int32(truncatingIfNeeded: count))
  }
  @inline(__always) static func multiplyAdd(_ a: Vector, _ b: Vector, _ c: Vector) -> Vector {
    softmaxkernels_fmadd_f16(a, b, c)
  }
  @inline(__always) static func materialized(_ v: Vector) -> Vector { softmaxkernels_materialize_f16(v) }
  @inline(__always) static func max(_ a: Vector, _ b: Vector) -> Vector { softmaxkernels_select_lt_f16(a, b, b, a) }
  @inline(__always) static func min(_ a: Vector, _ b: Vector) -> Vector { softmaxkernels_select_lt_f16(b, a, b, a) }
  @inline(__always) static func zero(_ v: Vector, whereBelow x: Vector, _ bound: Vector) -> Vector {
    softmaxkernels_select_lt_f16(x, bound, Vector(), v)
  }
  @inline(__always) static func onesWhereEqual(_ x: Vector, _ y: Vector) -> Vector {
    softmaxkernels_select_eq_f16(x, y, Vector(repeating: 1), Vector())
  }
  @inline(__always) static func ifNegative(_ c: Vector, _ a: Vector, else b: Vector) -> Vector {
    softmaxkernels_select_lt_f16(c, Vector(), a, b)
  }
  @inline(__always) static func zeroWhereZero(_ c: Vector, else b: Vector) -> Vector {
    softmaxkernels_select_eq_f16(c, Vector(), Vector(), b)
  }
  @inline(__always) static func twoToThe(_ t: Vector) -> Vector {
    unsafeBitCast((unsafeBitCast(t, to: SIMD16<Int32>.self) &<< 23) &+ (127 << 23), to: Vector.self)
  }
}

extension VectorMath where Vector == SIMD8<Double> {
  /// The fast mode's exp (`fastExpReduced`, the same reduction and polynomial as `fastExp`) with
  /// 2^n applied by `vscalefp`: one rounding, so the same bits as `fastExpAnyArgument` for every
  /// x, for 4 operations fewer. x is clamped below at -746 (exactly 0) and, with `anyArgument`,
  /// above at 710 (+inf). Without that clamp (the kernels' exp: x <= 0) it is still right for
  /// every finite x, as 2^n saturates, but not for x = +inf (NaN). NaN stays NaN.
  @inline(__always) static func fastExpScaleF(_ x: Vector, anyArgument: Bool) -> Vector {
    let xc = max(anyArgument ? min(x, Vector(repeating: 710)) : x, Vector(repeating: -746))
    let (_, n, er) = fastExpReduced(xc)
    return softmaxkernels_scalef_d8(er, n)
  }
  @inline(__always) static func load(_ p: UnsafePointer<Scalar>, count: Int, padding: Scalar) -> Vector {
    softmaxkernels_load_d8(p, Int32(truncatingIfNeeded: count), padding)
  }
  @inline(__always) static func store(_ v: Vector, to p: UnsafeMutablePointer<Scalar>, count: Int) {
    softmaxkernels_store_d8(p, v, Int32(truncatingIfNeeded: count))
  }
  @inline(__always) static func multiplyAdd(_ a: Vector, _ b: Vector, _ c: Vector) -> Vector {
    softmaxkernels_fmadd_d8(a, b, c)
  }
  @inline(__always) static func materialized(_ v: Vector) -> Vector { softmaxkernels_materialize_d8(v) }
  @inline(__always) static func max(_ a: Vector, _ b: Vector) -> Vector { softmaxkernels_select_lt_d8(a, b, b, a) }
  @inline(__always) static func min(_ a: Vector, _ b: Vector) -> Vector { softmaxkernels_select_lt_d8(b, a, b, a) }
  @inline(__always) static func zero(_ v: Vector, whereBelow x: Vector, _ bound: Vector) -> Vector {
    softmaxkernels_select_lt_d8(x, bound, Vector(), v)
  }
  @inline(__always) static func onesWhereEqual(_ x: Vector, _ y: Vector) -> Vector {
    softmaxkernels_select_eq_d8(x, y, Vector(repeating: 1), Vector())
  }
  @inline(__always) static func ifNegative(_ c: Vector, _ a: Vector, else b: Vector) -> Vector {
    softmaxkernels_select_lt_d8(c, Vector(), a, b)
  }
  @inline(__always) static func zeroWhereZero(_ c: Vector, else b: Vector) -> Vector {
    softmaxkernels_select_eq_d8(c, Vector(), Vector(), b)
  }
  @inline(__always) static func twoToThe(_ t: Vector) -> Vector {
    unsafeBitCast((unsafeBitCast(t, to: SIMD8<Int64>.self) &<< 52) &+ (1023 << 52), to: Vector.self)
  }
}

/// The AVX-512 kernel tables. Only call them where `softmaxkernels_cpu_has_avx512()` is 1 (AVX-512
/// F, CD, BW, DQ and VL, BMI1, BMI2, LZCNT, MOVBE, POPCNT, and ZMM state enabled).
package enum AVX512Backend {
  /// For tests only (package access, not API): the fast Float kernels' grouped exp-sum exp
  /// (`expOneStepReduced`: `fastExpScaleF` with the one-FMA argument reduction), so its accuracy
  /// can be checked directly. Call it only where the CPU has AVX-512.
  package static func fastFloatExpOneStepReduced(_ x: SIMD16<Float>) -> SIMD16<Float> {
    FastAVX512Float.expOneStepReduced(x)
  }
  /// For tests only: the fast backends' BCE log1p (`fastLog1pOnUnitInterval`) with this
  /// backend's FMA and lane selects. Call them only where the CPU has AVX-512.
  package static func fastFloatLog1pOnUnitInterval(_ x: SIMD16<Float>) -> SIMD16<Float> {
    FastAVX512Float.log1pOnUnitInterval(x)
  }
  package static func fastDoubleLog1pOnUnitInterval(_ x: SIMD8<Double>) -> SIMD8<Double> {
    FastAVX512Double.log1pOnUnitInterval(x)
  }

  package static let float: KernelTable<Float, Float> = KernelTable(SleefAVX512Float.self)
  package static let double: KernelTable<Double, Double> = KernelTable(SleefAVX512Double.self)
  package static let fastFloat: KernelTable<Float, Float> = KernelTable(FastAVX512Float.self)
  package static let fastDouble: KernelTable<Double, Double> = KernelTable(FastAVX512Double.self)
  package static let bfloat16: KernelTable<UInt16, Float> = KernelTable(HalfStorage<SleefAVX512Float, BFloat16Bits>.self)
  package static let fastBFloat16: KernelTable<UInt16, Float> = KernelTable(HalfStorage<FastAVX512Float, BFloat16Bits>.self)
  package static let float16: KernelTable<UInt16, Float> = KernelTable(HalfStorage<SleefAVX512Float, Binary16Native>.self)
  package static let fastFloat16: KernelTable<UInt16, Float> = KernelTable(HalfStorage<FastAVX512Float, Binary16Native>.self)
}
#endif
