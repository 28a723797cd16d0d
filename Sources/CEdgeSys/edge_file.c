#define _GNU_SOURCE
#include "edge_file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int edge_file_open_read(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int edge_file_open_rw(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    return fd < 0 ? -errno : fd;
}

int edge_file_create(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    return fd < 0 ? -errno : fd;
}

int64_t edge_file_pread(int fd, void *buffer, size_t length, int64_t offset) {
    for (;;) {
        ssize_t n = pread(fd, buffer, length, (off_t)offset);
        if (n >= 0) return n;
        if (errno != EINTR) return -errno;
    }
}

int edge_file_write_all(int fd, const void *bytes, size_t length) {
    const char *p = bytes;
    while (length > 0) {
        ssize_t n = write(fd, p, length);
        if (n < 0) { if (errno == EINTR) continue; return -errno; }
        if (n == 0) return -EIO;
        p += n; length -= (size_t)n;
    }
    return 0;
}

int64_t edge_file_size(int fd) {
    struct stat st;
    return fstat(fd, &st) < 0 ? -errno : (int64_t)st.st_size;
}

int64_t edge_file_seek_end(int fd) {
    off_t o = lseek(fd, 0, SEEK_END);
    return o < 0 ? -errno : (int64_t)o;
}

int edge_file_truncate(int fd, int64_t length) {
    return ftruncate(fd, (off_t)length) < 0 ? -errno : 0;
}

int edge_file_sync(int fd) { return fsync(fd) < 0 ? -errno : 0; }

int edge_file_close(int fd) { return close(fd) < 0 ? -errno : 0; }

int edge_file_rename(const char *from, const char *to) { return rename(from, to) < 0 ? -errno : 0; }

int edge_dir_sync(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int edge_dir_create(const char *path) {
    char buffer[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buffer) return -ENAMETOOLONG;
    memcpy(buffer, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buffer[i] == '/' || buffer[i] == 0) {
            char saved = buffer[i];
            buffer[i] = 0;
            if (mkdir(buffer, 0755) < 0 && errno != EEXIST) return -errno;
            buffer[i] = saved;
        }
    }
    struct stat st;
    if (stat(path, &st) < 0) return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int edge_dir_make(const char *path) { return mkdir(path, 0755) < 0 ? -errno : 0; }

int edge_file_remove(const char *path) { return unlink(path) < 0 ? -errno : 0; }

void edge_strerror(int errnum, char *buffer, size_t capacity) {
    if (capacity == 0) return;
    const char *s = strerror(errnum);
    size_t n = strlen(s);
    if (n >= capacity) n = capacity - 1;
    memcpy(buffer, s, n);
    buffer[n] = 0;
}

const char *edge_getenv(const char *name) { return getenv(name); }
