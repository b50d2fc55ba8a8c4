public import SoftmaxKernelsCore
import SoftmaxKernelsAVX2
import SoftmaxKernelsAVX512
import SoftmaxKernelsBaseline

extension Double: SoftmaxScalar {
  /// 8-wide AVX-512 kernels where the CPU has AVX-512, 4-wide AVX2 ones where it has AVX2 and FMA,
  /// 2-wide SSE ones otherwise (`InstructionSet.active`).
  public static func _kernels(_ mode: KernelOptions.Mode) -> KernelTable<Double> {
    mode == .accurate ? doubleKernels.accurate : doubleKernels.fast
  }
}

private let doubleKernels: (accurate: KernelTable<Double>, fast: KernelTable<Double>) =
  switch InstructionSet.active {
  case .avx512: (AVX512Backend.double, AVX512Backend.fastDouble)
  case .avx2: (AVX2Backend.double, AVX2Backend.fastDouble)
  case .baseline: (BaselineBackend.double, BaselineBackend.fastDouble)
  }
