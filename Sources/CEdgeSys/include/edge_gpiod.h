// libgpiod loaded at run time (DESIGN.md section 5): one small API over both libgpiod v1 (1.6.x,
// libgpiod.so.2: Debian 12, Raspberry Pi OS bookworm) and v2 (2.x, libgpiod.so.3: Debian 13), so
// one binary runs on either, builds without headers (macOS included) and needs no libgpiod for --sim.
//
// Conventions: functions return 0 (or a non-negative count/value) on success and -errno on failure,
// with errno taken from libgpiod or the kernel unchanged (EBUSY, EPERM, EINVAL, ENODEV, ENXIO, EACCES).
// Objects are owned by the caller and freed with their *_close / *_release function.
#ifndef EDGE_GPIOD_H
#define EDGE_GPIOD_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A loaded libgpiod (either API version) with its functions resolved.
typedef struct edge_gpiod_library edge_gpiod_library;
/// An open GPIO chip, with its name, label and line count read at open time.
typedef struct edge_gpiod_chip edge_gpiod_chip;
/// A set of lines requested together from one chip.
typedef struct edge_gpiod_request edge_gpiod_request;

/// Request flags (the kernel's line flags). Direction is a separate argument.
enum {
    EDGE_GPIOD_ACTIVE_LOW = 1 << 0,
    EDGE_GPIOD_BIAS_PULL_UP = 1 << 1,
    EDGE_GPIOD_BIAS_PULL_DOWN = 1 << 2,
    EDGE_GPIOD_BIAS_DISABLED = 1 << 3,
    EDGE_GPIOD_OPEN_DRAIN = 1 << 4,
    EDGE_GPIOD_OPEN_SOURCE = 1 << 5,
    EDGE_GPIOD_EDGE_RISING = 1 << 6,
    EDGE_GPIOD_EDGE_FALLING = 1 << 7,
};

/// One edge event. v1 has no sequence numbers (both 0).
typedef struct edge_gpiod_event {
    uint64_t timestamp_ns;   ///< CLOCK_MONOTONIC
    uint64_t line_seqno;     ///< v2: 1, 2, ... per line
    uint64_t global_seqno;   ///< v2: 1, 2, ... per request
    uint32_t offset;
    int32_t rising;          ///< 1 rising, 0 falling (logical, as decided by the kernel)
} edge_gpiod_event;

/// Loads libgpiod. `path` NULL tries $EDGE_LIBGPIOD, then libgpiod.so.3 (v2), then libgpiod.so.2 (v1);
/// otherwise exactly `path` (its API version is detected from its symbols). On failure returns
/// -ENOENT (no library found) or -ENOSYS (a needed function is missing) and writes the reason
/// (dlerror text or the missing symbol) into `error`.
int edge_gpiod_library_open(const char *path, edge_gpiod_library **out, char *error, size_t capacity);
/// 1 or 2.
int edge_gpiod_library_api(const edge_gpiod_library *library);
/// The library's own version string ("1.6.3", "2.2.1").
const char *edge_gpiod_library_version(const edge_gpiod_library *library);
/// The name or path the library was loaded from ("libgpiod.so.2").
const char *edge_gpiod_library_name(const edge_gpiod_library *library);
void edge_gpiod_library_close(edge_gpiod_library *library);

/// Writes the paths of `directory`'s gpiochipN entries, sorted by N, NUL-separated, into `buffer`.
/// Returns how many, or -errno (-ENOENT: no such directory, -ENOSPC: buffer too small).
int edge_gpiod_list_chip_paths(const char *directory, char *buffer, size_t capacity);

/// Opens the chip at `path` (e.g. /dev/gpiochip0) and reads its name, label and line count.
/// -ENOENT no such file, -EACCES no permission, -ENOTTY/-ENODEV not a GPIO chip.
int edge_gpiod_chip_open(const edge_gpiod_library *library, const char *path, edge_gpiod_chip **out);
const char *edge_gpiod_chip_name(const edge_gpiod_chip *chip);
const char *edge_gpiod_chip_label(const edge_gpiod_chip *chip);
unsigned int edge_gpiod_chip_num_lines(const edge_gpiod_chip *chip);
/// Copies the consumer name of the line (who holds it; "" when free or unnamed) into `buffer`.
int edge_gpiod_chip_line_consumer(edge_gpiod_chip *chip, unsigned int offset, char *buffer, size_t capacity);
/// Closes the chip. Requests made from it must be released first.
void edge_gpiod_chip_close(edge_gpiod_chip *chip);

/// Requests `count` lines as inputs (`output` 0) or outputs driven to `defaults` (logical 0/1, one per
/// line; may be NULL for inputs). `event_buffer_size` sizes the v2 kernel queue (0: default).
/// On failure returns -errno and sets `*failed_offset` to the line that failed.
int edge_gpiod_request_lines(edge_gpiod_chip *chip, const unsigned int *offsets, const int32_t *defaults,
                             size_t count, int output, uint32_t flags, const char *consumer,
                             size_t event_buffer_size, edge_gpiod_request **out, unsigned int *failed_offset);
/// Logical value (0 or 1) of a requested line, or -errno.
int edge_gpiod_request_get_value(edge_gpiod_request *request, unsigned int offset);
/// Logical values of all the request's lines (at most 64): bit i is offsets[i]. One
/// gpiod_line_request_get_values call (one ioctl) with v2; v1 requested the lines one by one, so it
/// reads them one by one. 0 or -errno.
int edge_gpiod_request_get_values(edge_gpiod_request *request, uint64_t *bits);
/// Sets the logical value of a requested output line; 0 or -errno.
int edge_gpiod_request_set_value(edge_gpiod_request *request, unsigned int offset, int value);
/// Waits up to `timeout_ns` (0 polls, negative waits forever) for a pending edge event (a request
/// without edge detection just sleeps the timeout):
/// 1 pending, 0 timed out, or -errno.
int edge_gpiod_request_wait(edge_gpiod_request *request, int64_t timeout_ns);
/// Moves pending events (never blocks) into `events`; returns how many, or -errno.
/// v1 reads line by line (each line in time order); v2 reads the request's one queue.
int edge_gpiod_request_read_events(edge_gpiod_request *request, edge_gpiod_event *events, size_t capacity);
/// Releases the lines (outputs keep their value) and frees the request.
void edge_gpiod_request_release(edge_gpiod_request *request);

#ifdef __cplusplus
}
#endif
#endif
