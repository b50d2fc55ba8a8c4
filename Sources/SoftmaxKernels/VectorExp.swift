/// The active backend's vector exp applied to a buffer: the exp floor of the kernels.
///
/// Every exp-based kernel (softmax, log-softmax, logsumexp, ...) evaluates one vector exp per
/// element, so the time of `exp` alone over the same number of elements, reading one array and
/// writing another, is a floor none of them can beat. The benchmark report (`scripts/bench`)
/// prints each kernel's time as a multiple of it. It uses the same exp and vector width as the
/// kernels of the given mode, and no max subtraction: out-of-range inputs overflow to +inf or
/// underflow to 0 as `exp` does.
public enum VectorExp {
  /// `output[i] = exp(input[i])` for every `i` in `input`'s range, with spans.
  ///
  /// - Parameters:
  ///   - input: The arguments.
  ///   - output: Receives the values; at least `input.count` elements.
  ///   - options: The mode chooses the exp; the call runs on one thread.
  /// - Throws: ``SoftmaxError/bufferTooSmall(argument:required:actual:)`` when `output` is short,
  ///   ``SoftmaxError/invalidThreadCount(_:)`` for a negative thread count.
  public static func exp<T: SoftmaxScalar>(
    _ input: Span<T>, output: inout MutableSpan<T>, options: KernelOptions = .accurate
  ) throws(SoftmaxError) {
    try input.withUnsafeBufferPointer { (x) throws(SoftmaxError) in
      try output.withUnsafeMutableBufferPointer { (y) throws(SoftmaxError) in try exp(x, output: y, options: options) }
    }
  }

  /// `output[i] = exp(input[i])` for every `i` in `input`'s range, pointer form.
  ///
  /// - Parameters:
  ///   - input: The arguments.
  ///   - output: Receives the values; at least `input.count` elements. It may be the same memory
  ///     as `input`.
  ///   - options: The mode chooses the exp; the call runs on one thread.
  /// - Throws: ``SoftmaxError/bufferTooSmall(argument:required:actual:)`` when `output` is short,
  ///   ``SoftmaxError/invalidThreadCount(_:)`` for a negative thread count.
  public static func exp<T: SoftmaxScalar>(
    _ input: UnsafeBufferPointer<T>, output: UnsafeMutableBufferPointer<T>, options: KernelOptions = .accurate
  ) throws(SoftmaxError) {
    guard options.threads >= 0 else { throw .invalidThreadCount(options.threads) }
    let n = input.count
    guard output.count >= n else {
      throw .bufferTooSmall(argument: "output", required: n, actual: output.count)
    }
    guard n > 0, let x = input.baseAddress, let y = output.baseAddress else { return }
    T._kernels(options.mode).exp(x, n, y)
  }
}
