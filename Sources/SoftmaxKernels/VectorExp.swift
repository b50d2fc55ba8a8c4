/// The active backend's vector exp applied to a buffer: the exp floor of the kernels.
///
/// Every exp-based kernel (softmax, log-softmax, logsumexp, ...) evaluates one vector exp per
/// element, so the time of `exp` alone over the same number of elements, reading one array and
/// writing another, is a floor none of them can beat. The benchmark report (`scripts/bench`)
/// prints each kernel's time as a multiple of it. It uses the same exp and vector width as the
/// kernels of the given mode (in accurate mode `Sleef_expf16_u10avx512f` / `Sleef_expd8_u10avx512f`
/// on AVX-512, `Sleef_expf8_u10avx2` / `Sleef_expd4_u10avx2` on AVX2, the 128-bit SLEEF functions
/// on the baseline; the inlined fast exp in fast mode) and no max subtraction: out-of-range inputs
/// overflow to +inf or underflow to 0 like `exp` does. In fast mode that takes
/// `fastExpAnyArgument` (the kernels' x <= 0 exp extended to every x by two lane selects), or on
/// AVX-512 the same exp with 2^n applied by `vscalefps`, which covers every x as it is.
public enum VectorExp {
  /// `output[i] = exp(input[i])` for every `i` in `input`'s range. `output` must hold at least
  /// `input.count` elements; `input` and `output` may be the same buffer.
  public static func exp<T: SoftmaxScalar>(
    _ input: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<T>,
    mode: KernelOptions.Mode = .accurate
  ) throws(SoftmaxError) {
    let n = input.count
    guard output.count >= n else {
      throw .bufferTooSmall(argument: "output", required: n, actual: output.count)
    }
    guard n > 0, let x = input.baseAddress, let y = output.baseAddress else { return }
    T._kernels(mode).exp(x, n, y)
  }
}
