import SoftmaxKernels
import Testing

// `BFloat16` against definitions written here, independent of its implementation: every one of the
// 65536 bit patterns for widening, classification and the neighbours, every midpoint (and one
// Float ulp either side) for narrowing, and random operands with fixed seeds for the arithmetic,
// which is checked against the exact result rounded once by `referenceBits` (below). The sizes
// keep the file quick in a debug build, which runs the whole suite.

/// The correctly rounded bfloat16 bits of a finite or infinite `x` (not NaN; a `Double` or a
/// `Float80`, whose range holds every quantum and 2^128), from the value:
/// `x` divided by the bfloat16 quantum of its binade (an exact power-of-two scaling) is rounded to
/// an integer, to nearest even, by the standard library, and multiplied back.
private func referenceBits<T: BinaryFloatingPoint>(_ x: T) -> UInt16 {
  precondition(!x.isNaN)
  let sign: UInt16 = x.sign == .minus ? 0x8000 : 0
  let a = x.magnitude
  if a.isZero { return sign }
  if a >= T(sign: .plus, exponent: 128, significand: 1) { return sign | 0x7F80 }  // also infinity
  let quantum = T(sign: .plus, exponent: T.Exponent(Swift.max(Int(a.exponent), -126) - 7), significand: 1)
  let r = (a / quantum).rounded(.toNearestOrEven) * quantum
  if r >= T(sign: .plus, exponent: 128, significand: 1) { return sign | 0x7F80 }
  // r is a bfloat16 value (or zero): exact in Float, whose upper half is its encoding.
  return sign | UInt16(Float(r).bitPattern >> 16)
}

/// The bit-level definition of rounding a Float's bits to bfloat16: keep the upper half, add one
/// when the lower half is above 0x8000, or equal to it with the upper half odd; a NaN keeps its
/// sign and upper payload and becomes quiet.
private func narrowedBits(_ bits: UInt32) -> UInt16 {
  let upper = UInt16(bits >> 16)
  if bits & 0x7FFF_FFFF > 0x7F80_0000 { return upper | 0x40 }
  let lower = bits & 0xFFFF
  return lower > 0x8000 || (lower == 0x8000 && upper & 1 == 1) ? upper + 1 : upper
}

/// Whether two values are the same: the same bits, or both NaN.
private func same(_ a: BFloat16, _ b: UInt16) -> Bool {
  a.bitPattern == b || (a.isNaN && BFloat16(bitPattern: b).isNaN)
}

/// The correctly rounded bfloat16 `a * b + c`. The product is exact in Double; TwoSum gives the
/// sum `s` and its exact error `e`. Rounding `s + e` differs from rounding `s` only when `s` is a
/// bfloat16 midpoint and `e` is not zero (a midpoint is a Double, so the exact sum cannot lie on
/// the other side of one): then `e`'s sign picks the neighbour.
private func referenceFMA(_ a: BFloat16, _ b: BFloat16, _ c: BFloat16) -> UInt16 {
  let p = Double(a) * Double(b), cd = Double(c)
  let s = p + cd
  if s.isNaN { return 0x7FC0 }
  if !s.isFinite { return referenceBits(s) }
  let v = s - p
  let e = (p - (s - v)) + (cd - v)
  let m = s.magnitude
  guard e != 0, m < 0x1p128 else { return referenceBits(s) }
  let quantum = Double(sign: .plus, exponent: max(Int(m.exponent), -126) - 7, significand: 1)
  let units = m / quantum
  guard units - units.rounded(.down) == 0.5 else { return referenceBits(s) }
  let up = (e > 0) == (s > 0)
  let magnitude = (up ? units.rounded(.up) : units.rounded(.down)) * quantum
  return referenceBits(s < 0 ? -magnitude : magnitude)
}

/// Records an issue when `condition` is false: `#expect` for loops over thousands of values,
/// where the macro's bookkeeping would cost more than the checks.
private func check(
  _ condition: Bool, _ comment: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
  if !condition { Issue.record(Comment(rawValue: comment()), sourceLocation: sourceLocation) }
}

/// A bfloat16 with random bits, any class.
private func randomBFloat16(_ g: inout SplitMix) -> BFloat16 {
  BFloat16(bitPattern: UInt16(truncatingIfNeeded: g.nextBits()))
}

/// A finite bfloat16 with a random sign and fraction and an exponent in `exponents` (subnormal below -126).
private func randomBFloat16(_ g: inout SplitMix, exponents: ClosedRange<Int>) -> BFloat16 {
  let e = g.int(exponents)
  let fraction = UInt16(truncatingIfNeeded: g.nextBits()) & 0x7F
  let sign: UInt16 = g.nextBits() & 1 == 0 ? 0 : 0x8000
  if e >= -126 { return BFloat16(bitPattern: sign | UInt16(e + 127) << 7 | fraction) }
  // A subnormal whose leading bit is 2^e: 2^e = 2^(e + 133) * 2^-133.
  let lead = UInt16(1) << (e + 133)
  return BFloat16(bitPattern: sign | lead | (fraction & (lead - 1)))
}

@Suite("BFloat16")
struct BFloat16Tests {
  static let allPatterns = (0...UInt16.max).map { BFloat16(bitPattern: $0) }

  @Test("layout: one UInt16, bitwise copyable, buffers reinterpretable")
  func layout() {
    #expect(MemoryLayout<BFloat16>.size == 2)
    #expect(MemoryLayout<BFloat16>.stride == 2)
    #expect(MemoryLayout<BFloat16>.alignment == 2)
    func bitwiseCopyable<T: BitwiseCopyable>(_: T.Type) -> Bool { true }
    #expect(bitwiseCopyable(BFloat16.self))
    let values: [BFloat16] = [1, -2, .infinity, .leastNonzeroMagnitude]
    let bits = values.withUnsafeBufferPointer { b in
      b.withMemoryRebound(to: UInt16.self) { Array($0) }
    }
    #expect(bits == [0x3F80, 0xC000, 0x7F80, 0x0001])
  }

