// Real-time support for the control loop; see edge_rt.h.
#define _GNU_SOURCE
#include "edge_rt.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#if !defined(__APPLE__)
#include <sys/prctl.h>
#endif

// MARK: Scheduling, memory locking, affinity

#if !defined(__APPLE__)
static int32_t edge_rt_pin(pthread_t thread, int32_t cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(thread, sizeof set, &set);
}

// Touches 256 KB of stack below the caller so those pages are present (and, after mlockall, locked).
__attribute__((noinline)) static void edge_rt_prefault_stack(void) {
    volatile unsigned char pages[256 * 1024];
    for (size_t i = 0; i < sizeof pages; i += 4096) pages[i] = 0;
}
#endif

void edge_rt_enable(int32_t priority, int32_t cpu, int32_t lock_memory, int64_t timer_slack_ns,
                    edge_rt_status *status) {
    status->scheduler = EDGE_RT_NOT_REQUESTED;
    status->memory_lock = EDGE_RT_NOT_REQUESTED;
    status->affinity = EDGE_RT_NOT_REQUESTED;
    status->timer_slack = EDGE_RT_NOT_REQUESTED;
    if (priority > 0) {
        struct sched_param param;
        memset(&param, 0, sizeof param);
        param.sched_priority = priority;
        status->scheduler = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
    }
#if defined(__APPLE__)
    if (lock_memory) status->memory_lock = ENOTSUP;
    if (cpu >= 0) status->affinity = ENOTSUP;
    if (timer_slack_ns >= 0) status->timer_slack = ENOTSUP;
#else
    if (timer_slack_ns >= 0) {
        status->timer_slack = prctl(PR_SET_TIMERSLACK, (unsigned long)timer_slack_ns, 0, 0, 0) == 0 ? 0 : errno;
    }
    if (lock_memory) {
        status->memory_lock = mlockall(MCL_CURRENT | MCL_FUTURE) == 0 ? 0 : errno;
        if (status->memory_lock == 0) edge_rt_prefault_stack();
    }
    if (cpu >= 0) status->affinity = edge_rt_pin(pthread_self(), cpu);
#endif
}

int32_t edge_rt_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int32_t)n : 1;
}

// MARK: Stop signals

static atomic_int edge_rt_stop_flag;

static void edge_rt_on_stop_signal(int signal_number) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&edge_rt_stop_flag, &expected, signal_number)) {
        // Asked twice: the loop is not responding, so let the signal end the process.
        signal(signal_number, SIG_DFL);
        raise(signal_number);
    }
}

int32_t edge_rt_install_stop_handlers(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = edge_rt_on_stop_signal;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGINT, &action, NULL) != 0) return errno;
    if (sigaction(SIGTERM, &action, NULL) != 0) return errno;
    return 0;
}

int32_t edge_rt_stop_signal(void) { return atomic_load(&edge_rt_stop_flag); }
void edge_rt_request_stop(int32_t signal_number) { atomic_store(&edge_rt_stop_flag, signal_number); }
void edge_rt_clear_stop(void) { atomic_store(&edge_rt_stop_flag, 0); }

// MARK: Threads

struct edge_thread {
    pthread_t handle;
};

int32_t edge_thread_start(void *(*body)(void *), void *context, int32_t cpu, edge_thread **out) {
    edge_thread *thread = malloc(sizeof *thread);
    if (!thread) return ENOMEM;
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc != 0) { free(thread); return rc; }
    // The learner must never run at the control loop's real-time priority, whatever its creator has.
    struct sched_param param;
    memset(&param, 0, sizeof param);
    pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&attr, SCHED_OTHER);
    pthread_attr_setschedparam(&attr, &param);
#if !defined(__APPLE__)
    if (cpu >= 0) {
        if (cpu >= CPU_SETSIZE) { pthread_attr_destroy(&attr); free(thread); return EINVAL; }
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        rc = pthread_attr_setaffinity_np(&attr, sizeof set, &set);
        if (rc != 0) { pthread_attr_destroy(&attr); free(thread); return rc; }
    }
#else
    if (cpu >= 0) { pthread_attr_destroy(&attr); free(thread); return ENOTSUP; }
#endif
    rc = pthread_create(&thread->handle, &attr, body, context);
    pthread_attr_destroy(&attr);
    if (rc != 0) { free(thread); return rc; }
    *out = thread;
    return 0;
}

int32_t edge_thread_join(edge_thread *thread) {
    int rc = pthread_join(thread->handle, NULL);
    free(thread);
    return rc;
}

// MARK: Allocation counter bridge

#if defined(__APPLE__)
int64_t edge_rt_thread_allocations(void) { return -1; }
int64_t edge_rt_process_allocations(void) { return -1; }
#else
// Defined by the CEdgeAllocCounter target when it is linked in; null otherwise.
extern uint64_t edge_alloc_count(void) __attribute__((weak));
extern uint64_t edge_alloc_count_all_threads(void) __attribute__((weak));

int64_t edge_rt_thread_allocations(void) {
    return edge_alloc_count ? (int64_t)edge_alloc_count() : -1;
}

int64_t edge_rt_process_allocations(void) {
    return edge_alloc_count_all_threads ? (int64_t)edge_alloc_count_all_threads() : -1;
}
#endif
