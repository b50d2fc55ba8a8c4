import PropertyBased
import Synchronization
import Testing

// Reproducible property runs. PropertyBased's `propertyCheck` draws a fresh random seed for every
// case of every run, so a failure in CI may never come back. `seededPropertyCheck` draws case i
// of a check from a seed fixed by the check's place in the source and a base seed: the same run
// on every machine and every time. The base is 20 unless the environment sets
// SOFTMAXKERNELS_TEST_SEED to a number (decimal, or hex with 0x) or to `random` (a fresh base per
// run, printed, for exploratory runs). SOFTMAXKERNELS_TEST_CASE=i runs only case i of each check.
// Every issue recorded by a failing case carries the base seed and the case number.

enum PropertySeed {
  static let defaultBase: UInt64 = 20

  /// The base seed of this run.
  static let base: UInt64 = {
    guard let s = ProcessInfoLite.environment("SOFTMAXKERNELS_TEST_SEED"), !s.isEmpty else { return defaultBase }
    if s == "random" {
      let b = UInt64.random(in: .min ... .max)
      print("property tests: SOFTMAXKERNELS_TEST_SEED=\(b)")
      return b
    }
    if let v = s.hasPrefix("0x") ? UInt64(s.dropFirst(2), radix: 16) : UInt64(s) { return v }
    fatalError("SOFTMAXKERNELS_TEST_SEED must be a number or 'random', not \(s)")
  }()

  /// Only this case of each check (SOFTMAXKERNELS_TEST_CASE), or all.
  static let onlyCase: Int? = ProcessInfoLite.environment("SOFTMAXKERNELS_TEST_CASE").flatMap { Int($0) }

  /// FNV-1a of the call site, so each check has its own stream.
  static func siteHash(_ s: SourceLocation) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in "\(s.fileID):\(s.line)".utf8 {
      h ^= UInt64(b)
      h = h &* 0x100_0000_01b3
    }
    return h
  }
}

/// Runs `body` on `count` values of `input`, each drawn from its own reproducible seed (see
/// above). Stops at the first failing case; every issue it recorded names the base seed and the
/// case, and a thrown error is recorded as an issue (PropertyBased would drop it).
func seededPropertyCheck<Value, Shrinks>(
  count: Int, input: Generator<Value, Shrinks>, sourceLocation: SourceLocation = #_sourceLocation,
  perform body: (Value) async throws -> Void
) async {
  var seeds = SplitMix(seed: PropertySeed.base ^ PropertySeed.siteHash(sourceLocation))
  for i in 0..<count {
    var rng = Xoshiro(seed: (seeds.nextBits(), seeds.nextBits(), seeds.nextBits(), seeds.nextBits()))
    if let only = PropertySeed.onlyCase, only != i { continue }
    let value = input.run(using: &rng)
    let note = Comment(rawValue:
      "property case \(i) of \(count) at \(sourceLocation.fileID):\(sourceLocation.line): "
        + "reproduce with SOFTMAXKERNELS_TEST_SEED=\(PropertySeed.base) SOFTMAXKERNELS_TEST_CASE=\(i)")
    let failures = Counter()
    let handler = IssueHandlingTrait.compactMapIssues { issue in
      var issue = issue
      failures.increment()
      issue.comments.append(note)
      return issue
    }
    // (The scope's closure is @Sendable; the body runs before provideScope returns.)
    nonisolated(unsafe) let run = body, v = value
    try? await handler.provideScope(for: Test.current!, testCase: Test.Case.current) {
      do { try await run(v) } catch { Issue.record("unexpected error: \(error)", sourceLocation: sourceLocation) }
    }
    if failures.value > 0 { return }
  }
}

/// A thread-safe count (issues may be recorded from other threads).
final class Counter: Sendable {
  private let n = Mutex(0)
  func increment() { n.withLock { $0 += 1 } }
  var value: Int { n.withLock { $0 } }
}
