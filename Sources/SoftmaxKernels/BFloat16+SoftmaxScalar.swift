internal import SoftmaxKernelsCore

extension BFloat16: SoftmaxScalar {
  /// `BFloat16` rows are computed in `Float`; losses, logsumexp values and states are `Float`.
  public typealias Arithmetic = Float

  /// The Float kernels of the running CPU over `BFloat16` rows: each element widened when read
  /// (a shift) and each output rounded once, to nearest even, when written.
  public static var _softmaxScalarSeal: _SoftmaxScalarSeal<BFloat16> { _SoftmaxScalarSeal(bfloat16Kernels(_:)) }
}

private func bfloat16Kernels(_ mode: KernelOptions.Mode) -> KernelTable<BFloat16, Float> {
  let k = InstructionSet._testingOverride.map {
    halfTables(.bfloat16, for: min($0, InstructionSet.supported), as: BFloat16.self)
  } ?? activeBFloat16Kernels
  return mode == .accurate ? k.accurate : k.fast
}

private let activeBFloat16Kernels = halfTables(.bfloat16, for: InstructionSet.active, as: BFloat16.self)
