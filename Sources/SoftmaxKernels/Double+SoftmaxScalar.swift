public import SoftmaxKernelsCore
import SoftmaxKernelsAVX2
import SoftmaxKernelsBaseline

extension Double: SoftmaxScalar {
  /// 4-wide AVX2 kernels where the CPU has AVX2 and FMA, 2-wide SSE kernels otherwise.
  public static var _kernels: KernelTable<Double> { doubleKernels }
}

private let doubleKernels: KernelTable<Double> =
  InstructionSet.active == .avx2 ? AVX2Backend.double : BaselineBackend.double
