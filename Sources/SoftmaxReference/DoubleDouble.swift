#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A double-double number with its own exponent: `(head + tail) * 2^scale`, where `head` is
/// the significand pair's sum rounded to `Double` and lies in [1, 2) in magnitude, so about 106
/// bits of precision over an exponent range far wider than Double's (|scale| <= 2^40). It is
/// Double's oracle type where `Float80` does not exist (arm64, and the portable configuration on
/// x86-64; `Double.Wide`), and it runs on every architecture.
///
/// Arithmetic (`+ - * /`, `squareRoot()`) is accurate to a few units of 2^-106 relative;
/// ``exp(_:)``, ``expMinusOne(_:)``, ``log(_:)`` and ``log(onePlus:)`` to a few units of
/// 2^-106 too: within 2^-100 (8e-31) relative against values computed to 70 digits, and within
/// Float80's own accuracy of its `expl` / `logl` / `log1pl` over Float80's whole range (the tests
/// check both and print the worst errors; docs/platforms.md has the measurements). Like `Float80`, and unlike a plain
/// pair of Doubles, it keeps that precision far beyond Double's range: e^-740 or a sum of
/// thousands of terms below `Double.leastNormalMagnitude` is as accurate as e^-1, and a product
/// past `Double.greatestFiniteMagnitude` stays finite until it is rounded to Double.
///
/// ## As a `BinaryFloatingPoint`
///
/// The reference algorithms are generic over `BinaryFloatingPoint`, so this type conforms, with
/// one convention to know: its bit-level members (`exponentBitCount`, `significandBitCount`,
/// `exponentBitPattern`, `significandBitPattern`, `significandWidth`,
/// `init(sign:exponentBitPattern:significandBitPattern:)`) describe ``hi``, the value correctly
/// rounded to `Double` (to infinity past its range, to a subnormal or zero below). The standard
/// library converts through them, so `Double(x)` rounds `x` correctly and `Float(x)` goes by
/// way of `Double`; `Double(exactly: x)` ignores the rest. Its precision-level members say what
/// the type holds: `ulp` is 2^-104 times the value's binade (a bound on the rounding error of its
/// arithmetic, a little above the 2^-106 of its pair of significands), `ulpOfOne` is 2^-104,
/// `nextUp` moves the value by one ulp of its second word, there are no subnormals, and
/// `greatestFiniteMagnitude` is about 2^(2^40). Conversions from other `BinaryFloatingPoint`
/// types (`Float80` on x86) keep up to 106 bits and their whole range. `remainder`,
/// `truncatingRemainder` and `rounded` are exact for quotients and values below 2^100;
/// `addingProduct` is not fused.
@frozen
public struct DoubleDouble: Sendable {
  /// The leading word of the significand, in [1, 2) in magnitude for a finite nonzero value;
  /// zero, an infinity or NaN otherwise (and then `tail == 0`, `scale == 0`).
  @usableFromInline var head: Double
  /// The rest of the significand: `head == head + tail` in Double arithmetic.
  @usableFromInline var tail: Double
  /// The binary exponent.
  @usableFromInline var scale: Int

  /// The largest |scale|: past it a result is infinite (or zero).
  @usableFromInline static var maxScale: Int { 1 << 40 }

  @usableFromInline
  init(head: Double, tail: Double, scale: Int) {
    self.head = head
    self.tail = tail
    self.scale = scale
  }

  /// `(h + l) * 2^s` for any pair with `h == fl(h + l)` (a sum from the error-free
  /// transformations): brought to `head` in [1, 2).
  @usableFromInline
  init(pair h: Double, _ l: Double, scale s: Int) {
    guard h.isFinite, h != 0 else {
      self.init(head: h, tail: 0, scale: 0)
      return
    }
    let e = Int(h.exponent)
    let ns = s + e
    guard ns <= Self.maxScale else {
      self.init(head: h > 0 ? .infinity : -.infinity, tail: 0, scale: 0)
      return
    }
    guard ns >= -Self.maxScale else {
      self.init(head: h > 0 ? 0 : -0.0, tail: 0, scale: 0)
      return
    }
    if h.isNormal && e > -1000 && e < 1000 {
      // Fast path: exact scaling by a normal power of two.
      let f = Double(sign: .plus, exponentBitPattern: UInt(1023 - e), significandBitPattern: 0)
      self.init(head: h * f, tail: l * f, scale: ns)
    } else {
      self.init(
        head: Double(sign: .plus, exponent: -e, significand: h), tail: Double(sign: .plus, exponent: -e, significand: l),
        scale: ns)
    }
  }