  @Test("widening to Float and Double is the bits shifted left by 16, for all 65536 patterns")
  func widening() {
    for x in Self.allPatterns {
      let f = Float(x)
      check(f.bitPattern == UInt32(x.bitPattern) << 16)
      let d = Double(x)
      check(d.isNaN ? f.isNaN : d == Double(f) && d.sign == f.sign)
    }
  }

  @Test("classification and bit-level members, for all 65536 patterns")
  func classification() {
    for x in Self.allPatterns {
      let bits = x.bitPattern
      let e = Int(bits >> 7) & 0xFF, fraction = bits & 0x7F
      let f = Float(bitPattern: UInt32(bits) << 16)
      check(x.sign == (bits >> 15 == 1 ? .minus : .plus))
      check(x.exponentBitPattern == UInt(e) && x.significandBitPattern == fraction)
      check(BFloat16(sign: x.sign, exponentBitPattern: x.exponentBitPattern, significandBitPattern: fraction).bitPattern == bits)
      check(x.isNaN == (e == 255 && fraction != 0))
      check(x.isSignalingNaN == (e == 255 && fraction != 0 && fraction & 0x40 == 0))
      check(x.isInfinite == (e == 255 && fraction == 0))
      check(x.isFinite == (e != 255))
      check(x.isZero == (e == 0 && fraction == 0))
      check(x.isSubnormal == (e == 0 && fraction != 0))
      check(x.isNormal == (e != 0 && e != 255))
      check(x.isCanonical)
      check(x.magnitude.bitPattern == bits & 0x7FFF && (-x).bitPattern == bits ^ 0x8000)
      guard x.isFinite && !x.isZero else {
        check(x.significandWidth == -1)
        if x.isZero { check(x.exponent == .min && x.ulp == .leastNonzeroMagnitude) }
        if !x.isFinite { check(x.exponent == .max && x.ulp.isNaN) }
        continue
      }
      // value = m * 2^(q) with m an integer, q the quantum exponent
      let m = e == 0 ? Int(fraction) : Int(fraction) | 0x80
      let q = max(e, 1) - 134
      let lead = Int.bitWidth - 1 - m.leadingZeroBitCount
      check(x.exponent == lead + q)
      check(Double(x.significand) == Double(m) / Double(1 << lead) && x.significand.sign == .plus)
      check(x.significandWidth == lead - m.trailingZeroBitCount)
      check(Double(x.binade) == Double(sign: x.sign, exponent: lead + q, significand: 1))
      check(Double(x.ulp) == Double(sign: .plus, exponent: q, significand: 1))
      check(BFloat16(sign: x.sign, exponent: x.exponent, significand: x.significand).bitPattern == bits)
      check(Double(x).magnitude == Double(m) * Double(sign: .plus, exponent: q, significand: 1))
      check(f.exponent == x.exponent)
    }
  }

  @Test("constants")
  func constants() {
    #expect(BFloat16.exponentBitCount == 8 && BFloat16.significandBitCount == 7 && BFloat16.radix == 2)
    #expect(BFloat16.nan.isNaN && !BFloat16.nan.isSignalingNaN && BFloat16.nan.bitPattern == 0x7FC0)
    #expect(BFloat16.signalingNaN.isSignalingNaN)
    #expect(BFloat16.infinity.bitPattern == 0x7F80)
    #expect(BFloat16.greatestFiniteMagnitude.bitPattern == 0x7F7F)
    #expect(Float(BFloat16.greatestFiniteMagnitude) == 0x1.FEp127)
    #expect(Float(BFloat16.leastNormalMagnitude) == 0x1p-126)
    #expect(Float(BFloat16.leastNonzeroMagnitude) == 0x1p-133)
    #expect(Float(BFloat16.ulpOfOne) == 0x1p-7)
    // pi rounded toward zero: the largest bfloat16 at or below pi.
    #expect(Double(BFloat16.pi) <= Double.pi && Double(BFloat16.pi.nextUp) > Double.pi)
    #expect(BFloat16.pi.bitPattern == 0x4049)
    #expect(BFloat16.zero.bitPattern == 0)
  }

  @Test("nextUp and nextDown step to the neighbours in value order, for all 65536 patterns")
  func neighbours() {
    // The order of the non-NaN values: -inf < ... < -0 == +0 < ... < +inf, by signed magnitude bits.
    func key(_ bits: UInt16) -> Int { bits & 0x8000 == 0 ? Int(bits) : -Int(bits & 0x7FFF) }
    func bits(_ key: Int) -> UInt16 { key >= 0 ? UInt16(key) : 0x8000 | UInt16(-key) }
    for x in Self.allPatterns {
      if x.isNaN {
        check(x.nextUp.isNaN && !x.nextUp.isSignalingNaN && x.nextDown.isNaN)
        continue
      }
      let k = key(x.bitPattern)
      let up: UInt16 = x == .infinity ? 0x7F80 : k == -1 ? 0x8000 : bits(k + 1)
      let down: UInt16 = x == -.infinity ? 0xFF80 : k == 1 ? 0x0000 : k == 0 ? 0x8001 : bits(k - 1)
      check(x.nextUp.bitPattern == up, "\(x.bitPattern)")
      check(x.nextDown.bitPattern == down, "\(x.bitPattern)")
      if x.isFinite && x.nextUp.isFinite {
        check(Float(x.nextUp) > Float(x))
        check(Float(x.nextUp) - Float(x) == Float(x >= 0 ? x.ulp : x.nextUp.ulp))
      }
    }
  }

