public import SoftmaxKernels

/// Cross-entropy options for the scalar reference, in any `ElementaryScalar` (so the oracle can
/// run them in `Float80` or `DoubleDouble`). Same meaning as `CrossEntropyOptions`.
public struct CrossEntropySettings<T: ElementaryScalar>: Sendable {
  /// Label of rows with loss 0 and gradient 0, not counted in the mean (nil: none).
  public var ignoreIndex: Int?
  /// w_j per class (nil: all 1).
  public var classWeights: [T]?
  /// eps: the target becomes (1 - eps) target + eps / C.
  public var labelSmoothing: T
  /// z: adds z L^2 per row.
  public var zLoss: T
  /// sum / mean (PyTorch's weighted mean).
  public var reduction: LossReduction

  /// Settings with PyTorch's defaults.
  ///
  /// - Parameters:
  ///   - ignoreIndex: The label of rows to skip, or nil.
  ///   - classWeights: One weight per class, or nil for all 1.
  ///   - labelSmoothing: eps in [0, 1].
  ///   - zLoss: The z-loss coefficient.
  ///   - reduction: Mean or sum of the per-row losses.
  public init(
    ignoreIndex: Int? = -100, classWeights: [T]? = nil, labelSmoothing: T = 0, zLoss: T = 0,
    reduction: LossReduction = .mean
  ) {
    self.ignoreIndex = ignoreIndex
    self.classWeights = classWeights
    self.labelSmoothing = labelSmoothing
    self.zLoss = zLoss
    self.reduction = reduction
  }

  /// The kernels' options, converted exactly to `T` (Float -> Double, Double -> Float80 or DoubleDouble, or same).
  ///
  /// - Parameter o: The kernels' cross-entropy options; their `kernel` (mode and threads) has no
  ///   counterpart here.
  public init<S: SoftmaxScalar>(_ o: CrossEntropyOptions<S>) {
    self.init(
      ignoreIndex: o.ignoreIndex, classWeights: o.classWeights?.map { T($0) },
      labelSmoothing: T(o.labelSmoothing), zLoss: T(o.zLoss), reduction: o.reduction)
  }

  /// The same settings in another precision.
  ///
  /// - Parameter to: The precision to convert to.
  /// - Returns: The settings with their weights, smoothing and z-loss converted to `U`.
  public func converted<U: ElementaryScalar>(to _: U.Type) -> CrossEntropySettings<U> {
    CrossEntropySettings<U>(
      ignoreIndex: ignoreIndex, classWeights: classWeights?.map { U($0) }, labelSmoothing: U(labelSmoothing),
      zLoss: U(zLoss), reduction: reduction)
  }
}

/// What a reference loss function returns: per-row (or per-element) losses, the reduced loss and
/// the gradient of the reduced loss times the gradient scale (packed like the logits).
public struct LossResult<T: ElementaryScalar>: Sendable {
  /// loss_r per row (per element for BCE), unreduced.
  public var losses: [T]
  /// The losses reduced as the settings say.
  public var loss: T
  /// gradientScale * d(loss)/d(logits), packed like the logits.
  public var gradient: [T]
}

/// A plain Kahan sum for the reference loops.
struct KahanSum<T: ElementaryScalar> {
  var sum: T = 0
  var compensation: T = 0

  mutating func add(_ x: T) {
    let y = x - compensation
    let t = sum + y
    compensation = t.isFinite ? (t - sum) - y : 0
    sum = t
  }
}
