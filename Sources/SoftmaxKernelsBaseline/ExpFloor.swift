import SoftmaxKernelsCore

extension BaselineBackend {
  /// `y[i] = exp(x[i])` for `count` elements with `Sleef_expf4_u10` (the exp floor of the Float
  /// baseline kernels).
  public static let floatExp: @Sendable (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void = {
    SleefSSEFloat.expArray($0, count: $1, to: $2)
  }
  /// `y[i] = exp(x[i])` for `count` elements with `Sleef_expd2_u10`.
  public static let doubleExp: @Sendable (UnsafePointer<Double>, Int, UnsafeMutablePointer<Double>) -> Void = {
    SleefSSEDouble.expArray($0, count: $1, to: $2)
  }
}
