/// The vector math layer every kernel is written against.
///
/// A conforming type names one SIMD vector type and supplies the operations that differ per
/// instruction set: the vector `exp`, `log` and `log1p` (SLEEF in the shipped backends) and a lane-wise
/// maximum. Loads, stores, tails and reductions are written once below, generically. The row
/// algorithms (`softmaxRows`, `logSoftmaxRows`, ...) are `@inlinable` extensions on this protocol,
/// so each backend module compiles them with its own target flags.
@usableFromInline package protocol VectorMath: SendableMetatype {
  /// The element type, `Float` or `Double`.
  associatedtype Scalar: BinaryFloatingPoint & SIMDScalar & SendableMetatype
  /// The register-sized vector of `Scalar`, e.g. `SIMD8<Float>` for AVX2.
  associatedtype Vector: SIMD where Vector.Scalar == Scalar
  /// The element type of the rows in memory (logits, targets, outputs, gradients): `Scalar`
  /// itself, or a 16-bit storage format whose elements are widened to `Scalar` when read and
  /// rounded once when written (`HalfStorage`). Weights, losses, partials and scratch stay
  /// `Scalar`.
  associatedtype Storage = Scalar

  /// A full vector of stored elements from `p`, widened (no alignment needed).
  static func read(_ p: UnsafePointer<Storage>) -> Vector
  /// The first `count` (< width) stored elements from `p`, widened, the other lanes `padding`;
  /// reads nothing past `p + count`.
  static func read(_ p: UnsafePointer<Storage>, count: Int, padding: Scalar) -> Vector
  /// Stores `v` at `p`, each lane rounded once to `Storage`.
  static func write(_ v: Vector, to p: UnsafeMutablePointer<Storage>)
  /// Stores the first `count` (< width) lanes of `v` at `p`, rounded once; memory past them is
  /// not touched.
  static func write(_ v: Vector, to p: UnsafeMutablePointer<Storage>, count: Int)
  /// One stored element as `Scalar` (exact).
  static func widen(_ s: Storage) -> Scalar
  /// `x` rounded once to `Storage` (to nearest, ties to even).
  static func narrow(_ x: Scalar) -> Storage

  /// e^x per lane, `exp(-inf) = 0`, NaN stays NaN. The kernels call it on x <= 0 only (x - max,
  /// -|x|); a backend may restrict it to that domain, as the fast mode's `fastExp` does.
  static func exp(_ x: Vector) -> Vector
  /// e^x per lane for every x (overflow to +inf): `VectorExp`'s public exp. Defaults to `exp`.
  static func expAnyArgument(_ x: Vector) -> Vector
  /// e^x per lane for x = x_j - m, m the max of a row or of one of its 8 KiB chunks with
  /// |m| >= 4, where SPEC's bounds leave room for a relative error that grows with |x|: the
  /// grouped exp-sum (`BlockSums.addExp`). (A chunk with m <= -4 may sit in a row whose max is
  /// near 0: `LongRowTests.chunkMaxFarBelowTheRowMax` checks that case.) The fast Float backends use
  /// `fastExp` with a one-step argument reduction there, which adds at most
  /// (|x| + ln2/2) 2.75e-9 relative (0.023 |x| ulp(1) + 0.008) for one FMA fewer. Defaults to
  /// `exp`.
  static func expOneStepReduced(_ x: Vector) -> Vector
  /// ln(x) per lane, `log(0) = -inf`.
  static func log(_ x: Vector) -> Vector
  /// ln(1 + x) per lane, accurate for small x.
  static func log1p(_ x: Vector) -> Vector
  /// ln(1 + x) per lane for 0 <= x <= 1 (binary cross-entropy's ln(1 + e^-|x|)); a backend may
  /// leave other x undefined, as the fast mode's `fastLog1pOnUnitInterval` does. NaN stays NaN.
  /// Defaults to `log1p`.
  static func log1pOnUnitInterval(_ x: Vector) -> Vector
  /// True when `exp` is inlined (fast mode): the exp-sum loop then fuses the sum into the exp
  /// loop. False for an out-of-line exp (SLEEF), whose calls clobber every vector register.
  static var inlinesExp: Bool { get }
  /// The first `count` (< width) lanes from `p`, the other lanes `padding`; reads nothing past
  /// `p + count`. Defaults to a lane loop; the AVX-512 backend uses a masked load.
  static func load(_ p: UnsafePointer<Scalar>, count: Int, padding: Scalar) -> Vector
  /// Stores the first `count` (< width) lanes of `v` at `p`; memory past them is not touched.
  /// Defaults to a lane loop; the AVX-512 backend uses a masked store.
  static func store(_ v: Vector, to p: UnsafeMutablePointer<Scalar>, count: Int)
  /// a * b + c per lane with one rounding. Defaults to `c.addingProduct(a, b)`; the AVX-512
  /// backend supplies the intrinsic, because LLVM splits that generic lane loop at 512 bits.
  static func multiplyAdd(_ a: Vector, _ b: Vector, _ c: Vector) -> Vector
  /// Lane-wise maximum; a NaN lane in `b` keeps the lane of `a`.
  static func max(_ a: Vector, _ b: Vector) -> Vector
  /// Lane-wise minimum; a NaN lane in `b` keeps the lane of `a`.
  static func min(_ a: Vector, _ b: Vector) -> Vector
  /// `v` with 0 in the lanes where `x < bound` (NaN lanes of `x` keep `v`).
  static func zero(_ v: Vector, whereBelow x: Vector, _ bound: Vector) -> Vector
  /// 1 in the lanes where `x == y`, else 0.
  static func onesWhereEqual(_ x: Vector, _ y: Vector) -> Vector
  /// 2^n per lane, from t = n + 1.5 * 2^p (p = significand bits) as `fastExp` rounds it.
  static func twoToThe(_ t: Vector) -> Vector
  /// Lane-wise select: `c < 0 ? a : b` (a NaN lane of `c` picks `b`).
  static func ifNegative(_ c: Vector, _ a: Vector, else b: Vector) -> Vector
  /// Lane-wise select: `c == 0 ? 0 : b`, so a zero weight or target cancels an infinite term
  /// (0 * inf counts as 0).
  static func zeroWhereZero(_ c: Vector, else b: Vector) -> Vector
  /// `v` unchanged, but opaque to the optimizer: every lane is computed before it, as vectors.
  /// `CompensatedSum.total` passes both vectors of every fold step through it, since LLVM
  /// otherwise narrows a lane-folding tree whose result is one lane into scalar and two-lane
  /// pieces (more than twice the instructions at 16 lanes). Defaults to `v`.
  static func materialized(_ v: Vector) -> Vector
}

