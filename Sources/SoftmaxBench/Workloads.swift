import SoftmaxKernels
import SoftmaxReference

/// A `rows x cols` matrix shape from SPEC.md's performance table (or one given as `RxC`).
struct Workload: Sendable, Hashable {
  var name: String
  var rows: Int
  var cols: Int
  var elements: Int { rows * cols }
  var shape: String { "\(rows)x\(cols)" }

  /// SPEC.md, "Performance".
  static let standard: [Workload] = [
    Workload(name: "W1", rows: 8192, cols: 10),  // small classifiers: per-row overhead
    Workload(name: "W2", rows: 1024, cols: 1000),  // ImageNet-sized heads
    Workload(name: "W3", rows: 128, cols: 32000),  // LLM vocabulary, rows fit in L2
    Workload(name: "W4", rows: 32, cols: 128256),  // large vocabulary
    Workload(name: "W5", rows: 256, cols: 128256),  // large vocabulary batch, memory-bound
  ]

  /// `W1`...`W5`, or a custom shape written `ROWSxCOLS` (e.g. `64x50257`).
  static func parse(_ text: String) -> Workload? {
    let t = trimmed(text)
    if let w = standard.first(where: { $0.name.lowercased() == t.lowercased() }) { return w }
    let parts = t.lowercased().split(separator: "x")
    guard parts.count == 2, let r = Int(parts[0]), let c = Int(parts[1]), r > 0, c > 0 else { return nil }
    return Workload(name: t, rows: r, cols: c)
  }
}

/// `text` without leading and trailing whitespace.
func trimmed<S: StringProtocol>(_ text: S) -> String {
  var s = Substring(text)
  while let f = s.first, f.isWhitespace { s.removeFirst() }
  while let l = s.last, l.isWhitespace { s.removeLast() }
  return String(s)
}

/// xoshiro256** seeded through SplitMix64: fast, reproducible logits.
struct Xoshiro256: RandomNumberGenerator {
  var s: (UInt64, UInt64, UInt64, UInt64)

  init(seed: UInt64) {
    var z = seed
    func splitmix() -> UInt64 {
      z &+= 0x9E37_79B9_7F4A_7C15
      var x = z
      x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
      x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
      return x ^ (x >> 31)
    }
    s = (splitmix(), splitmix(), splitmix(), splitmix())
  }

  mutating func next() -> UInt64 {
    let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
    let t = s.1 << 17
    s.2 ^= s.0
    s.3 ^= s.1
    s.1 ^= s.2
    s.0 ^= s.3
    s.2 ^= t
    s.3 = (s.3 << 45) | (s.3 >> 19)
    return result
  }

  /// Uniform in (0, 1].
  mutating func unit() -> Double { (Double(next() >> 11) + 1) * 0x1p-53 }
}

/// Realistic logits: normal with standard deviation `std` (Box-Muller), clamped to +-8 std so no
/// row produces exp underflow into denormals (max - min <= 16 std = 48 for std 3, far from the
/// -87 at which Float's exp becomes subnormal).
func fillLogits<T: BinaryFloatingPoint>(_ buffer: UnsafeMutableBufferPointer<T>, std: Double, seed: UInt64) {
  var rng = Xoshiro256(seed: seed)
  var i = 0
  let n = buffer.count
  while i < n {
    let u1 = rng.unit(), u2 = rng.unit()
    let r = (-2 * log(u1)).squareRoot() * std
    let a = 2 * Double.pi * u2
    buffer[i] = T(Swift.min(Swift.max(r * cos(a), -8 * std), 8 * std))
    if i + 1 < n { buffer[i + 1] = T(Swift.min(Swift.max(r * sin(a), -8 * std), 8 * std)) }
    i += 2
  }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
