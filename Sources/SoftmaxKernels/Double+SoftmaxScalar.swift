internal import SoftmaxKernelsCore
#if arch(x86_64) && !SOFTMAXKERNELS_PORTABLE
internal import SoftmaxKernelsAVX2
internal import SoftmaxKernelsAVX512
#endif
internal import SoftmaxKernelsBaseline

extension Double: SoftmaxScalar {
  /// `Double` computes in `Double`.
  public typealias Arithmetic = Double

  /// 8-wide AVX-512 kernels where the CPU has AVX-512, 4-wide AVX2 ones where it has AVX2 and FMA,
  /// 2-wide SSE ones otherwise (`InstructionSet.active`).
  public static var _softmaxScalarSeal: _SoftmaxScalarSeal<Double> { _SoftmaxScalarSeal(doubleKernels(_:)) }
}

private func doubleKernels(_ mode: KernelOptions.Mode) -> KernelTable<Double, Double> {
  let k = InstructionSet._testingOverride.map { doubleTables(for: min($0, InstructionSet.supported)) } ?? activeDoubleKernels
  return mode == .accurate ? k.accurate : k.fast
}

private let activeDoubleKernels = doubleTables(for: InstructionSet.active)

private func doubleTables(for isa: InstructionSet) -> (accurate: KernelTable<Double, Double>, fast: KernelTable<Double, Double>) {
  switch isa {
  #if arch(x86_64) && !SOFTMAXKERNELS_PORTABLE
  case .avx512: (AVX512Backend.double, AVX512Backend.fastDouble)
  case .avx2: (AVX2Backend.double, AVX2Backend.fastDouble)
  #endif
  default: (BaselineBackend.double, BaselineBackend.fastDouble)
  }
}