extension VectorMath {
  /// Out-of-line exp unless a conformance says otherwise.
  @inlinable @inline(__always)
  package static var inlinesExp: Bool { false }
  @inlinable @inline(__always)
  package static func expAnyArgument(_ x: Vector) -> Vector { exp(x) }
  @inlinable @inline(__always)
  package static func expOneStepReduced(_ x: Vector) -> Vector { exp(x) }
  @inlinable @inline(__always)
  package static func log1pOnUnitInterval(_ x: Vector) -> Vector { log1p(x) }
  @inlinable @inline(__always)
  package static func materialized(_ v: Vector) -> Vector { v }
  @inlinable @inline(__always)
  package static func multiplyAdd(_ a: Vector, _ b: Vector, _ c: Vector) -> Vector { c.addingProduct(a, b) }

  /// Lanes per vector.
  @inlinable @inline(__always)
  package static var width: Int { Vector.scalarCount }

  /// Loads a full vector from `p` (no alignment needed).
  @inlinable @inline(__always)
  package static func load(_ p: UnsafePointer<Scalar>) -> Vector {
    UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
  }

  /// Loads the first `count` (< width) lanes from `p` and fills the rest with `padding`, so a
  /// row's tail goes through exactly the same vector code as its body.
  @inlinable @inline(__always)
  package static func load(_ p: UnsafePointer<Scalar>, count: Int, padding: Scalar) -> Vector {
    var v = Vector(repeating: padding)
    for k in 0..<count { v[k] = p[k] }
    return v
  }

