/// A 16-bit brain floating-point number (bfloat16): 1 sign bit, 8 exponent bits and 7 fraction
/// bits, the upper half of a `Float`.
///
/// `BFloat16` has `Float`'s exponent range (up to about 3.39e38, subnormals down to 2^-133) with
/// 8 significant bits, about 2.4 decimal digits. It is a storage format: keep tensors in it to
/// halve their memory and bandwidth, and compute in `Float`.
///
/// ## Layout
///
/// The value is its ``bitPattern`` and nothing else: `MemoryLayout<BFloat16>` has size 2,
/// stride 2 and alignment 2, as `UInt16`, so a buffer of `BFloat16` can be viewed as a buffer of
/// `UInt16` and back. The bits are those of IEEE 754 binary32 shifted right by 16.
///
/// ## Conversions
///
/// - `Float(x)` is exact, the bits shifted left by 16, and so is `Double(x)`.
/// - ``init(_:)-(Float)`` rounds to nearest, ties to even, with bit arithmetic and no branch. A
///   NaN stays a NaN with its sign and the top 6 bits of its payload, made quiet; infinities and
///   signed zeros are kept; a magnitude at or above `0x1.ff0p127` (the midpoint between
///   ``greatestFiniteMagnitude`` and 2^128) rounds to infinity.
/// - Every other source, `Double`, `Float80`, `Float16`, any `BinaryFloatingPoint` and any
///   `BinaryInteger`, is rounded once, directly to bfloat16, never through a narrower type.
///   `Double` and `Float80` round to odd on their way to `Float` (the odd neighbour when
///   inexact, which keeps the information of the dropped bits) and then to nearest even: with 16
///   bits to spare, that is exactly one correct rounding.
///
/// ## Arithmetic
///
/// Every operation is correctly rounded to nearest, ties to even:
///
/// - `+`, `-`, `*`, `/` and `squareRoot()` compute in `Float` and round the result to
///   bfloat16. That double rounding is innocuous: `Float` has 24 >= 2 * 8 + 2 significant bits
///   and the same exponent range, so its result is never a bfloat16 midpoint unless the exact
///   result is one. Below the normal range the products and quotients of bfloat16 values are
///   either exact in `Float` or more than half a `Float` ulp away from every bfloat16 midpoint.
/// - `addingProduct(_:_:)` (fused multiply-add) forms the product exactly in `Double`, adds the
///   addend with an error-free transformation, rounds that sum to odd and then to bfloat16: one
///   rounding of the exact `a * b + c`, where rounding the `Double` sum to nearest would round
///   twice.
/// - `remainder(dividingBy:)` and `truncatingRemainder(dividingBy:)` are exact, as in every
///   binary format: computed in `Float`, their result is representable in bfloat16.
/// - `rounded(_:)` is exact for every rule.
///
/// ## Text
///
/// ``description`` prints the shortest decimal that converts back to the same value (closest to
/// it when several have that length), in the standard library's style: decimal notation from
/// 0.0001 up to 256 (the largest range of consecutive integers the type holds), exponential
/// notation outside it. ``init(_:)-(S)`` reads any text `Double(_:)` reads and rounds its exact
/// value once.
///
/// ## Edge cases
///
/// `-0 == +0` and both hash alike; a NaN is unequal to everything, itself included; NaNs and
/// signed zeros are ordered by `isTotallyOrdered(belowOrEqualTo:)`. ``pi`` is rounded toward
/// zero, as the standard library's types round it: 3.140625.
@frozen
public struct BFloat16: Sendable, BitwiseCopyable {
  /// The bits of the value: the sign in bit 15, the biased exponent in bits 14 to 7, the fraction
  /// in bits 6 to 0.
  public var bitPattern: UInt16

  /// Creates a value from its bits, unchanged (a signaling NaN stays signaling).
  ///
  /// - Parameter bitPattern: The sign in bit 15, the biased exponent in bits 14 to 7, the
  ///   fraction in bits 6 to 0.
  @inlinable @inline(__always)
  public init(bitPattern: UInt16) {
    self.bitPattern = bitPattern
  }
}

// MARK: - Conversions from and to Float and Double

extension BFloat16 {
  /// Rounds a `Float` to the nearest `BFloat16`, ties to even.
  ///
  /// Bit arithmetic without a branch: add `0x7FFF` plus the lowest kept bit to the bits and keep
  /// the upper half, which rounds up exactly above the midpoint and at a midpoint with an odd
  /// lowest bit, and carries into the exponent where it should (to infinity past
  /// ``greatestFiniteMagnitude``).
  ///
  /// ## Edge cases
  /// A NaN gives a quiet NaN with its sign and the top 6 bits of its payload (a signaling NaN
  /// comes back quiet); infinities and signed zeros are kept; a `Float` subnormal rounds to a
  /// bfloat16 subnormal or zero.
  ///
  /// - Parameter x: The value to round.
  @inlinable @inline(__always)
  public init(_ x: Float) {
    let bits = x.bitPattern
    let rounded = bits &+ (0x7FFF &+ ((bits &>> 16) & 1))
    let quietNaN = bits | 0x0040_0000
    let isNaN = bits & 0x7FFF_FFFF > 0x7F80_0000
    self.init(bitPattern: UInt16(truncatingIfNeeded: (isNaN ? quietNaN : rounded) &>> 16))
  }

