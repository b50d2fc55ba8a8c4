// Rows in a 16-bit storage format with the arithmetic of a Float backend: every row algorithm of
// the Core, unchanged, over Float lanes that are widened when read and rounded once when written.
// A backend module builds its half-precision tables from its own Float vector math:
// `KernelTable(HalfStorage<SleefAVX512Float, BFloat16Bits>.self)`.

/// The vector math of `Base` (Float lanes) over rows stored in `Format`.
@usableFromInline package enum HalfStorage<Base: VectorMath, Format: HalfConversion>: VectorMath
where Base.Scalar == Float {
  @usableFromInline package typealias Scalar = Float
  @usableFromInline package typealias Vector = Base.Vector
  @usableFromInline package typealias Storage = UInt16

  @inlinable @inline(__always)
  package static func read(_ p: UnsafePointer<UInt16>) -> Vector { Format.widen(p, as: Vector.self) }
  @inlinable @inline(__always)
  package static func read(_ p: UnsafePointer<UInt16>, count: Int, padding: Float) -> Vector {
    var v = Vector(repeating: padding)
    for k in 0..<count { v[k] = Format.widen(p[k]) }
    return v
  }
  @inlinable @inline(__always)
  package static func write(_ v: Vector, to p: UnsafeMutablePointer<UInt16>) { Format.narrow(v, to: p) }
  @inlinable @inline(__always)
  package static func write(_ v: Vector, to p: UnsafeMutablePointer<UInt16>, count: Int) {
    for k in 0..<count { p[k] = Format.narrow(v[k]) }
  }
  @inlinable @inline(__always)
  package static func widen(_ s: UInt16) -> Float { Format.widen(s) }
  @inlinable @inline(__always)
  package static func narrow(_ x: Float) -> UInt16 { Format.narrow(x) }

  // Everything else is `Base`'s.
  @inlinable @inline(__always)
  package static var inlinesExp: Bool { Base.inlinesExp }
  @inlinable @inline(__always)
  package static func exp(_ x: Vector) -> Vector { Base.exp(x) }
  @inlinable @inline(__always)
  package static func expAnyArgument(_ x: Vector) -> Vector { Base.expAnyArgument(x) }
  @inlinable @inline(__always)
  package static func expOneStepReduced(_ x: Vector) -> Vector { Base.expOneStepReduced(x) }
  @inlinable @inline(__always)
  package static func log(_ x: Vector) -> Vector { Base.log(x) }
  @inlinable @inline(__always)
  package static func log1p(_ x: Vector) -> Vector { Base.log1p(x) }
  @inlinable @inline(__always)
  package static func log1pOnUnitInterval(_ x: Vector) -> Vector { Base.log1pOnUnitInterval(x) }
  @inlinable @inline(__always)
  package static func load(_ p: UnsafePointer<Float>, count: Int, padding: Float) -> Vector {
    Base.load(p, count: count, padding: padding)
  }
  @inlinable @inline(__always)
  package static func store(_ v: Vector, to p: UnsafeMutablePointer<Float>, count: Int) { Base.store(v, to: p, count: count) }
  @inlinable @inline(__always)
  package static func multiplyAdd(_ a: Vector, _ b: Vector, _ c: Vector) -> Vector { Base.multiplyAdd(a, b, c) }
  @inlinable @inline(__always)
  package static func max(_ a: Vector, _ b: Vector) -> Vector { Base.max(a, b) }
  @inlinable @inline(__always)
  package static func min(_ a: Vector, _ b: Vector) -> Vector { Base.min(a, b) }
  @inlinable @inline(__always)
  package static func zero(_ v: Vector, whereBelow x: Vector, _ bound: Vector) -> Vector { Base.zero(v, whereBelow: x, bound) }
  @inlinable @inline(__always)
  package static func onesWhereEqual(_ x: Vector, _ y: Vector) -> Vector { Base.onesWhereEqual(x, y) }
  @inlinable @inline(__always)
  package static func twoToThe(_ t: Vector) -> Vector { Base.twoToThe(t) }
  @inlinable @inline(__always)
  package static func ifNegative(_ c: Vector, _ a: Vector, else b: Vector) -> Vector { Base.ifNegative(c, a, else: b) }
  @inlinable @inline(__always)
  package static func zeroWhereZero(_ c: Vector, else b: Vector) -> Vector { Base.zeroWhereZero(c, else: b) }
  @inlinable @inline(__always)
  package static func materialized(_ v: Vector) -> Vector { Base.materialized(v) }
}
