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

// π/2 as P1 + P2 + P3: P1 and P2 have 33 significant bits, so k·P1 and k·P2 are exact for |k| < 2^20
// (|x| below about 1.6e6) and x - k·P1 - k·P2 - k·P3 is the reduced argument to about 1e-21
// (Cody and Waite's reduction). Each piece is π/2's leftover rounded to 33, 33 and 53 bits.
static const double edge_pio2_1 = 0x1.921fb54400000p+0;
static const double edge_pio2_2 = 0x1.0b4611a600000p-34;
static const double edge_pio2_3 = 0x1.3198a2e037073p-69;
static const double edge_reduction_limit = 1e6;
// Taylor coefficients in z = r², highest power first: sin r = r + r z P(z) with 1/17!, -1/15!, ...,
// -1/3!; cos r = 1 + z Q(z) with -1/18!, 1/16!, ..., -1/2!.
static const double edge_sin_taylor[8] = {
    1.0 / 355687428096000.0, -1.0 / 1307674368000.0, 1.0 / 6227020800.0, -1.0 / 39916800.0,
    1.0 / 362880.0, -1.0 / 5040.0, 1.0 / 120.0, -1.0 / 6.0,
};
static const double edge_cos_taylor[9] = {
    -1.0 / 6402373705728000.0, 1.0 / 20922789888000.0, -1.0 / 87178291200.0, 1.0 / 479001600.0,
    -1.0 / 3628800.0, 1.0 / 40320.0, -1.0 / 720.0, 1.0 / 24.0, -0.5,
};

/// c[0] z^(n-1) + ... + c[n-1], by Horner's rule.
static inline double edge_horner(double z, const double *c, int n) {
    double p = c[0];
    for (int i = 1; i < n; i++) p = p * z + c[i];
    return p;
}

void edge_sincos(double x, double *sine, double *cosine) {
    if (!(fabs(x) < edge_reduction_limit)) {  // huge, infinite or NaN: libm's full reduction
#if defined(__APPLE__)
        __sincos(x, sine, cosine);
#else
        sincos(x, sine, cosine);
#endif
        return;
    }
    if (x == 0) {  // keeps the sign of -0 (the reduction below would give +0)
        *sine = x;
        *cosine = 1;
        return;
    }
    double k = nearbyint(x * 0x1.45f306dc9c883p-1);  // x · 2/π, to the nearest quadrant
    double r = ((x - k * edge_pio2_1) - k * edge_pio2_2) - k * edge_pio2_3;  // |r| <= π/4 (+ 1e-9)
    double z = r * r;
    // Taylor series to r^17 and r^18: on |r| <= π/4 the first left-out terms are below 1e-19, far
    // under half an ulp; evaluation rounding keeps both within about one ulp of libm (EdgeCoreTests).
    double sin_r = r + r * z * edge_horner(z, edge_sin_taylor, 8);
    double cos_r = 1.0 + z * edge_horner(z, edge_cos_taylor, 9);
    // Quadrant q of x: (sin, cos) = (s, c), (c, -s), (-s, -c), (-c, s) for q = 0, 1, 2, 3.
    // Selects rather than a switch: the quadrant of a swinging pendulum is not predictable.
    long q = (long)k & 3;
    double a = (q & 1) ? cos_r : sin_r;
    double b = (q & 1) ? sin_r : cos_r;
    *sine = (q & 2) ? -a : a;
    *cosine = ((q + 1) & 2) ? -b : b;
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
