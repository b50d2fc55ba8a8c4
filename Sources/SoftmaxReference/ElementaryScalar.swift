#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A floating-point type with the C library's scalar exp, log and log1p: `Float`, `Double`,
/// `Float80` on x86-64 (not in the portable configuration), and ``DoubleDouble`` with its own.
/// The reference algorithms are generic over it, so the same code runs in the
/// working precision (the reference) and in a wider one (the oracle).
public protocol ElementaryScalar: BinaryFloatingPoint, Sendable {
  /// e^x from the C library (`expf`, `exp`, `expl`).
  static func libmExp(_ x: Self) -> Self
  /// ln(x) from the C library.
  static func libmLog(_ x: Self) -> Self
  /// ln(1 + x) from the C library.
  static func libmLog1p(_ x: Self) -> Self
}

extension Float: ElementaryScalar {
  public static func libmExp(_ x: Float) -> Float { expf(x) }
  public static func libmLog(_ x: Float) -> Float { logf(x) }
  public static func libmLog1p(_ x: Float) -> Float { log1pf(x) }
}

extension Double: ElementaryScalar {
  public static func libmExp(_ x: Double) -> Double { exp(x) }
  public static func libmLog(_ x: Double) -> Double { log(x) }
  public static func libmLog1p(_ x: Double) -> Double { log1p(x) }
}

#if !(os(Windows) || os(Android)) && (arch(x86_64) || arch(i386)) && !SOFTMAXKERNELS_PORTABLE
extension Float80: ElementaryScalar {
  public static func libmExp(_ x: Float80) -> Float80 { expl(x) }
  public static func libmLog(_ x: Float80) -> Float80 { logl(x) }
  public static func libmLog1p(_ x: Float80) -> Float80 { log1pl(x) }
}
#endif
