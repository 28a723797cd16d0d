// CEdgeSys: the few C calls the Embedded-safe Swift modules need (DESIGN.md section 2).
// Keep this small: each function is a thin, documented wrapper with errno passed back unchanged.
#ifndef CEDGESYS_H
#define CEDGESYS_H

#include <stddef.h>
#include <stdint.h>
#include <math.h>

// Every header of this module is reached through this umbrella header.
#include "edge_file.h"
#include "edge_gpiod.h"
#include "edge_plant.h"
#include "edge_rt.h"
#include "edge_sysfs.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Formats `value` with printf's `%.*g` into `buffer` (always NUL-terminated).
/// Embedded Swift cannot turn a Float into a String, so every float the board binary prints goes here.
/// Returns the number of characters written, excluding the NUL.
int edge_format_double(char *buffer, size_t capacity, double value, int significant_digits);

/// CLOCK_MONOTONIC in nanoseconds (the clock libgpiod timestamps edge events with).
int64_t edge_monotonic_ns(void);

/// Sleeps until the absolute CLOCK_MONOTONIC time `deadline_ns` (clock_nanosleep, TIMER_ABSTIME),
/// retrying on EINTR. Returns 0 or an errno value.
int edge_sleep_until_ns(int64_t deadline_ns);

/// sin and cos of `x` in one libm call (sincos shares the argument reduction; same values as sin and cos).
/// The pendulum's observation needs both every control step.
void edge_sincos(double x, double *sine, double *cosine);

/// Writes `length` bytes to file descriptor 1 or 2 without buffering (no Foundation on the board).
void edge_write_fd(int fd, const char *bytes, size_t length);

/// Number of command-line arguments (argv[0] included). Embedded Swift has no `CommandLine`, so the
/// shim captures argc/argv in an ELF constructor (glibc passes them to constructors).
int edge_argument_count(void);
/// Argument `index` (0 is the program), or NULL when out of range.
const char *edge_argument(int index);

#ifdef __cplusplus
}
#endif
#endif