  /// `hi + lo` exactly (renormalized).
  public init(hi: Double, lo: Double) {
    let (h, l) = Self.twoSum(hi, lo)
    self.init(pair: h, l, scale: 0)
  }

  /// The value rounded to `Double`: +-inf past its range, a subnormal or zero below it.
  public var hi: Double {
    guard head.isFinite, head != 0 else { return head }
    if scale > 1023 { return head > 0 ? .infinity : -.infinity }
    if scale >= -1022 { return Double(sign: .plus, exponent: scale, significand: head) }
    if scale < -1076 { return head > 0 ? 0 : -0.0 }
    // Subnormal: round head * 2^scale once; tail decides only when head lies on a midpoint.
    let r = Double(sign: .plus, exponent: scale, significand: head)
    let d = head - Double(sign: .plus, exponent: -scale, significand: r)  // exact
    let unit = Double(sign: .plus, exponent: -1074 - scale, significand: 1)
    guard tail != 0, abs(d) == unit / 2 else { return r }
    if d > 0 && tail > 0 { return r.nextUp }
    if d < 0 && tail < 0 { return r.nextDown }
    return r
  }

  /// The value minus ``hi``, rounded to `Double` (0 when `hi` is not finite).
  public var lo: Double {
    let h = hi
    guard h.isFinite else { return 0 }
    return (self - DoubleDouble(h)).hi
  }
}

// MARK: - Error-free transformations

extension DoubleDouble {
  /// a + b exactly as s + e, s = fl(a + b) (Knuth), for finite a and b of moderate size.
  @inlinable
  static func twoSum(_ a: Double, _ b: Double) -> (Double, Double) {
    let s = a + b
    guard s.isFinite else { return (s, 0) }
    // Dekker's form with the larger term first never overflows in between.
    return abs(a) >= abs(b) ? (s, b - (s - a)) : (s, a - (s - b))
  }

  /// a + b exactly as s + e for |a| >= |b| (or a == 0) (Dekker).
  @inlinable
  static func fastTwoSum(_ a: Double, _ b: Double) -> (Double, Double) {
    let s = a + b
    return (s, b - (s - a))
  }

  /// a * b exactly as p + e, p = fl(a * b), for |a|, |b| below 2^995: with one fused
  /// multiply-add, or on x86 with Dekker's splitting. Baseline x86-64 has no FMA instruction, so
  /// there `addingProduct` calls the C library's fma, which on a CPU without FMA (or in
  /// qemu-x86_64 -cpu qemu64, as scripts/test runs the suite) is a software routine about three
  /// times slower than the splitting (measured in qemu64). Both give the exact error.
  @inlinable
  static func twoProduct(_ a: Double, _ b: Double) -> (Double, Double) {
    let p = a * b
    #if arch(x86_64) || arch(i386)
    let (ah, al) = split(a), (bh, bl) = split(b)
    return (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
    #else
    return (p, (-p).addingProduct(a, b))
    #endif
  }

  /// a = hi + lo with hi holding the leading 26 bits (Veltkamp), for |a| below 2^995.
  @inlinable
  static func split(_ a: Double) -> (Double, Double) {
    let t = 134_217_729 * a  // 2^27 + 1
    let hi = t - (t - a)
    return (hi, a - hi)
  }

  /// The pair (h, l) of a sum of two significand pairs (the accurate sum: relative error a few
  /// 2^-106 even under cancellation).
  @inlinable
  static func pairSum(_ ah: Double, _ al: Double, _ bh: Double, _ bl: Double) -> (Double, Double) {
    let (s1, s2) = twoSum(ah, bh)
    let (t1, t2) = twoSum(al, bl)
    var (h, l) = fastTwoSum(s1, s2 + t1)
    (h, l) = fastTwoSum(h, l + t2)
    return (h, l)
  }

  /// self * 2^n (exact).
  @usableFromInline
  func scaled(byPowerOfTwo n: Int) -> DoubleDouble {
    guard head.isFinite, head != 0 else { return self }
    return DoubleDouble(pair: head, tail, scale: scale + n)
  }

  /// Whether this is zero, an infinity or NaN (head holds it).
  @inlinable var isSpecial: Bool { !head.isFinite || head == 0 }
}

// MARK: - Arithmetic

extension DoubleDouble {
  public static func + (a: DoubleDouble, b: DoubleDouble) -> DoubleDouble {
    if a.isSpecial || b.isSpecial {
      if b.head == 0 && !a.isSpecial { return a }
      if a.head == 0 && !b.isSpecial { return b }
      return DoubleDouble(head: a.head + b.head, tail: 0, scale: 0)
    }
    // Align the smaller exponent to the larger; a term 2^-120 below the other does not count.
    let (x, y) = a.scale >= b.scale ? (a, b) : (b, a)
    let d = x.scale - y.scale
    if d > 120 { return x }
    let f = Double(sign: .plus, exponent: -d, significand: 1)
    let (h, l) = pairSum(x.head, x.tail, y.head * f, y.tail * f)
    return DoubleDouble(pair: h, l, scale: x.scale)
  }

