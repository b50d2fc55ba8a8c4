/// How a call runs: which exp, and on how many threads.
///
/// `.accurate` (the default) uses SLEEF's 1-ulp vector exp. `.fast` uses an exp written on Swift
/// SIMD types and inlined into the kernels: faster, still within SPEC's error bounds, and with
/// the same NaN / infinity semantics (see README, "Fast mode").
public struct KernelOptions: Sendable, Hashable {
  /// Which exp the kernels use.
  public enum Mode: Sendable, Hashable, CaseIterable {
    /// SLEEF's vector exp (1 ulp). The default and the reference.
    case accurate
    /// The inlined Swift SIMD exp: faster, accuracy measured in README.
    case fast
  }

  /// Which exp the kernels use.
  public var mode: Mode
  /// Threads to split the rows over: 1 (the default) runs on the caller's thread; 0 means one
  /// per active processor. Work under `KernelOptions.minimumElementsPerThread` elements per
  /// thread runs on fewer threads.
  public var threads: Int

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
