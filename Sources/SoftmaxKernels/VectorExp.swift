import SoftmaxKernelsAVX2
import SoftmaxKernelsBaseline

/// The active backend's vector exp applied to a buffer: the exp floor of the kernels.
///
/// Every exp-based kernel (softmax, log-softmax, logsumexp, ...) evaluates one vector exp per
/// element, so the time of `exp` alone over the same number of elements, reading one array and
/// writing another, is a floor none of them can beat. The benchmark report (`scripts/bench`)
/// prints each kernel's time as a multiple of it. It uses the same SLEEF function and vector
/// width as the kernels (`Sleef_expf8_u10avx2` / `Sleef_expd4_u10avx2` on AVX2, the 128-bit
/// SLEEF functions on the baseline) and no max subtraction: out-of-range inputs overflow to
/// +inf or underflow to 0 like `exp` does.
public enum VectorExp {
  /// `output[i] = exp(input[i])` for every `i` in `input`'s range. `output` must hold at least
  /// `input.count` elements; `input` and `output` may be the same buffer.
  public static func exp<T: SoftmaxScalar>(
    _ input: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<T>
  ) throws(SoftmaxError) {
    let n = input.count
    guard output.count >= n else {
      throw .bufferTooSmall(argument: "output", required: n, actual: output.count)
    }
    guard n > 0, let x = input.baseAddress, let y = output.baseAddress else { return }
    let avx2 = InstructionSet.active == .avx2
    if T.self == Float.self {
      let f = avx2 ? AVX2Backend.floatExp : BaselineBackend.floatExp
      f(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), n,
        UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self))
    } else if T.self == Double.self {
      let f = avx2 ? AVX2Backend.doubleExp : BaselineBackend.doubleExp
      f(UnsafeRawPointer(x).assumingMemoryBound(to: Double.self), n,
        UnsafeMutableRawPointer(y).assumingMemoryBound(to: Double.self))
    } else {
      // SoftmaxScalar is only Float and Double today.
      preconditionFailure("VectorExp.exp: no vector exp for \(T.self)")
    }
  }
}
