#define _GNU_SOURCE
#include "edge_plant.h"
#include "CEdgeSys.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -errno;
#if defined(__APPLE__) && defined(F_SETNOSIGPIPE)
    (void)fcntl(fd, F_SETNOSIGPIPE, 1);  // macOS: EPIPE instead of SIGPIPE, per descriptor
#endif
    return 0;
}

/// pipe(2) with both ends close-on-exec.
static int make_pipe(int ends[2]) {
#if defined(__APPLE__)
    if (pipe(ends) < 0) return -errno;
    if (fcntl(ends[0], F_SETFD, FD_CLOEXEC) < 0 || fcntl(ends[1], F_SETFD, FD_CLOEXEC) < 0) {
        int e = errno;
        close(ends[0]); close(ends[1]);
        ends[0] = ends[1] = -1;
        return -e;
    }
    return 0;
#else
    return pipe2(ends, O_CLOEXEC) < 0 ? -errno : 0;
#endif
}

static void close_if_open(int fd) { if (fd >= 0) close(fd); }

int32_t edge_plant_spawn(const char *command, int32_t *pid_out, int32_t *to_child, int32_t *from_child,
                         int32_t *child_stderr) {
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    int rc = make_pipe(in);
    if (rc == 0) rc = make_pipe(out);
    if (rc == 0) rc = make_pipe(err);
    if (rc != 0) {
        close_if_open(in[0]); close_if_open(in[1]); close_if_open(out[0]); close_if_open(out[1]);
        close_if_open(err[0]); close_if_open(err[1]);
        return rc;
    }

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawnattr_init(&attr);
    sigset_t empty, defaults;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    int reset[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++) sigaddset(&defaults, reset[i]);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    char *argv[] = {"sh", "-c", (char *)command, NULL};
    pid_t pid = -1;
    int spawn_error = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(in[0]); close(out[1]); close(err[1]);
    if (spawn_error != 0) {
        close(in[1]); close(out[0]); close(err[0]);
        return -spawn_error;
    }
    if ((rc = set_nonblocking(in[1])) != 0 || (rc = set_nonblocking(out[0])) != 0 ||
        (rc = set_nonblocking(err[0])) != 0) {
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(in[1]); close(out[0]); close(err[0]);
        return rc;
    }
    *pid_out = (int32_t)pid;
    *to_child = in[1];
    *from_child = out[0];
    *child_stderr = err[0];
    return 0;
}

int32_t edge_plant_connect_unix(const char *path) {
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    size_t length = strlen(path);
    if (length == 0 || length >= sizeof address.sun_path) return -ENAMETOOLONG;
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, path, length + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return -errno;
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) { int e = errno; close(fd); return -e; }
#if defined(__APPLE__) && defined(SO_NOSIGPIPE)
    int on = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#endif
    int rc;
    while ((rc = connect(fd, (const struct sockaddr *)&address, sizeof address)) < 0 && errno == EINTR) {}
    if (rc < 0) { int e = errno; close(fd); return -e; }
    if ((rc = set_nonblocking(fd)) != 0) { close(fd); return rc; }
    return fd;
}

/// Milliseconds for poll(2) until `deadline_ns` (rounded up so a wait never ends early); -1 for none.
static int poll_timeout_ms(int64_t deadline_ns) {
    if (deadline_ns < 0) return -1;
    int64_t left = deadline_ns - edge_monotonic_ns();
    if (left <= 0) return 0;
    int64_t ms = (left + 999999) / 1000000;
    return ms > 1000000000 ? 1000000000 : (int)ms;
}

int32_t edge_plant_poll_read(const int32_t *fds, int32_t count, int64_t timeout_ns, int16_t *ready) {
    struct pollfd entries[8];
    if (count < 0 || count > 8) return -EINVAL;
    for (int32_t i = 0; i < count; i++) {
        entries[i].fd = fds[i];
        entries[i].events = POLLIN;
        entries[i].revents = 0;
    }
    int64_t deadline = timeout_ns < 0 ? -1 : edge_monotonic_ns() + timeout_ns;
    for (;;) {
        int n = poll(entries, (nfds_t)count, poll_timeout_ms(deadline));
        if (n >= 0) {
            for (int32_t i = 0; i < count; i++) ready[i] = entries[i].revents;
            return n;
        }
        if (errno != EINTR) return -errno;
    }
}

