// swift-tools-version: 6.2
//
// SoftmaxKernels: hand-vectorized softmax, log-softmax, logsumexp and cross-entropy for Float and
// Double on Swift SIMD types, with SLEEF's vector exp/log.
//
// Module map (see docs/architecture.md):
//   CSleef                  system library: SLEEF + a tiny header shim (CPU detection).
//   SoftmaxKernelsCore      the vector-math protocol and the row algorithms, all @inlinable and
//                           generic, compiled into each backend below with that backend's flags.
//   SoftmaxKernelsAVX512    the core specialized for 16 x Float / 8 x Double with AVX-512F SLEEF.
//   SoftmaxKernelsAVX2      the core specialized for 8 x Float / 4 x Double with AVX2+FMA SLEEF.
//   SoftmaxKernelsBaseline  the core specialized for 4 x Float / 2 x Double with SSE2 SLEEF.
//   SoftmaxKernels          the public API: validation, typed errors, runtime CPU dispatch.
//   SoftmaxReference        plain scalar implementations and a wider-precision oracle.
//   SoftmaxBench            the `softmax-bench` report run by `scripts/bench` (not a product).
import PackageDescription

/// `-O` for the kernel modules (the Core and the three backends) in debug builds too. SwiftPM
/// builds dependencies in the consumer's configuration, and `swift build` / `swift run` /
/// `swift test` default to debug, where the generic SIMD kernels ran orders of magnitude slower than in
/// release (docs/performance.md, "What a debug build costs"). The Core as well: its `@inlinable` bodies reach
/// the backends as compiled, and at -Onone they kept dynamic exclusivity checks in hot loops.
/// Release builds already get `-O`, so their code does not change.
/// `SOFTMAXKERNELS_UNOPTIMIZED_KERNELS=1` in the environment leaves them at `-Onone` in debug,
/// with the standard library's debug-only checks and `assert`s; `scripts/test` runs its debug
/// suite that way.
let optimizedInDebug: [SwiftSetting] =
  Context.environment["SOFTMAXKERNELS_UNOPTIMIZED_KERNELS"] == "1" ? [] : [.unsafeFlags(["-O"], .when(configuration: .debug))]

/// Flags for the AVX2 backend only. The public module never gets them, so a CPU without AVX2
/// never executes an AVX instruction: `SoftmaxKernels` checks CPUID before calling this backend.
let avx2Flags: [SwiftSetting] = [
  .unsafeFlags(["-target-cpu", "haswell", "-Xcc", "-mavx2", "-Xcc", "-mfma"]),
]

/// Flags for the AVX-512 backend only (AVX-512 F/CD/BW/DQ/VL, as on Intel Skylake-SP and later and
/// AMD Zen 4 and later). `-mprefer-vector-width=512` keeps LLVM from splitting `SIMD16<Float>` into
/// two 256-bit halves, which the Skylake tuning otherwise does. `SoftmaxKernels` checks CPUID
/// (and that the OS saves the ZMM and mask registers) before calling this backend.
let avx512Flags: [SwiftSetting] = [
  .unsafeFlags([
    "-target-cpu", "skylake-avx512", "-Xcc", "-march=skylake-avx512", "-Xcc", "-mprefer-vector-width=512",
  ]),
]

let package = Package(
  name: "SoftmaxKernels",
  products: [
    .library(name: "SoftmaxKernels", targets: ["SoftmaxKernels"]),
    .library(name: "SoftmaxReference", targets: ["SoftmaxReference"]),
    // The benchmark report behind `scripts/bench`; not needed to use the library.
    .executable(name: "softmax-bench", targets: ["SoftmaxBench"]),
  ],
  dependencies: [
    .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
  ],
  targets: [
    .systemLibrary(
      name: "CSleef",
      pkgConfig: "sleef",
      providers: [.apt(["libsleef-dev"])]
    ),
    .target(name: "SoftmaxKernelsCore", dependencies: ["CSleef"], swiftSettings: optimizedInDebug),
    .target(
      name: "SoftmaxKernelsAVX2",
      dependencies: ["SoftmaxKernelsCore", "CSleef"],
      swiftSettings: avx2Flags + optimizedInDebug
    ),
    .target(
      name: "SoftmaxKernelsAVX512",
      dependencies: ["SoftmaxKernelsCore", "CSleef"],
      swiftSettings: avx512Flags + optimizedInDebug
    ),
    .target(
      name: "SoftmaxKernelsBaseline",
      dependencies: ["SoftmaxKernelsCore", "CSleef"],
      swiftSettings: optimizedInDebug
    ),
    .target(
      name: "SoftmaxKernels",
      dependencies: [
        "SoftmaxKernelsCore", "SoftmaxKernelsAVX512", "SoftmaxKernelsAVX2", "SoftmaxKernelsBaseline", "CSleef",
      ]
    ),
    .target(
      name: "SoftmaxReference",
      dependencies: ["SoftmaxKernels"]
    ),
    .executableTarget(
      name: "SoftmaxBench",
      dependencies: [
        "SoftmaxKernels",
        "SoftmaxReference",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(
      name: "SoftmaxKernelsTests",
      dependencies: [
        "SoftmaxKernels",
        "SoftmaxKernelsCore",
        "SoftmaxKernelsAVX2",
        "SoftmaxKernelsAVX512",
        "SoftmaxReference",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ],
      exclude: ["Fixtures/make_torch_fixtures.py"]
    ),
    // The bench's SVG chart (`scripts/bench --plot`), rendered by Sources/SoftmaxBench/Plot.swift
    // and reached through `@testable import SoftmaxBench`.
    .testTarget(name: "SoftmaxBenchTests", dependencies: ["SoftmaxBench"]),
  ]
)
