public import SoftmaxKernels

/// A kernel scalar with a reference implementation and a wider-precision oracle type:
/// `Float` (oracle in `Double`) and `Double` (oracle in `Float80` on x86-64, in ``DoubleDouble``
/// on every other architecture and in the portable configuration, `SOFTMAXKERNELS_PORTABLE=1`).
/// The 16-bit storage types have none of their own: their reference is the `Float` kernel's
/// result rounded once (their arithmetic is `Float`'s).
public protocol ReferenceScalar: SoftmaxScalar, ElementaryScalar where Arithmetic == Self {
  /// The oracle's precision.
  associatedtype Wide: ElementaryScalar
}

extension Float: ReferenceScalar {
  public typealias Wide = Double
}

#if !(os(Windows) || os(Android)) && (arch(x86_64) || arch(i386)) && !SOFTMAXKERNELS_PORTABLE
extension Double: ReferenceScalar {
  /// 64-bit significand (about 2^-64 relative for the oracle's exp and log) and a wider exponent
  /// range than Double's.
  public typealias Wide = Float80
}
#else
extension Double: ReferenceScalar {
  /// 106-bit pairs of Doubles with their own exponent (about 2^-100 relative for the oracle's
  /// exp and log, and an exponent range wider than Float80's).
  public typealias Wide = DoubleDouble
}
#endif
