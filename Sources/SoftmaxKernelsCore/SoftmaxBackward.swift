// Backward passes of softmax and log-softmax from their forward outputs. Two passes per row: a
// compensated reduction, then one elementwise pass (which may write over dy: each element is read
// before it is written). Short softmax-backward rows go `width` at a time, turned sideways.

extension VectorMath {
  /// sum_j a_j b_j over `n` elements, compensated.
  @inlinable @inline(__always)
  package static func dot(_ a: UnsafePointer<Storage>, _ b: UnsafePointer<Storage>, count n: Int) -> Scalar {
    let w = width
    var s0 = CompensatedSum<Vector>(), s1 = CompensatedSum<Vector>()
    var i = 0
    while i &+ 2 &* w <= n {
      s0.add(read(a + i) * read(b + i))
      s1.add(read(a + (i &+ w)) * read(b + (i &+ w)))
      i &+= 2 &* w
    }
    if i &+ w <= n {
      s0.add(read(a + i) * read(b + i))
      i &+= w
    }
    if i < n { s1.add(read(a + i, count: n &- i, padding: 0) * read(b + i, count: n &- i, padding: 0)) }
    return s0.total(merging: s1, using: Self.self)
  }

  /// sum_j a_j over `n` elements, compensated.
  @inlinable @inline(__always)
  package static func sum(_ a: UnsafePointer<Storage>, count n: Int) -> Scalar {
    let w = width
    var s0 = CompensatedSum<Vector>(), s1 = CompensatedSum<Vector>()
    var i = 0
    while i &+ 2 &* w <= n {
      s0.add(read(a + i))
      s1.add(read(a + (i &+ w)))
      i &+= 2 &* w
    }
    if i &+ w <= n {
      s0.add(read(a + i))
      i &+= w
    }
    if i < n { s1.add(read(a + i, count: n &- i, padding: 0)) }
    return s0.total(merging: s1, using: Self.self)
  }

  /// Softmax backward: dx_j = y_j (dy_j - s), s = sum_k dy_k y_k. `dx` may be `dy` or `y`.
  @inlinable
  package static func softmaxBackwardRows(
    _ y: StridedRows<Storage>, _ dy: StridedRows<Storage>, to dx: MutableStridedRows<Storage>
  ) {
    let n = y.cols, w = width
    guard n > 0 else { return }
    if n < 3 &* w {
      forEachRowBlock(rows: y.rows, count: n, {
        softmaxBackwardRowBlock(y.row($0), y.stride, dy.row($0), dy.stride, count: n, lanes: $1, to: dx.row($0), dx.stride, columns: $2)
        return Vector()  // every row done by the block
      }, otherwise: { _ in })
      return
    }
    for r in 0..<y.rows {
      let yr = y.row(r), dyr = dy.row(r), dxr = dx.row(r)
      let sv = Vector(repeating: dot(dyr, yr, count: n))
      var i = 0
      while i &+ w <= n {
        write(read(yr + i) * (read(dyr + i) - sv), to: dxr + i)
        i &+= w
      }
      if i < n {
        let v = read(yr + i, count: n &- i, padding: 0) * (read(dyr + i, count: n &- i, padding: 0) - sv)
        write(v, to: dxr + i, count: n &- i)
      }
    }
  }

  /// Softmax backward of the `lanes` rows at `y` and `dy` into `dx` (each with its row stride),
  /// turned sideways like the forward row blocks (`RowBlock.swift`): lane k of column j holds
  /// row k's element j, so s = sum_j dy_j y_j is a lane-wise compensated sum, one per row, with
  /// no horizontal reduction. Every load precedes every store, so `dx` may be `y` or `dy`.
  ///
  /// Used for rows of fewer than 3 vectors. The block costs about the same per element at any
  /// length (its columns are gathered lane by lane), the row path a fixed amount per row (its
  /// horizontal reduction), so the crossover is near 2-3 vectors (measured per instruction set:
  /// docs/performance.md).
  @inlinable @inline(__always)
  package static func softmaxBackwardRowBlock(
    _ y: UnsafePointer<Storage>, _ ys: Int, _ dy: UnsafePointer<Storage>, _ dys: Int, count n: Int, lanes: Int,
    to dx: UnsafeMutablePointer<Storage>, _ dxs: Int, columns c: UnsafeMutablePointer<Vector>
  ) {
    var s = CompensatedSum<Vector>()
    for j in 0..<n {
      let yv = readColumn(y + j, stride: ys, lanes: lanes), dv = readColumn(dy + j, stride: dys, lanes: lanes)
      c[j] = yv
      c[n &+ j] = dv
      s.add(dv * yv)
    }
    let sv = s.sum + s.compensation
    storeRowBlock(count: n, lanes: lanes, max: Vector(), to: dx, stride: dxs) { c[$0] * (c[n &+ $0] - sv) }
  }

  /// Log-softmax backward: dx_j = dy_j - exp(y_j) s, s = sum_k dy_k. `dx` may be `dy` or `y`.
  @inlinable
  package static func logSoftmaxBackwardRows(
    _ y: StridedRows<Storage>, _ dy: StridedRows<Storage>, to dx: MutableStridedRows<Storage>
  ) {
    let n = y.cols, w = width
    guard n > 0 else { return }
    // A subnormal exp(y) is off by up to half a unit, which |sum dy| multiplies; below
    // 2^significandBitCount that stays under leastNormal / 2, inside the absolute allowance, and
    // the plain product is used. Above it (rare: upstream gradients summing past 8.4e6 in Float)
    // `expTimes` scales such lanes into the normal range.
    let large = Scalar(sign: .plus, exponent: Scalar.Exponent(Scalar.significandBitCount), significand: 1)
    @inline(__always) func row(_ yr: UnsafePointer<Storage>, _ dyr: UnsafePointer<Storage>, _ dxr: UnsafeMutablePointer<Storage>,
                               _ sv: Vector, checked: Bool) {
      @inline(__always) func product(_ v: Vector) -> Vector { checked ? expTimes(v, sv) : exp(v) * sv }
      var i = 0
      while i &+ w <= n {
        write(read(dyr + i) - product(read(yr + i)), to: dxr + i)
        i &+= w
      }
      if i < n {
        let v = read(dyr + i, count: n &- i, padding: 0) - product(read(yr + i, count: n &- i, padding: -.infinity))
        write(v, to: dxr + i, count: n &- i)
      }
    }
    for r in 0..<y.rows {
      let yr = y.row(r), dyr = dy.row(r), dxr = dx.row(r)
      let s = sum(dyr, count: n)
      if abs(s) > large {
        row(yr, dyr, dxr, Vector(repeating: s), checked: true)
      } else {
        row(yr, dyr, dxr, Vector(repeating: s), checked: false)
      }
    }
  }
}