  @inlinable
  public static func - (a: DoubleDouble, b: DoubleDouble) -> DoubleDouble { a + (-b) }

  public static func * (a: DoubleDouble, b: DoubleDouble) -> DoubleDouble {
    if a.isSpecial || b.isSpecial { return DoubleDouble(head: a.head * b.head, tail: 0, scale: 0) }
    let (p, e) = twoProduct(a.head, b.head)
    let (h, l) = fastTwoSum(p, e + (a.head * b.tail + a.tail * b.head))
    return DoubleDouble(pair: h, l, scale: a.scale + b.scale)
  }

  public static func / (a: DoubleDouble, b: DoubleDouble) -> DoubleDouble {
    if a.isSpecial || b.isSpecial { return DoubleDouble(head: a.head / b.head, tail: 0, scale: 0) }
    // Long division of the significands (in [1, 2)), three quotient digits.
    let q1 = a.head / b.head
    let r1 = pairSubtractProduct(a.head, a.tail, b.head, b.tail, q1)
    let q2 = r1.0 / b.head
    let r2 = pairSubtractProduct(r1.0, r1.1, b.head, b.tail, q2)
    let q3 = r2.0 / b.head
    let (h, l) = fastTwoSum(q1, q2)
    let (h2, l2) = pairSum(h, l, q3, 0)
    return DoubleDouble(pair: h2, l2, scale: a.scale - b.scale)
  }

  /// (ah + al) - (bh + bl) * q as a pair.
  @inlinable
  static func pairSubtractProduct(_ ah: Double, _ al: Double, _ bh: Double, _ bl: Double, _ q: Double) -> (Double, Double) {
    let (p, e) = twoProduct(bh, q)
    let (ph, pl) = fastTwoSum(p, e + bl * q)
    return pairSum(ah, al, -ph, -pl)
  }

  @inlinable public static func += (a: inout DoubleDouble, b: DoubleDouble) { a = a + b }
  @inlinable public static func -= (a: inout DoubleDouble, b: DoubleDouble) { a = a - b }
  @inlinable public static func *= (a: inout DoubleDouble, b: DoubleDouble) { a = a * b }
  @inlinable public static func /= (a: inout DoubleDouble, b: DoubleDouble) { a = a / b }

  @inlinable
  public static prefix func - (a: DoubleDouble) -> DoubleDouble { DoubleDouble(head: -a.head, tail: -a.tail, scale: a.scale) }

  @inlinable
  public mutating func negate() { self = -self }
}

// MARK: - Elementary functions

extension DoubleDouble {
  /// ln 2 as three Doubles (about 160 bits).
  static let ln2 = (0x1.62e42fefa39efp-1, 0x1.abc9e3b39803fp-56, 0x1.7b57a079a1934p-111)