  /// Rounds a `Double` to the nearest `BFloat16`, ties to even, once.
  ///
  /// The `Double` is first rounded to odd in `Float` (to nearest, then to the odd neighbour when
  /// the result is inexact and even), then to nearest even in bfloat16. Rounding to odd keeps
  /// the dropped bits' information in the lowest `Float` bit, 16 bits below the bfloat16 lowest
  /// bit, so the second rounding is the correct one: a `Double` just above a bfloat16 midpoint
  /// rounds up, where `BFloat16(Float(x))` would land on the midpoint and round to even.
  ///
  /// ## Edge cases
  /// As ``init(_:)-(Float)``: NaNs stay NaNs (quiet, sign and top payload bits kept), infinities
  /// and signed zeros are kept, a magnitude at or above the midpoint above
  /// ``greatestFiniteMagnitude`` rounds to infinity, and one at or below half of
  /// ``leastNonzeroMagnitude`` to zero.
  ///
  /// - Parameter x: The value to round.
  @inlinable
  public init(_ x: Double) {
    var f = Float(x)
    let back = Double(f)
    if back != x && !x.isNaN && f.bitPattern & 1 == 0 {
      // Inexact and even: take the odd neighbour on x's side (bit patterns are sign and magnitude).
      f = Float(bitPattern: x.magnitude > back.magnitude ? f.bitPattern &+ 1 : f.bitPattern &- 1)
    }
    self.init(f)
  }

  #if !(os(Windows) || os(Android)) && (arch(i386) || arch(x86_64))
  /// Rounds a `Float80` to the nearest `BFloat16`, ties to even, once.
  ///
  /// The value is rounded to odd in `Double`, then as ``init(_:)-(Double)`` (rounding to odd
  /// twice is rounding to odd once), then to nearest even in bfloat16.
  ///
  /// ## Edge cases
  /// As ``init(_:)-(Double)``.
  ///
  /// - Parameter x: The value to round.
  @inlinable
  public init(_ x: Float80) {
    var d = Double(x)
    let back = Float80(d)
    if back != x && !x.isNaN && d.bitPattern & 1 == 0 {
      d = Double(bitPattern: x.magnitude > back.magnitude ? d.bitPattern &+ 1 : d.bitPattern &- 1)
    }
    self.init(d)
  }
  #endif

  #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
  /// Rounds a `Float16` to the nearest `BFloat16`, ties to even (`Float16` has 11 significant
  /// bits, bfloat16 8; every `Float16` is in bfloat16's range).
  ///
  /// ## Edge cases
  /// NaNs stay NaNs (quiet, sign and top payload bits kept); infinities and signed zeros are
  /// kept.
  ///
  /// - Parameter x: The value to round.
  @available(macOS 11.0, iOS 14.0, watchOS 7.0, tvOS 14.0, *)
  @inlinable
  public init(_ x: Float16) {
    self.init(Float(x))  // exact, then one rounding
  }
  #endif
}

extension Float {
  /// The value of a `BFloat16`, exactly: its bits shifted left by 16.
  ///
  /// A signaling NaN stays signaling, with its payload.
  ///
  /// - Parameter x: The value to widen.
  @inlinable @inline(__always)
  public init(_ x: BFloat16) {
    self.init(bitPattern: UInt32(x.bitPattern) &<< 16)
  }
}

extension Double {
  /// The value of a `BFloat16`, exactly.
  ///
  /// A NaN stays a NaN with its sign and payload, made quiet, as `Double(_: Float)` does.
  ///
  /// - Parameter x: The value to widen.
  @inlinable @inline(__always)
  public init(_ x: BFloat16) {
    self.init(Float(x))
  }
}

// MARK: - Classification and bit-level members

extension BFloat16 {
  public typealias RawSignificand = UInt16
  public typealias RawExponent = UInt
  public typealias Exponent = Int
  public typealias Magnitude = BFloat16
  public typealias Stride = BFloat16

  @inlinable public static var exponentBitCount: Int { 8 }
  @inlinable public static var significandBitCount: Int { 7 }

  @inlinable
  public var exponentBitPattern: UInt { UInt(truncatingIfNeeded: (bitPattern &>> 7) & 0xFF) }

  @inlinable
  public var significandBitPattern: UInt16 { bitPattern & 0x7F }

  @inlinable
  public init(sign: FloatingPointSign, exponentBitPattern: UInt, significandBitPattern: UInt16) {
    let s: UInt16 = sign == .minus ? 0x8000 : 0
    let e = UInt16(truncatingIfNeeded: exponentBitPattern & 0xFF) &<< 7
    self.init(bitPattern: s | e | (significandBitPattern & 0x7F))
  }

  @inlinable
  public var sign: FloatingPointSign { bitPattern & 0x8000 == 0 ? .plus : .minus }

