#define _GNU_SOURCE
#include "edge_sysfs.h"
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/// The number after `prefix` in `name`, or -1 when `name` is not `prefix` + digits.
static long edge_numbered_name(const char *name, const char *prefix) {
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0) return -1;
    const char *digits = name + n;
    if (*digits == 0 || strlen(digits) > 9) return -1;
    long value = 0;
    for (const char *p = digits; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        value = value * 10 + (*p - '0');
    }
    return value;
}

static int edge_compare_ints(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int edge_sysfs_list_numbered(const char *directory, const char *prefix, int *numbers, int capacity) {
    DIR *dir = opendir(directory);
    if (dir == NULL) return -errno;
    int count = 0;
    struct dirent *entry;
    errno = 0;
    while (count < capacity && (entry = readdir(dir)) != NULL) {
        long number = edge_numbered_name(entry->d_name, prefix);
        if (number >= 0) numbers[count++] = (int)number;
    }
    int error = errno;
    closedir(dir);
    if (error != 0 && count == 0) return -error;
    qsort(numbers, (size_t)count, sizeof numbers[0], edge_compare_ints);
    return count;
}

int edge_sysfs_readlink(const char *path, char *buffer, size_t capacity) {
    if (capacity == 0) return -ENAMETOOLONG;
    ssize_t n = readlink(path, buffer, capacity - 1);
    if (n < 0) return -errno;
    if ((size_t)n >= capacity - 1) return -ENAMETOOLONG;
    buffer[n] = 0;
    return (int)n;
}
