// An external plant over a pipe or a Unix socket (README "Bring your own simulator"): start a plant
// process with its standard streams on pipes, or connect to a plant listening on a Unix socket; wait for
// input with a timeout (poll), read and write without ever blocking past a deadline or dying of SIGPIPE,
// reap the child and tell how it ended.
//
// Conventions: functions return 0 (or a non-negative count) on success and -errno on failure, errno
// unchanged. File descriptors are owned by the caller and closed with edge_file_close.
#ifndef EDGE_PLANT_H
#define EDGE_PLANT_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Starts `/bin/sh -c command` in its own process group (so a Ctrl-C in the terminal reaches edge-ctl,
/// which then ends the plant, not the plant first), with its standard input, output and error on three
/// new pipes, an empty signal mask and default signal actions. Descriptors this process opens are
/// close-on-exec (the shim's files and these pipes), so the plant inherits none of them. Writes the
/// child's pid and this process's ends of the pipes (close-on-exec, non-blocking) to the out parameters.
/// 0 or -errno (a command that does not exist still starts: the shell then exits with 127).
int32_t edge_plant_spawn(const char *command, int32_t *pid, int32_t *to_child, int32_t *from_child,
                         int32_t *child_stderr);

/// Connects a stream socket to the Unix socket at `path` (close-on-exec, non-blocking). Returns the
/// descriptor or -errno (-ENAMETOOLONG when the path does not fit a sockaddr_un).
int32_t edge_plant_connect_unix(const char *path);

/// Waits until one of the `count` descriptors is readable, at end of file or in error, or until
/// `timeout_ns` passed (negative: forever). Writes each descriptor's poll(2) revents to `ready`.
/// Returns how many are ready (0 on timeout) or -errno; EINTR restarts with the remaining time.
int32_t edge_plant_poll_read(const int32_t *fds, int32_t count, int64_t timeout_ns, int16_t *ready);

/// Reads what is there, up to `length` bytes, without blocking: the count, 0 at end of file,
/// -EAGAIN when nothing is there yet, or another -errno.
int64_t edge_plant_read(int32_t fd, void *buffer, size_t length);

/// Writes all `length` bytes, waiting at most `timeout_ns` in total for room in the pipe or socket.
/// A reader that went away gives -EPIPE (SIGPIPE is blocked in the calling thread during the write and
/// a SIGPIPE it raised is consumed, so the process never dies of it); -ETIMEDOUT when the peer does not
/// read in time.
int32_t edge_plant_write_all(int32_t fd, const void *bytes, size_t length, int64_t timeout_ns);

/// How a child ended, from edge_plant_wait.
typedef struct edge_plant_exit {
    int32_t exited;      ///< 1 once the child was reaped, 0 while it still runs
    int32_t exit_code;   ///< exit status when it exited normally, else -1
    int32_t signal;      ///< the signal that ended it, else 0
} edge_plant_exit;

/// Waits up to `timeout_ns` (0: just looks) for the child `pid` to end and reaps it. 0 (look at
/// `status->exited`) or -errno (-ECHILD: not a child, or reaped already).
int32_t edge_plant_wait(int32_t pid, int64_t timeout_ns, edge_plant_exit *status);

/// Sends `signal` to the child's whole process group (the shell and what it started). 0 or -errno.
int32_t edge_plant_signal(int32_t pid, int32_t signal);

/// Ends the child `pid` that did not leave on its own: SIGTERM to its process group, up to `grace_ns`
/// to exit, then SIGKILL, and reaps it. Writes how it ended to `status`. 0 or -errno.
int32_t edge_plant_terminate(int32_t pid, int64_t grace_ns, edge_plant_exit *status);

/// Parses all `length` bytes of `text` as one decimal floating-point number with strtod in the C locale
/// ("-0.25", "1e-05", "3", also "nan" and "inf", which the caller rejects). Returns 1 and the value, or
/// 0 when the bytes are not exactly one number (empty, trailing characters, longer than 63 bytes).
int32_t edge_parse_double(const char *text, size_t length, double *value);

#ifdef __cplusplus
}
#endif
#endif
