import Glibc
import SoftmaxKernels
import SoftmaxReference

/// A row type the harnesses can store, compare bit for bit and draw from fuzz bytes: Float and
/// Double (`FuzzScalar`), and the 16-bit storage types (`FuzzHalf`), whose losses, logsumexp
/// values and states are in their `Arithmetic` type (`Float`).
public protocol FuzzStorable: SoftmaxScalar where Arithmetic: FuzzStorable {
  /// The bit pattern, widened.
  var bits: UInt64 { get }
  /// One row element drawn from the fuzz input (`previous`: the element before it in the row).
  static func fuzzed(_ input: inout FuzzInput, previous: Self?) -> Self
  /// The largest logit magnitude at which every gradient of a row is finite in this type: the
  /// harnesses' "moderate" rows (1e15, below the range's top by far for Float and Double; lower for
  /// Float16, where z-loss's 2 z L p_j on logits near 65504 passes the range).
  static var moderateLogit: Self { get }
}

/// A scalar the harnesses can build from fuzz bytes and check against the wider oracle: Float and Double.
public protocol FuzzScalar: FuzzStorable, ReferenceScalar {
  /// The value with these low bits as its bit pattern.
  static func fromBits(_ bits: UInt64) -> Self
  /// The exponent range of finite values, subnormals included.
  static var exponents: ClosedRange<Int> { get }
}

extension FuzzScalar {
  public static func fuzzed(_ input: inout FuzzInput, previous: Self?) -> Self { input.scalar(Self.self, previous: previous) }
  public static var moderateLogit: Self { 1e15 }
}

extension Float: FuzzScalar {
  public static func fromBits(_ bits: UInt64) -> Float { Float(bitPattern: UInt32(truncatingIfNeeded: bits)) }
  public static var exponents: ClosedRange<Int> { -149...127 }
  public var bits: UInt64 { UInt64(bitPattern) }
}

extension Double: FuzzScalar {
  public static func fromBits(_ bits: UInt64) -> Double { Double(bitPattern: bits) }
  public static var exponents: ClosedRange<Int> { -1074...1023 }
  public var bits: UInt64 { bitPattern }
}

/// A 16-bit storage type: rows in it, arithmetic, losses, logsumexp values and states in `Float`.
/// Its reference is the Float kernel's result on the widened rows, rounded once (`init(_: Float)`).
public protocol FuzzHalf: FuzzStorable where Arithmetic == Float {
  init(bitPattern: UInt16)
  var bitPattern: UInt16 { get }
  init(_ value: Float)
}

extension FuzzHalf {
  public var bits: UInt64 { UInt64(bitPattern) }
  public static func fuzzed(_ input: inout FuzzInput, previous: Self?) -> Self { input.half(Self.self, previous: previous) }
  /// Logits up to 1/1024 of the range (64 for Float16): z-loss's term stays far inside it.
  public static var moderateLogit: Self { Swift.min(1e15, greatestFiniteMagnitude / 1024) }
}

extension Float16: FuzzHalf {}
extension BFloat16: FuzzHalf {}

/// The 16-bit types the harnesses draw, chosen by the low bit of the dtype byte (see `fuzzEveryType`).
public let halfTypes: [any FuzzHalf.Type] = [Float16.self, BFloat16.self]

/// Fuzz bytes read as a sequence of choices. Reads past the end give 0, so every byte string is a
/// valid program and libFuzzer's mutations (insert, erase, copy) move between nearby programs.
public struct FuzzInput {
  @usableFromInline let bytes: [UInt8]
  @usableFromInline var position = 0

  public init(_ data: UnsafePointer<UInt8>, _ size: Int) {
    bytes = Array(UnsafeBufferPointer(start: data, count: size))
  }

  public var isExhausted: Bool { position >= bytes.count }

  @inlinable
  public mutating func byte() -> UInt8 {
    defer { position += 1 }
    return position < bytes.count ? bytes[position] : 0
  }

  /// `n` bytes as a little-endian integer.
  @inlinable
  public mutating func bits(_ n: Int) -> UInt64 {
    (0..<n).reduce(UInt64(0)) { v, k in v | UInt64(byte()) << (8 * UInt64(k)) }
  }