  @inlinable public var isNaN: Bool { bitPattern & 0x7FFF > 0x7F80 }
  @inlinable public var isSignalingNaN: Bool { isNaN && bitPattern & 0x40 == 0 }
  @inlinable public var isInfinite: Bool { bitPattern & 0x7FFF == 0x7F80 }
  @inlinable public var isFinite: Bool { bitPattern & 0x7F80 != 0x7F80 }
  @inlinable public var isZero: Bool { bitPattern & 0x7FFF == 0 }
  @inlinable public var isSubnormal: Bool { bitPattern & 0x7F80 == 0 && bitPattern & 0x7F != 0 }
  @inlinable
  public var isNormal: Bool {
    let e = bitPattern & 0x7F80
    return e != 0 && e != 0x7F80
  }
  /// Every encoding is canonical (there is no flush to zero here).
  @inlinable public var isCanonical: Bool { true }

  @inlinable public static var nan: BFloat16 { BFloat16(bitPattern: 0x7FC0) }
  @inlinable public static var signalingNaN: BFloat16 { BFloat16(bitPattern: 0x7FA0) }
  @inlinable public static var infinity: BFloat16 { BFloat16(bitPattern: 0x7F80) }
  @inlinable public static var greatestFiniteMagnitude: BFloat16 { BFloat16(bitPattern: 0x7F7F) }
  @inlinable public static var leastNormalMagnitude: BFloat16 { BFloat16(bitPattern: 0x0080) }
  @inlinable public static var leastNonzeroMagnitude: BFloat16 { BFloat16(bitPattern: 0x0001) }
  /// π rounded toward zero, as the standard library's types round it: 3.140625 (`0x4049`).
  @inlinable public static var pi: BFloat16 { BFloat16(bitPattern: 0x4049) }

  @inlinable
  public var magnitude: BFloat16 { BFloat16(bitPattern: bitPattern & 0x7FFF) }

  @inlinable
  public var exponent: Int { Float(self).exponent }  // the same value, so the same exponent

  @inlinable
  public var significand: BFloat16 { BFloat16(Float(self).significand) }  // exact: 8 bits or fewer

  @inlinable
  public var binade: BFloat16 { BFloat16(Float(self).binade) }  // exact: a power of two in range

  @inlinable
  public var significandWidth: Int {
    guard isFinite && !isZero else { return -1 }
    let s = significandBitPattern
    if exponentBitPattern != 0 {
      return s == 0 ? 0 : 7 &- s.trailingZeroBitCount
    }
    // Subnormal: the bits below the leading one.
    return (15 &- s.leadingZeroBitCount) &- s.trailingZeroBitCount
  }

  @inlinable
  public var ulp: BFloat16 {
    let e = bitPattern & 0x7F80
    if e == 0x7F80 { return .nan }
    // 2^(exponent - 7): normal while the biased exponent exceeds 7, a subnormal power of two below.
    if e > 7 &<< 7 { return BFloat16(bitPattern: e &- (7 &<< 7)) }
    if e == 0 { return .leastNonzeroMagnitude }
    return BFloat16(bitPattern: 1 &<< ((e &>> 7) &- 1))
  }

  @inlinable
  public var nextUp: BFloat16 {
    if isNaN { return BFloat16(bitPattern: bitPattern | 0x40) }  // quieted, as Float does
    if bitPattern == 0x8000 { return .leastNonzeroMagnitude }  // -0 -> +0 -> the least nonzero
    if bitPattern == 0x7F80 { return self }
    return BFloat16(bitPattern: bitPattern & 0x8000 == 0 ? bitPattern &+ 1 : bitPattern &- 1)
  }

  /// Creates `significand * 2^exponent` with the given sign (negated when `sign` is `.minus`),
  /// rounded once to the nearest `BFloat16`, ties to even: to a subnormal, zero or infinity when
  /// out of range.
  ///
  /// ## Edge cases
  /// A zero, infinite or NaN `significand` is returned as is, negated for `.minus` (a signaling
  /// NaN stays signaling), whatever the exponent.
  ///
  /// - Parameters:
  ///   - sign: The sign to apply to `significand`.
  ///   - exponent: Any exponent, `Int.min` and `Int.max` included.
  ///   - significand: The value to scale.
  @inlinable
  public init(sign: FloatingPointSign, exponent: Int, significand: BFloat16) {
    guard significand.isFinite && !significand.isZero else {
      self = sign == .minus ? -significand : significand
      return
    }
    // Exact in Double: |significand| is in [2^-133, 2^128) and the clamped exponent moves it by
    // at most 2^400 either way. Past the clamp the result is zero or infinite anyway.
    let clamped = Swift.min(Swift.max(exponent, -400), 400)
    self.init(Double(sign: sign, exponent: clamped, significand: Double(significand)))
  }
}

// MARK: - Conversions from integers and literals

extension BFloat16 {
  public typealias IntegerLiteralType = Int64
  public typealias FloatLiteralType = Double

  /// Rounds an integer to the nearest `BFloat16`, ties to even, once (any `Int` is in range).
  ///
  /// - Parameter value: The integer to convert.
  @inlinable
  public init(_ value: Int) {
    self.init(roundingMagnitude: UInt64(value.magnitude), negative: value < 0)
  }

  /// Creates a value from an integer literal, rounded to the nearest `BFloat16`, ties to even,
  /// once: `257` gives 256, `259` gives 260 (integers are exact up to 256 only).
  ///
  /// - Parameter value: The literal.
  @inlinable
  public init(integerLiteral value: Int64) {
    self.init(roundingMagnitude: value.magnitude, negative: value < 0)
  }