  /// 1/n! for n = 0...12.
  static let inverseFactorials: [DoubleDouble] = {
    var f = [DoubleDouble(1)]
    for n in 1...12 { f.append(f[n - 1] / DoubleDouble(Double(n))) }
    return f
  }()

  /// n ln 2 for an integer n with |n| <= 2^41, to about 2^-106 relative.
  static func multipleOfLn2(_ n: Double) -> DoubleDouble {
    let (p1, e1) = twoProduct(n, ln2.0)
    let (p2, e2) = twoProduct(n, ln2.1)
    return DoubleDouble(hi: p1, lo: e1) + DoubleDouble(hi: p2, lo: e2) + DoubleDouble(n * ln2.2)
  }

  /// e^r - 1 for |r| <= 0.36: r / 64 into a Taylor polynomial (|r / 64| <= 0.0057, terms to
  /// r^12 / 12!, truncation below 2^-115 relative), then six doublings e -> 2e + e^2, which
  /// keep the relative error (each adds at most a few 2^-106).
  static func expMinusOneReduced(_ r: DoubleDouble) -> DoubleDouble {
    if r.isSpecial { return r }
    let s = r.scaled(byPowerOfTwo: -6)
    let c = inverseFactorials
    var p = c[12]
    for n in stride(from: 11, through: 1, by: -1) { p = p * s + c[n] }
    var e = p * s
    for _ in 0..<6 { e = e.scaled(byPowerOfTwo: 1) + e * e }
    return e
  }

  /// e^x. Correct special values (e^-inf = 0, e^+inf = +inf, NaN); the result keeps its
  /// precision far past Double's range (see the type's documentation).
  public static func exp(_ x: DoubleDouble) -> DoubleDouble {
    if x.isNaN { return x }
    if x.head == 0 { return 1 }
    if x.isInfinite { return x.head > 0 ? x : 0 }
    // Past e^(2^40 ln 2) and below its reciprocal: out of range.
    if x.scale > 38 { return x.head > 0 ? .infinity : 0 }
    // x = k ln 2 + r, |r| <= ln 2 / 2 (a little more: k from the leading word alone);
    // e^x = 2^k (1 + expm1(r)).
    let k = (x.hi / ln2.0).rounded()
    // r = x - k ln 2, subtracting the exact products k c1 and k c2 one at a time, so that every
    // rounding is relative to the small difference rather than to |x| (as in Cody and Waite).
    let (p1, e1) = twoProduct(k, ln2.0)
    let (p2, e2) = twoProduct(k, ln2.1)
    let r = ((x - DoubleDouble(hi: p1, lo: e1)) - DoubleDouble(hi: p2, lo: e2)) - DoubleDouble(k * ln2.2)
    let v = DoubleDouble(1) + expMinusOneReduced(r)
    return v.scaled(byPowerOfTwo: Int(k))
  }

  /// e^x - 1, with relative accuracy near 0.
  public static func expMinusOne(_ x: DoubleDouble) -> DoubleDouble {
    if x.isSpecial { return x.head == -.infinity ? -1 : x }
    if x.scale < -2 || (x.scale == -2 && abs(x.head) < 1.4) { return expMinusOneReduced(x) }  // |x| <= 0.35
    if x.head < 0 && x.scale >= 7 { return DoubleDouble(-1) + exp(x) }  // x <= -128
    return exp(x) - DoubleDouble(1)
  }

  /// ln(1 + x) for -0.3 <= x <= 0.42: one Newton step on expm1(y) = x from the C library's
  /// `log1p` of x rounded to Double (within an ulp): the step squares that error away, leaving
  /// expm1's. Below 2^-60, x - x^2/2 + x^3/3.
  static func logOnePlusReduced(_ x: DoubleDouble) -> DoubleDouble {
    if x.isSpecial { return x }
    if x.scale < -60 { return x - x * x.scaled(byPowerOfTwo: -1) + x * x * x / 3 }
    let y0 = DoubleDouble(cLog1p(x.hi))
    let e = expMinusOneReduced(y0)
    // f(y) = expm1(y) - x, f'(y) = 1 + expm1(y).
    return y0 - (e - x) / (DoubleDouble(1) + e)
  }