  @Test("narrowing from Float: every value, every midpoint, one Float ulp either side")
  func narrowingAtMidpoints() {
    for p in 0...UInt32(UInt16.max) {
      let base = p << 16
      for low: UInt32 in [0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF] {
        let f = Float(bitPattern: base | low)
        let expected = narrowedBits(f.bitPattern)
        check(BFloat16(f).bitPattern == expected, "\(f.bitPattern)")
        if !f.isNaN { check(referenceBits(Double(f)) == expected, "\(f.bitPattern)") }
      }
    }
    // The overflow boundary: the midpoint above greatestFiniteMagnitude rounds to infinity.
    #expect(BFloat16(Float(0x1.FEp127)).bitPattern == 0x7F7F)
    #expect(BFloat16(Float(0x1.FFp127)).bitPattern == 0x7F80)
    #expect(BFloat16(Float(0x1.FFp127).nextDown).bitPattern == 0x7F7F)
    #expect(BFloat16(Float.greatestFiniteMagnitude).bitPattern == 0x7F80)
    #expect(BFloat16(-Float.greatestFiniteMagnitude).bitPattern == 0xFF80)
    #expect(BFloat16(Float(-0.0)).bitPattern == 0x8000 && BFloat16(Float(0.0)).bitPattern == 0)
    #expect(BFloat16(Float.infinity).bitPattern == 0x7F80 && BFloat16(-Float.infinity).bitPattern == 0xFF80)
    // NaN payloads: the sign and the top bits are kept and the NaN is quiet.
    #expect(BFloat16(Float(bitPattern: 0x7F80_0001)).bitPattern == 0x7FC0)
    #expect(BFloat16(Float(bitPattern: 0xFFA5_4321)).bitPattern == 0xFFE5)
    #expect(BFloat16(Float.signalingNaN).isNaN && !BFloat16(Float.signalingNaN).isSignalingNaN)
  }

  @Test("narrowing from Float: random Floats, subnormals included")
  func narrowingRandom() {
    var g = SplitMix(seed: 0xBF16)
    for i in 0..<100_000 {
      var bits = UInt32(truncatingIfNeeded: g.nextBits())
      if i % 4 == 0 { bits &= 0x80FF_FFFF }  // Float subnormals and the smallest normals
      let f = Float(bitPattern: bits)
      let expected = narrowedBits(bits)
      check(BFloat16(f).bitPattern == expected, "\(bits)")
      if !f.isNaN { check(referenceBits(Double(f)) == expected, "\(bits)") }
    }
  }

  @Test("round trip Float(x) -> BFloat16 is the identity (NaNs stay NaN), for all 65536 patterns")
  func roundTrip() {
    for x in Self.allPatterns {
      let y = BFloat16(Float(x))
      if x.isNaN {
        check(y.isNaN && y.sign == x.sign && !y.isSignalingNaN && y.bitPattern == x.bitPattern | 0x40)
      } else {
        check(y.bitPattern == x.bitPattern)
        check(BFloat16(Double(x)).bitPattern == x.bitPattern)
        check(BFloat16(exactly: Float(x))?.bitPattern == x.bitPattern)
      }
      // The generic conversion (BFloat16 to itself goes through the standard library's).
      let z = BFloat16(x)
      check(x.isNaN ? z.isNaN && !z.isSignalingNaN && z.sign == x.sign : z.bitPattern == x.bitPattern)
    }
    #expect(BFloat16(exactly: Float(bitPattern: 0x3F80_8000)) == nil)
    #expect(BFloat16(exactly: Float.nan) == nil)
  }

  @Test("comparisons agree with Float; -0 == +0; NaN is unordered; total order")
  func comparisons() {
    var g = SplitMix(seed: 0xC0DE)
    let specials: [BFloat16] = [0, -0.0, 1, -1, .nan, -.nan, .signalingNaN, .infinity, -.infinity,
                                .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude]
    // The IEEE 754 total order of bit patterns: negative ones reversed, below the positive ones.
    func totalKey(_ b: UInt16) -> Int { b & 0x8000 != 0 ? -Int(b & 0x7FFF) - 1 : Int(b) }
    var pairs: [(BFloat16, BFloat16)] = []
    for a in specials { for b in specials { pairs.append((a, b)) } }
    for _ in 0..<20_000 {
      let a = randomBFloat16(&g)
      pairs.append((a, g.nextBits() & 1 == 0 ? randomBFloat16(&g) : BFloat16(bitPattern: a.bitPattern &+ UInt16(g.int(0...2)))))
    }
    for (a, b) in pairs {
      let x = Float(a), y = Float(b)
      check((a == b) == (x == y) && (a != b) == (x != y))
      check((a < b) == (x < y) && (a <= b) == (x <= y) && (a > b) == (x > y) && (a >= b) == (x >= y))
      check(a.isEqual(to: b) == (x == y) && a.isLess(than: b) == (x < y) && a.isLessThanOrEqualTo(b) == (x <= y))
      check(a.isTotallyOrdered(belowOrEqualTo: b) == (totalKey(a.bitPattern) <= totalKey(b.bitPattern)),
              "\(a.bitPattern) \(b.bitPattern)")
      check(BFloat16.minimum(a, b).bitPattern == BFloat16(Float.minimum(x, y)).bitPattern || (a.isNaN && b.isNaN))
      check(BFloat16.maximum(a, b).bitPattern == BFloat16(Float.maximum(x, y)).bitPattern || (a.isNaN && b.isNaN))
    }
    #expect(BFloat16(0) == BFloat16(-0.0))
    let p = BFloat16(bitPattern: 0x7FC0), q = BFloat16(bitPattern: 0xFFC1)  // two NaNs
    #expect(p != q && !(p == q) && !(p < q) && !(p >= q) && p != p)
  }

  @Test("hashing: equal values hash alike, -0 and +0 included")
  func hashing() {
    #expect(Set<BFloat16>([0, -0.0, 1, 1.0, -1]).count == 3)
    #expect(BFloat16(0).hashValue == BFloat16(-0.0).hashValue)
    var d: [BFloat16: Int] = [:]
    d[-0.0] = 1
    #expect(d[0] == 1)
  }