  /// Stores a full vector at `p`.
  @inlinable @inline(__always)
  package static func store(_ v: Vector, to p: UnsafeMutablePointer<Scalar>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
  }

  /// Stores the first `count` lanes of `v` at `p`; memory past them is not touched.
  @inlinable @inline(__always)
  package static func store(_ v: Vector, to p: UnsafeMutablePointer<Scalar>, count: Int) {
    for k in 0..<count { p[k] = v[k] }
  }

  /// The largest lane (NaN lanes ignored as in `max`), as a branch-free tree.
  @inlinable @inline(__always)
  package static func horizontalMax(_ v: Vector) -> Scalar {
    var lanes = Vector.scalarCount, acc = v
    while lanes > 1 {
      lanes /= 2
      for k in 0..<lanes {
        let a = acc[k], b = acc[k &+ lanes]
        acc[k] = b > a ? b : a
      }
    }
    return acc[0]
  }

  /// Scalar e^x through the vector function, so scalars and vectors round the same way.
  @inlinable @inline(__always)
  package static func exp(_ x: Scalar) -> Scalar { exp(Vector(repeating: x))[0] }

  /// Scalar ln(x) through the vector function.
  @inlinable @inline(__always)
  package static func log(_ x: Scalar) -> Scalar { log(Vector(repeating: x))[0] }

  /// Scalar ln(1 + x) through the vector function.
  @inlinable @inline(__always)
  package static func log1p(_ x: Scalar) -> Scalar { log1p(Vector(repeating: x))[0] }
}

// Lane-wise operations that the generic `SIMD` API does not lower to single instructions
// (`replacing(with:where:)` on a generic vector becomes a loop over lanes), written once per
// concrete vector type. They become `maxps`/`minps`/`blendvps`, and shifts on the integer view.
//
//   max(a, b), min(a, b)    a NaN lane in `b` keeps the lane of `a` (so a NaN in `a` survives)
//   zero(v, whereBelow: x, bound)   0 in the lanes where x < bound, else v
//   onesWhereEqual(x, y)    1 in the lanes where x == y, else 0
//   ifNegative(c, a, else: b)   c < 0 ? a : b
//   zeroWhereZero(c, else: b)    c == 0 ? 0 : b (0 * inf counts as 0)
//   twoToThe(t)             2^n for t = n + 1.5 * 2^(significand bits), n an integer (fast exp)

extension VectorMath where Vector == SIMD8<Float> {
  @inlinable @inline(__always)
  package static func onesWhereEqual(_ x: Vector, _ y: Vector) -> Vector {
    Vector().replacing(with: 1, where: x .== y)
  }
  @inlinable @inline(__always)
  package static func max(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: b .> a) }
  @inlinable @inline(__always)
  package static func min(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: b .< a) }
  @inlinable @inline(__always)
  package static func zero(_ v: Vector, whereBelow x: Vector, _ bound: Vector) -> Vector {
    v.replacing(with: 0, where: x .< bound)
  }
  @inlinable @inline(__always)
  package static func twoToThe(_ t: Vector) -> Vector {
    unsafeBitCast((unsafeBitCast(t, to: SIMD8<Int32>.self) &<< 23) &+ (127 << 23), to: Vector.self)
  }
  @inlinable @inline(__always)
  package static func ifNegative(_ c: Vector, _ a: Vector, else b: Vector) -> Vector {
    b.replacing(with: a, where: c .< 0)
  }
  @inlinable @inline(__always)
  package static func zeroWhereZero(_ c: Vector, else b: Vector) -> Vector {
    b.replacing(with: 0, where: c .== 0)
  }
}

