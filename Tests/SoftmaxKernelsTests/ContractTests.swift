import SoftmaxKernels
import SoftmaxReference
import Testing

// One named test per line of SPEC.md's "Numerical semantics", each for Float and Double, in both
// modes on every backend the CPU runs (`.everyBackendAndMode`).

/// Runs softmax, log-softmax and logsumexp on a packed matrix (in the mode of `TestMode`).
func forward<T: ReferenceScalar>(_ x: [T], cols: Int) throws -> (sm: [T], lsm: [T], lse: [T]) {
  let o = TestMode.options
  return (try softmax(x, cols: cols, options: o), try logSoftmax(x, cols: cols, options: o), try logSumExp(x, cols: cols, options: o))
}

/// Lengths that cover an all-tail row, a whole vector and body + tail for both widths.
let contractLengths = [1, 3, 8, 13, 64, 1000]

@Suite("Contract: SPEC numerical semantics", .everyBackendAndMode)
struct ContractTests {
  @Test("finite inputs give softmax in [0, 1] summing to 1, log-softmax <= 0",
        arguments: contractLengths)
  func finiteInputsGiveFiniteOutputs(cols: Int) throws {
    try check(Float.self, cols)
    try check(Double.self, cols)
    func check<T: ReferenceScalar>(_: T.Type, _ cols: Int) throws {
      let x = (0..<cols).map { T(($0 * 7919) % 201) / 10 - 10 }
      let (sm, lsm, lse) = try forward(x, cols: cols)
      #expect(sm.allSatisfy { $0 >= 0 && $0 <= 1 })
      let total = sm.reduce(T.Wide(0)) { $0 + T.Wide($1) }
      #expect(abs(total - 1) <= T.Wide(cols + 4) * T.Wide(T.ulpOfOne))
      #expect(lsm.allSatisfy { $0 <= 0 && $0.isFinite })
      #expect(lse[0].isFinite)
    }
  }

  @Test("extreme finite logits (1e30, -1e30, +-greatestFiniteMagnitude) never give NaN",
        arguments: contractLengths)
  func extremeFiniteLogitsNeverNaN(cols: Int) throws {
    try check(Float.self, cols)
    try check(Double.self, cols)
    func check<T: ReferenceScalar>(_: T.Type, _ cols: Int) throws {
      let extremes: [T] = [1e30, -1e30, T.greatestFiniteMagnitude, -T.greatestFiniteMagnitude, 0]
      for first in extremes {
        let x = [first] + (1..<cols).map { extremes[$0 % extremes.count] }
        let (sm, lsm, lse) = try forward(x, cols: cols)
        #expect(!sm.contains { $0.isNaN } && !lsm.contains { $0.isNaN } && !lse[0].isNaN, "\(x)")
        #expect(sm.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(lsm.allSatisfy { $0 <= 0 })
        let total = sm.reduce(T.Wide(0)) { $0 + T.Wide($1) }
        #expect(abs(total - 1) <= T.Wide(4) * T.Wide(T.ulpOfOne), "\(x)")
        #expect(lse[0] == x.max()!, "lse of a row led by a huge value is that value")
      }
    }
  }

  @Test("a -inf logit is masked: probability exactly 0, log-probability -inf",
        arguments: contractLengths.filter { $0 > 1 })
  func maskedLogitHasZeroProbability(cols: Int) throws {
    try check(Float.self, cols)
    try check(Double.self, cols)
    func check<T: ReferenceScalar>(_: T.Type, _ cols: Int) throws {
      let x = (0..<cols).map { $0 % 3 == 1 ? -T.infinity : T($0 % 5) }
      let (sm, lsm, lse) = try forward(x, cols: cols)
      let unmasked = x.filter { $0 != -.infinity }
      let expected = Reference.softmax(unmasked, rows: 1, cols: unmasked.count)
      var k = 0
      for j in 0..<cols {
        if x[j] == -.infinity {
          #expect(sm[j] == 0 && sm[j].sign == .plus)
          #expect(lsm[j] == -.infinity)
        } else {
          #expect(abs(sm[j] - expected[k]) <= 4 * T.ulpOfOne * expected[k])
          k += 1
        }
      }
      #expect(lse[0].isFinite)
    }
  }