  /// ln x. ln 0 = -inf, ln of a negative number or NaN is NaN, ln(+inf) = +inf.
  public static func log(_ x: DoubleDouble) -> DoubleDouble {
    if x.isNaN || x.head < 0 { return .nan }
    if x.head == 0 { return -.infinity }
    if x.head == .infinity { return x }
    // x = 2^k m, m in [sqrt(1/2), sqrt(2)): ln x = k ln 2 + ln(1 + (m - 1)), |m - 1| < 0.42.
    var k = x.scale
    var m = DoubleDouble(head: x.head, tail: x.tail, scale: 0)
    if m.head > 1.4142135623730951 {
      m = m.scaled(byPowerOfTwo: -1)
      k += 1
    }
    return multipleOfLn2(Double(k)) + logOnePlusReduced(m - DoubleDouble(1))
  }

  /// ln(1 + x), with relative accuracy near 0. ln(1 + -1) = -inf; x < -1 or NaN gives NaN.
  public static func log(onePlus x: DoubleDouble) -> DoubleDouble {
    if x.isNaN || x < -1 { return .nan }
    if x > -0.3 && x < 0.42 { return logOnePlusReduced(x) }
    return log(DoubleDouble(1) + x)
  }
}

/// The C library's log1p (the starting point of the Newton step).
private func cLog1p(_ x: Double) -> Double { log1p(x) }

// MARK: - Comparison and hashing

extension DoubleDouble: Hashable {
  public static func == (a: DoubleDouble, b: DoubleDouble) -> Bool {
    a.head == b.head && a.tail == b.tail && (a.scale == b.scale || a.isSpecial)
  }

  public static func < (a: DoubleDouble, b: DoubleDouble) -> Bool {
    if a.isNaN || b.isNaN { return false }
    if a.isSpecial || b.isSpecial {
      // A finite nonzero value orders like +-1 against zero and the infinities.
      let x = a.isSpecial ? a.head : (a.head > 0 ? 1 : -1), y = b.isSpecial ? b.head : (b.head > 0 ? 1 : -1)
      return x < y
    }
    if a.head.sign != b.head.sign { return a.head < 0 }
    // Same sign: the exponent first (reversed for negative values), then the significand pair.
    if a.scale != b.scale { return a.head > 0 ? a.scale < b.scale : a.scale > b.scale }
    return a.head != b.head ? a.head < b.head : a.tail < b.tail
  }

  @inlinable
  public static func <= (a: DoubleDouble, b: DoubleDouble) -> Bool { a < b || a == b }

  @inlinable
  public static func > (a: DoubleDouble, b: DoubleDouble) -> Bool { b < a }

  @inlinable
  public static func >= (a: DoubleDouble, b: DoubleDouble) -> Bool { b <= a }

  public func hash(into hasher: inout Hasher) {
    guard !isSpecial else {
      hasher.combine(head == 0 ? 0 : head)  // +0 and -0 are equal
      return
    }
    hasher.combine(head)
    hasher.combine(tail == 0 ? 0 : tail)
    hasher.combine(scale)
  }
}

// MARK: - Literals, conversions, description

extension DoubleDouble: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
  public init(integerLiteral value: Int64) { self.init(value) }

  /// A float literal, rounded to `Double` first (write `DoubleDouble(hi: ..., lo: ...)` for more).
  public init(floatLiteral value: Double) { self.init(value) }
}

extension DoubleDouble: CustomStringConvertible, CustomDebugStringConvertible {
  /// `hi`, and `lo` with its sign when it is not zero (`0.1+5.551115123125783e-18`); past
  /// Double's range, the significand pair and the power of two (`1.5+1e-17 * 2^-1100`).
  public var description: String {
    if isSpecial { return "\(head)" }
    let h = hi, l = lo
    if h.isNormal && (l == 0 || l.isNormal) {
      return l == 0 ? "\(h)" : "\(h)\(l < 0 ? "-" : "+")\(abs(l))"
    }
    return "\(head)\(tail < 0 ? "-" : "+")\(abs(tail)) * 2^\(scale)"
  }

