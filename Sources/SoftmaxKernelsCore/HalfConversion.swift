// The 16-bit storage formats and their conversions to and from Float lanes, for `HalfStorage`.
// Widening is exact; narrowing rounds once, to nearest with ties to even, keeps +-inf and signed
// zero, overflows to +-inf and turns a NaN into a quiet NaN. The bit-arithmetic versions use
// integer lane operations only (no lane masks, which generic SIMD code turns into per-lane
// branches), so they vectorize in every backend; `Binary16Native` uses the CPU's conversions
// (F16C / AVX-512 with the x86 backends' flags, FCVT on arm64).

/// A 16-bit storage format: how its bits become Float lanes and back.
@usableFromInline package protocol HalfConversion {
  /// The `V.scalarCount` elements at `p`, widened (exact).
  static func widen<V: SIMD>(_ p: UnsafePointer<UInt16>, as _: V.Type) -> V where V.Scalar == Float
  /// Stores `v` at `p`, each lane rounded once.
  static func narrow<V: SIMD>(_ v: V, to p: UnsafeMutablePointer<UInt16>) where V.Scalar == Float
  /// One element, widened (exact).
  static func widen(_ bits: UInt16) -> Float
  /// One Float rounded once.
  static func narrow(_ x: Float) -> UInt16
}

/// `h` with each lane zero-extended to 32 bits. A lane loop on concrete vector types, which the
/// optimizer turns into one widening instruction (`vpmovzxwd`); the standard library's
/// converting initializers are calls to its prespecialized code here.
@inlinable @inline(__always)
func zeroExtended<H: SIMD, U: SIMD>(_ h: H, as _: U.Type) -> U where H.Scalar == UInt16, U.Scalar == Int32 {
  var u = U()
  for k in 0..<H.scalarCount { u[k] = Int32(h[k]) }
  return u
}

/// The low 16 bits of each lane of `u` (one narrowing instruction, as `zeroExtended`).
@inlinable @inline(__always)
func truncated<U: SIMD, H: SIMD>(_ u: U, as _: H.Type) -> H where H.Scalar == UInt16, U.Scalar == Int32 {
  var h = H()
  for k in 0..<U.scalarCount { h[k] = UInt16(truncatingIfNeeded: u[k]) }
  return h
}

/// Loads `V.scalarCount` 16-bit values at `p`, zero-extended into the lanes of `V.MaskStorage`
/// (32-bit integers for Float lanes).
@inlinable @inline(__always)
func loadWidened<V: SIMD>(_ p: UnsafePointer<UInt16>, lanesOf _: V.Type) -> V.MaskStorage {
  let raw = UnsafeRawPointer(p)
  switch V.scalarCount {
  case 16: return unsafeBitCast(zeroExtended(raw.loadUnaligned(as: SIMD16<UInt16>.self), as: SIMD16<Int32>.self), to: V.MaskStorage.self)
  case 8: return unsafeBitCast(zeroExtended(raw.loadUnaligned(as: SIMD8<UInt16>.self), as: SIMD8<Int32>.self), to: V.MaskStorage.self)
  case 4: return unsafeBitCast(zeroExtended(raw.loadUnaligned(as: SIMD4<UInt16>.self), as: SIMD4<Int32>.self), to: V.MaskStorage.self)
  default:
    var u = V.MaskStorage()
    for k in 0..<V.scalarCount { u[k] = V.MaskStorage.Scalar(truncatingIfNeeded: p[k]) }
    return u
  }
}

/// Stores the low 16 bits of every lane of `u` at `p`.
@inlinable @inline(__always)
func storeNarrowed<U: SIMD>(_ u: U, to p: UnsafeMutablePointer<UInt16>) where U.Scalar: FixedWidthInteger {
  let raw = UnsafeMutableRawPointer(p)
  switch U.scalarCount {
  case 16: raw.storeBytes(of: truncated(unsafeBitCast(u, to: SIMD16<Int32>.self), as: SIMD16<UInt16>.self), as: SIMD16<UInt16>.self)
  case 8: raw.storeBytes(of: truncated(unsafeBitCast(u, to: SIMD8<Int32>.self), as: SIMD8<UInt16>.self), as: SIMD8<UInt16>.self)
  case 4: raw.storeBytes(of: truncated(unsafeBitCast(u, to: SIMD4<Int32>.self), as: SIMD4<UInt16>.self), as: SIMD4<UInt16>.self)
  default: for k in 0..<U.scalarCount { p[k] = UInt16(truncatingIfNeeded: u[k]) }
  }
}

