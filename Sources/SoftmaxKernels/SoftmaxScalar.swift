public import SoftmaxKernelsCore

/// A floating-point type the kernels support: `Float` and `Double`.
///
/// Every public operation is generic over this one protocol. Each conforming type hands out the
/// kernel table chosen for the running CPU (see `InstructionSet.active`); you never call
/// `_kernels` yourself.
public protocol SoftmaxScalar: BinaryFloatingPoint, Sendable, SendableMetatype {
  /// The specialized kernels for this type, mode and CPU. Implementation detail of the API.
  static func _kernels(_ mode: KernelOptions.Mode) -> KernelTable<Self>
}
