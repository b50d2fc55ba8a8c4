/// Options of the cross-entropy functions, with the meanings of PyTorch's
/// `torch.nn.functional.cross_entropy` plus PaLM's z-loss.
///
/// For a row with logits x, C classes and L = logsumexp(x):
///
///     class label t:  loss = (1 - eps) w_t (L - x_t) + eps/C sum_j w_j (L - x_j) + z L^2
///     targets p:      loss = sum_j w_j q_j (L - x_j) + z L^2,   q_j = (1 - eps) p_j + eps/C
///
/// with w the class weights (all 1 by default), eps the label smoothing and z the z-loss
/// coefficient. Weights and coefficients are in `T.Arithmetic` (`Float` for `Float16` and
/// ``BFloat16`` logits). A term whose coefficient is 0 counts as 0 even where L - x_j is +inf.
public struct CrossEntropyOptions<T: SoftmaxScalar>: Sendable {
  /// Rows whose label equals this get loss 0 and gradient 0 and do not count in the mean (class
  /// labels only; PyTorch's default is -100). nil: no label is ignored.
  public var ignoreIndex: Int?
  /// One weight w_j >= 0 per class, or nil for all 1.
  public var classWeights: [T.Arithmetic]?
  /// eps in [0, 1]: the target becomes (1 - eps) * target + eps / C.
  public var labelSmoothing: T.Arithmetic
  /// z >= 0: adds z * L^2 to the loss of every row not ignored, as in PaLM.
  public var zLoss: T.Arithmetic
  /// How the losses are combined into the returned value (default: mean).
  public var reduction: LossReduction
  /// Which exp, and how many threads.
  public var kernel: KernelOptions

  /// Cross-entropy options; every argument has PyTorch's default.
  ///
  /// - Parameters:
  ///   - ignoreIndex: The label of rows to skip, or nil.
  ///   - classWeights: One weight per class (>= 0, not NaN), or nil for all 1.
  ///   - labelSmoothing: eps in [0, 1].
  ///   - zLoss: The z-loss coefficient, finite and >= 0.
  ///   - reduction: Mean or sum of the per-row losses.
  ///   - kernel: Mode and threads.
  public init(
    ignoreIndex: Int? = -100, classWeights: [T.Arithmetic]? = nil, labelSmoothing: T.Arithmetic = 0, zLoss: T.Arithmetic = 0,
    reduction: LossReduction = .mean, kernel: KernelOptions = .accurate
  ) {
    self.ignoreIndex = ignoreIndex
    self.classWeights = classWeights
    self.labelSmoothing = labelSmoothing
    self.zLoss = zLoss
    self.reduction = reduction
    self.kernel = kernel
  }
}