/// bfloat16: the top half of a Float's bits (1 sign, 8 exponent, 7 fraction bits).
@usableFromInline package enum BFloat16Bits: HalfConversion {
  @inlinable @inline(__always)
  package static func widen<V: SIMD>(_ p: UnsafePointer<UInt16>, as _: V.Type) -> V where V.Scalar == Float {
    unsafeBitCast(loadWidened(p, lanesOf: V.self) &<< 16, to: V.self)
  }

  /// Round to nearest even on the 16 bits dropped; a NaN keeps its sign and top payload bits and
  /// gets the quiet bit.
  @inlinable @inline(__always)
  package static func narrowBits<U: SIMD>(_ u: U) -> U where U.Scalar: FixedWidthInteger & SignedInteger {
    let rounded = (u &+ (0x7fff &+ ((u &>> 16) & 1))) &>> 16
    // 1 where |x| > inf (a NaN): (|x| bits) + 0x7fffff carries into bit 31 exactly then.
    let isNaN = (((u & 0x7fff_ffff) &+ 0x007f_ffff) &>> 31) & 1
    let nanMask = U() &- isNaN
    return (rounded & ~nanMask) | (((u &>> 16) | 0x40) & nanMask)
  }

  @inlinable @inline(__always)
  package static func narrow<V: SIMD>(_ v: V, to p: UnsafeMutablePointer<UInt16>) where V.Scalar == Float {
    storeNarrowed(narrowBits(unsafeBitCast(v, to: V.MaskStorage.self)), to: p)
  }

  @inlinable @inline(__always)
  package static func widen(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) &<< 16) }

  @inlinable @inline(__always)
  package static func narrow(_ x: Float) -> UInt16 {
    UInt16(truncatingIfNeeded: narrowBits(unsafeBitCast(SIMD4<Float>(repeating: x), to: SIMD4<Int32>.self))[0])
  }
}

/// IEEE binary16 (`Float16`) by integer arithmetic: for CPUs without conversion instructions
/// (the SSE2 baseline on x86-64).
@usableFromInline package enum Binary16Bits: HalfConversion {
  /// Float bits of binary16 values held in the low 16 bits of each lane: the magnitude shifted
  /// into Float's fields and scaled by 2^112 (exact, subnormals included), inf and NaN given
  /// Float's exponent, the sign put back.
  @inlinable @inline(__always)
  package static func widenBits<V: SIMD>(_ h: V.MaskStorage, as _: V.Type) -> V.MaskStorage where V.Scalar == Float {
    let sign = (h & 0x8000) &<< 16
    let em = h & 0x7fff
    let scaled = unsafeBitCast(unsafeBitCast(em &<< 13, to: V.self) * V(repeating: 0x1p112), to: V.MaskStorage.self)
    let special = V.MaskStorage() &- (((0x7bff &- em) &>> 31) & 1)  // all ones where em >= 0x7c00
    return ((scaled & ~special) | (((em &<< 13) | 0x7f80_0000) & special)) | sign
  }

  @inlinable @inline(__always)
  package static func widen<V: SIMD>(_ p: UnsafePointer<UInt16>, as _: V.Type) -> V where V.Scalar == Float {
    unsafeBitCast(widenBits(loadWidened(p, lanesOf: V.self), as: V.self), to: V.self)
  }

  /// Float bits to binary16 bits, rounded to nearest even, with three cases per lane computed
  /// branch-free: |x| >= 2^16 (or inf, NaN) -> inf (NaN -> quiet NaN); |x| < 2^-14 -> a subnormal
  /// or zero, rounded by the Float addition of 0.5 (which aligns the bits to keep); otherwise the
  /// exponent rebiased and the 13 dropped bits rounded by integer addition.
  @inlinable @inline(__always)
  package static func narrowBits<V: SIMD>(_ x: V.MaskStorage, as _: V.Type) -> V.MaskStorage where V.Scalar == Float {
    typealias U = V.MaskStorage
    let sign = x & U(repeating: U.Scalar(truncatingIfNeeded: 0x8000_0000 as UInt32))
    let u = x & 0x7fff_ffff
    let large = U() &- ((((u &- 0x4780_0000) &>> 31) & 1) ^ 1)  // u >= 2^16
    let small = U() &- (((u &- 0x3880_0000) &>> 31) & 1)  // u < 2^-14
    let nan = ((0x7f80_0000 &- u) &>> 31) & 1
    let overflow = 0x7c00 | (nan &<< 9)
    let magic = V(repeating: 0.5)  // bits 0x3f000000: ((127 - 15) + (23 - 10) + 1) << 23
    let subnormal = unsafeBitCast(unsafeBitCast(u, to: V.self) + magic, to: U.self) &- 0x3f00_0000
    let normal = (u &+ (U(repeating: U.Scalar(truncatingIfNeeded: 0xc800_0fff as UInt32)) &+ ((u &>> 13) & 1))) &>> 13
    let h = (overflow & large) | (subnormal & small) | (normal & ~(large | small))
    return (h & 0xffff) | ((sign &>> 16) & 0x8000)
  }

  @inlinable @inline(__always)
  package static func narrow<V: SIMD>(_ v: V, to p: UnsafeMutablePointer<UInt16>) where V.Scalar == Float {
    storeNarrowed(narrowBits(unsafeBitCast(v, to: V.MaskStorage.self), as: V.self), to: p)
  }

  @inlinable @inline(__always)
  package static func widen(_ bits: UInt16) -> Float {
    unsafeBitCast(widenBits(SIMD4<Int32>(repeating: Int32(bits)), as: SIMD4<Float>.self), to: SIMD4<Float>.self)[0]
  }

  @inlinable @inline(__always)
  package static func narrow(_ x: Float) -> UInt16 {
    UInt16(truncatingIfNeeded: narrowBits(unsafeBitCast(SIMD4<Float>(repeating: x), to: SIMD4<Int32>.self), as: SIMD4<Float>.self)[0])
  }
}

