@_spi(Testing) import SoftmaxKernels
import PropertyBased
import SoftmaxReference
import Testing

// Running tests on every backend this CPU can execute, in both kernel modes, within one test
// process: `.everyBackendAndMode` runs each test of a suite once per (instruction set <=
// InstructionSet.supported, mode) through the SPI hook `InstructionSet._testingOverride`, with
// `TestMode.current` set to the mode; every issue names both. (scripts/test still runs the whole
// suite with SOFTMAXKERNELS_ISA=avx2 and =baseline as well.)

enum TestMode {
  @TaskLocal static var current: KernelOptions.Mode = .accurate
  static var options: KernelOptions { KernelOptions(mode: current) }
}

struct EveryBackendAndMode: TestTrait, SuiteTrait, TestScoping {
  var isRecursive: Bool { true }

  func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? { testCase == nil ? nil : self }

  func provideScope(
    for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
  ) async throws {
    for isa in InstructionSet.allCases where isa <= InstructionSet.supported {
      for mode in KernelOptions.Mode.allCases {
        let note = Comment(rawValue: "kernels: \(isa), \(mode) mode")
        let handler = IssueHandlingTrait.compactMapIssues { issue in
          var issue = issue
          issue.comments.append(note)
          return issue
        }
        try await handler.provideScope(for: test, testCase: testCase) {
          try await InstructionSet.$_testingOverride.withValue(isa) {
            try await TestMode.$current.withValue(mode) { try await function() }
          }
        }
      }
    }
  }
}

extension Trait where Self == EveryBackendAndMode {
  static var everyBackendAndMode: Self { Self() }
}

/// The property checks, shortened, on every backend and mode (the full-length runs use the
/// process's own backend).
@Suite("Every backend this CPU runs, both modes", .everyBackendAndMode)
struct EveryBackendTests {
  @Test func overrideIsSet() throws {
    // The trait sets the hook for the test's task (the kernels read it in `_kernels`).
    let isa = try #require(InstructionSet._testingOverride)
    #expect(isa <= InstructionSet.supported)
  }

  @Test func forward() async {
    await seededPropertyCheck(count: 150, input: Rows.adversarial(Float.self, rows: 1...20, cols: 0...300)) { m in
      try checkForwardKernels(m, options: TestMode.options)
      try checkRowsIndependent(m, options: TestMode.options)
    }
    await seededPropertyCheck(count: 150, input: Rows.random(Double.self, rows: 1...12, cols: 0...300)) { m in
      try checkForwardKernels(m, options: TestMode.options)
      try checkRowsIndependent(m, options: TestMode.options)
    }
  }

  @Test func crossEntropy() async {
    await seededPropertyCheck(count: 100, input: CECases.make(Float.self, cols: 0...300, adversarial: true, labels: true)) { c in
      var c = c
      c.options.kernel.mode = TestMode.current
      try checkCrossEntropy(c)
    }
    await seededPropertyCheck(count: 100, input: CECases.make(Double.self, cols: 0...300, adversarial: false, labels: false)) { c in
      var c = c
      c.options.kernel.mode = TestMode.current
      try checkCrossEntropy(c)
    }
  }

  @Test func binaryCrossEntropy() async {
    await seededPropertyCheck(count: 100, input: BinaryCrossEntropyTests.cases(Float.self, adversarial: true)) { c in
      try BinaryCrossEntropyTests.check(c.inMode(TestMode.current))
    }
    await seededPropertyCheck(count: 100, input: BinaryCrossEntropyTests.cases(Double.self, adversarial: false)) { c in
      try BinaryCrossEntropyTests.check(c.inMode(TestMode.current))
    }
  }

  @Test func backward() async {
    guard TestMode.current == .accurate else { return }  // backward has one mode
    await seededPropertyCheck(count: 100, input: Rows.adversarial(Float.self, rows: 1...20, cols: 0...140)) { m in
      try SoftmaxBackwardTests.check(m, seed: m.cols)
    }
  }
}
