#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Environment and /proc/cpuinfo access without Foundation.
enum ProcessInfoLite {
  static func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
  }

  /// The `flags` words of the first CPU in /proc/cpuinfo (empty if unreadable).
  static let cpuFlags: Set<Substring> = {
    guard let f = fopen("/proc/cpuinfo", "r") else { return [] }
    defer { fclose(f) }
    var line: UnsafeMutablePointer<CChar>? = nil
    var cap = 0
    defer { free(line) }
    while getline(&line, &cap, f) > 0 {
      let s = String(cString: line!)
      if s.hasPrefix("flags") {
        return Set(s.split(separator: ":").last?.split(whereSeparator: { $0 == " " || $0 == "\n" }) ?? [])
      }
    }
    return []
  }()
}