#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
/// IEEE binary16 through `Float16` conversions: F16C / AVX-512 instructions in the x86 backends
/// (whose flags include them), FCVT on arm64.
@available(macOS 11.0, iOS 14.0, watchOS 7.0, tvOS 14.0, *)
@usableFromInline package enum Binary16Native: HalfConversion {
  /// `h` widened lane by lane: one `vcvtph2ps` (F16C / AVX-512) or `fcvtl` (arm64); the
  /// standard library's converting initializers are calls to its prespecialized code here.
  @inlinable @inline(__always)
  static func widened<H: SIMD, V: SIMD>(_ h: H, as _: V.Type) -> V where H.Scalar == Float16, V.Scalar == Float {
    var v = V()
    for k in 0..<H.scalarCount { v[k] = Float(h[k]) }
    return v
  }

  /// `v` rounded lane by lane (one `vcvtps2ph` / `fcvtn`).
  @inlinable @inline(__always)
  static func narrowed<V: SIMD, H: SIMD>(_ v: V, as _: H.Type) -> H where H.Scalar == Float16, V.Scalar == Float {
    var h = H()
    for k in 0..<V.scalarCount { h[k] = Float16(v[k]) }
    return h
  }

  @inlinable @inline(__always)
  package static func widen<V: SIMD>(_ p: UnsafePointer<UInt16>, as _: V.Type) -> V where V.Scalar == Float {
    let raw = UnsafeRawPointer(p)
    switch V.scalarCount {
    case 16: return widened(raw.loadUnaligned(as: SIMD16<Float16>.self), as: V.self)
    case 8: return widened(raw.loadUnaligned(as: SIMD8<Float16>.self), as: V.self)
    case 4: return widened(raw.loadUnaligned(as: SIMD4<Float16>.self), as: V.self)
    default:
      var v = V()
      for k in 0..<V.scalarCount { v[k] = widen(p[k]) }
      return v
    }
  }

  @inlinable @inline(__always)
  package static func narrow<V: SIMD>(_ v: V, to p: UnsafeMutablePointer<UInt16>) where V.Scalar == Float {
    let raw = UnsafeMutableRawPointer(p)
    switch V.scalarCount {
    case 16: raw.storeBytes(of: narrowed(v, as: SIMD16<Float16>.self), as: SIMD16<Float16>.self)
    case 8: raw.storeBytes(of: narrowed(v, as: SIMD8<Float16>.self), as: SIMD8<Float16>.self)
    case 4: raw.storeBytes(of: narrowed(v, as: SIMD4<Float16>.self), as: SIMD4<Float16>.self)
    default: for k in 0..<V.scalarCount { p[k] = narrow(v[k]) }
    }
  }

  @inlinable @inline(__always)
  package static func widen(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }

  @inlinable @inline(__always)
  package static func narrow(_ x: Float) -> UInt16 { Float16(x).bitPattern }
}
#endif
