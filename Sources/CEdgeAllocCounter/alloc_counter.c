// Counting malloc interposer; see include/edge_alloc_counter.h.
#define _GNU_SOURCE
#include "edge_alloc_counter.h"
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__GLIBC__)
#include <stdatomic.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void __libc_free(void *pointer);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

// initial-exec: reaching the counter must never call into the allocator (a dynamic TLS lookup could).
static __thread uint64_t thread_allocations __attribute__((tls_model("initial-exec")));
static atomic_uint_fast64_t process_allocations;

static inline void counted(void) {
    thread_allocations += 1;
    atomic_fetch_add_explicit(&process_allocations, 1, memory_order_relaxed);
}

uint64_t edge_alloc_count(void) { return thread_allocations; }
uint64_t edge_alloc_count_all_threads(void) {
    return atomic_load_explicit(&process_allocations, memory_order_relaxed);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define EDGE_ALLOC_UNDER_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EDGE_ALLOC_UNDER_SANITIZER 1
#endif

#if defined(EDGE_ALLOC_UNDER_SANITIZER)
// Built with a sanitizer (scripts/sanitize.sh): the sanitizer owns malloc, so instead of replacing it
// (which would bypass the sanitizer's checks, or clash with its allocator) count through the hook the
// sanitizer allocator calls on every allocation. Same counts, except that a realloc is always counted
// (the sanitizers always move the block).
#include <sanitizer/allocator_interface.h>

static void edge_alloc_hook(const volatile void *pointer, size_t size) {
    (void)pointer;
    (void)size;
    counted();
}

static void edge_free_hook(const volatile void *pointer) { (void)pointer; }

__attribute__((constructor)) static void edge_alloc_install_hooks(void) {
    __sanitizer_install_malloc_and_free_hooks(edge_alloc_hook, edge_free_hook);
}

#else

void *malloc(size_t size) {
    counted();
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    counted();
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    void *result = __libc_realloc(pointer, size);
    if (result != NULL && result != pointer) counted();  // a new or moved block; resizing in place is not
    return result;
}

void free(void *pointer) { __libc_free(pointer); }

void *memalign(size_t alignment, size_t size) {
    counted();
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    counted();
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    counted();
    void *pointer = __libc_memalign(alignment, size);
    if (!pointer) return ENOMEM;
    *out = pointer;
    return 0;
}

void *valloc(size_t size) {
    counted();
    return __libc_valloc(size);
}

void *pvalloc(size_t size) {
    counted();
    return __libc_pvalloc(size);
}
#endif  // EDGE_ALLOC_UNDER_SANITIZER

#else
// Not glibc (macOS, musl): nothing is interposed and the counter functions are left undefined, so
// EdgeRuntime's weak references stay null and `AllocationCounter` reports itself unavailable.
typedef int edge_alloc_counter_not_available_here;
#endif