  @Test("+ - * / and squareRoot are correctly rounded (against Double, rounded once)")
  func basicArithmetic() {
    var g = SplitMix(seed: 0xA417)
    var operands: [(BFloat16, BFloat16)] = []
    for i in 0..<20_000 {
      let a = i % 2 == 0 ? randomBFloat16(&g) : randomBFloat16(&g, exponents: -133...127)
      switch i % 5 {
      case 0: operands.append((a, randomBFloat16(&g)))
      case 1:  // close exponents: cancellation in + and -
        operands.append((a, BFloat16(bitPattern: a.bitPattern ^ UInt16(truncatingIfNeeded: g.nextBits() & 0x80FF))))
      case 2:  // products and quotients near and below the least normal
        guard a.isFinite && !a.isZero else { continue }
        let t = g.int(-140 ... -120)
        let forProduct = min(127, max(-133, t - a.exponent)), forQuotient = min(127, max(-133, a.exponent - t))
        operands.append((a, randomBFloat16(&g, exponents: forProduct...forProduct)))
        operands.append((a, randomBFloat16(&g, exponents: forQuotient...forQuotient)))
      case 3:  // near overflow
        operands.append((randomBFloat16(&g, exponents: 60...127), randomBFloat16(&g, exponents: 0...127)))
      default: operands.append((a, randomBFloat16(&g, exponents: -133...127)))
      }
    }
    for (a, b) in operands {
      let x = Double(a), y = Double(b)
      func verify(_ r: BFloat16, _ exact: Double, _ op: String) {
        check(exact.isNaN ? r.isNaN : r.bitPattern == referenceBits(exact), "\(a.bitPattern) \(op) \(b.bitPattern)")
      }
      verify(a + b, x + y, "+")
      verify(a - b, x - y, "-")
      verify(a * b, x * y, "*")
      verify(a / b, x / y, "/")
      verify(a.squareRoot(), x.squareRoot(), "sqrt")
      var c = a
      c += b
      check(same(c, (a + b).bitPattern))
      c = a
      c *= b
      check(same(c, (a * b).bitPattern))
    }
    // Exact cases and signed zeros.
    #expect((BFloat16(0) + BFloat16(-0.0)).bitPattern == 0)
    #expect((BFloat16(-0.0) + BFloat16(-0.0)).bitPattern == 0x8000)
    #expect((BFloat16(1) - BFloat16(1)).bitPattern == 0)
    #expect(BFloat16(-0.0).squareRoot().bitPattern == 0x8000)
    #expect(BFloat16(-1).squareRoot().isNaN)
    #expect((BFloat16.greatestFiniteMagnitude * 2).bitPattern == 0x7F80)
  }

  @Test("squareRoot of every pattern is correctly rounded")
  func squareRootEverywhere() {
    for x in Self.allPatterns {
      let exact = Double(x).squareRoot()
      check(exact.isNaN ? x.squareRoot().isNaN : x.squareRoot().bitPattern == referenceBits(exact))
    }
  }

  @Test("addingProduct is one rounding of the exact a * b + c")
  func fusedMultiplyAdd() {
    var g = SplitMix(seed: 0xF3A)
    var naiveWrong = 0
    func verify(_ a: BFloat16, _ b: BFloat16, _ c: BFloat16) {
      let r = c.addingProduct(a, b)
      let expected = referenceFMA(a, b, c)
      check(same(r, expected), "\(c.bitPattern) + \(a.bitPattern) * \(b.bitPattern)")
      var m = c
      m.addProduct(a, b)
      check(same(m, r.bitPattern))
      if !same(BFloat16(Double(a) * Double(b) + Double(c)), expected) { naiveWrong += 1 }
    }
    for i in 0..<20_000 {
      let a = randomBFloat16(&g, exponents: -70...63), b = randomBFloat16(&g, exponents: -70...63)
      let p = Double(a) * Double(b)
      switch i % 4 {
      case 0: verify(a, b, randomBFloat16(&g))
      case 1:  // a tiny addend: decides the rounding of a product that is a bfloat16 midpoint
        verify(a, b, randomBFloat16(&g, exponents: -133...max(-133, Int(p.exponent) - 9)))
      case 2:  // cancellation: c close to -a * b
        let c = BFloat16(-p)
        verify(a, b, BFloat16(bitPattern: c.bitPattern &+ UInt16(g.int(0...3)) &- 1))
      default: verify(randomBFloat16(&g), randomBFloat16(&g), randomBFloat16(&g))
      }
    }
    // 7 * 37 = 259, the midpoint between 258 and 260: a tiny addend decides, and a zero one ties to even.
    let tiny = BFloat16(sign: .plus, exponent: -100, significand: 1)
    #expect(Float((-tiny).addingProduct(7, 37)) == 258)
    #expect(Float(tiny.addingProduct(7, 37)) == 260)
    #expect(Float(BFloat16(0).addingProduct(7, 37)) == 260)
    // A product past Float's range, brought back by the addend.
    let big = BFloat16(sign: .plus, exponent: 64, significand: 1)
    #expect(Double((-BFloat16.greatestFiniteMagnitude).addingProduct(big, big)) == 0x1p120)
    // A product below bfloat16's range, next to the least nonzero.
    let small = BFloat16(sign: .plus, exponent: -70, significand: 1)
    #expect(BFloat16.leastNonzeroMagnitude.addingProduct(small, small) == .leastNonzeroMagnitude)
    #expect(BFloat16(sign: .plus, exponent: -134, significand: 1).bitPattern == 0)
    // Infinities, NaN and signed zeros.
    #expect(BFloat16(1).addingProduct(.infinity, 0).isNaN)
    #expect((-BFloat16.infinity).addingProduct(.infinity, 1).isNaN)
    #expect(BFloat16(-0.0).addingProduct(-0.0, 1).bitPattern == 0x8000)
    #expect(BFloat16(0).addingProduct(-0.0, 1).bitPattern == 0)
    #expect(BFloat16(-0.0).addingProduct(0, -1).bitPattern == 0x8000)
    #expect(BFloat16(-1).addingProduct(1, 1).bitPattern == 0)
    #expect(naiveWrong > 10, "the operands should include cases where rounding the Double sum fails")
  }

