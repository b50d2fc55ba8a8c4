#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic time in nanoseconds.
@inline(__always)
func now() -> UInt64 {
  var t = timespec()
  clock_gettime(CLOCK_MONOTONIC, &t)
  return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
}

/// How long to measure one report cell.
struct TimingPlan: Sendable {
  /// Warm-up time (at least one call).
  var warmup: Double
  /// Minimum length of one sample; short calls are repeated in a batch to reach it.
  var minSampleSeconds: Double
  /// At least this many samples...
  var minSamples: Int
  /// ...and more until this much time went into samples...
  var targetSeconds: Double
  /// ...but never more than this many.
  var maxSamples: Int
  /// Elements the reference is timed on (a prefix of whole rows, at least one row).
  var referenceElements: Int
  /// Samples of the reference timing (each one call on the subset; median taken).
  var referenceSamples: Int

  static let accurate = TimingPlan(
    warmup: 0.1, minSampleSeconds: 0.005, minSamples: 15, targetSeconds: 0.6, maxSamples: 200,
    referenceElements: 1 << 18, referenceSamples: 15)
  static let quick = TimingPlan(
    warmup: 0.02, minSampleSeconds: 0.002, minSamples: 5, targetSeconds: 0.08, maxSamples: 50,
    referenceElements: 1 << 15, referenceSamples: 5)
}

/// Per-call times of one measured function, in nanoseconds, sorted.
struct Timing: Sendable {
  var samples: [Double]
  /// Calls per sample.
  var batch: Int

  func quantile(_ q: Double) -> Double {
    guard !samples.isEmpty else { return .nan }
    let pos = q * Double(samples.count - 1)
    let lo = Int(pos.rounded(.down)), hi = Int(pos.rounded(.up))
    return samples[lo] + (samples[hi] - samples[lo]) * (pos - Double(lo))
  }

  var median: Double { quantile(0.5) }
  var p10: Double { quantile(0.1) }
  var p90: Double { quantile(0.9) }
  var min: Double { samples.first ?? .nan }
  var max: Double { samples.last ?? .nan }
}

/// Times `body`: warm-up, then batched samples until the plan is met. Returns nanoseconds per
/// call. `body` runs with no allocation in between.
func measure(_ plan: TimingPlan, _ body: () -> Void) -> Timing {
  // Warm-up: at least one call, until `plan.warmup` has passed; the last call sizes the batch.
  let start = now()
  var last: UInt64 = 0
  repeat {
    let t0 = now()
    body()
    last = now() - t0
  } while Double(now() - start) < plan.warmup * 1e9
  let batch = Swift.max(1, Int((plan.minSampleSeconds * 1e9 / Double(Swift.max(last, 1))).rounded(.up)))

  var samples = [Double]()
  samples.reserveCapacity(plan.maxSamples)
  var spent: UInt64 = 0
  while samples.count < plan.maxSamples
    && (samples.count < plan.minSamples || Double(spent) < plan.targetSeconds * 1e9)
  {
    let t0 = now()
    for _ in 0..<batch { body() }
    let dt = now() - t0
    spent += dt
    samples.append(Double(dt) / Double(batch))
  }
  samples.sort()
  return Timing(samples: samples, batch: batch)
}

/// Median of `count` single calls of `body` (for the slow scalar reference), in nanoseconds.
func measureSlow(count: Int, _ body: () -> Void) -> Double {
  body()  // warm-up
  var s = [Double]()
  for _ in 0..<Swift.max(1, count) {
    let t0 = now()
    body()
    s.append(Double(now() - t0))
  }
  s.sort()
  return Timing(samples: s, batch: 1).median
}
