// Public: the @inlinable bodies call `softmaxkernels_prefetch` (inlined into each backend).
public import CSleef

// The passes over one contiguous row that every softmax-family kernel is built from. Each is a
// vector body (unrolled to hide latency) plus one padded tail vector through the same code, so
// the tail is exactly as accurate as the body. No branches per element, no allocation.

extension VectorMath {
  /// m = max_j x_j over `n` elements (NaN ignored; -inf for an all -inf or all-NaN row).
  @inlinable @inline(__always)
  package static func rowMax(_ x: UnsafePointer<Storage>, count n: Int) -> Scalar {
    let w = width
    var a0 = Vector(repeating: -.infinity), a1 = a0, a2 = a0, a3 = a0
    var i = 0
    while i &+ 4 &* w <= n {
      a0 = max(a0, read(x + i))
      a1 = max(a1, read(x + (i &+ w)))
      a2 = max(a2, read(x + (i &+ 2 &* w)))
      a3 = max(a3, read(x + (i &+ 3 &* w)))
      i &+= 4 &* w
    }
    while i &+ w <= n {
      a0 = max(a0, read(x + i))
      i &+= w
    }
    if i < n { a1 = max(a1, read(x + i, count: n &- i, padding: -.infinity)) }
    return horizontalMax(max(max(a0, a1), max(a2, a3)))
  }

  /// Elements per block of `expSumMinusOne`: 1 KiB, so the block is still in L1 when summed and
  /// the scratch block of `logSumExp` / `logSoftmax` is guaranteed to live on the stack.
  @inlinable @inline(__always)
  package static var expBlockCount: Int { 1024 / MemoryLayout<Scalar>.stride }

  /// (sum_j exp(x_j - m)) - 1, compensated; also leaves exp(x_j - m) in `y` when `y` is not nil.
  ///
  /// `m` must be the row's finite maximum, so one term is exactly exp(0) = 1. Starting the
  /// compensated sum at -1 returns the sum of the other terms with *relative* accuracy, which
  /// `log1p` turns into a log-sum accurate to a few ulps of its own size even when it is tiny.
  /// A NaN anywhere in the row makes the result NaN. `rowLength` is the length of the whole row
  /// these `n` elements belong to (it sets the prefetch distance of the inlined exp loop).
  ///
  /// The row goes by 1 KiB blocks: exp of a block is written out (to `y`, or to a stack block),
  /// then summed while it is in L1. Keeping the exp calls and the sums in separate loops keeps
  /// the accumulators in registers, because an out-of-line exp (SLEEF) clobbers every vector
  /// register at each call.
  ///
  /// The fast summation pre-adds groups of vectors as a tree, which rounds the max term's 1 plus
  /// small terms before the compensation sees them: up to about 1.5 ulp(1) absolute in the sum.
  /// SPEC bounds log-scale errors by 4 ulp(max(|m|, |lse|)), which absorbs that when |m| >= 4;
  /// nearer 0 (m = 0 and an excess of 0.004 gave 24 ulp, found by fuzzing) every vector goes
  /// through the compensated add instead, and the exps correct the rounding of x - m
  /// (`expOfDifference`), so the excess keeps its relative accuracy.
  @inlinable @inline(__always)
  package static func expSumMinusOne(
    _ x: UnsafePointer<Storage>, count n: Int, minus m: Scalar, storingTo y: UnsafeMutablePointer<Scalar>?,
    rowLength: Int
  ) -> Scalar {
    var sums = BlockSums<Vector>()
    let b = expBlockCount
    let grouped = abs(m) >= 4
    if inlinesExp {
      sums.addExp(
        of: x, count: n, minus: m, storingTo: y, grouped: grouped,
        prefetchingAhead: prefetchDistance(rowLength: rowLength), using: Self.self)
    } else if let y {
      var i = 0
      while i < n {
        let len = Swift.min(b, n &- i)
        expBlock(x + i, count: len, minus: m, to: y + i, exact: !grouped)
        sums.add(UnsafePointer(y + i), count: len, grouped: grouped)
        i &+= len
      }
    } else {
      withUnsafeTemporaryAllocation(of: Scalar.self, capacity: b) { block in
        let t = block.baseAddress!
        var i = 0
        while i < n {
          let len = Swift.min(b, n &- i)
          expBlock(x + i, count: len, minus: m, to: t, exact: !grouped)
          sums.add(UnsafePointer(t), count: len, grouped: grouped)
          i &+= len
        }
      }
    }
    // The true value is >= 0; rounding in the compensation can leave a tiny negative, which
    // would make a log-probability positive. (NaN passes through.)
    let excess = sums.totalMinusOne(using: Self.self)
    return excess < 0 ? 0 : excess
  }

