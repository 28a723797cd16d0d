#define _GNU_SOURCE
#include "CEdgeSys.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int edge_format_double(char *buffer, size_t capacity, double value, int significant_digits) {
    if (capacity == 0) return 0;
    int n = snprintf(buffer, capacity, "%.*g", significant_digits, value);
    if (n < 0) { buffer[0] = 0; return 0; }
    return (size_t)n < capacity ? n : (int)capacity - 1;
}

int64_t edge_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int edge_sleep_until_ns(int64_t deadline_ns) {
    // A deadline already past returns without a syscall: a paced simulator and a late loop ask for many
    // of those, and clock_nanosleep costs microseconds even when it does not sleep.
    int64_t now = edge_monotonic_ns();
    if (deadline_ns <= now) return 0;
#if defined(__APPLE__)
    struct timespec rel = { .tv_sec = (deadline_ns - now) / 1000000000LL, .tv_nsec = (deadline_ns - now) % 1000000000LL };
    while (nanosleep(&rel, &rel) != 0) { if (errno != EINTR) return errno; }
    return 0;
#else
    struct timespec ts = { .tv_sec = deadline_ns / 1000000000LL, .tv_nsec = deadline_ns % 1000000000LL };
    int rc;
    while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR) {}
    return rc;
#endif
}

void edge_sincos(double x, double *sine, double *cosine) {
#if defined(__APPLE__)
    __sincos(x, sine, cosine);
#else
    sincos(x, sine, cosine);
#endif
}

void edge_write_fd(int fd, const char *bytes, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, bytes, length);
        if (n < 0) { if (errno == EINTR) continue; return; }
        bytes += n; length -= (size_t)n;
    }
}

static int captured_argc;
static char **captured_argv;

#if !defined(__APPLE__)  // Linux, including the Embedded cross build (target aarch64-none-none-elf: no __linux__)
// glibc calls constructors in .init_array with (argc, argv, envp).
__attribute__((constructor)) static void edge_capture_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    captured_argc = argc;
    captured_argv = argv;
}
#elif defined(__APPLE__)
#include <crt_externs.h>
__attribute__((constructor)) static void edge_capture_arguments(void) {
    captured_argc = *_NSGetArgc();
    captured_argv = *_NSGetArgv();
}
#endif

int edge_argument_count(void) { return captured_argc; }

const char *edge_argument(int index) {
    return (index >= 0 && index < captured_argc) ? captured_argv[index] : 0;
}
