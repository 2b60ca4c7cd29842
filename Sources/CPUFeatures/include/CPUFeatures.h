// What the compiler was told the target CPU has, and a prefetch hint, for the Swift kernels.
//
// The Kernels module is compiled with `-Xcc -march=native` under the NativeCPU trait, so these follow the
// building machine; the portable build (`--disable-default-traits`) sees none of them. Swift's own
// `#if arch(x86_64) && NATIVE_CPU` selects the AVX2 kernels (IntegerDotAVX2.swift).
#ifndef DEEPSEEK_CPU_FEATURES_H
#define DEEPSEEK_CPU_FEATURES_H

// 1 when AVX2, FMA and F16C may be used (x86-64 since Haswell and Zen), else 0.
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define DEEPSEEK_X86_AVX2 1
#else
#define DEEPSEEK_X86_AVX2 0
#endif

// The NativeCPU trait compiles the AVX2 kernels on x86-64; say so here rather than fail inside LLVM.
#if defined(DEEPSEEK_NATIVE_CPU) && defined(__x86_64__) && !DEEPSEEK_X86_AVX2
#error "the NativeCPU trait needs AVX2, FMA and F16C on x86-64; build with --disable-default-traits on this CPU"
#endif

// Asks for the cache line holding `address` ahead of a streaming read (a hint; never faults).
static inline __attribute__((always_inline)) void deepseek_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

// Tells the core this thread is spinning on a flag (x86 `pause`, arm64 `yield`).
static inline __attribute__((always_inline)) void deepseek_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
