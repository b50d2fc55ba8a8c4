extension VectorMath {
  /// Row-wise softmax: y_j = exp(x_j - m) / sum_k exp(x_k - m), m = max_k x_k.
  ///
  /// Pass A (`rowStatistics`) reads the row once, leaving exp(x_j - m_c) in `y` chunk by chunk
  /// (rows in 16-bit storage: pass B recomputes them from `x` instead); pass B scales each chunk by exp(m_c - m) / sum (1/sum for the chunk holding the max,
  /// so rows of up to one chunk are plain max / exp-sum / scale). Rows of fewer than 8 vectors
  /// go `width` at a time (`RowBlock`). `x` and `y` may be the same memory (in place). Rows with
  /// a +inf, a NaN or only -inf follow `NonFiniteRow`.
  @inlinable
  package static func softmaxRows(_ x: StridedRows<Storage>, to y: MutableStridedRows<Storage>) {
    let n = x.cols
    guard n > 0 else { return }
    withUnsafeTemporaryAllocation(of: Scalar.self, capacity: chunks(in: n)) { chunkMax in
      let cm = chunkMax.baseAddress!
      forEachRowBlock(rows: x.rows, count: n, {
        softmaxRowBlock(x.row($0), stride: x.stride, count: n, lanes: $1, to: y.row($0), stride: y.stride, columns: $2)
      }, otherwise: { softmaxRow(x.row($0), count: n, to: y.row($0), chunkMax: cm) })
    }
  }

  @inlinable @inline(__always)
  static func softmaxRow(
    _ x: UnsafePointer<Storage>, count n: Int, to y: UnsafeMutablePointer<Storage>,
    chunkMax: UnsafeMutablePointer<Scalar>
  ) {
    switch rowStatistics(x, count: n, numeratorsTo: storesScalars ? scalars(y) : nil, chunkMax: chunkMax) {
    case .nonFinite(let from, let excessIsNaN):
      // Entries before `from` have no +inf (so their outputs are 0) but may have been
      // overwritten in place; x[from...] is untouched.
      let rest = classifyNonFinite(x + from, count: n &- from)
      if excessIsNaN || rest == .nan {
        fill(y, count: n, with: .nan)
      } else {
        fill(y, count: from, with: 0)
        nonFiniteSoftmax(rest, x + from, count: n &- from, to: y + from)
      }
    case .finite(let state):
      let m = state.max
      if m == -.infinity {  // fully masked: pass A wrote zeros if it kept numerators
        if !storesScalars { fill(y, count: n, with: 0) }
        return
      }
      if state.excess.isNaN {
        fill(y, count: n, with: .nan)
        return
      }
      // Each chunk's factor exp(m_c - m) / sum, the division by the double-word sum rounded once.
      let sum = state.sumDoubleWord
      let inverse = sum.reciprocal
      let size = chunkCount
      var start = 0, c = 0
      while start < n {
        let len = Swift.min(size, n &- start)
        let mc = chunkMax[c]
        if mc != -.infinity {
          let factor = mc == m ? inverse : sum.dividing(expOfDifference(mc, m))
          if storesScalars {
            scale(y + start, by: factor, count: len, to: y + start)
          } else {
            let fv = Vector(repeating: factor)
            numeratorsScaled(x + start, count: len, minus: mc, by: { $0 * fv }, to: y + start)
          }
        } else if !storesScalars {
          fill(y + start, count: len, with: 0)
        }
        start &+= len
        c &+= 1
      }
    }
  }
}
