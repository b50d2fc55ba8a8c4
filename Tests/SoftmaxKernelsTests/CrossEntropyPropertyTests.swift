import PropertyBased
import SoftmaxKernels
import SoftmaxReference
import Testing

/// Cross-entropy kernels (forward, fused, fused in place) vs the scalar reference vs the oracle,
/// on random and adversarial logits with 0...300 columns and random options, 1000 cases each.
@Suite("Property: cross-entropy vs reference vs oracle")
struct CrossEntropyPropertyTests {
  static let cases = 1000

  @Test func labelsRandomFloat() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Float.self, cols: 0...300, adversarial: false, labels: true)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }

  @Test func labelsRandomDouble() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Double.self, cols: 0...300, adversarial: false, labels: true)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }

  @Test func labelsAdversarialFloat() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Float.self, cols: 0...300, adversarial: true, labels: true)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }

  @Test func labelsAdversarialDouble() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Double.self, cols: 0...300, adversarial: true, labels: true)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }

  @Test func targetsRandomFloat() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Float.self, cols: 0...300, adversarial: false, labels: false)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }

  @Test func targetsRandomDouble() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Double.self, cols: 0...300, adversarial: false, labels: false)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }

  @Test func targetsAdversarialFloat() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Float.self, cols: 0...300, adversarial: true, labels: false)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }

  @Test func targetsAdversarialDouble() async {
    await seededPropertyCheck(count: Self.cases, input: CECases.make(Double.self, cols: 0...300, adversarial: true, labels: false)) { c in recordingErrors { try checkCrossEntropy(c) } }
  }
}
