// Thin C shim over SLEEF: the SLEEF declarations, plus CPU feature detection that Swift cannot
// express itself. Everything here is header-only; SLEEF itself comes from libsleef (pkg-config
// `sleef`, Debian package `libsleef-dev`, Homebrew formula `sleef`).
//
// Only the prefetch below is for every architecture. The AVX lane helpers exist only where the
// compiler targets AVX / AVX-512 (the x86 backends' flags), and the CPUID code only on x86-64
// outside the portable configuration (Package.swift passes -DSOFTMAXKERNELS_PORTABLE with
// SOFTMAXKERNELS_PORTABLE=1): elsewhere `InstructionSet` never asks, and there is no fallback to
// call by mistake.
#ifndef SOFTMAXKERNELS_CSLEEF_SHIM_H
#define SOFTMAXKERNELS_CSLEEF_SHIM_H

#include <sleef.h>
#include <stdint.h>
#if defined(__AVX__)
#include <immintrin.h>
#endif

/// Asks the CPU to bring the cache line holding `p` into cache for reading. Never faults, so it
/// may point past the end of a buffer.
static inline void softmaxkernels_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

#if defined(__AVX512F__)
// Lane operations for the AVX-512 backend. Swift's generic SIMD `addingProduct` and
// `replacing(with:where:)` are lane loops that LLVM re-vectorizes only in 64-bit pieces at 512
// bits (measured: the fast exp ran 7x slower than SLEEF's); these are one instruction or two.

/// a * b + c per lane, one rounding (`vfmadd`), 16 x Float.
static inline __m512 softmaxkernels_fmadd_f16(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
/// x < y ? a : b per lane (false for NaN), 16 x Float.
static inline __m512 softmaxkernels_select_lt_f16(__m512 x, __m512 y, __m512 a, __m512 b) {
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, y, _CMP_LT_OQ), b, a);
}
/// x == y ? a : b per lane (false for NaN), 16 x Float.
static inline __m512 softmaxkernels_select_eq_f16(__m512 x, __m512 y, __m512 a, __m512 b) {
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, y, _CMP_EQ_OQ), b, a);
}
/// v * 2^n per lane for integral n, one rounding (`vscalefps`): gradual underflow below the
/// normal range, +inf past it.
static inline __m512 softmaxkernels_scalef_f16(__m512 v, __m512 n) { return _mm512_scalef_ps(v, n); }
/// v * 2^n per lane for integral n, one rounding (`vscalefpd`).
static inline __m512d softmaxkernels_scalef_d8(__m512d v, __m512d n) { return _mm512_scalef_pd(v, n); }
/// The first n (< 16) floats at p, the other lanes `pad`; masked, so nothing past p + n is read.
static inline __m512 softmaxkernels_load_f16(const float *p, int n, float pad) {
  return _mm512_mask_loadu_ps(_mm512_set1_ps(pad), (__mmask16)((1u << n) - 1u), p);
}
/// Stores the first n (< 16) lanes of v at p; nothing past p + n is written.
static inline void softmaxkernels_store_f16(float *p, __m512 v, int n) {
  _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), v);
}
/// The first n (< 8) doubles at p, the other lanes `pad`; nothing past p + n is read.
static inline __m512d softmaxkernels_load_d8(const double *p, int n, double pad) {
  return _mm512_mask_loadu_pd(_mm512_set1_pd(pad), (__mmask8)((1u << n) - 1u), p);
}
/// Stores the first n (< 8) lanes of v at p; nothing past p + n is written.
static inline void softmaxkernels_store_d8(double *p, __m512d v, int n) {
  _mm512_mask_storeu_pd(p, (__mmask8)((1u << n) - 1u), v);
}
/// v unchanged, opaque to the optimizer (see `softmaxkernels_materialize_f8`), 16 x Float.
static inline __m512 softmaxkernels_materialize_f16(__m512 v) { __asm__("" : "+v"(v)); return v; }
/// v unchanged, opaque to the optimizer (8 x Double).
static inline __m512d softmaxkernels_materialize_d8(__m512d v) { __asm__("" : "+v"(v)); return v; }
/// a * b + c per lane, one rounding, 8 x Double.
static inline __m512d softmaxkernels_fmadd_d8(__m512d a, __m512d b, __m512d c) { return _mm512_fmadd_pd(a, b, c); }
/// x < y ? a : b per lane (false for NaN), 8 x Double.
static inline __m512d softmaxkernels_select_lt_d8(__m512d x, __m512d y, __m512d a, __m512d b) {
  return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, y, _CMP_LT_OQ), b, a);
}
/// x == y ? a : b per lane (false for NaN), 8 x Double.
static inline __m512d softmaxkernels_select_eq_d8(__m512d x, __m512d y, __m512d a, __m512d b) {
  return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, y, _CMP_EQ_OQ), b, a);
}
#endif

#if defined(__AVX__)
/// v unchanged, but opaque to the optimizer (an empty asm that "modifies" v), so every lane of it
/// is computed with vector instructions: `VectorMath.materialized`, 8 x Float.
static inline __m256 softmaxkernels_materialize_f8(__m256 v) { __asm__("" : "+x"(v)); return v; }
#endif

#if defined(__x86_64__) && !defined(SOFTMAXKERNELS_PORTABLE)
#include <cpuid.h>

/// 1 when the CPU and the operating system support AVX2 and FMA (CPUID leaf 7 AVX2, leaf 1 FMA,
/// AVX and OSXSAVE, and XCR0 enabling the XMM and YMM state); 0 otherwise.
static inline int softmaxkernels_cpu_has_avx2_fma(void) {
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  const unsigned int fma = 1u << 12, osxsave = 1u << 27, avx = 1u << 28;
  if ((c & (fma | osxsave | avx)) != (fma | osxsave | avx)) return 0;
  unsigned int xcr0_lo, xcr0_hi;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & 0x6u) != 0x6u) return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  return (b & (1u << 5)) != 0;
}

/// 1 when the CPU and the operating system support what the AVX-512 backend is compiled for
/// (`-march=skylake-avx512`): AVX2 and FMA as above; AVX-512 F, DQ, CD, BW and VL, BMI1, BMI2
/// (leaf 7), LZCNT (leaf 0x80000001), MOVBE and POPCNT (leaf 1); and XCR0 enabling the opmask and
/// both halves of the ZMM state as well as XMM and YMM. 0 otherwise.
static inline int softmaxkernels_cpu_has_avx512(void) {
  if (!softmaxkernels_cpu_has_avx2_fma()) return 0;
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  const unsigned int movbe = 1u << 22, popcnt = 1u << 23;
  if ((c & (movbe | popcnt)) != (movbe | popcnt)) return 0;
  unsigned int xcr0_lo, xcr0_hi;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & 0xE6u) != 0xE6u) return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  const unsigned int bmi1 = 1u << 3, bmi2 = 1u << 8, f = 1u << 16, dq = 1u << 17, cd = 1u << 28,
                     bw = 1u << 30, vl = 1u << 31;
  const unsigned int need = bmi1 | bmi2 | f | dq | cd | bw | vl;
  if ((b & need) != need) return 0;
  if (!__get_cpuid(0x80000001u, &a, &b, &c, &d)) return 0;
  return (c & (1u << 5)) != 0;  // LZCNT (ABM)
}
#endif

#endif
