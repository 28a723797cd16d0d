// File primitives for crash-safe persistence (append-only logs, atomic checkpoints).
// Every function returns 0 (or a non-negative value) on success and -errno on failure.
#ifndef EDGE_FILE_H
#define EDGE_FILE_H
#include <stddef.h>
#include <stdint.h>

/// Opens `path` for reading. Returns a file descriptor or -errno.
int edge_file_open_read(const char *path);
/// Opens (creating with mode 0644 if needed) `path` for reading and writing. Returns an fd or -errno.
int edge_file_open_rw(const char *path);
/// Creates or truncates `path` (mode 0600) for writing. Returns an fd or -errno.
int edge_file_create(const char *path);
/// Reads up to `length` bytes at `offset`. Returns bytes read (0 at end of file) or -errno.
int64_t edge_file_pread(int fd, void *buffer, size_t length, int64_t offset);
/// Writes all `length` bytes at the current position (retrying short writes and EINTR). 0 or -errno.
int edge_file_write_all(int fd, const void *bytes, size_t length);
/// Size of the open file in bytes, or -errno.
int64_t edge_file_size(int fd);
/// Moves the position to the end of the file. Returns the new offset or -errno.
int64_t edge_file_seek_end(int fd);
/// Truncates the open file to `length` bytes. 0 or -errno.
int edge_file_truncate(int fd, int64_t length);
/// fsync(2). 0 or -errno.
int edge_file_sync(int fd);
/// close(2). 0 or -errno.
int edge_file_close(int fd);
/// rename(2). 0 or -errno.
int edge_file_rename(const char *from, const char *to);
/// Opens the directory `path` and fsyncs it, so a rename inside it is durable. 0 or -errno.
int edge_dir_sync(const char *path);
/// Creates the directory `path` (mode 0755) and its missing parents. 0 or -errno.
int edge_dir_create(const char *path);
/// Creates the one directory `path` (mode 0755), its parent must exist. 0, -EEXIST if it exists, or -errno.
/// Two processes racing for the same name: exactly one gets 0.
int edge_dir_make(const char *path);
/// Removes a file. 0 or -errno.
int edge_file_remove(const char *path);
/// strerror(errnum) copied into `buffer` (NUL-terminated).
void edge_strerror(int errnum, char *buffer, size_t capacity);
/// Value of the environment variable `name`, or NULL.
const char *edge_getenv(const char *name);

#endif