  /// `±magnitude` rounded once: its leading 24 bits, with the lowest one set when any bit below
  /// them is (rounding to odd, 16 bits below bfloat16's lowest bit), are exact in `Float`, which
  /// is then rounded to nearest even. (The standard library's generic conversion cannot serve
  /// here: it builds its constants from integer literals, which come back to this initializer.)
  @inlinable
  init(roundingMagnitude magnitude: UInt64, negative: Bool) {
    let shift = Swift.max(0, 40 &- magnitude.leadingZeroBitCount)
    var kept = magnitude &>> shift
    if magnitude & ((1 &<< shift) &- 1) != 0 { kept |= 1 }
    let f = Float(kept) * Float(bitPattern: UInt32(127 &+ shift) &<< 23)  // exact
    self.init(negative ? -f : f)
  }

  /// Creates a value from a floating-point literal.
  ///
  /// The compiler rounds the literal to `Double` (its `FloatLiteralType`); that `Double` is then
  /// rounded once to bfloat16 (``init(_:)-(Double)``). The result is the correctly rounded
  /// literal unless the literal lies within a `Double` rounding error (about 1e-16 relative)
  /// of a midpoint between two bfloat16 values without being that midpoint, which takes 17 or
  /// more significant digits: `Double` then rounds it to the midpoint and the tie goes to even.
  ///
  /// - Parameter value: The literal, as the compiler rounded it to `Double`.
  @inlinable
  public init(floatLiteral value: Double) {
    self.init(value)
  }
}

// MARK: - Comparison and hashing

extension BFloat16 {
  @inlinable
  public static func == (lhs: BFloat16, rhs: BFloat16) -> Bool { Float(lhs) == Float(rhs) }
  @inlinable
  public static func < (lhs: BFloat16, rhs: BFloat16) -> Bool { Float(lhs) < Float(rhs) }
  @inlinable
  public static func <= (lhs: BFloat16, rhs: BFloat16) -> Bool { Float(lhs) <= Float(rhs) }
  @inlinable
  public static func > (lhs: BFloat16, rhs: BFloat16) -> Bool { Float(lhs) > Float(rhs) }
  @inlinable
  public static func >= (lhs: BFloat16, rhs: BFloat16) -> Bool { Float(lhs) >= Float(rhs) }

  @inlinable
  public func isEqual(to other: BFloat16) -> Bool { Float(self) == Float(other) }
  @inlinable
  public func isLess(than other: BFloat16) -> Bool { Float(self) < Float(other) }
  @inlinable
  public func isLessThanOrEqualTo(_ other: BFloat16) -> Bool { Float(self) <= Float(other) }

  /// Hashes the value so that equal values hash alike: `-0` as `+0`.
  ///
  /// - Parameter hasher: The hasher to feed.
  @inlinable
  public func hash(into hasher: inout Hasher) {
    hasher.combine(isZero ? 0 : bitPattern)
  }
}

// MARK: - Arithmetic

// + - * / and the square root compute in Float and round once more to bfloat16. Float's 24 bits
// are at least 2 * 8 + 2, so rounding the exact result to Float and then to bfloat16 gives the
// correctly rounded result (Figueroa, "When is double rounding innocuous?", 1995); Float has
// bfloat16's exponent range, and below 2^-126 an exact product or quotient of bfloat16 values
// lies either on Float's grid or more than half a Float ulp from every bfloat16 midpoint.
extension BFloat16 {
  @inlinable
  public static func + (lhs: BFloat16, rhs: BFloat16) -> BFloat16 { BFloat16(Float(lhs) + Float(rhs)) }
  @inlinable
  public static func - (lhs: BFloat16, rhs: BFloat16) -> BFloat16 { BFloat16(Float(lhs) - Float(rhs)) }
  @inlinable
  public static func * (lhs: BFloat16, rhs: BFloat16) -> BFloat16 { BFloat16(Float(lhs) * Float(rhs)) }
  @inlinable
  public static func / (lhs: BFloat16, rhs: BFloat16) -> BFloat16 { BFloat16(Float(lhs) / Float(rhs)) }
  @inlinable
  public static func += (lhs: inout BFloat16, rhs: BFloat16) { lhs = lhs + rhs }
  @inlinable
  public static func -= (lhs: inout BFloat16, rhs: BFloat16) { lhs = lhs - rhs }
  @inlinable
  public static func *= (lhs: inout BFloat16, rhs: BFloat16) { lhs = lhs * rhs }
  @inlinable
  public static func /= (lhs: inout BFloat16, rhs: BFloat16) { lhs = lhs / rhs }

  @inlinable
  public static prefix func - (operand: BFloat16) -> BFloat16 { BFloat16(bitPattern: operand.bitPattern ^ 0x8000) }
  @inlinable
  public mutating func negate() { bitPattern ^= 0x8000 }

  @inlinable
  public mutating func formSquareRoot() { self = BFloat16(Float(self).squareRoot()) }

