// Real-time support for the control loop (DESIGN.md section 7): scheduling and memory locking, stop
// signals, threads for the learner, and a bridge to the optional allocation counter.
// Errors come back as errno values, unchanged.
#ifndef EDGE_RT_H
#define EDGE_RT_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A part of `edge_rt_enable` that was not asked for.
#define EDGE_RT_NOT_REQUESTED (-1)

/// What `edge_rt_enable` achieved, one field per part: 0 it worked, an errno value it was refused,
/// EDGE_RT_NOT_REQUESTED it was not asked for.
typedef struct edge_rt_status {
    int32_t scheduler;   ///< SCHED_FIFO at the requested priority, for the calling thread
    int32_t memory_lock; ///< mlockall(MCL_CURRENT | MCL_FUTURE), for the process
    int32_t affinity;    ///< the calling thread pinned to one CPU
    int32_t timer_slack; ///< prctl(PR_SET_TIMERSLACK) for the calling thread
} edge_rt_status;

/// Asks for real-time operation of the calling thread: SCHED_FIFO at `priority` (1-99; 0 or less: not
/// requested), every page of the process locked in RAM (`lock_memory` non-zero; the first 256 KB of
/// stack are touched so that the loop takes no page faults on it), the thread pinned to CPU `cpu`
/// (negative: not requested), and its timer slack set to `timer_slack_ns` (negative: not requested;
/// 0 restores the default). Linux lets a normal thread's timers fire up to 50 µs late by default, to
/// batch wake-ups; 1 ns asks for precise wake-ups and needs no privilege. Each part is tried even
/// when another one failed. Never blocks.
void edge_rt_enable(int32_t priority, int32_t cpu, int32_t lock_memory, int64_t timer_slack_ns,
                    edge_rt_status *status);

/// Online CPUs (sysconf(_SC_NPROCESSORS_ONLN)), at least 1.
int32_t edge_rt_cpu_count(void);

/// Installs handlers for SIGINT and SIGTERM that only record the signal in an atomic flag (async-signal
/// safe); the control loop polls it and puts the outputs in their safe state on the way out. A second
/// signal while the flag is set gets the default action (the process ends at once). 0 or an errno.
int32_t edge_rt_install_stop_handlers(void);
/// The signal number recorded by the handlers (or `edge_rt_request_stop`), 0 when none.
int32_t edge_rt_stop_signal(void);
/// Records `signal_number` as if it had arrived (tests, or a command that wants the loop to stop).
void edge_rt_request_stop(int32_t signal_number);
/// Clears the recorded signal.
void edge_rt_clear_stop(void);

/// A thread started by `edge_thread_start`, freed by `edge_thread_join`.
typedef struct edge_thread edge_thread;

/// Starts `body(context)` on a new thread with the normal time-sharing scheduler (SCHED_OTHER, never
/// inherited SCHED_FIFO) and, when `cpu` >= 0, pinned to that CPU. Returns 0 and the thread in `*out`,
/// or an errno value (EAGAIN: out of threads; EINVAL: no such CPU).
int32_t edge_thread_start(void *(*body)(void *), void *context, int32_t cpu, edge_thread **out);
/// Waits for the thread to return and frees it. 0 or an errno value.
int32_t edge_thread_join(edge_thread *thread);

/// Heap allocations made by the calling thread so far, when the CEdgeAllocCounter interposer is linked
/// into the program (a weak reference finds it); -1 when it is not.
int64_t edge_rt_thread_allocations(void);
/// Heap allocations of all threads so far, or -1 when the interposer is not linked.
int64_t edge_rt_process_allocations(void);

#ifdef __cplusplus
}
#endif
#endif
