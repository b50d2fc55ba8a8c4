// swift-tools-version: 6.2
//
// A stand-in for a user's package: depends on SoftmaxKernels by path, as an ordinary dependency
// with no flags, and times a few calls through the public API. `scripts/check-debug-consumer`
// builds it in debug (SwiftPM's default for `swift build`, `swift run` and `swift test`) and in
// release, and fails when the debug build of the kernels is more than 3x slower (issue 21). Its
// own package, like Tests/Fuzz and Benchmarks/, so library users never resolve it.
import PackageDescription

let package = Package(
  name: "DebugConsumer",
  dependencies: [.package(name: "SoftmaxKernels", path: "../..")],
  targets: [
    .executableTarget(
      name: "DebugConsumer",
      dependencies: [.product(name: "SoftmaxKernels", package: "SoftmaxKernels")]
    ),
  ]
)
