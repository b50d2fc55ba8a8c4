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
  /// the number of rows and by `minimumElementsPerThread`.
  func threadCount(rows: Int, cols: Int) throws(SoftmaxError) -> Int {
    guard threads >= 0 else { throw .invalidThreadCount(threads) }
    let wanted = threads == 0 ? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) : threads
    let (elements, overflow) = rows.multipliedReportingOverflow(by: Swift.max(cols, 1))
    let byWork = overflow ? Int.max : elements / Self.minimumElementsPerThread
    return Swift.max(1, Swift.min(wanted, rows, byWork))
  }
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