  /// An integer in `range`, from one byte (two when the range is wider than 256).
  @inlinable
  public mutating func int(_ range: ClosedRange<Int>) -> Int {
    let width = UInt64(range.upperBound - range.lowerBound) + 1
    let raw = width <= 256 ? UInt64(byte()) : bits(2)
    return range.lowerBound + Int(raw % width)
  }

  @inlinable
  public mutating func bool() -> Bool { byte() & 1 == 1 }

  /// True with probability about `numerator / 256`; false past the end of the input (reads
  /// there give 0), so short inputs stay small and valid.
  @inlinable
  public mutating func chance(_ numerator: Int) -> Bool { Int(byte()) >= 256 - numerator }

  /// One of the values every kernel must handle: zeros, ones, infinities, NaN, the extremes of
  /// the range, the subnormal edge and exp's overflow and underflow thresholds.
  @inlinable
  public static func specials<T: FuzzScalar>(_: T.Type) -> [T] {
    let big = T.greatestFiniteMagnitude
    let expLimit: T = T.self == Float.self ? 88.72 : 709.78
    let underLimit: T = T.self == Float.self ? -103.97 : -745.13
    return [
      0, -0.0, 1, -1, .nan, .infinity, -.infinity, big, -big, big / 2, -big / 2,
      T.leastNormalMagnitude, T.leastNonzeroMagnitude, -T.leastNonzeroMagnitude,
      1e30, -1e30, expLimit, -expLimit, underLimit, underLimit - 1, expLimit + 1, 1e-30, 0.5,
    ]
  }

  /// A logit: mostly ordinary values, often masked (-inf) or special, sometimes any bit pattern
  /// or any magnitude, sometimes a repeat of the previous value (constant rows).
  @inlinable
  public mutating func scalar<T: FuzzScalar>(_: T.Type, previous: T? = nil) -> T {
    switch byte() % 10 {
    case 0, 1, 2, 3: return T(Int8(bitPattern: byte())) / 4
    case 4: return -.infinity
    case 5:
      let s = Self.specials(T.self)
      return s[int(0...(s.count - 1))]
    case 6: return T.fromBits(bits(MemoryLayout<T>.size))
    case 7:
      let e = int(T.exponents)
      let v = T(sign: bool() ? .minus : .plus, exponent: T.Exponent(e), significand: 1 + T(byte()) / 256)
      return v
    case 8: return previous ?? 0
    default: return T(Int16(truncatingIfNeeded: bits(2))) / 64
    }
  }

  /// A 16-bit logit: as `scalar`, with the type's own specials, exponents and bit patterns (any
  /// 16 bits: NaN payloads, infinities, subnormals, the largest finite values).
  @inlinable
  public mutating func half<H: FuzzHalf>(_: H.Type, previous: H? = nil) -> H {
    switch byte() % 10 {
    case 0, 1, 2, 3: return H(Float(Int8(bitPattern: byte())) / 4)
    case 4: return -.infinity
    case 5:
      let big = H.greatestFiniteMagnitude
      // The type's extremes and subnormal edge, and Float's exp thresholds (the arithmetic is
      // Float's) where the type reaches them.
      let s: [H] = [
        0, -0.0, 1, -1, .nan, .infinity, -.infinity, big, -big, big / 2, -big / 2, H.leastNormalMagnitude,
        H.leastNonzeroMagnitude, -H.leastNonzeroMagnitude, H(88.72), H(-88.72), H(-103.97), H(-104.97), H(89.72), 0.5,
        H(-11.09), H(11.09), H(-17.33), H(-9.7),
      ]
      return s[int(0...(s.count - 1))]
    case 6: return H(bitPattern: UInt16(truncatingIfNeeded: bits(2)))
    case 7:
      let lo = H.leastNonzeroMagnitude.exponent, hi = H.greatestFiniteMagnitude.exponent
      return H(sign: bool() ? .minus : .plus, exponent: H.Exponent(int(Int(lo)...Int(hi))), significand: H(1 + Float(byte()) / 256))
    case 8: return previous ?? 0
    default: return H(Float(Int16(truncatingIfNeeded: bits(2))) / 64)
    }
  }

