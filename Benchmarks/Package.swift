// swift-tools-version: 6.2
//
// The benchmark suite of SoftmaxKernels, on ordo-one/benchmark. A separate package so that users of
// the library never resolve the benchmark dependency. Run from this directory:
//   swift package benchmark                       (see README.md for baselines and thresholds)
import PackageDescription

let package = Package(
  name: "SoftmaxKernelsBenchmarks",
  dependencies: [
    .package(name: "SoftmaxKernels", path: ".."),
    .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
  ],
  targets: [
    .executableTarget(
      name: "SoftmaxBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "SoftmaxKernels", package: "SoftmaxKernels"),
      ],
      path: "Benchmarks/SoftmaxBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ),
  ]
)
