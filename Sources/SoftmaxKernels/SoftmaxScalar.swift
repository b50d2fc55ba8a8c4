internal import SoftmaxKernelsCore

/// A floating-point type the kernels support: `Float` and `Double`, and the 16-bit storage
/// types `Float16` and ``BFloat16``.
///
/// Every public operation is generic over this one protocol. Rows (logits, targets,
/// probabilities, gradients) are held in the conforming type; arithmetic, losses, logsumexp
/// values, states, weights and coefficients are in its ``Arithmetic`` type. Only these four
/// types conform, and the protocol is sealed: its one requirement returns a `_SoftmaxScalarSeal`
/// of the conforming type, which only this module can create, so a conformance elsewhere has
/// nothing to return.
public protocol SoftmaxScalar: BinaryFloatingPoint, Sendable, SendableMetatype {
  /// The type the kernels compute in, and the type of every loss, reduction, logsumexp value,
  /// ``LogSumExpState``, class weight, label smoothing, z-loss and gradient scale: the type
  /// itself for `Float` and `Double`, `Float` for `Float16` and ``BFloat16``.
  associatedtype Arithmetic: SoftmaxScalar where Arithmetic.Arithmetic == Arithmetic
  /// Implementation detail of the API: the seal through which the kernels for this type are found.
  /// Not for use; a type outside this module cannot implement it.
  static var _softmaxScalarSeal: _SoftmaxScalarSeal<Self> { get }
}

/// What `SoftmaxScalar`'s requirement returns: the kernel tables of one scalar type, for each
/// mode and the running CPU. It has no public initializer, so `SoftmaxScalar` is sealed: only
/// `Float` and `Double` (in this module) can make one, and another type's conformance cannot
/// forward theirs (a `_SoftmaxScalarSeal<Float>` is not a `_SoftmaxScalarSeal<MyType>`).
public struct _SoftmaxScalarSeal<T: SoftmaxScalar>: Sendable {
  /// The kernel table for a mode, chosen for the running CPU (`InstructionSet.active`, or the
  /// testing override).
  let kernels: @Sendable (KernelOptions.Mode) -> KernelTable<T, T.Arithmetic>

  init(_ kernels: @escaping @Sendable (KernelOptions.Mode) -> KernelTable<T, T.Arithmetic>) { self.kernels = kernels }
}

extension SoftmaxScalar {
  /// The specialized kernels for this type, mode and CPU: the one way the operations reach the
  /// backends (`T._kernels(mode).softmax(...)`). A witness call and a closure call, no casts.
  @inline(__always)
  static func _kernels(_ mode: KernelOptions.Mode) -> KernelTable<Self, Arithmetic> { _softmaxScalarSeal.kernels(mode) }
}