  /// A probability-like target: mostly in [0, 1], sometimes any logit-like value.
  @inlinable
  public mutating func target<T: FuzzStorable>(_: T.Type) -> T {
    chance(32) ? T.fuzzed(&self, previous: nil) : T(byte()) / 255
  }

  /// `count` logits: the first up to 256 read from the input, the rest repeat them cyclically so
  /// long rows (several 8 KiB chunks, threads) cost no more bytes than short ones.
  @inlinable
  public mutating func scalars<T: FuzzStorable>(_: T.Type, count: Int) -> [T] {
    var pattern: [T] = []
    for _ in 0..<Swift.min(count, 256) { pattern.append(T.fuzzed(&self, previous: pattern.last)) }
    if pattern.isEmpty { return [] }
    return (0..<count).map { pattern[$0 % pattern.count] }
  }

  /// Columns: usually 0...70 (all tails of 8 Float / 4 Double lanes) or 71...256, sometimes a long row that
  /// spans several 8 KiB chunks (threads, which need 32768 elements each, are left to the TSan
  /// test run: the row split does not change what a row computes). With FUZZ_ROWS=short in the
  /// environment only the short ones, with FUZZ_ROWS=long only the long ones: a long row costs
  /// milliseconds in the Float80 oracle, so a campaign can run them as a separate pass.
  ///
  /// With `manyChunks`, about one long row in 64 is a row of many chunks instead:
  /// 32768...261920 columns (16 to 128 Float chunks, 32 to 256 Double ones), which the harness
  /// fills with `drifting` so that the chunk maxima move. (Below that top 1/64 of the two length
  /// bytes the long lengths keep their old mapping.)
  @inlinable
  public mutating func cols(manyChunks: Bool = false) -> Int {
    let long = chance(4)
    switch Self.rowLengths {
    case .mixed: return long ? longCols(manyChunks: manyChunks) : short()
    case .short: return short()
    case .long: return longCols(manyChunks: manyChunks)
    }
  }

  /// 257...4500 columns from two bytes, or with `manyChunks` and those bytes >= 0xFC00 a row of
  /// many chunks (see `cols`).
  @inlinable
  mutating func longCols(manyChunks: Bool) -> Int {
    let raw = bits(2)
    if manyChunks && raw >= 0xFC00 { return Self.manyChunkCols.lowerBound + Int(raw & 0x3FF) * 224 }
    return 257 + Int(raw % 4244)
  }

  /// The lengths of the many-chunk rows.
  public static let manyChunkCols = 32768...(32768 + 1023 * 224)

  /// `x` (rows of `cols` logits from `scalars`, a pattern of up to 256 values repeated) with a
  /// drift added when the rows have many chunks: x_j + d * (j / 256) with d in [-2, 2) from one
  /// byte, so a row's max rises (or falls) from chunk to chunk, the case where the chunks' sum
  /// must not lose accuracy. Rows of other lengths come back unchanged, reading nothing.
  @inlinable
  public mutating func drifting<T: FuzzStorable>(_ x: [T], cols: Int) -> [T] {
    guard cols >= Self.manyChunkCols.lowerBound else { return x }
    let d = T(Int8(bitPattern: byte())) / 64
    return x.enumerated().map { k, v in v + d * T((k % cols) / 256) }
  }

  /// A short row: usually 0...70 (every tail), one in eight 71...256 (up to 8 AVX-512 vectors,
  /// the row blocks' limit, and past it).
  @inlinable
  public mutating func short() -> Int { chance(32) ? int(71...256) : int(0...70) }

  /// Which row lengths `cols()` draws.
  public enum RowLengths: Sendable { case short, long, mixed }

  /// FUZZ_ROWS=short|long from the environment; both by default.
  public static let rowLengths: RowLengths = {
    switch getenv("FUZZ_ROWS").map({ String(cString: $0) }) {
    case "short": return .short
    case "long": return .long
    default: return .mixed
    }
  }()
}

