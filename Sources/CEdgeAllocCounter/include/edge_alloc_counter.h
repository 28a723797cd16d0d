// Heap allocation counting for tests and benchmarks (Linux with glibc only).
//
// Linking this target into a program replaces malloc, calloc, realloc, free, posix_memalign,
// aligned_alloc, memalign, valloc and pvalloc with wrappers that count each call and forward to glibc's
// own allocator (__libc_malloc and friends), so memory from either side stays interchangeable.
// Built with AddressSanitizer or ThreadSanitizer (scripts/sanitize.sh) it replaces nothing and counts
// through the sanitizer allocator's malloc hook instead, so the counts stay available under a sanitizer.
// It is deliberately a separate target linked only into the test target and the host CLI: an
// interposed malloc would fight a sanitizer's, and the board binary has no use for it.
// EdgeRuntime's `AllocationCounter` finds these functions through weak references (CEdgeSys edge_rt.c).
#ifndef EDGE_ALLOC_COUNTER_H
#define EDGE_ALLOC_COUNTER_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Allocations (malloc, calloc, posix_memalign, aligned_alloc, memalign, valloc, pvalloc, and realloc
/// that allocates or moves) made by the calling thread since it started.
uint64_t edge_alloc_count(void);
/// The same, summed over every thread of the process.
uint64_t edge_alloc_count_all_threads(void);

#ifdef __cplusplus
}
#endif
#endif
