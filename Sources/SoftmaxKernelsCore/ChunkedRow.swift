// Pass A of every softmax-family kernel: one read of the row from memory, chunk by chunk.
//
// A chunk (8 KiB) is small enough to stay in L1 between its two loops: its max, then
// exp(x - m_c) with a compensated sum. Each chunk yields a `LogSumExpPartial` (m_c, e_c) with
// e_c = sum exp(x - m_c) - 1, added into the row's running partial (`LogSumExpPartial.adding`):
//   m = max(m_a, m_c),  e = e_a + (1 + e_c) exp(m_c - m_a)   when m_a >= m_c,
// with the running excess held as a double word and, when the max rises, the running sum rescaled
// by a double-word exp, so the row's sum is as accurate after thousands of chunks as after one.
// Long rows therefore cost one trip to L2/L3/DRAM for `x` instead of two (a separate max pass),
// and the softmax output keeps its chunk-local scale until pass B fixes it with one factor per
// chunk, exp(m_c - m) / (1 + e).

/// The merged statistics of a row, or where it stopped being finite.
@frozen
@usableFromInline package enum RowStatistics<Scalar: BinaryFloatingPoint> {
  /// Every chunk had a finite max, or was fully masked: the row's partial, with the row max
  /// (-inf if every entry is -inf, then excess 0) and excess = sum_j exp(x_j - max) - 1 as a
  /// double word (NaN if the row has a NaN).
  case finite(LogSumExpPartial<Scalar>)
  /// The chunk starting at `from` has a +inf or is all NaN/-inf with a NaN: the row needs the
  /// `NonFiniteRow` path. Entries before `from` are finite or -inf; `excessIsNaN` tells whether
  /// they held a NaN.
  case nonFinite(from: Int, excessIsNaN: Bool)
}

extension VectorMath {
  /// Bytes per chunk: 8 KiB.
  @inlinable @inline(__always)
  package static var chunkBytes: Int { 8192 }

  /// Elements per chunk (counted in `Scalar`, so a row in 16-bit storage is split where the
  /// same row in `Scalar` is, and its sums round the same way).
  @inlinable @inline(__always)
  package static var chunkCount: Int { chunkBytes / MemoryLayout<Scalar>.stride }

  /// How far ahead of the element being computed the inlined exp-sum loop (`BlockSums.addExp`)
  /// prefetches `x`, for a row of `n` elements: one chunk when the row fits in one (its next rows
  /// come from L2/L3, where one chunk ahead was faster than two), two chunks for longer rows,
  /// which stream from memory and gain most from the longer distance. The SLEEF path
  /// (`expBlock`) keeps one chunk: two made it slower. Numbers: docs/performance.md.
  @inlinable @inline(__always)
  package static func prefetchDistance(rowLength n: Int) -> Int { n > chunkCount ? 2 &* chunkBytes : chunkBytes }

  /// Pass A over a row of `n` elements. When `y` is given, exp(x_j - m_c) is left in it (the
  /// softmax numerators, chunk-local scale) and `chunkMax[c]` records each chunk's max (-inf
  /// for a fully masked chunk, whose `y` is set to 0).
  @inlinable @inline(__always)
  package static func rowStatistics(
    _ x: UnsafePointer<Storage>, count n: Int,
    numeratorsTo y: UnsafeMutablePointer<Scalar>?, chunkMax: UnsafeMutablePointer<Scalar>?
  ) -> RowStatistics<Scalar> {
    let size = chunkCount
    var state = LogSumExpPartial<Scalar>.empty
    var start = 0, c = 0
    while start < n {
      let len = Swift.min(size, n &- start)
      let xc = x + start
      let mc = rowMax(xc, count: len)
      if mc.isFinite {
        let ec = expSumMinusOne(xc, count: len, minus: mc, storingTo: y.map { $0 + start }, rowLength: n)
        state = add(chunk: LogSumExpPartial(max: mc, excess: ec), to: state)
      } else if mc == -.infinity && !containsNaN(xc, count: len) {
        if let y { (y + start).update(repeating: 0, count: len) }
      } else {
        return .nonFinite(from: start, excessIsNaN: state.excess.isNaN)
      }
      chunkMax?[c] = mc
      start &+= len
      c &+= 1
    }
    // Fully masked: max -inf (the empty state's excess -1 is not used). A NaN: max and excess
    // NaN (the merge's rule).
    return .finite(state.max == -.infinity ? LogSumExpPartial(max: -.infinity, excess: 0) : state.normalized)
  }

  /// Number of chunks of a row of `n` elements.
  @inlinable @inline(__always)
  package static func chunks(in n: Int) -> Int { (n &+ chunkCount &- 1) / chunkCount }

  /// True if any of the `n` elements is NaN (scalar; only for rows already known to be odd).
  @inlinable
  package static func containsNaN(_ x: UnsafePointer<Storage>, count n: Int) -> Bool {
    for j in 0..<n where widen(x[j]).isNaN { return true }
    return false
  }
}