  // Exact in Float, and the result is representable in bfloat16: no rounding at all.
  @inlinable
  public mutating func formRemainder(dividingBy other: BFloat16) {
    self = BFloat16(Float(self).remainder(dividingBy: Float(other)))
  }
  @inlinable
  public mutating func formTruncatingRemainder(dividingBy other: BFloat16) {
    self = BFloat16(Float(self).truncatingRemainder(dividingBy: Float(other)))
  }

  /// Adds the product of two values to this value, with a single rounding (fused multiply-add).
  ///
  /// The product of two bfloat16 values has at most 16 significant bits and an exponent within
  /// `Double`'s range, so it is exact in `Double`. The sum with `self` is rounded to `Double` by
  /// an error-free transformation (TwoSum) that also gives its exact rounding error; the sum is
  /// then made odd when inexact (rounding to odd), and rounded once to bfloat16
  /// (``init(_:)-(Double)``). Rounding to odd in 53 bits and then to nearest in 8 is exactly the
  /// rounding to nearest of the exact `self + lhs * rhs`; rounding that sum to nearest in
  /// `Double` or `Float` first would not be: `7 * 37 - 2^-100` is just below the midpoint 259
  /// and must round to 258, not to the even 260.
  ///
  /// ## Edge cases
  /// Infinities and NaNs give what `Double` arithmetic gives (NaN for `0 * inf` or
  /// `inf - inf`); an exact zero sum of nonzero terms is `+0`.
  ///
  /// - Parameters:
  ///   - lhs: One of the values to multiply.
  ///   - rhs: The other value to multiply.
  @inlinable
  public mutating func addProduct(_ lhs: BFloat16, _ rhs: BFloat16) {
    let p = Double(lhs) * Double(rhs)
    let c = Double(self)
    let s = p + c
    guard s.isFinite else {
      self = BFloat16(s)  // an infinite or NaN operand: neither p nor c overflows Double
      return
    }
    let v = s - p
    let error = (p - (s - v)) + (c - v)  // TwoSum: s + error == p + c exactly
    var odd = s
    if error != 0 && s.bitPattern & 1 == 0 {
      odd = Double(bitPattern: (error > 0) == (s > 0) ? s.bitPattern &+ 1 : s.bitPattern &- 1)
    }
    self = BFloat16(odd)
  }

  @inlinable
  public mutating func round(_ rule: FloatingPointRoundingRule) {
    self = BFloat16(Float(self).rounded(rule))  // exact: self, or an integer of magnitude 2^7 or less
  }

  @inlinable
  public func distance(to other: BFloat16) -> BFloat16 { other - self }

  @inlinable
  public func advanced(by n: BFloat16) -> BFloat16 { self + n }
}

extension BFloat16: BinaryFloatingPoint {}

// MARK: - Codable

extension BFloat16: Codable {
  /// Encodes the value as a `Float` (exactly), in a single-value container.
  ///
  /// - Parameter encoder: The encoder to write to.
  /// - Throws: What the encoder's single-value container throws; a JSON encoder, for instance,
  ///   rejects infinities and NaN unless configured otherwise.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(Float(self))
  }

  /// Decodes a `Float` from a single-value container and rounds it to the nearest `BFloat16`,
  /// ties to even (``init(_:)-(Float)``): a `Float` that is not a bfloat16 value is rounded,
  /// not rejected.
  ///
  /// - Parameter decoder: The decoder to read from.
  /// - Throws: `DecodingError` when the container holds no `Float`.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    self.init(try container.decode(Float.self))
  }
}

// MARK: - Text

extension BFloat16: CustomStringConvertible, CustomDebugStringConvertible, LosslessStringConvertible {
  /// The shortest decimal that converts back to this value; among several of that length, the
  /// closest (ties to an even last digit).
  ///
  /// Decimal notation from 0.0001 up to 256, exponential notation (at least two exponent digits)
  /// outside that range: `"0.1"`, `"3.14"`, `"256.0"`, `"1e+03"`, `"3.39e+38"`, `"1e-05"`; a
  /// finite value's text always has a `.` or an `e`. `"-0.0"`, `"inf"`, `"-inf"`, and `"nan"` for
  /// every NaN (see ``debugDescription``). ``init(_:)-(S)`` reads it back to the same value.
  public var description: String {
    if isNaN { return "nan" }
    return Self.text(self)
  }

  /// As ``description``, except for NaNs: `"nan"` or `"snan"` (signaling), after a `-` when the
  /// sign bit is set and with the low 5 bits of the payload when nonzero (`"nan(0x1f)"`).
  public var debugDescription: String {
    guard isNaN else { return Self.text(self) }
    let payload = bitPattern & 0x1F
    return (sign == .minus ? "-" : "") + (isSignalingNaN ? "snan" : "nan")
      + (payload == 0 ? "" : "(0x" + String(payload, radix: 16) + ")")
  }

