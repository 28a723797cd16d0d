// sysfs helpers for finding a hardware PWM controller (/sys/class/pwm/pwmchipN/device -> ...NAME).
// Every function returns a non-negative value on success and -errno on failure.
#ifndef EDGE_SYSFS_H
#define EDGE_SYSFS_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The numbers N of the entries of `directory` named `prefix` followed by decimal digits only (e.g.
/// "pwmchip0", "pwmchip12"), sorted ascending, into `numbers` (at most `capacity`). Returns how many
/// were found (more than `capacity` are not reported), or -errno when the directory cannot be read.
int edge_sysfs_list_numbered(const char *directory, const char *prefix, int *numbers, int capacity);

/// readlink(2) of `path` into `buffer`, NUL-terminated. Returns the target's length, -errno, or
/// -ENAMETOOLONG when the target does not fit in `capacity` - 1 bytes.
int edge_sysfs_readlink(const char *path, char *buffer, size_t capacity);

#ifdef __cplusplus
}
#endif
#endif
