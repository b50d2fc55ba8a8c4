import SoftmaxKernels
import SoftmaxReference
import Testing

// logSumExp with fewer rows than threads: each thread takes a slice of the columns of every row
// and the slices' partials are merged per row (`LogSumExpPartial.merged`). The values must meet
// SPEC's bound and edge rules as one thread does; their last bits may differ from one thread's.

@Suite("Threads: logsumexp of fewer rows than threads splits the columns")
struct ColumnSliceTests {
  @Test("The split: one slice per thread when the rows are fewer, each of at least 2^19 elements")
  func sliceCount() throws {
    #expect(try KernelOptions(threads: 2).columnSlices(rows: 1, cols: 1 << 20) == 2)
    #expect(try KernelOptions(threads: 4).columnSlices(rows: 1, cols: 1 << 21) == 4)
    #expect(try KernelOptions(threads: 4).columnSlices(rows: 3, cols: 1 << 20) == 4)
    #expect(try KernelOptions(threads: 2).columnSlices(rows: 1, cols: (1 << 20) - 1) == 1)  // too little work
    #expect(try KernelOptions(threads: 2).columnSlices(rows: 2, cols: 1 << 22) == 1)  // the rows suffice
    #expect(try KernelOptions(threads: 1).columnSlices(rows: 1, cols: 1 << 22) == 1)
    #expect(throws: SoftmaxError.self) { try KernelOptions(threads: -1).columnSlices(rows: 1, cols: 10) }
  }

  /// `rows` rows of `cols` columns from `make(row, column)`, on 1 thread and on `threads`: both
  /// within SPEC's logsumexp bound of the oracle (exact for the non-finite rows).
  func check<T: ReferenceScalar>(
    _: T.Type, rows: Int, cols: Int, threads: Int, sourceLocation: SourceLocation = #_sourceLocation,
    _ make: (Int, Int) -> T
  ) throws {
    var values = [T]()
    values.reserveCapacity(rows * cols)
    for r in 0..<rows { for j in 0..<cols { values.append(make(r, j)) } }
    let oracle = Oracle.logSumExp(values, rows: rows, cols: cols)
    for mode in KernelOptions.Mode.allCases {
      let o = KernelOptions(mode: mode, threads: threads)
      #expect(try o.columnSlices(rows: rows, cols: cols) > rows, sourceLocation: sourceLocation)
      let split = try logSumExp(values, cols: cols, options: o)
      let one = try logSumExp(values, cols: cols, options: KernelOptions(mode: mode))
      for r in 0..<rows {
        let rowMax = values[(r * cols)..<((r + 1) * cols)].reduce(-T.infinity) { $1 > $0 ? $1 : $0 }
        for (name, v) in [("split", split[r]), ("one thread", one[r])] {
          let e = Accuracy.logScale(v, oracle: oracle[r], x: rowMax, lse: oracle[r])
          #expect(e.passes, "\(T.self) \(mode) \(name) row \(r): \(v) vs oracle \(oracle[r]) (\(e.error) > \(e.bound) ulp)", sourceLocation: sourceLocation)
        }
      }
    }
  }

  @Test("Float: random rows, a max rising from slice to slice, a max in the first slice")
  func float() throws {
    var d = SplitMix(seed: 7)
    try check(Float.self, rows: 1, cols: 1 << 20, threads: 2) { _, _ in Float(d.next(-8...8)) }
    try check(Float.self, rows: 3, cols: 700_000, threads: 4) { r, j in Float(j) * 1e-4 + Float(r) + Float(d.next(-1...1)) }
    try check(Float.self, rows: 1, cols: 1 << 21, threads: 4) { _, j in j == 5 ? 40 : Float(d.next(-100...0)) }
  }

  @Test("Double: random rows of large and small spread")
  func double() throws {
    var d = SplitMix(seed: 8)
    try check(Double.self, rows: 1, cols: 1 << 20, threads: 2) { _, _ in d.next(-700...700) }
    try check(Double.self, rows: 1, cols: 1 << 21, threads: 3) { _, _ in d.next(-1...1) }
  }

  /// The whole row's rules, whichever slice holds the +inf, the NaN or the finite entries.
  @Test("Non-finite rows: +inf in the last slice only, NaN in the first, fully masked, one finite entry in the last")
  func nonFiniteRowsAcrossSlices() throws {
    let cols = 1 << 20
    var d = SplitMix(seed: 5)
    try check(Float.self, rows: 1, cols: cols, threads: 2) { _, j in j == cols - 3 ? .infinity : Float(d.next(-5...5)) }
    try check(Float.self, rows: 1, cols: cols, threads: 2) { _, j in j == 7 ? .nan : Float(d.next(-5...5)) }
    try check(Float.self, rows: 1, cols: cols, threads: 2) { _, _ in -.infinity }
    try check(Float.self, rows: 1, cols: cols, threads: 2) { _, j in j == cols - 2 ? 3 : (j == 5 ? -200 : -.infinity) }
    for mode in KernelOptions.Mode.allCases {
      let o = KernelOptions(mode: mode, threads: 2)
      var x = [Float](repeating: 0, count: cols)
      x[cols - 1] = .infinity
      #expect(try logSumExp(x, cols: cols, options: o) == [.infinity])
      x[0] = .nan
      #expect(try logSumExp(x, cols: cols, options: o)[0].isNaN)
      #expect(try logSumExp([Float](repeating: -.infinity, count: cols), cols: cols, options: o) == [-.infinity])
    }
  }
}
