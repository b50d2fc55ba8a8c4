internal import CSleef

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The instruction set the kernels run with, chosen once per process.
///
/// The widest one the CPU supports: `avx512` needs AVX-512 F, CD, BW, DQ and VL, BMI1, BMI2,
/// LZCNT, MOVBE and POPCNT in CPUID (what `-march=skylake-avx512` code may use) and the OS saving
/// the ZMM and mask registers; `avx2` needs AVX2 and FMA (and YMM state), and anything
/// else gets `baseline` (SSE2, 128-bit vectors), which is slower but runs on every x86-64 CPU.
/// Setting the environment variable `SOFTMAXKERNELS_ISA` to `avx2` or `baseline` before the first
/// call caps the choice at that level (tests use it to cover every path); a cap above what the CPU
/// supports, or an unknown value, changes nothing.
public enum InstructionSet: String, Sendable, CaseIterable, Comparable {
  /// 128-bit SSE2 vectors: 4 x Float, 2 x Double.
  case baseline
  /// 256-bit AVX2 + FMA vectors: 8 x Float, 4 x Double.
  case avx2
  /// 512-bit AVX-512 vectors: 16 x Float, 8 x Double.
  case avx512

  /// The widest instruction set this CPU and OS support.
  public static let supported: InstructionSet =
    softmaxkernels_cpu_has_avx512() != 0 ? .avx512 : softmaxkernels_cpu_has_avx2_fma() != 0 ? .avx2 : .baseline

  /// The instruction set in use by this process: `supported`, capped by `SOFTMAXKERNELS_ISA`.
  public static let active: InstructionSet = {
    if let value = getenv("SOFTMAXKERNELS_ISA"), let cap = InstructionSet(rawValue: String(cString: value)) {
      return Swift.min(cap, supported)
    }
    return supported
  }()

  /// Lanes per vector for `T` on this instruction set.
  public func vectorWidth<T: SoftmaxScalar>(for _: T.Type) -> Int {
    bytesPerVector / MemoryLayout<T>.size
  }

  /// Bytes per vector register: 16, 32 or 64.
  var bytesPerVector: Int {
    switch self {
    case .baseline: 16
    case .avx2: 32
    case .avx512: 64
    }
  }

  /// Orders by width: baseline < avx2 < avx512.
  public static func < (a: InstructionSet, b: InstructionSet) -> Bool { a.bytesPerVector < b.bytesPerVector }
}

extension InstructionSet {
  /// For tests only (SPI, not API): while set on the current task, kernel calls use the kernels
  /// of this instruction set instead of `active`, so one test process can cover every backend
  /// the CPU runs (`$_testingOverride.withValue(.avx2) { ... }`). Ignored when the CPU does not
  /// support it. Work split across threads (`KernelOptions.threads`) may not see it.
  @_spi(Testing) @TaskLocal public static var _testingOverride: InstructionSet? = nil
}
