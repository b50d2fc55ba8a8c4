internal import SoftmaxKernelsCore

// Swift has no `Float16` on macOS x86-64 (nor before macOS 11 / iOS 14).
#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
@available(macOS 11.0, iOS 14.0, watchOS 7.0, tvOS 14.0, *)
extension Float16: SoftmaxScalar {
  /// `Float16` rows are computed in `Float`; losses, logsumexp values and states are `Float`.
  public typealias Arithmetic = Float

  /// The Float kernels of the running CPU over `Float16` rows: each element widened when read
  /// (F16C / AVX-512 conversions on x86-64) and each output rounded once when written.
  public static var _softmaxScalarSeal: _SoftmaxScalarSeal<Float16> { _SoftmaxScalarSeal(float16Kernels(_:)) }
}

@available(macOS 11.0, iOS 14.0, watchOS 7.0, tvOS 14.0, *)
private func float16Kernels(_ mode: KernelOptions.Mode) -> KernelTable<Float16, Float> {
  let k = InstructionSet._testingOverride.map {
    halfTables(.binary16, for: min($0, InstructionSet.supported), as: Float16.self)
  } ?? activeFloat16Kernels
  return mode == .accurate ? k.accurate : k.fast
}

@available(macOS 11.0, iOS 14.0, watchOS 7.0, tvOS 14.0, *)
private let activeFloat16Kernels = halfTables(.binary16, for: InstructionSet.active, as: Float16.self)
#endif
