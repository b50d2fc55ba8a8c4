// Rows of at most four vectors (1...32 Floats or 1...16 Doubles with AVX2, 1...64 / 1...32 with
// AVX-512) in cross-entropy with class labels (W1: 8192 x 10), where per-row overhead decides the
// speed (softmax, log-softmax and logsumexp take such rows `width` at a time instead: `RowBlock`).
// The whole row lives in four registers: full vectors plus, for a ragged end, the last full
// vector of the row loaded again so that it ends at the row's end (no lane-by-lane tail). Its
// lanes that repeat earlier elements are excluded from the sum with a lane mask and rewritten
// with identical values. A row shorter than one vector is one partial load padded with -inf
// (a masked load with AVX-512) and one partial store.
//
// The sum minus one: every maximal entry's exp is exactly 1, so `onesWhereEqual` subtracts
// exactly 1 per maximal entry and `count - 1` is added back. What remains is a sum of at most
// 31 non-negative terms added as a balanced tree, which keeps its relative accuracy for
// `log1p` and `1 / (1 + excess)`, as in the long-row path.

/// Four vectors holding a short row.
@usableFromInline package typealias Quad<V> = (V, V, V, V)

extension VectorMath {
  /// True when `shortRow` handles a row of `n` elements: at most four vectors.
  @inlinable @inline(__always)
  package static func isShortRow(_ n: Int) -> Bool { n >= 1 && n <= 4 &* width }

  /// Loads a row of `n` elements (`isShortRow(n)`) into four vectors (past the end: -inf) and
  /// returns them with the row max.
  @inlinable @inline(__always)
  package static func shortRowMax(_ p: UnsafePointer<Storage>, count n: Int) -> (x: Quad<Vector>, max: Scalar) {
    let w = width
    let full = n / w, ragged = n % w != 0
    let none = Vector(repeating: -.infinity)
    // Vector k starts at k * w, except a ragged last one, which starts at n - w.
    @inline(__always) func part(_ k: Int) -> Vector {
      if full == 0 { return k == 0 ? read(p, count: n, padding: -.infinity) : none }
      if k < full { return read(p + k &* w) }
      if k == full && ragged { return read(p + (n &- w)) }
      return none
    }
    let x = (part(0), part(1), part(2), part(3))
    return (x, horizontalMax(max(max(x.0, x.1), max(x.2, x.3))))
  }

  /// exp(x - m) of a short row (past the end: 0) and sum_j exp(x_j - m) - 1, for a finite max `m`.
  @inlinable @inline(__always)
  package static func shortRowExp(_ x: Quad<Vector>, max m: Scalar, count n: Int) -> (e: Quad<Vector>, excess: Scalar) {
    let w = width
    let full = n / w, ragged = n % w != 0
    let mv = Vector(repeating: m)
    let used = full &+ (ragged ? 1 : 0)
    // With the rounding of x - m corrected (branch-free; see `expOfDifference`).
    let e = (expOfDifference(x.0, mv), used > 1 ? expOfDifference(x.1, mv) : Vector(),
             used > 2 ? expOfDifference(x.2, mv) : Vector(), used > 3 ? expOfDifference(x.3, mv) : Vector())
    // Lanes of the ragged vector that repeat elements of the previous one count for nothing.
    // (A row shorter than a vector has no such lanes: its padding is -inf, whose exp is 0 and
    // which never equals the finite max.)
    let repeated = Vector(repeating: Scalar(ragged ? full &* w &- (n &- w) : 0))
    @inline(__always) func counted(_ v: Vector, _ k: Int) -> Vector {
      ragged && full > 0 && k == full ? zero(v, whereBelow: laneIndices, repeated) : v
    }
    let ones = (counted(onesWhereEqual(x.0, mv), 0), counted(onesWhereEqual(x.1, mv), 1),
                counted(onesWhereEqual(x.2, mv), 2), counted(onesWhereEqual(x.3, mv), 3))
    let d = ((counted(e.0, 0) - ones.0) + (counted(e.1, 1) - ones.1))
      + ((counted(e.2, 2) - ones.2) + (counted(e.3, 3) - ones.3))
    let maxima = horizontalSum((ones.0 + ones.1) + (ones.2 + ones.3))
    // A NaN entry makes its lane NaN, and so the excess: the callers then write NaN.
    return (e, horizontalSum(d) + (maxima - 1))
  }

  /// Stores the four vectors of a short row of `n` elements at `y` (a ragged last vector ends at
  /// the row's end, rewriting earlier elements with the same values).
  @inlinable @inline(__always)
  package static func storeShort(
    _ v: (Vector, Vector, Vector, Vector), to y: UnsafeMutablePointer<Storage>, count n: Int
  ) {
    let w = width
    let full = n / w, ragged = n % w != 0
    @inline(__always) func put(_ u: Vector, _ k: Int) {
      if full == 0 {
        if k == 0 { write(u, to: y, count: n) }
      } else if k < full {
        write(u, to: y + k &* w)
      } else if k == full && ragged {
        write(u, to: y + (n &- w))
      }
    }
    put(v.0, 0); put(v.1, 1); put(v.2, 2); put(v.3, 3)
  }

  /// 0, 1, 2, ... per lane.
  @inlinable @inline(__always)
  package static var laneIndices: Vector {
    var v = Vector()
    for k in 0..<Vector.scalarCount { v[k] = Scalar(k) }
    return v
  }

  /// The sum of the lanes as a balanced tree.
  @inlinable @inline(__always)
  package static func horizontalSum(_ v: Vector) -> Scalar {
    var lanes = Vector.scalarCount, acc = v
    while lanes > 1 {
      lanes /= 2
      for k in 0..<lanes { acc[k] = acc[k] + acc[k &+ lanes] }
    }
    return acc[0]
  }
}