  @Test("a fully masked row: softmax all 0, log-softmax all -inf, logsumexp -inf, never NaN",
        arguments: contractLengths)
  func fullyMaskedRow(cols: Int) throws {
    try check(Float.self, cols)
    try check(Double.self, cols)
    func check<T: ReferenceScalar>(_: T.Type, _ cols: Int) throws {
      let finite = (0..<cols).map { T($0) }
      let x = finite + [T](repeating: -.infinity, count: cols) + finite
      let (sm, lsm, lse) = try forward(x, cols: cols)
      #expect(sm[cols..<(2 * cols)].allSatisfy { $0 == 0 })
      #expect(lsm[cols..<(2 * cols)].allSatisfy { $0 == -.infinity })
      #expect(lse[1] == -.infinity)
      #expect(sm[0..<cols] == sm[(2 * cols)...], "rows around the masked one are unaffected")
      #expect(!sm.contains { $0.isNaN } && !lsm.contains { $0.isNaN })
    }
  }

  @Test("+inf logits take the limit: the +inf entries share the probability, the rest get 0",
        arguments: contractLengths)
  func positiveInfinityLogitsShareProbability(cols: Int) throws {
    try check(Float.self, cols)
    try check(Double.self, cols)
    func check<T: ReferenceScalar>(_: T.Type, _ cols: Int) throws {
      let x: [T] = (0..<cols).map { (j: Int) -> T in
        switch j % 4 {
        case 0: return T.infinity
        case 1: return -T.infinity
        default: return T(j)
        }
      }
      let k = x.filter { $0 == T.infinity }.count
      let logK = T(Double.libmLog(Double(k)))
      let (sm, lsm, lse) = try forward(x, cols: cols)
      for j in 0..<cols {
        let p: T = x[j] == T.infinity ? 1 / T(k) : 0
        #expect(sm[j] == p)
        if x[j] == T.infinity {
          let err: T = abs(lsm[j] + logK)
          #expect(err <= 4 * T.ulpOfOne * max(1, logK))
        } else {
          #expect(lsm[j] == -.infinity)
        }
      }
      #expect(lse[0] == .infinity)
    }
  }

  @Test("any NaN makes its row NaN and leaves every other row unchanged",
        arguments: contractLengths)
  func nanRowIsNaNOtherRowsUntouched(cols: Int) throws {
    try check(Float.self, cols)
    try check(Double.self, cols)
    func check<T: ReferenceScalar>(_: T.Type, _ cols: Int) throws {
      let clean = (0..<(3 * cols)).map { T(($0 * 31) % 17) - 8 }
      for special: T in [0, .infinity, -.infinity] {
        for nanAt in Set([0, cols / 2, cols - 1]) {
          var x = clean
          x[cols] = special
          x[cols + nanAt] = .nan
          let (sm, lsm, lse) = try forward(x, cols: cols)
          let (cleanSM, cleanLSM, cleanLSE) = try forward(clean, cols: cols)
          #expect(sm[cols..<(2 * cols)].allSatisfy { $0.isNaN })
          #expect(lsm[cols..<(2 * cols)].allSatisfy { $0.isNaN })
          #expect(lse[1].isNaN)
          for j in Array(0..<cols) + Array((2 * cols)..<(3 * cols)) {
            #expect(sm[j] == cleanSM[j] && lsm[j] == cleanLSM[j])
          }
          #expect(lse[0] == cleanLSE[0] && lse[2] == cleanLSE[2])
        }
      }
    }
  }