  @Test("remainder and truncatingRemainder are exact")
  func remainders() {
    var g = SplitMix(seed: 0x2E3)
    for i in 0..<20_000 {
      let a = i % 3 == 0 ? randomBFloat16(&g) : randomBFloat16(&g, exponents: -133...127)
      let b = i % 3 == 0 ? randomBFloat16(&g) : randomBFloat16(&g, exponents: max(-133, (a.isFinite && !a.isZero ? a.exponent : 0) - 20)...127)
      let r = a.remainder(dividingBy: b), t = a.truncatingRemainder(dividingBy: b)
      let exactR = Double(a).remainder(dividingBy: Double(b))
      let exactT = Double(a).truncatingRemainder(dividingBy: Double(b))
      check(exactR.isNaN ? r.isNaN : r.bitPattern == referenceBits(exactR) && Double(r) == exactR)
      check(exactT.isNaN ? t.isNaN : t.bitPattern == referenceBits(exactT) && Double(t) == exactT)
    }
  }

  @Test("rounded(_:) for every rule and every pattern")
  func rounding() {
    let rules: [FloatingPointRoundingRule] = [.toNearestOrEven, .toNearestOrAwayFromZero, .up, .down, .towardZero, .awayFromZero]
    for x in Self.allPatterns {
      for rule in rules {
        let exact = Double(x).rounded(rule)
        check(exact.isNaN ? x.rounded(rule).isNaN : x.rounded(rule).bitPattern == referenceBits(exact))
      }
    }
    #expect(BFloat16(-0.5).rounded(.towardZero).bitPattern == 0x8000)
    #expect(BFloat16(2.5).rounded() == 3 && BFloat16(2.5).rounded(.toNearestOrEven) == 2)
  }

  @Test("init(sign:exponent:significand:) rounds once; exponents far out of range")
  func scaling() {
    let exponents = [Int.min, -1000, -400, -300, -267, -200, -141, -140, -134, -133, -127, -126, -7, -1, 0,
                     1, 7, 120, 127, 128, 254, 400, 1000, Int.max]
    for (i, s) in Self.allPatterns.enumerated() where i % 13 == 0 {
      for e in exponents {
        for sign in [FloatingPointSign.plus, .minus] {
          let r = BFloat16(sign: sign, exponent: e, significand: s)
          let exact = Double(sign: sign, exponent: min(max(e, -2000), 2000), significand: Double(s))
          check(exact.isNaN ? r.isNaN : r.bitPattern == referenceBits(exact), "\(s.bitPattern) \(e)")
        }
      }
    }
    #expect(BFloat16(sign: .minus, exponent: 0, significand: -2) == 2)
    #expect(BFloat16(sign: .plus, exponent: 3, significand: .signalingNaN).isSignalingNaN)
  }

  @Test("conversions from Double round once (no Double -> Float -> bfloat16 double rounding)")
  func fromDouble() {
    // Just above a midpoint, where Float rounds to the midpoint itself and the tie would go to even.
    let above = 1 + 0x1p-8 + 0x1p-40
    #expect(BFloat16(Float(above)).bitPattern == 0x3F80)  // the double rounding the type avoids
    #expect(Float(BFloat16(above)) == 1 + 0x1p-7)
    #expect(Float(BFloat16(-above)) == -(1 + 0x1p-7))
    #expect(Float(BFloat16(1 + 0x1p-8)) == 1)  // the midpoint itself: to even
    #expect(BFloat16(0x1p-134 + 0x1p-170) == .leastNonzeroMagnitude)
    #expect(BFloat16(0x1p-134).bitPattern == 0)
    #expect(BFloat16(-0x1p-134).bitPattern == 0x8000)
    #expect(BFloat16(0x1p-300).bitPattern == 0 && BFloat16(1e300) == .infinity && BFloat16(-1e300) == -.infinity)
    // Just below the overflow midpoint, where Float rounds up to it.
    #expect(BFloat16(0x1.FFp127 - 0x1p80) == .greatestFiniteMagnitude)
    #expect(BFloat16(0x1.FFp127) == .infinity)
    #expect(BFloat16(Double.nan).isNaN && BFloat16(-Double.nan).sign == .minus)
    #expect(BFloat16(-0.0).bitPattern == 0x8000)

    func generic<T: BinaryFloatingPoint>(_ x: T) -> BFloat16 { BFloat16(x) }
    var g = SplitMix(seed: 0xD0B1E)
    for i in 0..<50_000 {
      let x: Double
      switch i % 3 {
      case 0:  // any Double in and around bfloat16's range
        x = Double(sign: g.nextBits() & 1 == 0 ? .plus : .minus, exponent: g.int(-140...130),
                   significand: 1 + Double(g.nextBits() >> 12) * 0x1p-52)
      case 1:  // a midpoint plus or minus a little
        let m = Double(Float(bitPattern: (UInt32(truncatingIfNeeded: g.nextBits()) & 0xFFFF_0000) | 0x8000))
        guard m.isFinite else { continue }
        x = m + (g.nextBits() & 1 == 0 ? 1 : -1) * m.ulp * Double(g.int(1...1 << 20))
      default: x = Double(bitPattern: g.nextBits())
      }
      check(x.isNaN ? BFloat16(x).isNaN : BFloat16(x).bitPattern == referenceBits(x), "\(x)")
      check(same(generic(x), BFloat16(x).bitPattern))
    }
  }