  /// Reads a number written as `Double(_:)` reads it (decimal or hexadecimal, `inf`, `nan`,
  /// `snan`), rounded once to the nearest `BFloat16`, ties to even.
  ///
  /// The text is read to `Double` first; when that `Double` is a midpoint between two bfloat16
  /// values, the text's exact value decides the direction (above, below, or on the midpoint), so
  /// the result is the correct rounding of the exact value even where the `Double` alone would
  /// round twice.
  ///
  /// ## Edge cases
  /// `nil` for text that is not a number (leading or trailing spaces included). A NaN keeps its
  /// sign, whether it signals, and the low 5 bits of its payload (`"nan(0x1f)"`).
  ///
  /// - Parameter text: The number, for example `"0.1"`, `"-1.5e+03"`, `"0x1.8p-3"`, `"inf"`.
  public init?<S: StringProtocol>(_ text: S) {
    guard let d = BFloat16Text.signalingNaN(text) ?? Double(text) else { return nil }
    if d.isNaN {
      let payload = UInt16(truncatingIfNeeded: d.significandBitPattern) & 0x1F
      let sign: UInt16 = d.sign == .minus ? 0x8000 : 0
      self.init(bitPattern: sign | 0x7F80 | (d.isSignalingNaN ? 0x20 : 0x40) | payload)
      return
    }
    self.init(d)
    // A tie in bfloat16 is a Float whose lower 16 bits are 0x8000 exactly.
    let a = d.magnitude
    let f = Float(a)
    guard Double(f) == a, f.bitPattern & 0xFFFF == 0x8000 else { return }
    guard let exact = BFloat16Text.exactValue(of: Array(text.utf8)) else { return }
    let order = BFloat16Text.compare(exact.value, BFloat16Text.floatDigits(f, base2: exact.base2))
    if order == 0 { return }
    let below = UInt16(truncatingIfNeeded: f.bitPattern &>> 16)
    self.init(bitPattern: (d.sign == .minus ? 0x8000 : 0) | (order > 0 ? below &+ 1 : below))
  }

  /// `description` or `debugDescription` of a non-NaN value.
  private static func text(_ x: BFloat16) -> String {
    let sign = x.sign == .minus ? "-" : ""
    if x.isInfinite { return sign + "inf" }
    if x.isZero { return sign + "0.0" }
    let digits = BFloat16Text.shortest(x.magnitude)
    return sign + BFloat16Text.format(digits, decimal: x.magnitude <= 256)
  }
}

/// Exact decimal and binary expansions for ``BFloat16``'s text conversions: the shortest
/// round-trip digits and the exact comparison of a text with a midpoint.
private enum BFloat16Text {
  /// A positive number as digits, most significant first, without leading or trailing zeros, and
  /// the position of the radix point: `0.d1 d2 d3 ... * base^point`.
  struct Digits {
    var digits: [UInt8]
    var point: Int
  }

  /// The exact decimal expansion of `m * 2^e`, `m > 0`.
  static func decimal(_ m: UInt64, timesPowerOfTwo e: Int) -> Digits {
    // A natural number in base 10^9, least significant limb first: m * 2^e, or m * 5^-e for a
    // negative e (then m * 2^e = m * 5^-e * 10^e).
    let base: UInt64 = 1_000_000_000
    var limbs: [UInt64] = []
    var x = m
    while x > 0 {
      limbs.append(x % base)
      x /= base
    }
    func multiply(by factor: UInt64) {  // factor < 2^31: limb * factor + carry < 2^62
      var carry: UInt64 = 0
      for i in limbs.indices {
        let t = limbs[i] * factor + carry
        limbs[i] = t % base
        carry = t / base
      }
      while carry > 0 {
        limbs.append(carry % base)
        carry /= base
      }
    }
    var k = Swift.abs(e)
    while k > 0 {
      let step = Swift.min(k, e > 0 ? 30 : 13)
      var factor: UInt64 = 1
      for _ in 0..<step { factor *= e > 0 ? 2 : 5 }
      multiply(by: factor)
      k -= step
    }
    var digits: [UInt8] = []
    for (i, limb) in limbs.enumerated().reversed() {
      var chunk = [UInt8](repeating: 0, count: 9)
      var v = limb
      for j in (0..<9).reversed() {
        chunk[j] = UInt8(v % 10)
        v /= 10
      }
      digits += i == limbs.count - 1 ? Array(chunk.drop { $0 == 0 }) : chunk
    }
    let point = digits.count + Swift.min(e, 0)
    while digits.last == 0 { digits.removeLast() }
    return Digits(digits: digits, point: point)
  }

  /// A positive finite `Float` (a bfloat16 value or midpoint) as exact decimal or binary digits.
  static func floatDigits(_ f: Float, base2: Bool) -> Digits {
    let e = Int(f.exponentBitPattern)
    let m = UInt64(f.significandBitPattern) | (e == 0 ? 0 : 1 << 23)
    let e2 = (e == 0 ? 1 : e) - 150
    guard base2 else { return decimal(m, timesPowerOfTwo: e2) }
    let width = 64 - m.leadingZeroBitCount
    var bits = (0..<width).map { UInt8((m >> (width - 1 - $0)) & 1) }
    while bits.last == 0 { bits.removeLast() }
    return Digits(digits: bits, point: width + e2)
  }

  /// -1, 0 or 1 as `a` is below, equal to or above `b` (positive numbers in the same base).
  static func compare(_ a: Digits, _ b: Digits) -> Int {
    if a.point != b.point { return a.point < b.point ? -1 : 1 }
    for i in 0..<Swift.max(a.digits.count, b.digits.count) {
      let x = i < a.digits.count ? a.digits[i] : 0
      let y = i < b.digits.count ? b.digits[i] : 0
      if x != y { return x < y ? -1 : 1 }
    }
    return 0
  }

