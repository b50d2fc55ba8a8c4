public import SoftmaxKernelsCore
import SoftmaxKernelsAVX2
import SoftmaxKernelsBaseline

extension Double: SoftmaxScalar {
  /// 4-wide AVX2 kernels where the CPU has AVX2 and FMA, 2-wide SSE kernels otherwise.
  public static func _kernels(_ mode: KernelOptions.Mode) -> KernelTable<Double> {
    mode == .accurate ? doubleKernels.accurate : doubleKernels.fast
  }
}

private let doubleKernels: (accurate: KernelTable<Double>, fast: KernelTable<Double>) =
  InstructionSet.active == .avx2
  ? (AVX2Backend.double, AVX2Backend.fastDouble)
  : (BaselineBackend.double, BaselineBackend.fastDouble)