  #if !(os(Windows) || os(Android)) && (arch(i386) || arch(x86_64))
  @Test("conversions from Float80 round once")
  func fromFloat80() {
    let above: Float80 = 1 + 0x1p-8 + 0x1p-60  // Double rounds it to the midpoint
    #expect(BFloat16(Double(above)).bitPattern == 0x3F80)
    #expect(Float(BFloat16(above)) == 1 + 0x1p-7)
    #expect(Float(BFloat16(-above)) == -(1 + 0x1p-7))
    #expect(BFloat16(Float80(0x1p-134) + 0x1p-190) == .leastNonzeroMagnitude)
    #expect(BFloat16(Float80.greatestFiniteMagnitude) == .infinity)
    #expect(BFloat16(Float80.nan).isNaN)
    func generic<T: BinaryFloatingPoint>(_ x: T) -> BFloat16 { BFloat16(x) }
    var g = SplitMix(seed: 0xF80)
    for _ in 0..<20_000 {
      let m = Float80(Float(bitPattern: (UInt32(truncatingIfNeeded: g.nextBits()) & 0x7FFF_0000) | 0x8000))
      guard m.isFinite else { continue }
      let x = m + (g.nextBits() & 1 == 0 ? 1 : -1) * m.ulp * Float80(g.int(1...1 << 12))
      check(BFloat16(x).bitPattern == referenceBits(x))
      check(generic(x).bitPattern == referenceBits(x))
    }
  }
  #endif

  #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
  @Test("conversions from Float16: all 65536 patterns")
  func fromFloat16() {
    guard #available(macOS 11.0, iOS 14.0, watchOS 7.0, tvOS 14.0, *) else { return }
    func generic<T: BinaryFloatingPoint>(_ x: T) -> BFloat16 { BFloat16(x) }
    for bits in 0...UInt16.max {
      let h = Float16(bitPattern: bits)
      if h.isNaN {
        check(BFloat16(h).isNaN && BFloat16(h).sign == h.sign && generic(h).isNaN)
      } else {
        check(BFloat16(h).bitPattern == referenceBits(Double(h)))
        check(generic(h).bitPattern == referenceBits(Double(h)))
      }
    }
  }
  #endif

  @Test("conversions from integers round once; integer literals")
  func fromIntegers() {
    /// The exact value of an unsigned magnitude rounded to 8 significant bits, ties to even.
    func rounded(_ m: UInt64) -> Double {
      let width = 64 - m.leadingZeroBitCount
      guard width > 8 else { return Double(m) }
      let shift = width - 8
      let kept = m >> shift, rest = m & ((1 << shift) - 1), half = UInt64(1) << (shift - 1)
      let k = rest > half || (rest == half && kept & 1 == 1) ? kept + 1 : kept
      return Double(k) * Double(sign: .plus, exponent: shift, significand: 1)
    }
    for v in -2000...2000 {
      check(Double(BFloat16(v)) == (v < 0 ? -rounded(UInt64(-v)) : rounded(UInt64(v))))
      check(BFloat16(Int32(v)) == BFloat16(v) && BFloat16(exactly: v) == (Double(BFloat16(v)) == Double(v) ? BFloat16(v) : nil))
    }
    var g = SplitMix(seed: 0x1A7)
    for _ in 0..<10_000 {
      let u = g.nextBits() >> g.int(0...56)
      check(Double(BFloat16(u)) == rounded(u))
      let s = Int64(bitPattern: g.nextBits()) >> g.int(0...56)
      check(Double(BFloat16(s)) == (s < 0 ? -rounded(s.magnitude) : rounded(s.magnitude)))
    }
    #expect(Double(BFloat16(UInt64.max)) == 0x1p64)
    #expect(Double(BFloat16(Int64.min)) == -0x1p63)
    let a: BFloat16 = 257, b: BFloat16 = 259, c: BFloat16 = -3
    #expect(a == 256 && b == 260 && c.bitPattern == 0xC040)
    #expect(BFloat16(exactly: 257) == nil && BFloat16(exactly: 256) == 256)
    #expect(Int(BFloat16(300)) == 300 && Int(exactly: BFloat16(2.5)) == nil)
  }

  @Test("float literals go through Double and round once from it")
  func floatLiterals() {
    let tenth: BFloat16 = 0.1, third: BFloat16 = -0.333, tie: BFloat16 = 1.00390625
    #expect(tenth.bitPattern == referenceBits(0.1))
    #expect(third.bitPattern == referenceBits(-0.333))
    #expect(tie == 1)
    let big: BFloat16 = 1e39
    #expect(big == BFloat16.infinity)
  }

  @Test("Codable: encodes as Float, decoding rounds")
  func codable() throws {
    for x in Self.allPatterns where !x.isNaN {
      let encoder = FloatEncoder()
      try x.encode(to: encoder)
      check(encoder.stored?.bitPattern == Float(x).bitPattern)
      let y = try BFloat16(from: FloatDecoder(value: encoder.stored!))
      check(y.bitPattern == x.bitPattern)
    }
    let rounded = try BFloat16(from: FloatDecoder(value: 1 + 0x1p-8 + 0x1p-20))
    #expect(Float(rounded) == 1 + 0x1p-7)
    #expect(throws: DecodingError.self) { try BFloat16(from: FloatDecoder(value: nil)) }
  }