  /// The shortest decimal digits that round to `x` (positive, finite, nonzero), the closest to
  /// `x` among those of that length (ties to an even last digit).
  ///
  /// With 8 significant bits, 4 significant digits always suffice. For each length `n`, the
  /// candidates are `d * 10^q` and `(d + 1) * 10^q`, `d = floor(x / 10^q)` with `n` digits; every
  /// comparison with `x` and with the ends of its rounding interval is exact (``compare(_:_:_:_:)``).
  static func shortest(_ x: BFloat16) -> Digits {
    let exponentBits = Int(x.exponentBitPattern)
    let fraction = UInt64(x.significandBitPattern)
    // x = m * 2^e exactly. The values that round to x lie between the midpoints to its
    // neighbours: one unit of 2^e away, or half a unit below a power of two (except at the least
    // normal, whose lower neighbour is a subnormal one unit away). Ties round to the even
    // significand: the interval is closed when m is even.
    let m = exponentBits == 0 ? fraction : fraction | 0x80
    let e = Swift.max(exponentBits, 1) - 134
    let (low, lowExponent) = fraction == 0 && exponentBits > 1 ? (4 * m - 1, e - 2) : (2 * m - 1, e - 1)
    let (high, highExponent) = (2 * m + 1, e - 1)
    let closed = m & 1 == 0
    // k = floor(log10 x), from an estimate that is at most one too small.
    var k = Int((Double(x.exponent) * 0.301_029_995_663_981_2).rounded(.down))
    while compare(1, k + 1, m, e) <= 0 { k += 1 }
    while compare(1, k, m, e) > 0 { k -= 1 }
    for n in 1...5 {
      let q = k - n + 1
      var scale = 1.0
      for _ in 0..<Swift.abs(q) { scale *= 10 }
      var d = UInt64(Swift.max(1, (q >= 0 ? Double(x) / scale : Double(x) * scale).rounded(.down)))
      while compare(d + 1, q, m, e) <= 0 { d += 1 }
      while compare(d, q, m, e) > 0 { d -= 1 }
      if compare(d, q, m, e) == 0 { return digits(d, q) }
      let lowOrder = compare(d, q, low, lowExponent)
      let highOrder = compare(d + 1, q, high, highExponent)
      let downRounds = lowOrder > 0 || (closed && lowOrder == 0)
      let upRounds = highOrder < 0 || (closed && highOrder == 0)
      if downRounds && upRounds {
        // Both: the closer one, from (d + 1/2) * 10^q against x.
        let middle = compare(2 * d + 1, q, m, e + 1)
        if middle != 0 { return digits(middle > 0 ? d : d + 1, q) }
        return digits(d & 1 == 0 ? d : d + 1, q)
      }
      if downRounds { return digits(d, q) }
      if upRounds { return digits(d + 1, q) }
    }
    return decimal(m, timesPowerOfTwo: e)  // not reached: 4 digits always suffice
  }

  /// The digits of `d * 10^q`, `d > 0`.
  static func digits(_ d: UInt64, _ q: Int) -> Digits {
    var reversed: [UInt8] = []
    var v = d
    while v > 0 {
      reversed.append(UInt8(v % 10))
      v /= 10
    }
    let point = q + reversed.count
    while reversed.first == 0 { reversed.removeFirst() }
    return Digits(digits: reversed.reversed(), point: point)
  }

  /// -1, 0 or 1 as `d * 10^q` is below, equal to or above `b * 2^g` (`d`, `b` positive, `d` below
  /// 2^18, `b` below 2^10, `|q|` at most 50), exactly: `d * 5^q * 2^q` against `b * 2^g`, with the
  /// powers of five on one side and every product below 2^128.
  static func compare(_ d: UInt64, _ q: Int, _ b: UInt64, _ g: Int) -> Int {
    q >= 0
      ? compare(UInt128Lite(d).timesPowerOfFive(q), q, UInt128Lite(b), g)
      : compare(UInt128Lite(d), 0, UInt128Lite(b).timesPowerOfFive(-q), g - q)
  }

  /// -1, 0 or 1 as `p * 2^i` is below, equal to or above `r * 2^j` (`p`, `r` nonzero).
  static func compare(_ p: UInt128Lite, _ i: Int, _ r: UInt128Lite, _ j: Int) -> Int {
    let pWidth = p.bitWidth + i, rWidth = r.bitWidth + j
    if pWidth != rWidth { return pWidth < rWidth ? -1 : 1 }
    // The same leading bit: shifting the one with the lower exponent keeps it below 2^128.
    let (a, c) = i >= j ? (p.shiftedLeft(i - j), r) : (p, r.shiftedLeft(j - i))
    if a.high != c.high { return a.high < c.high ? -1 : 1 }
    return a.low == c.low ? 0 : a.low < c.low ? -1 : 1
  }

  /// 5^0 through 5^27.
  static let powersOfFive: [UInt64] = (0...27).map { n in (0..<n).reduce(1) { p, _ in p * 5 } }

  /// An unsigned 128-bit integer with the few operations ``compare(_:_:_:_:)`` needs (the
  /// standard library's `UInt128` is not available on every deployment target).
  struct UInt128Lite {
    var high: UInt64
    var low: UInt64

