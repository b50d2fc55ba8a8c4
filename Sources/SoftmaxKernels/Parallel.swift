internal import SoftmaxKernelsCore

import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension KernelOptions {
  /// Threads to use for `rows x cols` elements: `threads` (0 = active processors), capped by
  /// the number of rows and by `minimumElementsPerThread`. (Package access: the bench's threaded
  /// `copy` splits its rows by the same rule.)
  package func threadCount(rows: Int, cols: Int) throws(SoftmaxError) -> Int {
    let byWork = Self.units(rows: rows, cols: Swift.max(cols, 1), of: Self.minimumElementsPerThread)
    return Swift.max(1, Swift.min(try wantedThreads(), rows, byWork))
  }

  /// Elements per column slice below which `columnSlices` does not split: a split costs a thread
  /// hand-off and a merge per row, which outweigh the work below this (docs/performance.md,
  /// "Threads").
  static let minimumElementsPerColumnSlice = 1 << 19

  /// Column slices for `rows x cols` elements when the matrix has fewer rows than the threads
  /// asked for (`threads`, 0 = active processors): one slice of every row per thread, at least
  /// `minimumElementsPerColumnSlice` elements each. 1 (no column split) when the rows alone can
  /// keep as many threads busy, or when the work is too small to split.
  package func columnSlices(rows: Int, cols: Int) throws(SoftmaxError) -> Int {
    let wanted = try wantedThreads()
    guard rows < wanted else { return 1 }
    let byWork = Self.units(rows: rows, cols: cols, of: Self.minimumElementsPerColumnSlice)
    // A slice keeps at least 16 columns (64 bytes of Float), so slices start on whole vectors.
    let slices = Swift.min(wanted, byWork, cols / 16)
    return slices > rows ? slices : 1
  }

  /// `threads`, or the active processors for 0; throws for a negative count.
  private func wantedThreads() throws(SoftmaxError) -> Int {
    guard threads >= 0 else { throw .invalidThreadCount(threads) }
    return threads == 0 ? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) : threads
  }

  /// How many pieces of `size` elements `rows x cols` holds (Int.max past Int's range).
  private static func units(rows: Int, cols: Int, of size: Int) -> Int {
    let (elements, overflow) = rows.multipliedReportingOverflow(by: cols)
    return overflow ? Int.max : elements / size
  }
}

/// The merged `LogSumExpPartial` of every whole row of `x`: the partials of `slices` column
/// slices, computed in parallel (every slice but the last starts and ends on a multiple of 16
/// columns), merged per row in slice order.
func mergedRowStates<T: SoftmaxScalar>(
  _ x: StridedRows<T>, slices: Int, mode: KernelOptions.Mode
) -> [LogSumExpPartial<T.Arithmetic>] {
  let table = T._kernels(mode)
  let rows = x.rows
  func start(_ k: Int) -> Int { k == slices ? x.cols : (x.cols * k / slices) & ~15 }
  var partials = [LogSumExpPartial<T.Arithmetic>](repeating: .empty, count: rows * slices)
  partials.withUnsafeMutableBufferPointer { p in
    let base = p.baseAddress!
    forEachRowRange(rows: slices, threads: slices) { k, _ in
      table.logSumExpPartials(x.columns(start(k), count: start(k + 1) - start(k)), base + k * rows)
    }
    for r in 0..<rows {
      for k in 1..<slices { base[r] = table.mergeLogSumExp(base[r], base[k * rows + r]) }
    }
  }
  return Array(partials.prefix(rows))
}

/// Calls `body(firstRow, rowCount)` on `threads` contiguous, near-equal row ranges, in parallel
/// when `threads > 1` (each range on its own thread; the call returns when all are done).
func forEachRowRange(rows: Int, threads: Int, _ body: (Int, Int) -> Void) {
  if threads <= 1 {
    body(0, rows)
    return
  }
  _ = mapRowRanges(rows: rows, threads: threads, body)
}

/// The results of `body(firstRow, rowCount)` on `threads` contiguous, near-equal row ranges, in
/// the order of the ranges, run in parallel (each range on its own thread).
func mapRowRanges<R>(rows: Int, threads: Int, _ body: (Int, Int) -> R) -> [R] {
  let n = Swift.max(threads, 1)
  var results = [R?](repeating: nil, count: n)
  results.withUnsafeMutableBufferPointer { out in
    withoutActuallyEscaping(body) { body in
      let box = UncheckedSendable((body, out))
      DispatchQueue.concurrentPerform(iterations: n) { k in
        let first = rows * k / n, end = rows * (k + 1) / n
        box.value.1[k] = box.value.0(first, end - first)
      }
    }
  }
  return results.map { $0! }
}

/// Row ranges are disjoint, so the kernels' pointers (and each range's result slot) can cross threads.
private struct UncheckedSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
