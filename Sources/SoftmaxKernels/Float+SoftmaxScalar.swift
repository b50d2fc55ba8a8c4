public import SoftmaxKernelsCore
import SoftmaxKernelsAVX2
import SoftmaxKernelsBaseline

extension Float: SoftmaxScalar {
  /// 8-wide AVX2 kernels where the CPU has AVX2 and FMA, 4-wide SSE kernels otherwise.
  public static func _kernels(_ mode: KernelOptions.Mode) -> KernelTable<Float> {
    mode == .accurate ? floatKernels.accurate : floatKernels.fast
  }
}

private let floatKernels: (accurate: KernelTable<Float>, fast: KernelTable<Float>) =
  InstructionSet.active == .avx2
  ? (AVX2Backend.float, AVX2Backend.fastFloat)
  : (BaselineBackend.float, BaselineBackend.fastFloat)
