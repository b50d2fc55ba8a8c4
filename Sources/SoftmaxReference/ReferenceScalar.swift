public import SoftmaxKernels

/// A kernel scalar with a reference implementation and a wider-precision oracle type:
/// `Float` (oracle in `Double`) and `Double` (oracle in `Float80`).
public protocol ReferenceScalar: SoftmaxScalar, ElementaryScalar {
  /// The oracle's precision.
  associatedtype Wide: ElementaryScalar
}

extension Float: ReferenceScalar {
  public typealias Wide = Double
}

#if arch(x86_64) || arch(i386)
extension Double: ReferenceScalar {
  public typealias Wide = Float80
}
#endif