  public var debugDescription: String { "DoubleDouble(head: \(head), tail: \(tail), scale: \(scale))" }
}

// MARK: - BinaryFloatingPoint

extension DoubleDouble: BinaryFloatingPoint {
  public typealias Exponent = Int
  public typealias RawSignificand = UInt64
  public typealias RawExponent = UInt
  public typealias Magnitude = DoubleDouble
  public typealias Stride = DoubleDouble

  // Bit level: the value rounded to Double (see the type's documentation).
  public static var exponentBitCount: Int { Double.exponentBitCount }
  public static var significandBitCount: Int { Double.significandBitCount }
  public var exponentBitPattern: UInt { hi.exponentBitPattern }
  public var significandBitPattern: UInt64 { hi.significandBitPattern }
  public var significandWidth: Int { hi.significandWidth }

  public init(sign: FloatingPointSign, exponentBitPattern: UInt, significandBitPattern: UInt64) {
    self.init(Double(sign: sign, exponentBitPattern: exponentBitPattern, significandBitPattern: significandBitPattern))
  }

  public init(_ value: Double) { self.init(pair: value, 0, scale: 0) }

  public init(_ value: Float) { self.init(pair: Double(value), 0, scale: 0) }

  #if !(os(Windows) || os(Android)) && (arch(i386) || arch(x86_64))
  /// Exactly: 64 bits fit in two words, and the exponent range in `scale`.
  public init(_ value: Float80) { self.init(generic: value) }
  #endif

  /// `value` to 106 bits and its whole exponent range.
  public init<Source: BinaryFloatingPoint>(_ value: Source) {
    if let v = value as? DoubleDouble {
      self = v
    } else if let d = value as? Double {
      self.init(d)
    } else {
      self.init(generic: value)
    }
  }

  /// Its significand (in [1, 2)) split into two Doubles, and its exponent.
  init<Source: BinaryFloatingPoint>(generic value: Source) {
    guard value.isFinite, value != 0 else {
      self.init(head: Double(value), tail: 0, scale: 0)
      return
    }
    let m = value.significand
    let h = Double(m)
    let l = Source.significandBitCount > Double.significandBitCount ? Double(m - Source(h)) : 0
    let (hh, ll) = Self.fastTwoSum(h, l)
    let v = DoubleDouble(pair: hh, ll, scale: Int(value.exponent))
    self = value < 0 ? -v : v
  }

  public init?<Source: BinaryFloatingPoint>(exactly value: Source) {
    guard !value.isNaN else { return nil }
    if let w = value as? DoubleDouble {
      self = w
      return
    }
    let v = DoubleDouble(value)
    guard value.isInfinite || value == 0 || v.isFinite && Source(
      sign: v.sign, exponent: Source.Exponent(v.scale),
      significand: Source(abs(v.head)) + Source(v.head < 0 ? -v.tail : v.tail)) == value
    else { return nil }
    self = v
  }

  public init(_ value: Int) {
    // Two 32-bit halves, each exact in a Double.
    let high = Double(value >> 32), low = Double(value & 0xFFFF_FFFF)
    self = DoubleDouble(high * 0x1p32) + DoubleDouble(low)
  }

  public init<Source: BinaryInteger>(_ value: Source) {
    if let d = Double(exactly: value) {
      self.init(d)
      return
    }
    // Sum the 32-bit pieces of |value| (each exact in a Double), then the sign.
    var sum = DoubleDouble(0.0)
    var shift = 0
    for word in value.magnitude.words {
      let w = UInt64(word)
      sum += DoubleDouble(Double(w & 0xFFFF_FFFF)).scaled(byPowerOfTwo: shift)
      sum += DoubleDouble(Double(w >> 32)).scaled(byPowerOfTwo: shift + 32)
      shift += UInt.bitWidth
    }
    self = value < 0 ? -sum : sum
  }

  public init?<Source: BinaryInteger>(exactly value: Source) {
    // Exact when the bits from the highest set one to the lowest span at most 106.
    let m = value.magnitude
    var top = 0
    for (i, w) in m.words.enumerated() where w != 0 { top = i * UInt.bitWidth + UInt.bitWidth - w.leadingZeroBitCount }
    guard m == 0 || top - m.trailingZeroBitCount <= 106 else { return nil }
    self.init(value)
  }

