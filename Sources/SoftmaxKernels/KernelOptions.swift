/// How a call runs: which exp, and on how many threads.
///
/// Every operation takes its options last. ``accurate`` (the default) evaluates exp with SLEEF's
/// 1-ulp vector functions; ``fast`` uses an exp written on Swift SIMD types and inlined into the
/// kernels (and, in binary cross-entropy, an inlined log1p), still within the package's error
/// bounds and with the same NaN and infinity rules.
///
/// ```swift
/// let options = KernelOptions(mode: .fast, threads: 0)  // inlined exp, one thread per processor
/// ```
public struct KernelOptions: Sendable, Hashable {
  /// Which exp the kernels use.
  public enum Mode: Sendable, Hashable, CaseIterable {
    /// SLEEF's vector exp (1 ulp). The default and the reference.
    case accurate
    /// The inlined Swift SIMD exp (and BCE's log1p): faster, within the same bounds.
    case fast
  }

  /// Which exp the kernels use.
  public var mode: Mode
  /// Threads to split the rows over: 1 (the default) runs on the caller's thread; 0 means one
  /// per active processor. Work under ``minimumElementsPerThread`` elements per thread runs on
  /// fewer threads. Results are bit-identical for any thread count, except that a reduced loss
  /// may differ in its last bit (the threads' compensated partial sums are added), and that
  /// `logSumExp` of fewer rows than threads splits each row's columns (at least 2^19 elements
  /// per slice) and merges the slices: the same bound, last bits may differ.
  public var threads: Int

  /// Options from a mode and a thread count.
  ///
  /// - Parameters:
  ///   - mode: Which exp the kernels use.
  ///   - threads: Threads to split the rows over; 0 means one per active processor. A negative
  ///     value makes every call throw ``SoftmaxError/invalidThreadCount(_:)``.
  public init(mode: Mode = .accurate, threads: Int = 1) {
    self.mode = mode
    self.threads = threads
  }

  /// SLEEF exp, one thread.
  public static let accurate = KernelOptions()
  /// Inlined Swift SIMD exp, one thread.
  public static let fast = KernelOptions(mode: .fast)

  /// Below this many elements per thread, extra threads cost more than they save.
  public static let minimumElementsPerThread = 1 << 15
}