  @Test("a +inf, NaN or masked chunk after finite chunks of a long row, in place and out of place")
  func nonFiniteEntryInALaterChunk() throws {
    try check(Float.self)
    try check(Double.self)
    func check<T: ReferenceScalar>(_: T.Type) throws {
      let cols = 5000
      for (position, special) in [(4999, T.infinity), (2500, T.nan), (4000, -T.infinity)] {
        var x = (0..<cols).map { T($0 % 17) }
        if special == -.infinity {
          for j in 3000..<cols { x[j] = -.infinity }  // whole chunks masked
        }
        x[position] = special
        let outOfPlace = try softmax(x, cols: cols, options: TestMode.options)
        var inPlace = x
        try softmax(inPlace: &inPlace, cols: cols, options: TestMode.options)
        #expect(zip(outOfPlace, inPlace).allSatisfy { identical($0, $1) })
        let lsm = try logSoftmax(x, cols: cols, options: TestMode.options)
        if special == .infinity {
          #expect(outOfPlace[position] == 1 && outOfPlace.filter { $0 != 0 }.count == 1)
          #expect(lsm[position] == 0 && lsm.filter { $0 != -.infinity }.count == 1)
        } else if special.isNaN {
          #expect(outOfPlace.allSatisfy { $0.isNaN } && lsm.allSatisfy { $0.isNaN })
        } else {
          let expected = Reference.softmax(x, rows: 1, cols: cols)
          #expect(outOfPlace[3000...].allSatisfy { $0 == 0 } && lsm[3000...].allSatisfy { $0 == -.infinity })
          for j in 0..<3000 { #expect(abs(outOfPlace[j] - expected[j]) <= 8 * T.ulpOfOne * expected[j]) }
        }
      }
    }
  }

  @Test("cols == 0 or rows == 0: nothing to do, no crash; logsumexp of an empty row is -inf")
  func emptyShapes() throws {
    try check(Float.self)
    try check(Double.self)
    func check<T: ReferenceScalar>(_: T.Type) throws {
      #expect(try softmax([T](), cols: 0) == [])
      #expect(try softmax([T](), cols: 5) == [])
      #expect(try logSoftmax([T](), cols: 7) == [])
      #expect(try logSumExp([T](), cols: 3) == [])
      #expect(try softmax([T]()) == [])
      #expect(try logSumExp([T]()) == -.infinity)
      var out: [T] = [42, 42]
      try out.withUnsafeMutableBufferPointer { o in
        try logSumExp(UnsafeBufferPointer<T>(start: nil, count: 0), rows: 2, cols: 0, output: o)
      }
      #expect(out == [-.infinity, -.infinity])
      var y: [T] = [7]
      try y.withUnsafeMutableBufferPointer { o in
        try softmax(UnsafeBufferPointer<T>(start: nil, count: 0), rows: 0, cols: 9, output: o)
        try softmax(UnsafeBufferPointer<T>(start: nil, count: 0), rows: 4, cols: 0, output: o)
        try logSoftmax(inPlace: o, rows: 0, cols: 0)
      }
      #expect(y == [7])
    }
  }

  @Test("the instruction set is the widest the CPU has, capped by SOFTMAXKERNELS_ISA")
  func instructionSetDispatch() throws {
    let flags = ProcessInfoLite.cpuFlags
    // Under an emulator (scripts/test runs the suite in qemu-x86_64 -cpu qemu64) /proc/cpuinfo
    // shows the host's CPU; SOFTMAXKERNELS_TEST_CPU names the emulated one instead.
    let emulated = ProcessInfoLite.environment("SOFTMAXKERNELS_TEST_CPU").flatMap(InstructionSet.init(rawValue:))
    #if arch(x86_64) && !SOFTMAXKERNELS_PORTABLE
    let cpu: InstructionSet = emulated ??
      (["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma", "bmi1", "bmi2", "abm", "movbe", "popcnt"]
        .allSatisfy { flags.contains(Substring($0)) } ? .avx512
      : flags.contains("avx2") && flags.contains("fma") ? .avx2 : .baseline)
    #else
    // The portable backend alone, whatever the CPU (no CPUID code is compiled).
    _ = (flags, emulated)
    let cpu = InstructionSet.baseline
    #endif
    let cap = ProcessInfoLite.environment("SOFTMAXKERNELS_ISA").flatMap(InstructionSet.init(rawValue:)) ?? .avx512
    #expect(InstructionSet.supported == cpu)
    #expect(InstructionSet.active == min(cpu, cap))
    let lanes: (float: Int, double: Int) =
      switch InstructionSet.active {
      case .avx512: (16, 8)
      case .avx2: (8, 4)
      case .baseline: (4, 2)
      default: (0, 0)
      }
    #expect(InstructionSet.active.vectorWidth(for: Float.self) == lanes.float)
    #expect(InstructionSet.active.vectorWidth(for: Double.self) == lanes.double)
  }

}
