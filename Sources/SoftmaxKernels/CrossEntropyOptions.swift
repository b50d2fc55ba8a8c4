internal import SoftmaxKernelsCore

/// How per-row (or per-element) losses are combined into the returned value.
public enum LossReduction: Sendable, Hashable, CaseIterable {
  /// No reduction: the per-row losses are what you want (pass a `losses` buffer); the returned
  /// value is their sum and the gradient is that of the sum, as with `.sum`.
  case none
  /// sum_i loss_i.
  case sum
  /// PyTorch's mean: sum_i loss_i / sum_i w[t_i] over rows not ignored (the number of such rows
  /// without class weights; the number of rows for probability targets; the number of elements
  /// for binary cross-entropy). A zero denominator gives 0, not NaN.
  case mean
}

/// Options of the cross-entropy functions, with PyTorch's `torch.nn.functional.cross_entropy`
/// meanings plus PaLM's z-loss. For a row with logits x, C classes, L = logsumexp(x):
///
///     class label t:  loss = (1 - eps) w_t (L - x_t) + eps/C sum_j w_j (L - x_j) + z L^2
///     targets p:      loss = sum_j w_j q_j (L - x_j) + z L^2,   q_j = (1 - eps) p_j + eps/C
///
/// with w the class weights (all 1 by default), eps the label smoothing and z the z-loss
/// coefficient. A term whose coefficient is 0 counts as 0 even where L - x_j is +inf.
public struct CrossEntropyOptions<T: SoftmaxScalar>: Sendable {
  /// Rows whose label equals this get loss 0 and gradient 0 and do not count in the mean
  /// (class labels only; PyTorch's default is -100). nil: no label is ignored.
  public var ignoreIndex: Int32?
  /// One weight w_j >= 0 per class, or nil for all 1.
  public var classWeights: [T]?
  /// eps in [0, 1]: the target becomes (1 - eps) * target + eps / C.
  public var labelSmoothing: T
  /// z >= 0: adds z * L^2 to every (not ignored) row's loss, as in PaLM.
  public var zLoss: T
  /// How the losses are combined (default: mean).
  public var reduction: LossReduction
  /// Which exp the kernels use (`KernelOptions.Mode`; default: accurate).
  public var mode: KernelOptions.Mode
  /// Threads to split the rows over, as `KernelOptions.threads` (1 by default, 0 = one per
  /// processor, fewer for small work). Per-row losses and gradients are bit-identical to one
  /// thread; the reduced loss adds the threads' compensated partial sums, so it may differ from
  /// the one-thread value in its last bit.
  public var threads: Int

  public init(
    ignoreIndex: Int32? = -100, classWeights: [T]? = nil, labelSmoothing: T = 0, zLoss: T = 0,
    reduction: LossReduction = .mean, mode: KernelOptions.Mode = .accurate, threads: Int = 1
  ) {
    self.ignoreIndex = ignoreIndex
    self.classWeights = classWeights
    self.labelSmoothing = labelSmoothing
    self.zLoss = zLoss
    self.reduction = reduction
    self.mode = mode
    self.threads = threads
  }

  /// Checks the options against `cols` classes; returns W = sum_j w_j.
  func validate(cols: Int) throws(SoftmaxError) -> T {
    guard labelSmoothing >= 0 && labelSmoothing <= 1 else {
      throw .invalidOption(argument: "labelSmoothing", value: Double(labelSmoothing), expected: "in [0, 1]")
    }
    guard zLoss >= 0 && zLoss.isFinite else {
      throw .invalidOption(argument: "zLoss", value: Double(zLoss), expected: "finite and >= 0")
    }
    guard let w = classWeights else { return T(cols) }
    return try validateWeights(w, count: cols, argument: "classWeights")
  }
}

/// Checks that `w` has `count` entries, none negative or NaN; returns their (compensated) sum.
func validateWeights<T: SoftmaxScalar>(_ w: [T], count: Int, argument: String) throws(SoftmaxError) -> T {
  guard w.count == count else { throw .countMismatch(argument: argument, expected: count, actual: w.count) }
  if count == 0 { return 0 }
  let (sum, invalid) = w.withUnsafeBufferPointer { T._kernels(.accurate).checkedWeightSum($0.baseAddress!, count) }
  guard invalid < 0 else { throw .invalidWeight(argument: argument, index: invalid, value: Double(w[invalid])) }
  return sum
}

/// Checks every label (in 0..<cols or the ignore index) and returns the mean's denominator:
/// sum of w[t_r] over rows not ignored.
func validateLabels<T: SoftmaxScalar>(
  _ labels: UnsafeBufferPointer<Int32>, rows: Int, cols: Int, ignoreIndex: Int32?, weights: [T]?
) throws(SoftmaxError) -> T {
  guard labels.count >= rows else {
    throw .bufferTooSmall(argument: "labels", required: rows, actual: labels.count)
  }
  // No arithmetic in T per row here: this layer runs unspecialized (a witness call and a
  // metadata lookup per generic operation), so the weighted sum goes to the kernel table.
  var counted = 0
  for r in 0..<rows {
    let t = labels[r]
    if let ignoreIndex, t == ignoreIndex { continue }
    guard t >= 0 && Int(t) < cols else {
      throw .labelOutOfRange(argument: "labels", row: r, value: Int(t), cols: cols)
    }
    counted += 1
  }
  guard let weights, counted > 0 else { return T(counted) }
  return weights.withUnsafeBufferPointer { w in
    T._kernels(.accurate).labelWeightSum(labels.baseAddress!, rows, ignoreIndex, w.baseAddress!)
  }
}

/// Int labels as Int32 (labels that do not fit are out of range for any `cols`).
func int32Labels(_ labels: [Int], cols: Int) throws(SoftmaxError) -> [Int32] {
  var out = [Int32]()
  out.reserveCapacity(labels.count)
  for (r, t) in labels.enumerated() {
    guard let v = Int32(exactly: t) else {
      throw .labelOutOfRange(argument: "labels", row: r, value: t, cols: cols)
    }
    out.append(v)
  }
  return out
}
