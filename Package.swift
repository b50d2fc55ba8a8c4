// swift-tools-version: 6.2
//
// SoftmaxKernels: hand-vectorized softmax, log-softmax, logsumexp and cross-entropy for Float and
// Double on Swift SIMD types, with SLEEF's vector exp/log.
//
// Module map (see docs/architecture.md):
//   CSleef                  system library: SLEEF + a tiny header shim (CPU detection).
//   SoftmaxKernelsCore      the vector-math protocol and the row algorithms, all @inlinable and
//                           generic, compiled into each backend below with that backend's flags.
//   SoftmaxKernelsAVX512    the core specialized for 16 x Float / 8 x Double with AVX-512F SLEEF (x86-64 only).
//   SoftmaxKernelsAVX2      the core specialized for 8 x Float / 4 x Double with AVX2+FMA SLEEF (x86-64 only).
//   SoftmaxKernelsBaseline  the portable backend: 4 x Float / 2 x Double with SLEEF's 128-bit functions
//                           (SSE2 on x86-64, AdvSIMD on arm64).
//   SoftmaxKernels          the public API: validation, typed errors, runtime CPU dispatch.
//   SoftmaxReference        plain scalar implementations and a wider-precision oracle.
//   SoftmaxBench            the `softmax-bench` report run by `scripts/bench` (not a product).
import PackageDescription

/// Whether the x86-64 backends (AVX2, AVX-512) and their CPU flags are part of the build.
///
/// `#if arch(x86_64)` in a manifest is evaluated when SwiftPM compiles the manifest, so it follows
/// the machine running SwiftPM (the host), not the `--triple` / `--swift-sdk` being built for:
/// cross-compiling from an x86-64 host to arm64 needs `SOFTMAXKERNELS_PORTABLE=1`, and from an
/// arm64 host to x86-64 builds the portable backend only (docs/platforms.md). PackageDescription
/// has no condition on the target architecture, and the flags below cannot be made conditional
/// inside the backend sources, since clang rejects `-mavx2` for any other target.
///
/// `SOFTMAXKERNELS_PORTABLE=1` in the environment builds on an x86-64 host exactly as on arm64:
/// no x86 targets, no x86 flags, the portable backend alone, the Double oracle without Float80.
/// Every Swift target then gets the compilation condition `SOFTMAXKERNELS_PORTABLE` (the sources
/// test `#if arch(x86_64) && !SOFTMAXKERNELS_PORTABLE`) and the C shim gets the same macro, so no
/// CPUID code is compiled. `scripts/test` runs the whole suite so, in `.build-portable`.
let portable = Context.environment["SOFTMAXKERNELS_PORTABLE"] == "1"
#if arch(x86_64)
let x86Backends = !portable
#else
let x86Backends = false
#endif

/// The portable configuration's compilation condition, for every Swift target of the package.
let portableSettings: [SwiftSetting] =
  portable ? [.define("SOFTMAXKERNELS_PORTABLE"), .unsafeFlags(["-Xcc", "-DSOFTMAXKERNELS_PORTABLE"])] : []

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

// The x86-64 backends, only when `x86Backends` (above). Their sources are x86-only as well
// (`#if arch(x86_64)` around everything in them), so a build that names them anyway stays empty.
let x86BackendTargets: [Target] = x86Backends ? [
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
] : []

let x86BackendDependencies: [Target.Dependency] = x86Backends ? ["SoftmaxKernelsAVX512", "SoftmaxKernelsAVX2"] : []

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
      providers: [.apt(["libsleef-dev"]), .brew(["sleef"])]
    ),
    .target(name: "SoftmaxKernelsCore", dependencies: ["CSleef"], swiftSettings: optimizedInDebug + portableSettings),
    .target(
      name: "SoftmaxKernelsBaseline",
      dependencies: ["SoftmaxKernelsCore", "CSleef"],
      swiftSettings: optimizedInDebug + portableSettings
    ),
    .target(
      name: "SoftmaxKernels",
      dependencies: ["SoftmaxKernelsCore", "SoftmaxKernelsBaseline", "CSleef"] + x86BackendDependencies,
      swiftSettings: portableSettings
    ),
    .target(
      name: "SoftmaxReference",
      dependencies: ["SoftmaxKernels"],
      swiftSettings: portableSettings
    ),
    .executableTarget(
      name: "SoftmaxBench",
      dependencies: [
        "SoftmaxKernels",
        "SoftmaxReference",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: portableSettings
    ),
    .testTarget(
      name: "SoftmaxKernelsTests",
      dependencies: [
        "SoftmaxKernels",
        "SoftmaxKernelsCore",
        "SoftmaxReference",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ] + x86BackendDependencies,
      exclude: ["Fixtures/make_torch_fixtures.py"],
      swiftSettings: portableSettings
    ),
    // The bench's SVG chart (`scripts/bench --plot`), rendered by Sources/SoftmaxBench/Plot.swift
    // and reached through `@testable import SoftmaxBench`.
    .testTarget(name: "SoftmaxBenchTests", dependencies: ["SoftmaxBench"]),
  ] + x86BackendTargets
)

