import SoftmaxKernelsCore

extension AVX2Backend {
  /// `y[i] = exp(x[i])` for `count` elements with `Sleef_expf8_u10avx2` (the exp floor of the
  /// Float kernels). Only call it on a CPU with AVX2 and FMA.
  public static let floatExp: @Sendable (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void = {
    SleefAVX2Float.expArray($0, count: $1, to: $2)
  }
  /// `y[i] = exp(x[i])` for `count` elements with `Sleef_expd4_u10avx2`.
  public static let doubleExp: @Sendable (UnsafePointer<Double>, Int, UnsafeMutablePointer<Double>) -> Void = {
    SleefAVX2Double.expArray($0, count: $1, to: $2)
  }
}
