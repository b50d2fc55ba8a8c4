public import SoftmaxKernelsCore
import SoftmaxKernelsAVX2
import SoftmaxKernelsBaseline

extension Float: SoftmaxScalar {
  /// 8-wide AVX2 kernels where the CPU has AVX2 and FMA, 4-wide SSE kernels otherwise.
  public static var _kernels: KernelTable<Float> { floatKernels }
}

private let floatKernels: KernelTable<Float> =
  InstructionSet.active == .avx2 ? AVX2Backend.float : BaselineBackend.float
