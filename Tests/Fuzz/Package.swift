// swift-tools-version: 6.2
//
// libFuzzer harnesses for every public entry point of SoftmaxKernels, one executable per family.
// Built and run by `scripts/fuzz` with `--sanitize=fuzzer --sanitize=address`; each harness turns
// the fuzz bytes into shapes, strides, options and logits, calls the API, and aborts on any
// break of SPEC.md's contract (see FuzzSupport/Contract.swift). Its own package, like
// Benchmarks/, so library users never resolve it.
import PackageDescription

let harnesses = ["FuzzForward", "FuzzCrossEntropy", "FuzzShard", "FuzzBackward", "FuzzBinaryCrossEntropy", "FuzzExp"]

let package = Package(
  name: "SoftmaxKernelsFuzz",
  dependencies: [.package(name: "SoftmaxKernels", path: "../..")],
  targets: [
    .target(
      name: "FuzzSupport",
      dependencies: [
        .product(name: "SoftmaxKernels", package: "SoftmaxKernels"),
        .product(name: "SoftmaxReference", package: "SoftmaxKernels"),
      ]
    ),
  ] + harnesses.map { name in
    .executableTarget(
      name: name,
      dependencies: [
        "FuzzSupport",
        .product(name: "SoftmaxKernels", package: "SoftmaxKernels"),
        .product(name: "SoftmaxReference", package: "SoftmaxKernels"),
      ]
    )
  }
)