  @Test("description: shortest round-trip digits, for all 65536 patterns")
  func descriptionRoundTrip() {
    for x in Self.allPatterns {
      let text = x.description
      guard !x.isNaN else {
        check(text == "nan")
        continue
      }
      check(BFloat16(text)?.bitPattern == x.bitPattern, "\(x.bitPattern) \(text)")
      check(text.hasPrefix("-") == (x.sign == .minus))
      // The rest for a third of the positive values, in every binade (a negative value's text is
      // "-" and its magnitude's).
      guard x.sign == .plus && x.bitPattern % 3 == 0 else { continue }
      check(x.debugDescription == text)
      check(text.contains(".") || text.contains("e") || x.isInfinite)
      guard x.isFinite && !x.isZero else { continue }
      let v = Double(x)
      let written = Double(text)!
      let mantissa = text.split(separator: "e")[0].filter { $0 != "." }.drop { $0 == "0" }
      var significant = mantissa.count
      while mantissa[mantissa.index(mantissa.startIndex, offsetBy: significant - 1)] == "0" { significant -= 1 }
      // No decimal of one digit fewer converts to x (the ones around x are the only candidates),
      // and none of as many digits that converts to x is closer.
      for length in [significant - 1, significant] where length >= 1 {
        let q = log10Floor(v) - (length - 1)
        let n = (v / power10(q)).rounded(.down)
        for candidate in [n - 1, n, n + 1, n + 2] where candidate > 0 {
          let other = "\(Int(candidate))e\(q)"
          let converts = BFloat16(other)?.bitPattern == x.bitPattern
          if length < significant {
            check(!converts, "\(text) vs \(other)")
          } else if converts {
            check(abs(written - v) <= abs(Double(other)! - v), "\(text) vs \(other)")
          }
        }
      }
    }
  }

  @Test("description and debugDescription: examples")
  func descriptionExamples() {
    let cases: [(BFloat16, String)] = [
      (0.1, "0.1"), (.pi, "3.14"), (1, "1.0"), (-2, "-2.0"), (256, "256.0"), (255, "255.0"),
      (1000, "1e+03"), (-0.0, "-0.0"), (0, "0.0"), (.infinity, "inf"), (-.infinity, "-inf"),
      (.greatestFiniteMagnitude, "3.39e+38"), (.leastNormalMagnitude, "1.18e-38"),
      (.leastNonzeroMagnitude, "9e-41"), (0.0001, "0.0001"), (0.00001, "1e-05"), (1.5, "1.5"),
      (0.5, "0.5"), (100, "100.0"), (1e10, "1e+10"), (0.333, "0.332"),
    ]
    for (x, text) in cases {
      #expect(x.description == text, "\(x.bitPattern)")
    }
    #expect(BFloat16.nan.description == "nan" && (-BFloat16.nan).description == "nan")
    #expect(BFloat16.nan.debugDescription == "nan" && (-BFloat16.nan).debugDescription == "-nan")
    #expect(BFloat16.signalingNaN.debugDescription == "snan")
    #expect(BFloat16(bitPattern: 0x7FDF).debugDescription == "nan(0x1f)")
    #expect(String(describing: BFloat16(0.1)) == "0.1" && "\(BFloat16(2.5))" == "2.5")
  }

  @Test("init?(_:) from text rounds once, even on midpoints; NaN details; rejects non-numbers")
  func parsing() {
    // Midpoints and text just either side of them (the Double read is the midpoint in each case).
    #expect(BFloat16("1.00390625") == 1)  // tie to even
    #expect(BFloat16("1.00390625000000000000001") == BFloat16(1.0078125))
    #expect(BFloat16("1.01171875") == BFloat16(1.015625))
    #expect(BFloat16("1.01171874999999999999999") == BFloat16(1.0078125))
    #expect(BFloat16("-1.01171874999999999999999") == BFloat16(-1.0078125))
    #expect(BFloat16("0x1.01p0") == 1)
    #expect(BFloat16("0x1.01000000000000000001p0") == BFloat16(1.0078125))
    #expect(BFloat16("0x1.02fffffffffffffffffffp0") == BFloat16(1.0078125))
    #expect(BFloat16("0x1p-134")?.bitPattern == 0)
    #expect(BFloat16("0x1.0000000000000000001p-134") == .leastNonzeroMagnitude)
    #expect(BFloat16("339617752923046005526922703901628039168") == .infinity)
    #expect(BFloat16("339617752923046005526922703901628039167.9") == .greatestFiniteMagnitude)
    #expect(BFloat16("3.39617752923046005526922703901628039167e38") == .greatestFiniteMagnitude)
    // Ordinary text.
    #expect(BFloat16("0.1") == BFloat16(0.1) && BFloat16("+1.") == 1 && BFloat16(".5") == 0.5)
    #expect(BFloat16("-0")?.bitPattern == 0x8000 && BFloat16("inf") == .infinity && BFloat16("-Infinity") == -.infinity)
    #expect(BFloat16("1e-50")?.bitPattern == 0 && BFloat16("1e50") == .infinity)
    #expect(BFloat16("x1.5x".dropFirst().dropLast()) == 1.5)
    for bad in ["", " 1", "1 ", "abc", "1e", "0x", "1.2.3", "--1"] {
      check(BFloat16(bad) == nil, "\(bad)")
    }
    // NaNs: sign, signaling and the low payload bits.
    #expect(BFloat16("nan")?.bitPattern == 0x7FC0)
    #expect(BFloat16("-nan")?.bitPattern == 0xFFC0)
    #expect(BFloat16("snan")?.bitPattern == 0x7FA0 && BFloat16("-snan")?.bitPattern == 0xFFA0 && BFloat16("snan(0x3)")?.bitPattern == 0x7FA3)
    #expect(BFloat16("nan(0x1f)")?.bitPattern == 0x7FDF)
    for x in Self.allPatterns where x.isNaN {
      let y = BFloat16(x.debugDescription)!
      check(y.isNaN && y.sign == x.sign && y.isSignalingNaN == x.isSignalingNaN && y.bitPattern & 0x1F == x.bitPattern & 0x1F,
              "\(x.bitPattern) \(x.debugDescription) \(y.bitPattern)")
    }
    // Random decimal text: the Double read rounded once, wherever that Double is not a midpoint.
    var g = SplitMix(seed: 0x7E47)
    for _ in 0..<5_000 {
      let digits = String(g.nextBits() >> g.int(0...60))
      let text = "\(g.nextBits() & 1 == 0 ? "" : "-")\(digits)e\(g.int(-60...40))"
      let d = Double(text)!
      let f = Float(d.magnitude)
      if Double(f) == d.magnitude && f.bitPattern & 0xFFFF == 0x8000 { continue }
      check(BFloat16(text)?.bitPattern == referenceBits(d), "\(text)")
    }
  }

