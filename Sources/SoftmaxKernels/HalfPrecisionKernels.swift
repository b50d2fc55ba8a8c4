internal import SoftmaxKernelsCore
#if arch(x86_64) && !SOFTMAXKERNELS_PORTABLE
internal import SoftmaxKernelsAVX2
internal import SoftmaxKernelsAVX512
#endif
internal import SoftmaxKernelsBaseline

/// The two 16-bit storage formats the backends compile kernels for.
enum HalfFormat {
  case binary16, bfloat16
}

/// A backend's 16-bit kernel tables (`UInt16` rows, Float arithmetic) as tables over `T`, the
/// public type with the same layout (`Float16`, `BFloat16`).
func halfTables<T>(_ format: HalfFormat, for isa: InstructionSet, as _: T.Type)
  -> (accurate: KernelTable<T, Float>, fast: KernelTable<T, Float>)
{
  let tables: (KernelTable<UInt16, Float>, KernelTable<UInt16, Float>)
  switch (isa, format) {
  #if arch(x86_64) && !SOFTMAXKERNELS_PORTABLE
  case (.avx512, .binary16): tables = (AVX512Backend.float16, AVX512Backend.fastFloat16)
  case (.avx512, .bfloat16): tables = (AVX512Backend.bfloat16, AVX512Backend.fastBFloat16)
  case (.avx2, .binary16): tables = (AVX2Backend.float16, AVX2Backend.fastFloat16)
  case (.avx2, .bfloat16): tables = (AVX2Backend.bfloat16, AVX2Backend.fastBFloat16)
  #endif
  case (_, .binary16): tables = (BaselineBackend.float16, BaselineBackend.fastFloat16)
  case (_, .bfloat16): tables = (BaselineBackend.bfloat16, BaselineBackend.fastBFloat16)
  }
  return (tables.0.reinterpreted(as: T.self), tables.1.reinterpreted(as: T.self))
}