int64_t edge_plant_read(int32_t fd, void *buffer, size_t length) {
    for (;;) {
        ssize_t n = read(fd, buffer, length);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

static int32_t write_all_until(int32_t fd, const char *bytes, size_t length, int64_t deadline) {
    while (length > 0) {
        ssize_t n = write(fd, bytes, length);
        if (n > 0) { bytes += n; length -= (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -errno;
        struct pollfd entry = {.fd = fd, .events = POLLOUT, .revents = 0};
        int timeout = poll_timeout_ms(deadline);
        if (timeout == 0) return -ETIMEDOUT;
        int r = poll(&entry, 1, timeout);
        if (r < 0 && errno != EINTR) return -errno;
        if (r == 0) return -ETIMEDOUT;
        if (r > 0 && (entry.revents & (POLLERR | POLLHUP)) && !(entry.revents & POLLOUT)) return -EPIPE;
    }
    return 0;
}

int32_t edge_plant_write_all(int32_t fd, const void *bytes, size_t length, int64_t timeout_ns) {
    int64_t deadline = timeout_ns < 0 ? -1 : edge_monotonic_ns() + timeout_ns;
#if defined(__APPLE__)
    return write_all_until(fd, bytes, length, deadline);  // the descriptor has F_SETNOSIGPIPE / SO_NOSIGPIPE
#else
    // Block SIGPIPE in this thread for the write; if the write raised one, take it off the pending set
    // (unless one was pending before) before unblocking, so it is never delivered.
    sigset_t pipe_only, previous, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigemptyset(&pending);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
    int32_t rc = write_all_until(fd, bytes, length, deadline);
    if (rc == -EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_only, NULL, &zero) < 0 && errno == EINTR) {}
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    return rc;
#endif
}

int32_t edge_plant_wait(int32_t pid, int64_t timeout_ns, edge_plant_exit *status) {
    status->exited = 0;
    status->exit_code = -1;
    status->signal = 0;
    int64_t deadline = edge_monotonic_ns() + (timeout_ns > 0 ? timeout_ns : 0);
    for (;;) {
        int raw = 0;
        pid_t r = waitpid((pid_t)pid, &raw, WNOHANG);
        if (r == (pid_t)pid) {
            status->exited = 1;
            if (WIFEXITED(raw)) status->exit_code = WEXITSTATUS(raw);
            if (WIFSIGNALED(raw)) status->signal = WTERMSIG(raw);
            return 0;
        }
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (edge_monotonic_ns() >= deadline) return 0;
        struct timespec pause = {0, 1000000};  // 1 ms
        nanosleep(&pause, NULL);
    }
}

int32_t edge_plant_signal(int32_t pid, int32_t signal_number) {
    if (kill(-(pid_t)pid, signal_number) == 0) return 0;
    if (errno == ESRCH && kill((pid_t)pid, signal_number) == 0) return 0;
    return -errno;
}

int32_t edge_plant_terminate(int32_t pid, int64_t grace_ns, edge_plant_exit *status) {
    int32_t rc = edge_plant_wait(pid, 0, status);
    if (rc != 0 || status->exited) return rc;
    edge_plant_signal(pid, SIGTERM);
    rc = edge_plant_wait(pid, grace_ns, status);
    if (rc != 0 || status->exited) return rc;
    edge_plant_signal(pid, SIGKILL);
    return edge_plant_wait(pid, 5000000000LL, status);
}

int32_t edge_parse_double(const char *text, size_t length, double *value) {
    char buffer[64];
    if (length == 0 || length >= sizeof buffer) return 0;
    memcpy(buffer, text, length);
    buffer[length] = 0;
    for (size_t i = 0; i < length; i++) {
        char c = buffer[i];
        if (c == 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return 0;
    }
    char *end = NULL;
    double parsed = strtod(buffer, &end);
    if (end != buffer + length) return 0;
    *value = parsed;
    return 1;
}