extension FuzzInput {
  /// Cross-entropy options: mode, reduction, ignore index (none, in range or -100), and in about a
  /// quarter of the calls each class weights (>= 0), label smoothing in [0, 1], z-loss.
  ///
  /// The reduction byte draws one of three choices, as when `LossReduction` had a `.none`: sum
  /// with the per-row losses asked for (`wantsLosses`, the old `.none`), sum, or mean.
  /// Weights, smoothing and z-loss are in `T.Arithmetic` (`Float` for the 16-bit types).
  public mutating func crossEntropyOptions<T: FuzzStorable>(_: T.Type, cols: Int) -> (options: CrossEntropyOptions<T>, wantsLosses: Bool) {
    typealias A = T.Arithmetic
    var o = CrossEntropyOptions<T>()
    o.kernel.mode = bool() ? .accurate : .fast
    let reduction = int(0...2)
    o.reduction = reduction == 2 ? .mean : .sum
    switch int(0...3) {
    case 0 where cols > 0: o.ignoreIndex = nil
    case 1 where cols > 0: o.ignoreIndex = int(0...(cols - 1))
    default: break  // -100
    }
    if chance(64) { o.classWeights = (0..<cols).map { _ in A(byte()) / 64 } }
    if chance(64) { o.labelSmoothing = A(byte()) / 255 }
    if chance(64) { o.zLoss = A(byte()) / 1024 }
    return (o, reduction == 0)
  }

  /// A gradient scale (in `T.Arithmetic`): 1, or in about a quarter of the calls a value in [-8, 8).
  public mutating func gradientScale<T: FuzzStorable>(_: T.Type) -> T.Arithmetic {
    chance(64) ? T.Arithmetic(Int8(bitPattern: byte())) / 16 : 1
  }

  /// Class labels: in range, or the ignore index in about one row in eight (always when cols is 0).
  /// The ignore index is -100 or in `0 ..< cols`, so it fits in 32 bits.
  public mutating func labels<T: SoftmaxScalar>(rows: Int, cols: Int, options o: CrossEntropyOptions<T>) -> [Int32] {
    (0..<rows).map { _ in
      if let ignore = o.ignoreIndex, cols == 0 || chance(32) { return Int32(ignore) }
      return Int32(int(0...(cols - 1)))
    }
  }

  /// Whether the harness also runs this input's calls with 64-bit labels (the same values
  /// widened) and checks the results bit for bit against the 32-bit ones: on about half of the
  /// inputs, chosen by the parity of all the input's bytes so that no choice is read from the
  /// stream (the other draws, and the seeds' meaning, stay as they were).
  public var alsoWideLabels: Bool { bytes.reduce(0, ^).nonzeroBitCount & 1 == 1 }
}

/// The body of a harness's `LLVMFuzzerTestOneInput` (FuzzBinaryCrossEntropy, FuzzExp): the first
/// byte picks Float or Double (its low bit), the rest drives the harness. Always returns 0
/// (libFuzzer's "input processed").
public func fuzzFloatAndDouble(
  _ data: UnsafePointer<UInt8>, _ size: Int, float: (inout FuzzInput) -> Void, double: (inout FuzzInput) -> Void
) -> CInt {
  var input = FuzzInput(data, size)
  if input.bool() { float(&input) } else { double(&input) }
  return 0
}

/// A harness's run on 16-bit rows: checks the 16-bit results against the Float kernel's on the
/// widened rows (rounded once, bit for bit) and the Float results against the oracle.
public protocol HalfHarness {
  static func run<H: FuzzHalf>(_: H.Type, _ input: inout FuzzInput)
}

/// The body of the `LLVMFuzzerTestOneInput` of the harnesses that also draw 16-bit rows
/// (FuzzForward, FuzzCrossEntropy, FuzzShard, FuzzBackward). The first byte is the dtype: its
/// two low bits, 0 Double, 1 Float (as in `fuzzFloatAndDouble`, where only the low bit counts),
/// 2 Float16, 3 BFloat16 (`halfTypes`). The rest drives the harness. Always returns 0.
public func fuzzEveryType<Half: HalfHarness>(
  _ data: UnsafePointer<UInt8>, _ size: Int, float: (inout FuzzInput) -> Void, double: (inout FuzzInput) -> Void,
  half: Half.Type
) -> CInt {
  var input = FuzzInput(data, size)
  let dtype = input.byte()
  if dtype & 2 == 0 {
    if dtype & 1 == 1 { float(&input) } else { double(&input) }
  } else {
    let h = halfTypes[Int(dtype & 1) % halfTypes.count]
    Half.run(h, &input)
  }
  return 0
}
