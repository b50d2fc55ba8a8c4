internal import SoftmaxKernelsCore
#if arch(x86_64) && !SOFTMAXKERNELS_PORTABLE
internal import SoftmaxKernelsAVX2
internal import SoftmaxKernelsAVX512
#endif
internal import SoftmaxKernelsBaseline

extension Float: SoftmaxScalar {
  /// `Float` computes in `Float`.
  public typealias Arithmetic = Float

  /// 16-wide AVX-512 kernels where the CPU has AVX-512, 8-wide AVX2 ones where it has AVX2 and FMA,
  /// 4-wide SSE ones otherwise (`InstructionSet.active`).
  public static var _softmaxScalarSeal: _SoftmaxScalarSeal<Float> { _SoftmaxScalarSeal(floatKernels(_:)) }
}

private func floatKernels(_ mode: KernelOptions.Mode) -> KernelTable<Float, Float> {
  let k = InstructionSet._testingOverride.map { floatTables(for: min($0, InstructionSet.supported)) } ?? activeFloatKernels
  return mode == .accurate ? k.accurate : k.fast
}

private let activeFloatKernels = floatTables(for: InstructionSet.active)

private func floatTables(for isa: InstructionSet) -> (accurate: KernelTable<Float, Float>, fast: KernelTable<Float, Float>) {
  switch isa {
  #if arch(x86_64) && !SOFTMAXKERNELS_PORTABLE
  case .avx512: (AVX512Backend.float, AVX512Backend.fastFloat)
  case .avx2: (AVX2Backend.float, AVX2Backend.fastFloat)
  #endif
  default: (BaselineBackend.float, BaselineBackend.fastFloat)
  }
}