  public init(sign: FloatingPointSign, exponent: Int, significand: DoubleDouble) {
    let v = significand.scaled(byPowerOfTwo: exponent)
    self = sign == .minus ? -v : v
  }

  public init(signOf: DoubleDouble, magnitudeOf: DoubleDouble) {
    self = signOf.sign == magnitudeOf.sign ? magnitudeOf : -magnitudeOf
  }

  public static var nan: DoubleDouble { DoubleDouble(head: .nan, tail: 0, scale: 0) }
  public static var signalingNaN: DoubleDouble { DoubleDouble(head: .signalingNaN, tail: 0, scale: 0) }
  public static var infinity: DoubleDouble { DoubleDouble(head: .infinity, tail: 0, scale: 0) }
  /// (2 - 2^-106) 2^(2^40), about.
  public static var greatestFiniteMagnitude: DoubleDouble {
    DoubleDouble(head: 0x1.fffffffffffffp0, tail: 0x1.fffffffffffffp-54, scale: maxScale)
  }
  public static var pi: DoubleDouble { DoubleDouble(hi: 0x1.921fb54442d18p+1, lo: 0x1.1a62633145c07p-53) }
  /// 2^(-2^40): there are no subnormals.
  public static var leastNormalMagnitude: DoubleDouble { DoubleDouble(head: 1, tail: 0, scale: -maxScale) }
  public static var leastNonzeroMagnitude: DoubleDouble { leastNormalMagnitude }
  /// 2^-104.
  public static var ulpOfOne: DoubleDouble { DoubleDouble(head: 1, tail: 0, scale: -104) }

  /// 2^-104 times the binade; NaN for infinities and NaN.
  public var ulp: DoubleDouble {
    guard head.isFinite else { return .nan }
    if head == 0 { return .leastNonzeroMagnitude }
    return DoubleDouble(head: 1, tail: 0, scale: exponent - 104)
  }

  public var sign: FloatingPointSign { head.sign }

  /// The exponent of the value (one less than `scale` when the leading word is +-1 and the
  /// rest has the other sign).
  public var exponent: Int {
    guard !isSpecial else { return head.exponent }
    return abs(head) == 1 && tail != 0 && tail.sign != head.sign ? scale - 1 : scale
  }

  public var significand: DoubleDouble {
    guard !isSpecial else { return DoubleDouble(head: head.significand, tail: 0, scale: 0) }
    return abs(self).scaled(byPowerOfTwo: -exponent)
  }

  public var binade: DoubleDouble {
    guard !isSpecial else { return DoubleDouble(head: head.binade, tail: 0, scale: 0) }
    return DoubleDouble(head: head > 0 ? 1 : -1, tail: 0, scale: exponent)
  }

  public var magnitude: DoubleDouble { head.sign == .minus ? -self : self }

  public var nextUp: DoubleDouble {
    guard !isSpecial else {
      return head == 0 ? .leastNonzeroMagnitude : DoubleDouble(head: head.nextUp, tail: 0, scale: 0)
    }
    let t = tail == 0 ? Double(sign: .plus, exponent: -106, significand: 1) : abs(tail).ulp
    return DoubleDouble(hi: head, lo: tail + t).scaled(byPowerOfTwo: scale)
  }

  public var isNormal: Bool { !isSpecial }
  public var isFinite: Bool { head.isFinite }
  public var isZero: Bool { head == 0 }
  public var isSubnormal: Bool { false }
  public var isInfinite: Bool { head.isInfinite }
  public var isNaN: Bool { head.isNaN }
  public var isSignalingNaN: Bool { head.isSignalingNaN }
  public var isCanonical: Bool { true }

  public func isEqual(to other: DoubleDouble) -> Bool { self == other }
  public func isLess(than other: DoubleDouble) -> Bool { self < other }
  public func isLessThanOrEqualTo(_ other: DoubleDouble) -> Bool { self <= other }

