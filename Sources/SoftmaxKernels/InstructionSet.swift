#if arch(x86_64) && !SOFTMAXKERNELS_PORTABLE
internal import CSleef
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The instruction set the kernels run with, chosen once per process.
///
/// On x86-64 it is the widest one the CPU supports: ``avx512`` needs AVX-512 F, CD, BW, DQ and
/// VL, BMI1, BMI2, LZCNT, MOVBE and POPCNT in CPUID (what `-march=skylake-avx512` code may use)
/// and the OS saving the ZMM and mask registers; ``avx2`` needs AVX2 and FMA (and YMM state), and
/// anything else gets ``baseline`` (SSE2, 128-bit vectors), which is slower but runs on every
/// x86-64 CPU. On every other architecture (arm64 Linux, macOS on Apple Silicon) it is always
/// ``baseline``: the portable 128-bit backend (AdvSIMD on arm64), with no CPU detection at all.
///
/// Setting the environment variable `SOFTMAXKERNELS_ISA` to the ``rawValue`` of an instruction
/// set (`avx2`, `baseline`) before the first kernel call caps the choice at that level (tests use
/// it to cover every path); a cap above what the CPU supports, or an unknown value, changes
/// nothing.
///
/// New instruction sets may be added in any release (a wider or a different one on some
/// architecture), so do not switch over the values exhaustively: compare them (they are ordered
/// by vector width) or give a `switch` a `default` case. The type is a struct with static
/// members rather than an enum for that reason: adding a member is not a source break.
public struct InstructionSet: RawRepresentable, Hashable, Comparable, Sendable, CaseIterable, CustomStringConvertible {
  /// The instruction set's name, as `SOFTMAXKERNELS_ISA` spells it: `baseline`, `avx2`, `avx512`.
  public let rawValue: String

  /// Bytes per vector register: 16, 32 or 64.
  let bytesPerVector: Int

  private init(_ name: String, bytesPerVector: Int) {
    rawValue = name
    self.bytesPerVector = bytesPerVector
  }

  /// The instruction set named `rawValue` (one of ``allCases``), or nil.
  ///
  /// - Parameter rawValue: A name such as `"avx2"`.
  public init?(rawValue: String) {
    guard let known = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
    self = known
  }

  /// 128-bit vectors, 4 x Float and 2 x Double, on every CPU: SSE2 on x86-64, AdvSIMD (NEON) on
  /// arm64, through SLEEF's 128-bit functions. The portable backend.
  public static let baseline = InstructionSet("baseline", bytesPerVector: 16)
  /// 256-bit AVX2 + FMA vectors: 8 x Float, 4 x Double. x86-64 only: never ``supported``
  /// elsewhere.
  public static let avx2 = InstructionSet("avx2", bytesPerVector: 32)
  /// 512-bit AVX-512 vectors: 16 x Float, 8 x Double. x86-64 only: never ``supported`` elsewhere.
  public static let avx512 = InstructionSet("avx512", bytesPerVector: 64)

  /// Every instruction set this version of the package knows, narrowest first (the same list on
  /// every architecture; ``supported`` says which ones this CPU runs). More may be added.
  public static let allCases: [InstructionSet] = [.baseline, .avx2, .avx512]

  /// The widest instruction set this CPU and OS support (``baseline`` on every architecture but
  /// x86-64).
  public static let supported: InstructionSet = {
    #if arch(x86_64) && !SOFTMAXKERNELS_PORTABLE
    softmaxkernels_cpu_has_avx512() != 0 ? .avx512 : softmaxkernels_cpu_has_avx2_fma() != 0 ? .avx2 : .baseline
    #else
    .baseline
    #endif
  }()

  /// The instruction set in use by this process: ``supported``, capped by `SOFTMAXKERNELS_ISA`.
  public static let active: InstructionSet = {
    if let value = getenv("SOFTMAXKERNELS_ISA"), let cap = InstructionSet(rawValue: String(cString: value)) {
      return Swift.min(cap, supported)
    }
    return supported
  }()

  /// Lanes per vector for `T` on this instruction set.
  ///
  /// - Parameter for: `Float.self` or `Double.self`.
  /// - Returns: The number of `T` lanes in one vector register (4 for Float on ``baseline``).
  public func vectorWidth<T: SoftmaxScalar>(for _: T.Type) -> Int {
    bytesPerVector / MemoryLayout<T>.size
  }

  /// The ``rawValue``.
  public var description: String { rawValue }

  /// Orders by vector width (baseline < avx2 < avx512), then by name.
  ///
  /// - Parameters:
  ///   - a: An instruction set.
  ///   - b: Another.
  /// - Returns: True when `a` is narrower than `b`.
  public static func < (a: InstructionSet, b: InstructionSet) -> Bool {
    (a.bytesPerVector, a.rawValue) < (b.bytesPerVector, b.rawValue)
  }

  /// Two values name the same instruction set.
  ///
  /// - Parameters:
  ///   - a: An instruction set.
  ///   - b: Another.
  /// - Returns: True when both have the same ``rawValue``.
  public static func == (a: InstructionSet, b: InstructionSet) -> Bool { a.rawValue == b.rawValue }

  /// Hashes the ``rawValue``.
  ///
  /// - Parameter hasher: The hasher to feed.
  public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}

extension InstructionSet {
  /// For tests only (SPI, not API): while set on the current task, kernel calls use the kernels
  /// of this instruction set instead of `active`, so one test process can cover every backend
  /// the CPU runs (`$_testingOverride.withValue(.avx2) { ... }`). Ignored when the CPU does not
  /// support it. Work split across threads (`KernelOptions.threads`) may not see it.
  @_spi(Testing) @TaskLocal public static var _testingOverride: InstructionSet? = nil
}
