public import SoftmaxKernelsCore
import SoftmaxKernelsAVX2
import SoftmaxKernelsAVX512
import SoftmaxKernelsBaseline

extension Float: SoftmaxScalar {
  /// 16-wide AVX-512 kernels where the CPU has AVX-512, 8-wide AVX2 ones where it has AVX2 and FMA,
  /// 4-wide SSE ones otherwise (`InstructionSet.active`).
  public static func _kernels(_ mode: KernelOptions.Mode) -> KernelTable<Float> {
    mode == .accurate ? floatKernels.accurate : floatKernels.fast
  }
}

private let floatKernels: (accurate: KernelTable<Float>, fast: KernelTable<Float>) =
  switch InstructionSet.active {
  case .avx512: (AVX512Backend.float, AVX512Backend.fastFloat)
  case .avx2: (AVX2Backend.float, AVX2Backend.fastFloat)
  case .baseline: (BaselineBackend.float, BaselineBackend.fastFloat)
  }