  /// e^(x - m) per lane with the rounding error of x - m put back to first order: x - m = d + err
  /// exactly (TwoSum), e^(x - m) = e^d (1 + err). Without it the sum is off by up to
  /// |x - m| eps / 2 relative, which exceeds SPEC's log-scale bound when the max and the
  /// logsumexp are both near 0 (x = -10.5, m = -4.8e-7: 8 ulp, found by fuzzing). -inf lanes stay
  /// exactly 0 and NaN stays NaN.
  @inlinable @inline(__always)
  package static func expOfDifference(_ x: Vector, _ mv: Vector) -> Vector {
    let d = x - mv
    let e = exp(d)
    let t = d - x
    let err = (x - (d - t)) - (mv + t)
    // Where x - m is -inf (x = -inf, or a difference past the range) err is NaN (inf - inf), and
    // where it is finite but huge (x and m near +-greatestFiniteMagnitude) d - x can round past
    // the range, which makes err NaN too (found by FuzzForward: m = 3.4e38, x = 5.2e36). Below
    // -2^16 every exp is exactly 0 (Float underflows below -104, Double below -746), so clear
    // those lanes back to exactly 0 with the backend's lane select (generic SIMD masks would be
    // scalarized). Above it |d| is small, d - x rounds to about -m, and err is finite. A NaN x
    // keeps its NaN.
    return zero(multiplyAdd(e, err, e), whereBelow: d, Vector(repeating: -0x1p16))
  }

  /// y_j = exp(x_j - m) for `n` elements; the tail goes through the same vector exp. `exact`
  /// corrects the rounding of x_j - m (`expOfDifference`), for rows whose max is near 0.
  @inlinable @inline(__always)
  package static func expBlock(
    _ x: UnsafePointer<Storage>, count n: Int, minus m: Scalar, to y: UnsafeMutablePointer<Scalar>, exact: Bool = false
  ) {
    let w = width
    let mv = Vector(repeating: m)
    var i = 0
    if exact {
      while i &+ w <= n {
        store(expOfDifference(read(x + i), mv), to: y + i)
        i &+= w
      }
      if i < n { store(expOfDifference(read(x + i, count: n &- i, padding: -.infinity), mv), to: y + i, count: n &- i) }
      return
    }
    while i &+ w <= n {
      // Bring the next chunk's line in while this one computes (its max pass then hits cache).
      softmaxkernels_prefetch(UnsafeRawPointer(x + i) + chunkBytes)
      store(exp(read(x + i) - mv), to: y + i)
      i &+= w
    }
    if i < n {
      store(exp(read(x + i, count: n &- i, padding: -.infinity) - mv), to: y + i, count: n &- i)
    }
  }

  /// y_j = x_j * c (x and y may be the same row).
  @inlinable @inline(__always)
  package static func scale(
    _ x: UnsafePointer<Storage>, by c: Scalar, count n: Int, to y: UnsafeMutablePointer<Storage>
  ) {
    let w = width
    let cv = Vector(repeating: c)
    var i = 0
    while i &+ 2 &* w <= n {
      let v0 = read(x + i) * cv
      let v1 = read(x + (i &+ w)) * cv
      write(v0, to: y + i)
      write(v1, to: y + (i &+ w))
      i &+= 2 &* w
    }
    if i &+ w <= n {
      write(read(x + i) * cv, to: y + i)
      i &+= w
    }
    if i < n { write(read(x + i, count: n &- i, padding: 0) * cv, to: y + i, count: n &- i) }
  }

  /// y_j = (x_j - a) - b (x and y may be the same row). Written as two subtractions so that
  /// x_j = a gives exactly -b.
  @inlinable @inline(__always)
  package static func shift(
    _ x: UnsafePointer<Storage>, minus a: Scalar, minus b: Scalar, count n: Int,
    to y: UnsafeMutablePointer<Storage>
  ) {
    let w = width
    let av = Vector(repeating: a), bv = Vector(repeating: b)
    var i = 0
    while i &+ 2 &* w <= n {
      let v0 = (read(x + i) - av) - bv
      let v1 = (read(x + (i &+ w)) - av) - bv
      write(v0, to: y + i)
      write(v1, to: y + (i &+ w))
      i &+= 2 &* w
    }
    if i &+ w <= n {
      write((read(x + i) - av) - bv, to: y + i)
      i &+= w
    }
    if i < n { write((read(x + i, count: n &- i, padding: 0) - av) - bv, to: y + i, count: n &- i) }
  }

  /// y_j = v for every j.
  @inlinable @inline(__always)
  package static func fill(_ y: UnsafeMutablePointer<Storage>, count n: Int, with v: Scalar) {
    y.update(repeating: narrow(v), count: n)
  }

  /// The value pass A keeps for x_j in a chunk of max m (the softmax numerator, chunk-local
  /// scale): exactly what `expSumMinusOne` adds and stores, `grouped` when |m| >= 4. Pass B of a
  /// row in 16-bit storage recomputes it instead of storing it (`numeratorsScaled`).
  @inlinable @inline(__always)
  package static func numerator(_ xv: Vector, _ mv: Vector, grouped: Bool) -> Vector {
    grouped ? expOneStepReduced(xv - mv) : expOfDifference(xv, mv)
  }

  /// y_j = factor(numerator(x_j)) for `n` elements (x and y may be the same row): pass B of a
  /// row whose numerators were not kept, with the same bits as scaling kept ones.
  @inlinable @inline(__always)
  package static func numeratorsScaled(
    _ x: UnsafePointer<Storage>, count n: Int, minus m: Scalar, by factor: (Vector) -> Vector,
    to y: UnsafeMutablePointer<Storage>
  ) {
    let w = width
    let mv = Vector(repeating: m)
    let grouped = abs(m) >= 4
    var i = 0
    while i &+ w <= n {
      write(factor(numerator(read(x + i), mv, grouped: grouped)), to: y + i)
      i &+= w
    }
    if i < n {
      write(factor(numerator(read(x + i, count: n &- i, padding: -.infinity), mv, grouped: grouped)), to: y + i, count: n &- i)
    }
  }
}
