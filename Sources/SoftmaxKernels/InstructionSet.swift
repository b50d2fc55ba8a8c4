internal import CSleef

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The instruction set the kernels run with, chosen once per process.
///
/// `avx2` needs AVX2 and FMA in CPUID (and the OS saving YMM state); anything else gets
/// `baseline` (SSE2, 128-bit vectors), which is slower but runs on every x86-64 CPU. Set the
/// environment variable `SOFTMAXKERNELS_ISA=baseline` before the first call to force the baseline
/// path (tests use it to cover both); `SOFTMAXKERNELS_ISA=avx2` is ignored on a CPU without AVX2.
public enum InstructionSet: String, Sendable, CaseIterable {
  /// 128-bit SSE2 vectors: 4 x Float, 2 x Double.
  case baseline
  /// 256-bit AVX2 + FMA vectors: 8 x Float, 4 x Double.
  case avx2

  /// The instruction set in use by this process.
  public static let active: InstructionSet = {
    let supported: InstructionSet = softmaxkernels_cpu_has_avx2_fma() != 0 ? .avx2 : .baseline
    if let forced = getenv("SOFTMAXKERNELS_ISA"), String(cString: forced) == "baseline" {
      return .baseline
    }
    return supported
  }()

  /// Lanes per vector for `T` on this instruction set.
  public func vectorWidth<T: SoftmaxScalar>(for _: T.Type) -> Int {
    (self == .avx2 ? 32 : 16) / MemoryLayout<T>.size
  }
}