    init(_ value: UInt64) {
      high = 0
      low = value
    }

    init(high: UInt64, low: UInt64) {
      self.high = high
      self.low = low
    }

    /// The number of bits up to the leading one.
    var bitWidth: Int { high != 0 ? 128 - high.leadingZeroBitCount : 64 - low.leadingZeroBitCount }

    /// `self * 5^n`, for a product below 2^128.
    func timesPowerOfFive(_ n: Int) -> UInt128Lite {
      var result = self
      var k = n
      while k > 0 {
        let step = Swift.min(k, 27)  // 5^27 < 2^63
        let factor = BFloat16Text.powersOfFive[step]
        let (carry, low) = result.low.multipliedFullWidth(by: factor)
        result = UInt128Lite(high: result.high &* factor &+ carry, low: low)
        k -= step
      }
      return result
    }

    /// `self * 2^n`, for a result below 2^128.
    func shiftedLeft(_ n: Int) -> UInt128Lite {
      if n == 0 { return self }
      if n >= 64 { return UInt128Lite(high: low << (n - 64), low: 0) }
      return UInt128Lite(high: high << n | low >> (64 - n), low: low << n)
    }
  }

  /// Decimal notation (`"0.001"`, `"12.5"`, `"200.0"`) or exponential (`"1.5e-05"`, `"3e+38"`).
  static func format(_ x: Digits, decimal: Bool) -> String {
    let digits = x.digits.map { Character(Unicode.Scalar($0 + 48)) }
    if decimal && x.point >= -3 {
      if x.point <= 0 {
        return "0." + String(repeating: "0", count: -x.point) + String(digits)
      }
      if x.point >= digits.count {
        return String(digits) + String(repeating: "0", count: x.point - digits.count) + ".0"
      }
      return String(digits[..<x.point]) + "." + String(digits[x.point...])
    }
    let exponent = x.point - 1
    let magnitude = String(Swift.abs(exponent))
    return String(digits[0]) + (digits.count > 1 ? "." + String(digits[1...]) : "") + "e"
      + (exponent < 0 ? "-" : "+") + (magnitude.count < 2 ? "0" : "") + magnitude
  }

  /// A signaling NaN as ``BFloat16/debugDescription`` writes it, `"snan"`, `"-snan"` or
  /// `"snan(0x1f)"`, as a `Double` signaling NaN with that sign and payload. (`Double(_:)` reads
  /// no payload after `snan` and drops the sign of `"-snan"`.)
  static func signalingNaN<S: StringProtocol>(_ text: S) -> Double? {
    var rest = Substring(text)
    let negative = rest.first == "-"
    if negative || rest.first == "+" { rest = rest.dropFirst() }
    guard rest.hasPrefix("snan"), let quiet = Double("nan" + rest.dropFirst(4)), quiet.isNaN else { return nil }
    let payload = quiet.significandBitPattern & ((1 << 50) - 1)
    return Double(sign: negative ? .minus : .plus, exponentBitPattern: 0x7FF, significandBitPattern: 1 << 50 | payload)
  }

  /// The exact value of a finite nonzero number in the syntax `Double(_:)` reads: its decimal
  /// digits, or its binary digits (`base2`) for hexadecimal text. `nil` for anything else.
  static func exactValue(of text: [UInt8]) -> (value: Digits, base2: Bool)? {
    var i = 0
    if i < text.count && (text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-")) { i += 1 }
    let hex = i + 1 < text.count && text[i] == UInt8(ascii: "0") && (text[i + 1] | 0x20) == UInt8(ascii: "x")
    if hex { i += 2 }
    var digits: [UInt8] = []
    var integerDigits: Int?
    let exponentMark = hex ? UInt8(ascii: "p") : UInt8(ascii: "e")
    while i < text.count && (text[i] | 0x20) != exponentMark {
      let c = text[i]
      if c == UInt8(ascii: ".") {
        guard integerDigits == nil else { return nil }
        integerDigits = digits.count
      } else if let v = digitValue(c, hex: hex) {
        if hex {
          digits += [(v >> 3) & 1, (v >> 2) & 1, (v >> 1) & 1, v & 1]
        } else {
          digits.append(v)
        }
      } else {
        return nil
      }
      i += 1
    }
    var exponent = 0
    if i < text.count {
      i += 1
      var negative = false
      if i < text.count && (text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-")) {
        negative = text[i] == UInt8(ascii: "-")
        i += 1
      }
      guard i < text.count else { return nil }
      while i < text.count {
        guard let v = digitValue(text[i], hex: false) else { return nil }
        exponent = Swift.min(exponent * 10 + Int(v), 1 << 40)  // far past any finite value
        i += 1
      }
      if negative { exponent = -exponent }
    }
    var point = (integerDigits ?? digits.count) + exponent
    guard let first = digits.firstIndex(where: { $0 != 0 }) else { return nil }
    point -= first
    digits.removeFirst(first)
    while digits.last == 0 { digits.removeLast() }
    return (Digits(digits: digits, point: point), hex)
  }

  static func digitValue(_ c: UInt8, hex: Bool) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f") where hex: c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F") where hex: c - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}