  public func isTotallyOrdered(belowOrEqualTo other: DoubleDouble) -> Bool {
    if self < other { return true }
    if other < self { return false }
    if isNaN || other.isNaN { return head.isTotallyOrdered(belowOrEqualTo: other.head) }
    return sign == .minus || other.sign == .plus  // equal: -0 below +0
  }

  public mutating func formSquareRoot() {
    guard !isSpecial, head > 0 else {
      self = DoubleDouble(head: head.squareRoot(), tail: 0, scale: 0)
      return
    }
    // An even exponent, then one Newton step from the square root of the leading word.
    let odd = scale & 1
    let mh = odd == 1 ? 2 * head : head, mt = odd == 1 ? 2 * tail : tail
    let s = mh.squareRoot()
    let (p, e) = Self.twoProduct(s, s)
    let r = ((mh - p) - e + mt) / (2 * s)
    self = DoubleDouble(hi: s, lo: r).scaled(byPowerOfTwo: (scale - odd) / 2)
  }

  /// self + lhs * rhs (two roundings in double-double, not fused).
  public mutating func addProduct(_ lhs: DoubleDouble, _ rhs: DoubleDouble) { self += lhs * rhs }

  public mutating func round(_ rule: FloatingPointRoundingRule) {
    guard !isSpecial, scale < 106 else { return }  // already an integer
    // Small enough for a plain pair of Doubles: hi + lo, |lo| <= ulp(hi) / 2.
    let hi = Double(sign: .plus, exponent: scale, significand: head)
    let lo = scale > -900 ? Double(sign: .plus, exponent: scale, significand: tail) : 0
    let h = hi.rounded(rule)
    if h != hi {
      // hi is not an integer, so |hi| < 2^52 and |lo| <= ulp(hi) / 2 moves the value across no
      // integer, and across a half only when hi is exactly at one: then lo decides.
      let half = hi - hi.rounded(.down) == 0.5
      if half && lo != 0 && (rule == .toNearestOrEven || rule == .toNearestOrAwayFromZero) {
        self = DoubleDouble(lo > 0 ? hi.rounded(.up) : hi.rounded(.down))
      } else {
        self = DoubleDouble(h)
      }
      return
    }
    // hi is an integer: round the value hi + lo through lo.
    let f = lo.rounded(.down), d = lo - f  // d in [0, 1), exact
    let positive = hi > 0 || (hi == 0 && lo > 0)
    let r: Double
    switch rule {
    case .down: r = f
    case .up: r = d == 0 ? f : f + 1
    case .towardZero: r = positive || d == 0 ? f : f + 1
    case .awayFromZero: r = !positive || d == 0 ? f : f + 1
    case .toNearestOrAwayFromZero: r = d > 0.5 || (d == 0.5 && positive) ? f + 1 : f
    case .toNearestOrEven:
      if d != 0.5 {
        r = d > 0.5 ? f + 1 : f
      } else {
        let hiEven = abs(hi) >= 0x1p53 || hi.truncatingRemainder(dividingBy: 2) == 0
        let fEven = f.truncatingRemainder(dividingBy: 2) == 0
        r = hiEven == fEven ? f : f + 1
      }
    @unknown default: r = lo.rounded(rule)
    }
    self = DoubleDouble(hi: hi, lo: r)
  }

  public mutating func formRemainder(dividingBy other: DoubleDouble) {
    self -= (self / other).rounded(.toNearestOrEven) * other
  }

  public mutating func formTruncatingRemainder(dividingBy other: DoubleDouble) {
    self -= (self / other).rounded(.towardZero) * other
  }

  public func distance(to other: DoubleDouble) -> DoubleDouble { other - self }
  public func advanced(by n: DoubleDouble) -> DoubleDouble { self + n }
}

extension DoubleDouble: ElementaryScalar {
  /// ``exp(_:)`` (double-double; not the C library's).
  public static func libmExp(_ x: DoubleDouble) -> DoubleDouble { exp(x) }
  /// ``log(_:)``.
  public static func libmLog(_ x: DoubleDouble) -> DoubleDouble { log(x) }
  /// ``log(onePlus:)``.
  public static func libmLog1p(_ x: DoubleDouble) -> DoubleDouble { log(onePlus: x) }
}
