/// How per-row (or per-element) losses become the value a loss function returns.
///
/// The per-row losses themselves are always available through the `losses:` buffer of the
/// buffer forms, whatever the reduction.
public enum LossReduction: Sendable, Hashable, CaseIterable {
  /// The sum of the losses; the gradient is that of the sum.
  case sum
  /// PyTorch's mean: the sum of the losses divided by the sum of the class weights of the rows
  /// not ignored (the number of such rows without class weights; the number of rows for
  /// probability targets; the number of elements for binary cross-entropy). A zero denominator
  /// gives 0, not NaN. The gradient is that of the mean.
  case mean
}