extension VectorMath where Vector == SIMD4<Float> {
  @inlinable @inline(__always)
  package static func onesWhereEqual(_ x: Vector, _ y: Vector) -> Vector {
    Vector().replacing(with: 1, where: x .== y)
  }
  @inlinable @inline(__always)
  package static func max(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: b .> a) }
  @inlinable @inline(__always)
  package static func min(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: b .< a) }
  @inlinable @inline(__always)
  package static func zero(_ v: Vector, whereBelow x: Vector, _ bound: Vector) -> Vector {
    v.replacing(with: 0, where: x .< bound)
  }
  @inlinable @inline(__always)
  package static func twoToThe(_ t: Vector) -> Vector {
    unsafeBitCast((unsafeBitCast(t, to: SIMD4<Int32>.self) &<< 23) &+ (127 << 23), to: Vector.self)
  }
  @inlinable @inline(__always)
  package static func ifNegative(_ c: Vector, _ a: Vector, else b: Vector) -> Vector {
    b.replacing(with: a, where: c .< 0)
  }
  @inlinable @inline(__always)
  package static func zeroWhereZero(_ c: Vector, else b: Vector) -> Vector {
    b.replacing(with: 0, where: c .== 0)
  }
}

extension VectorMath where Vector == SIMD4<Double> {
  @inlinable @inline(__always)
  package static func onesWhereEqual(_ x: Vector, _ y: Vector) -> Vector {
    Vector().replacing(with: 1, where: x .== y)
  }
  @inlinable @inline(__always)
  package static func max(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: b .> a) }
  @inlinable @inline(__always)
  package static func min(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: b .< a) }
  @inlinable @inline(__always)
  package static func zero(_ v: Vector, whereBelow x: Vector, _ bound: Vector) -> Vector {
    v.replacing(with: 0, where: x .< bound)
  }
  @inlinable @inline(__always)
  package static func twoToThe(_ t: Vector) -> Vector {
    unsafeBitCast((unsafeBitCast(t, to: SIMD4<Int64>.self) &<< 52) &+ (1023 << 52), to: Vector.self)
  }
  @inlinable @inline(__always)
  package static func ifNegative(_ c: Vector, _ a: Vector, else b: Vector) -> Vector {
    b.replacing(with: a, where: c .< 0)
  }
  @inlinable @inline(__always)
  package static func zeroWhereZero(_ c: Vector, else b: Vector) -> Vector {
    b.replacing(with: 0, where: c .== 0)
  }
}

extension VectorMath where Vector == SIMD2<Double> {
  @inlinable @inline(__always)
  package static func onesWhereEqual(_ x: Vector, _ y: Vector) -> Vector {
    Vector().replacing(with: 1, where: x .== y)
  }
  @inlinable @inline(__always)
  package static func max(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: b .> a) }
  @inlinable @inline(__always)
  package static func min(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: b .< a) }
  @inlinable @inline(__always)
  package static func zero(_ v: Vector, whereBelow x: Vector, _ bound: Vector) -> Vector {
    v.replacing(with: 0, where: x .< bound)
  }
  @inlinable @inline(__always)
  package static func twoToThe(_ t: Vector) -> Vector {
    unsafeBitCast((unsafeBitCast(t, to: SIMD2<Int64>.self) &<< 52) &+ (1023 << 52), to: Vector.self)
  }
  @inlinable @inline(__always)
  package static func ifNegative(_ c: Vector, _ a: Vector, else b: Vector) -> Vector {
    b.replacing(with: a, where: c .< 0)
  }
  @inlinable @inline(__always)
  package static func zeroWhereZero(_ c: Vector, else b: Vector) -> Vector {
    b.replacing(with: 0, where: c .== 0)
  }
}
