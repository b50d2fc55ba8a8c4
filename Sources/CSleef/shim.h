// Thin C shim over SLEEF: the SLEEF declarations, plus CPU feature detection that Swift cannot
// express itself. Everything here is header-only; SLEEF itself comes from libsleef (pkg-config
// `sleef`, Debian package `libsleef-dev`).
#ifndef SOFTMAXKERNELS_CSLEEF_SHIM_H
#define SOFTMAXKERNELS_CSLEEF_SHIM_H

#include <sleef.h>
#include <stdint.h>

/// Asks the CPU to bring the cache line holding `p` into cache for reading. Never faults, so it
/// may point past the end of a buffer.
static inline void softmaxkernels_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

#if defined(__x86_64__) || defined(__i386__)
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
#else
static inline int softmaxkernels_cpu_has_avx2_fma(void) { return 0; }
#endif

#endif