  @Test("Strideable, SignedNumeric, minimum and maximum, random(in:)")
  func strideable() {
    #expect(Array(stride(from: BFloat16(0), through: 1, by: 0.25)) == [0, 0.25, 0.5, 0.75, 1])
    #expect(BFloat16(1).distance(to: 3) == 2 && BFloat16(1).advanced(by: 0.5) == 1.5)
    var x = BFloat16(2)
    x.negate()
    #expect(x == -2 && (-BFloat16.nan).sign == .minus && BFloat16(0).magnitude == 0)
    #expect(BFloat16.minimum(.nan, 1) == 1 && BFloat16.maximum(1, .nan) == 1)
    #expect(BFloat16.minimumMagnitude(-3, 2) == 2 && BFloat16.maximumMagnitude(-3, 2) == -3)
    #expect(BFloat16(signOf: -1, magnitudeOf: 2) == -2)
    #expect(BFloat16(-3).floatingPointClass == .negativeNormal && BFloat16.leastNonzeroMagnitude.floatingPointClass == .positiveSubnormal)
    var g = SystemRandomNumberGenerator()
    for _ in 0..<1000 {
      let r = BFloat16.random(in: 1..<2, using: &g), s = BFloat16.random(in: -1...1, using: &g)
      check(r >= 1 && r < 2 && s >= -1 && s <= 1, "\(r) \(s)")
    }
  }
}

/// The floor of log10(v) for a positive finite v, exactly for the powers of ten near it.
private func log10Floor(_ v: Double) -> Int {
  var k = Int((Double(v.exponent) * 0.30102999566398120).rounded(.down))
  while power10(k + 1) <= v { k += 1 }
  while power10(k) > v { k -= 1 }
  return k
}

/// 10^k as a Double, correctly rounded (by the parser), for k in -60...60.
private func power10(_ k: Int) -> Double { powersOfTen[k + 60] }
private let powersOfTen = (-60...60).map { Double("1e\($0)")! }

// MARK: - A single-value encoder and decoder (no Foundation)

/// Records the Float a value encodes into a single-value container; anything else throws.
private final class FloatEncoder: Encoder, SingleValueEncodingContainer {
  var stored: Float?
  var codingPath: [any CodingKey] { [] }
  var userInfo: [CodingUserInfoKey: Any] { [:] }
  struct Unsupported: Error {}
  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { fatalError("single value only") }
  func unkeyedContainer() -> any UnkeyedEncodingContainer { fatalError("single value only") }
  func singleValueContainer() -> any SingleValueEncodingContainer { self }
  func encode(_ value: Float) throws { stored = value }
  func encodeNil() throws { throw Unsupported() }
  func encode(_ value: Bool) throws { throw Unsupported() }
  func encode(_ value: String) throws { throw Unsupported() }
  func encode(_ value: Double) throws { throw Unsupported() }
  func encode(_ value: Int) throws { throw Unsupported() }
  func encode(_ value: Int8) throws { throw Unsupported() }
  func encode(_ value: Int16) throws { throw Unsupported() }
  func encode(_ value: Int32) throws { throw Unsupported() }
  func encode(_ value: Int64) throws { throw Unsupported() }
  func encode(_ value: UInt) throws { throw Unsupported() }
  func encode(_ value: UInt8) throws { throw Unsupported() }
  func encode(_ value: UInt16) throws { throw Unsupported() }
  func encode(_ value: UInt32) throws { throw Unsupported() }
  func encode(_ value: UInt64) throws { throw Unsupported() }
  func encode<T: Encodable>(_ value: T) throws { throw Unsupported() }
}

/// Hands out one Float (or, when nil, a type mismatch) from a single-value container.
private struct FloatDecoder: Decoder, SingleValueDecodingContainer {
  var value: Float?
  var codingPath: [any CodingKey] { [] }
  var userInfo: [CodingUserInfoKey: Any] { [:] }
  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { fatalError("single value only") }
  func unkeyedContainer() throws -> any UnkeyedDecodingContainer { fatalError("single value only") }
  func singleValueContainer() throws -> any SingleValueDecodingContainer { self }
  func mismatch(_ type: Any.Type) -> DecodingError {
    .typeMismatch(type, .init(codingPath: [], debugDescription: "holds a Float only"))
  }
  func decodeNil() -> Bool { value == nil }
  func decode(_ type: Float.Type) throws -> Float {
    guard let value else { throw mismatch(type) }
    return value
  }
  func decode(_ type: Bool.Type) throws -> Bool { throw mismatch(type) }
  func decode(_ type: String.Type) throws -> String { throw mismatch(type) }
  func decode(_ type: Double.Type) throws -> Double { throw mismatch(type) }
  func decode(_ type: Int.Type) throws -> Int { throw mismatch(type) }
  func decode(_ type: Int8.Type) throws -> Int8 { throw mismatch(type) }
  func decode(_ type: Int16.Type) throws -> Int16 { throw mismatch(type) }
  func decode(_ type: Int32.Type) throws -> Int32 { throw mismatch(type) }
  func decode(_ type: Int64.Type) throws -> Int64 { throw mismatch(type) }
  func decode(_ type: UInt.Type) throws -> UInt { throw mismatch(type) }
  func decode(_ type: UInt8.Type) throws -> UInt8 { throw mismatch(type) }
  func decode(_ type: UInt16.Type) throws -> UInt16 { throw mismatch(type) }
  func decode(_ type: UInt32.Type) throws -> UInt32 { throw mismatch(type) }
  func decode(_ type: UInt64.Type) throws -> UInt64 { throw mismatch(type) }
  func decode<T: Decodable>(_ type: T.Type) throws -> T { throw mismatch(type) }
}
