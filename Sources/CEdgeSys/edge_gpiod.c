// libgpiod v1/v2 through dlopen (see edge_gpiod.h for the contract).
//
// The functions used from each API version are listed once, in EDGE_GPIOD_V1 / EDGE_GPIOD_V2 below,
// with the C signature written from the libgpiod headers' documented API. Those lists produce the
// function-pointer fields, the dlsym table and, when compiled with -DEDGE_CHECK_GPIOD_HEADER against a
// real <gpiod.h>, static assertions that each signature, struct layout and constant matches the header
// (a v1 header checks the v1 list, a v2 header the v2 list). Tests/EdgeIOTests runs that check.
#define _GNU_SOURCE
#include "edge_gpiod.h"
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef EDGE_CHECK_GPIOD_HEADER
#include <gpiod.h>
#ifdef GPIOD_BIT // only the v1 header defines it
#define EDGE_CHECKING_V1 1
#else
#define EDGE_CHECKING_V2 1
#endif
#endif

struct gpiod_chip;
struct gpiod_line;
struct gpiod_chip_info;
struct gpiod_line_info;
struct gpiod_line_settings;
struct gpiod_line_config;
struct gpiod_request_config;
struct gpiod_line_request;
struct gpiod_edge_event;
struct gpiod_edge_event_buffer;

// The two v1 structs passed by pointer. Declared here unless the v1 header is being checked, in which
// case the header's are used and a copy of these fields is compared with them below.
#define EDGE_V1_REQUEST_CONFIG_FIELDS const char *consumer; int request_type; int flags;
#define EDGE_V1_LINE_EVENT_FIELDS struct timespec ts; int event_type;
#ifndef EDGE_CHECKING_V1
struct gpiod_line_request_config { EDGE_V1_REQUEST_CONFIG_FIELDS };
struct gpiod_line_event { EDGE_V1_LINE_EVENT_FIELDS };
#endif

// v1 constants (anonymous enums in gpiod.h 1.6).
enum {
    EDGE_V1_REQUEST_DIRECTION_INPUT = 2,
    EDGE_V1_REQUEST_DIRECTION_OUTPUT = 3,
    EDGE_V1_REQUEST_EVENT_FALLING_EDGE = 4,
    EDGE_V1_REQUEST_EVENT_RISING_EDGE = 5,
    EDGE_V1_REQUEST_EVENT_BOTH_EDGES = 6,
    EDGE_V1_FLAG_OPEN_DRAIN = 1 << 0,
    EDGE_V1_FLAG_OPEN_SOURCE = 1 << 1,
    EDGE_V1_FLAG_ACTIVE_LOW = 1 << 2,
    EDGE_V1_FLAG_BIAS_DISABLE = 1 << 3,
    EDGE_V1_FLAG_BIAS_PULL_DOWN = 1 << 4,
    EDGE_V1_FLAG_BIAS_PULL_UP = 1 << 5,
    EDGE_V1_EVENT_RISING_EDGE = 1,
};

// v2 constants (named enums in gpiod.h 2.x; an enum without negative values is passed as unsigned int,
// enum gpiod_line_value, which has -1, as int).
enum {
    EDGE_V2_DIRECTION_INPUT = 2,
    EDGE_V2_DIRECTION_OUTPUT = 3,
    EDGE_V2_EDGE_NONE = 1,
    EDGE_V2_EDGE_RISING = 2,
    EDGE_V2_EDGE_FALLING = 3,
    EDGE_V2_EDGE_BOTH = 4,
    EDGE_V2_BIAS_DISABLED = 3,
    EDGE_V2_BIAS_PULL_UP = 4,
    EDGE_V2_BIAS_PULL_DOWN = 5,
    EDGE_V2_DRIVE_PUSH_PULL = 1,
    EDGE_V2_DRIVE_OPEN_DRAIN = 2,
    EDGE_V2_DRIVE_OPEN_SOURCE = 3,
    EDGE_V2_EDGE_EVENT_RISING = 1,
};

// X(name without the gpiod_ prefix, return type, parameter list)
#define EDGE_GPIOD_V1(X)                                                                            \
    X(chip_open, struct gpiod_chip *, (const char *path))                                           \
    X(chip_close, void, (struct gpiod_chip *chip))                                                  \
    X(chip_name, const char *, (struct gpiod_chip *chip))                                           \
    X(chip_label, const char *, (struct gpiod_chip *chip))                                          \
    X(chip_num_lines, unsigned int, (struct gpiod_chip *chip))                                      \
    X(chip_get_line, struct gpiod_line *, (struct gpiod_chip *chip, unsigned int offset))           \
    X(line_update, int, (struct gpiod_line *line))                                                  \
    X(line_consumer, const char *, (struct gpiod_line *line))                                       \
    X(line_request, int, (struct gpiod_line *line, const struct gpiod_line_request_config *config,  \
                          int default_val))                                                         \
    X(line_release, void, (struct gpiod_line *line))                                                \
    X(line_get_value, int, (struct gpiod_line *line))                                               \
    X(line_set_value, int, (struct gpiod_line *line, int value))                                    \
    X(line_event_get_fd, int, (struct gpiod_line *line))                                            \
    X(line_event_read_multiple, int, (struct gpiod_line *line, struct gpiod_line_event *events,     \
                                      unsigned int num_events))                                     \
    X(version_string, const char *, (void))

#define EDGE_GPIOD_V2(X)                                                                            \
    X(chip_open, struct gpiod_chip *, (const char *path))                                           \
    X(chip_close, void, (struct gpiod_chip *chip))                                                  \
    X(chip_get_info, struct gpiod_chip_info *, (struct gpiod_chip *chip))                           \
    X(chip_info_free, void, (struct gpiod_chip_info *info))                                         \
    X(chip_info_get_name, const char *, (struct gpiod_chip_info *info))                             \
    X(chip_info_get_label, const char *, (struct gpiod_chip_info *info))                            \
    X(chip_info_get_num_lines, size_t, (struct gpiod_chip_info *info))                              \
    X(chip_get_line_info, struct gpiod_line_info *, (struct gpiod_chip *chip, unsigned int offset)) \
    X(line_info_free, void, (struct gpiod_line_info *info))                                         \
    X(line_info_get_consumer, const char *, (struct gpiod_line_info *info))                         \
    X(line_info_is_used, bool, (struct gpiod_line_info *info))                                      \
    X(line_settings_new, struct gpiod_line_settings *, (void))                                      \
    X(line_settings_free, void, (struct gpiod_line_settings *settings))                             \
    X(line_settings_set_direction, int, (struct gpiod_line_settings *settings, unsigned int value)) \
    X(line_settings_set_edge_detection, int, (struct gpiod_line_settings *settings,                 \
                                              unsigned int value))                                  \
    X(line_settings_set_bias, int, (struct gpiod_line_settings *settings, unsigned int value))      \
    X(line_settings_set_drive, int, (struct gpiod_line_settings *settings, unsigned int value))     \
    X(line_settings_set_active_low, void, (struct gpiod_line_settings *settings, bool active_low))  \
    X(line_settings_set_output_value, int, (struct gpiod_line_settings *settings, int value))       \
    X(line_config_new, struct gpiod_line_config *, (void))                                          \
    X(line_config_free, void, (struct gpiod_line_config *config))                                   \
    X(line_config_add_line_settings, int, (struct gpiod_line_config *config,                        \
                                           const unsigned int *offsets, size_t num_offsets,         \
                                           struct gpiod_line_settings *settings))                   \
    X(request_config_new, struct gpiod_request_config *, (void))                                    \
    X(request_config_free, void, (struct gpiod_request_config *config))                             \
    X(request_config_set_consumer, void, (struct gpiod_request_config *config, const char *name))   \
    X(request_config_set_event_buffer_size, void, (struct gpiod_request_config *config,             \
                                                   size_t size))                                    \
    X(chip_request_lines, struct gpiod_line_request *, (struct gpiod_chip *chip,                    \
                                                        struct gpiod_request_config *req_cfg,       \
                                                        struct gpiod_line_config *line_cfg))        \
    X(line_request_release, void, (struct gpiod_line_request *request))                             \
    X(line_request_get_value, int, (struct gpiod_line_request *request, unsigned int offset))       \
    X(line_request_get_values, int, (struct gpiod_line_request *request, int *values))              \
    X(line_request_set_value, int, (struct gpiod_line_request *request, unsigned int offset,        \
                                    int value))                                                     \
    X(line_request_get_fd, int, (struct gpiod_line_request *request))                               \
    X(line_request_read_edge_events, int, (struct gpiod_line_request *request,                      \
                                           struct gpiod_edge_event_buffer *buffer,                  \
                                           size_t max_events))                                      \
    X(edge_event_buffer_new, struct gpiod_edge_event_buffer *, (size_t capacity))                   \
    X(edge_event_buffer_free, void, (struct gpiod_edge_event_buffer *buffer))                       \
    X(edge_event_buffer_get_event, struct gpiod_edge_event *, (struct gpiod_edge_event_buffer *buf, \
                                                               unsigned long index))                \
    X(edge_event_get_event_type, unsigned int, (struct gpiod_edge_event *event))                    \
    X(edge_event_get_timestamp_ns, uint64_t, (struct gpiod_edge_event *event))                      \
    X(edge_event_get_line_offset, unsigned int, (struct gpiod_edge_event *event))                   \
    X(edge_event_get_line_seqno, unsigned long, (struct gpiod_edge_event *event))                   \
    X(edge_event_get_global_seqno, unsigned long, (struct gpiod_edge_event *event))                 \
    X(api_version, const char *, (void))

#define EDGE_FIELD(name, result, parameters) result (*name) parameters;

struct edge_gpiod_library {
    void *handle;
    int api;
    char name[256];
    struct { EDGE_GPIOD_V1(EDGE_FIELD) } v1;
    struct { EDGE_GPIOD_V2(EDGE_FIELD) } v2;
};

#ifdef EDGE_CHECK_GPIOD_HEADER
#define EDGE_CHECK_SIGNATURE(api, name)                                                               \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&gpiod_##name),                           \
                                                __typeof__(((struct edge_gpiod_library *)0)->api.name)), \
                   "gpiod_" #name ": the signature in edge_gpiod.c does not match gpiod.h");
// Compares enumerators of different enum types without -Wenum-compare noise.
#define EDGE_SAME(a, b) ((int)(a) == (int)(b))
#ifdef EDGE_CHECKING_V1
#define EDGE_CHECK_V1(name, result, parameters) EDGE_CHECK_SIGNATURE(v1, name)
EDGE_GPIOD_V1(EDGE_CHECK_V1)
struct edge_v1_request_config_copy { EDGE_V1_REQUEST_CONFIG_FIELDS };
struct edge_v1_line_event_copy { EDGE_V1_LINE_EVENT_FIELDS };
_Static_assert(sizeof(struct gpiod_line_request_config) == sizeof(struct edge_v1_request_config_copy) &&
               offsetof(struct gpiod_line_request_config, request_type) ==
                   offsetof(struct edge_v1_request_config_copy, request_type) &&
               offsetof(struct gpiod_line_request_config, flags) == offsetof(struct edge_v1_request_config_copy, flags),
               "struct gpiod_line_request_config layout differs from gpiod.h");
_Static_assert(sizeof(struct gpiod_line_event) == sizeof(struct edge_v1_line_event_copy) &&
               offsetof(struct gpiod_line_event, event_type) == offsetof(struct edge_v1_line_event_copy, event_type),
               "struct gpiod_line_event layout differs from gpiod.h");
_Static_assert(EDGE_SAME(EDGE_V1_REQUEST_DIRECTION_INPUT, GPIOD_LINE_REQUEST_DIRECTION_INPUT) &&
               EDGE_SAME(EDGE_V1_REQUEST_DIRECTION_OUTPUT, GPIOD_LINE_REQUEST_DIRECTION_OUTPUT) &&
               EDGE_SAME(EDGE_V1_REQUEST_EVENT_FALLING_EDGE, GPIOD_LINE_REQUEST_EVENT_FALLING_EDGE) &&
               EDGE_SAME(EDGE_V1_REQUEST_EVENT_RISING_EDGE, GPIOD_LINE_REQUEST_EVENT_RISING_EDGE) &&
               EDGE_SAME(EDGE_V1_REQUEST_EVENT_BOTH_EDGES, GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES),
               "v1 request types differ from gpiod.h");
_Static_assert(EDGE_SAME(EDGE_V1_FLAG_OPEN_DRAIN, GPIOD_LINE_REQUEST_FLAG_OPEN_DRAIN) &&
               EDGE_SAME(EDGE_V1_FLAG_OPEN_SOURCE, GPIOD_LINE_REQUEST_FLAG_OPEN_SOURCE) &&
               EDGE_SAME(EDGE_V1_FLAG_ACTIVE_LOW, GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) &&
               EDGE_SAME(EDGE_V1_FLAG_BIAS_DISABLE, GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE) &&
               EDGE_SAME(EDGE_V1_FLAG_BIAS_PULL_DOWN, GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN) &&
               EDGE_SAME(EDGE_V1_FLAG_BIAS_PULL_UP, GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP),
               "v1 request flags differ from gpiod.h");
_Static_assert(EDGE_SAME(EDGE_V1_EVENT_RISING_EDGE, GPIOD_LINE_EVENT_RISING_EDGE), "v1 event types differ from gpiod.h");
#else
#define EDGE_CHECK_V2(name, result, parameters) EDGE_CHECK_SIGNATURE(v2, name)
EDGE_GPIOD_V2(EDGE_CHECK_V2)
_Static_assert(EDGE_SAME(EDGE_V2_DIRECTION_INPUT, GPIOD_LINE_DIRECTION_INPUT) &&
               EDGE_SAME(EDGE_V2_DIRECTION_OUTPUT, GPIOD_LINE_DIRECTION_OUTPUT) &&
               EDGE_SAME(EDGE_V2_EDGE_NONE, GPIOD_LINE_EDGE_NONE) && EDGE_SAME(EDGE_V2_EDGE_RISING, GPIOD_LINE_EDGE_RISING) &&
               EDGE_SAME(EDGE_V2_EDGE_FALLING, GPIOD_LINE_EDGE_FALLING) && EDGE_SAME(EDGE_V2_EDGE_BOTH, GPIOD_LINE_EDGE_BOTH) &&
               EDGE_SAME(EDGE_V2_BIAS_DISABLED, GPIOD_LINE_BIAS_DISABLED) &&
               EDGE_SAME(EDGE_V2_BIAS_PULL_UP, GPIOD_LINE_BIAS_PULL_UP) &&
               EDGE_SAME(EDGE_V2_BIAS_PULL_DOWN, GPIOD_LINE_BIAS_PULL_DOWN) &&
               EDGE_SAME(EDGE_V2_DRIVE_PUSH_PULL, GPIOD_LINE_DRIVE_PUSH_PULL) &&
               EDGE_SAME(EDGE_V2_DRIVE_OPEN_DRAIN, GPIOD_LINE_DRIVE_OPEN_DRAIN) &&
               EDGE_SAME(EDGE_V2_DRIVE_OPEN_SOURCE, GPIOD_LINE_DRIVE_OPEN_SOURCE) &&
               EDGE_SAME(EDGE_V2_EDGE_EVENT_RISING, GPIOD_EDGE_EVENT_RISING_EDGE) &&
               EDGE_SAME(GPIOD_LINE_VALUE_ACTIVE, 1) && EDGE_SAME(GPIOD_LINE_VALUE_INACTIVE, 0),
               "v2 enum values differ from gpiod.h");
#endif
#endif

// MARK: Library

typedef struct edge_gpiod_symbol {
    const char *name;
    size_t offset;
} edge_gpiod_symbol;

#define EDGE_SYMBOL_V1(name, result, parameters) { "gpiod_" #name, offsetof(struct edge_gpiod_library, v1.name) },
#define EDGE_SYMBOL_V2(name, result, parameters) { "gpiod_" #name, offsetof(struct edge_gpiod_library, v2.name) },
static const edge_gpiod_symbol edge_gpiod_v1_symbols[] = { EDGE_GPIOD_V1(EDGE_SYMBOL_V1) };
static const edge_gpiod_symbol edge_gpiod_v2_symbols[] = { EDGE_GPIOD_V2(EDGE_SYMBOL_V2) };

/// Resolves every symbol of one API version into the library's fields; -ENOSYS names the first missing one.
static int edge_gpiod_resolve(edge_gpiod_library *library, const edge_gpiod_symbol *symbols, size_t count,
                              char *error, size_t capacity) {
    for (size_t i = 0; i < count; i++) {
        void *address = dlsym(library->handle, symbols[i].name);
        if (address == NULL) {
            snprintf(error, capacity, "%s has no %s", library->name, symbols[i].name);
            return -ENOSYS;
        }
        memcpy((char *)library + symbols[i].offset, &address, sizeof address);
    }
    return 0;
}

/// dlopen `name` and detect the API from its symbols. 0, -ENOENT or -ENOSYS.
static int edge_gpiod_load(const char *name, edge_gpiod_library **out, char *error, size_t capacity) {
    void *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *reason = dlerror();
        snprintf(error, capacity, "%s", reason ? reason : name);
        return -ENOENT;
    }
    edge_gpiod_library *library = calloc(1, sizeof *library);
    if (library == NULL) { dlclose(handle); return -ENOMEM; }
    library->handle = handle;
    snprintf(library->name, sizeof library->name, "%s", name);
    int rc;
    if (dlsym(handle, "gpiod_line_settings_new") != NULL) {
        library->api = 2;
        rc = edge_gpiod_resolve(library, edge_gpiod_v2_symbols,
                                sizeof edge_gpiod_v2_symbols / sizeof edge_gpiod_v2_symbols[0], error, capacity);
    } else if (dlsym(handle, "gpiod_line_request") != NULL) {
        library->api = 1;
        rc = edge_gpiod_resolve(library, edge_gpiod_v1_symbols,
                                sizeof edge_gpiod_v1_symbols / sizeof edge_gpiod_v1_symbols[0], error, capacity);
    } else {
        snprintf(error, capacity, "%s is not libgpiod (no gpiod_line_request or gpiod_line_settings_new)", name);
        rc = -ENOSYS;
    }
    if (rc != 0) { edge_gpiod_library_close(library); return rc; }
    *out = library;
    return 0;
}

int edge_gpiod_library_open(const char *path, edge_gpiod_library **out, char *error, size_t capacity) {
    *out = NULL;
    if (capacity > 0) error[0] = 0;
    if (path == NULL) path = getenv("EDGE_LIBGPIOD");
    if (path != NULL && path[0] != 0) return edge_gpiod_load(path, out, error, capacity);
    int rc = edge_gpiod_load("libgpiod.so.3", out, error, capacity);
    if (rc == -ENOENT) rc = edge_gpiod_load("libgpiod.so.2", out, error, capacity);
    if (rc == -ENOENT) snprintf(error, capacity, "neither libgpiod.so.3 nor libgpiod.so.2 is installed");
    if (rc == 0 && capacity > 0) error[0] = 0;
    return rc;
}

int edge_gpiod_library_api(const edge_gpiod_library *library) { return library->api; }

const char *edge_gpiod_library_version(const edge_gpiod_library *library) {
    return library->api == 2 ? library->v2.api_version() : library->v1.version_string();
}

const char *edge_gpiod_library_name(const edge_gpiod_library *library) { return library->name; }

void edge_gpiod_library_close(edge_gpiod_library *library) {
    if (library == NULL) return;
    dlclose(library->handle);
    free(library);
}

// MARK: Chips

static int edge_compare_unsigned(const void *a, const void *b) {
    unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;
    return (x > y) - (x < y);
}

/// The N of "gpiochipN", or -1 for any other name.
static long edge_gpiochip_number(const char *name) {
    if (strncmp(name, "gpiochip", 8) != 0 || name[8] == 0) return -1;
    long number = 0;
    for (const char *c = name + 8; *c; c++) {
        if (*c < '0' || *c > '9' || number > 100000) return -1;
        number = number * 10 + (*c - '0');
    }
    return number;
}

int edge_gpiod_list_chip_paths(const char *directory, char *buffer, size_t capacity) {
    DIR *dir = opendir(directory);
    if (dir == NULL) return -errno;
    unsigned int numbers[256];
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && count < sizeof numbers / sizeof numbers[0]) {
        long number = edge_gpiochip_number(entry->d_name);
        if (number >= 0) numbers[count++] = (unsigned int)number;
    }
    closedir(dir);
    qsort(numbers, count, sizeof numbers[0], edge_compare_unsigned);
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        int n = snprintf(buffer + used, capacity - used, "%s/gpiochip%u", directory, numbers[i]);
        if (n < 0 || used + (size_t)n + 1 > capacity) return -ENOSPC;
        used += (size_t)n + 1;
    }
    return (int)count;
}

struct edge_gpiod_chip {
    const edge_gpiod_library *library;
    struct gpiod_chip *chip;
    char name[64];
    char label[64];
    unsigned int num_lines;
};

int edge_gpiod_chip_open(const edge_gpiod_library *library, const char *path, edge_gpiod_chip **out) {
    *out = NULL;
    edge_gpiod_chip *chip = calloc(1, sizeof *chip);
    if (chip == NULL) return -ENOMEM;
    chip->library = library;
    if (library->api == 2) {
        chip->chip = library->v2.chip_open(path);
        if (chip->chip == NULL) { int error = errno; free(chip); return -error; }
        struct gpiod_chip_info *info = library->v2.chip_get_info(chip->chip);
        if (info == NULL) { int error = errno; edge_gpiod_chip_close(chip); return -error; }
        snprintf(chip->name, sizeof chip->name, "%s", library->v2.chip_info_get_name(info));
        snprintf(chip->label, sizeof chip->label, "%s", library->v2.chip_info_get_label(info));
        chip->num_lines = (unsigned int)library->v2.chip_info_get_num_lines(info);
        library->v2.chip_info_free(info);
    } else {
        chip->chip = library->v1.chip_open(path);
        if (chip->chip == NULL) { int error = errno; free(chip); return -error; }
        snprintf(chip->name, sizeof chip->name, "%s", library->v1.chip_name(chip->chip));
        snprintf(chip->label, sizeof chip->label, "%s", library->v1.chip_label(chip->chip));
        chip->num_lines = library->v1.chip_num_lines(chip->chip);
    }
    *out = chip;
    return 0;
}

const char *edge_gpiod_chip_name(const edge_gpiod_chip *chip) { return chip->name; }
const char *edge_gpiod_chip_label(const edge_gpiod_chip *chip) { return chip->label; }
unsigned int edge_gpiod_chip_num_lines(const edge_gpiod_chip *chip) { return chip->num_lines; }

int edge_gpiod_chip_line_consumer(edge_gpiod_chip *chip, unsigned int offset, char *buffer, size_t capacity) {
    const edge_gpiod_library *library = chip->library;
    if (capacity == 0) return -ENOSPC;
    buffer[0] = 0;
    if (library->api == 2) {
        struct gpiod_line_info *info = library->v2.chip_get_line_info(chip->chip, offset);
        if (info == NULL) return -errno;
        const char *consumer = library->v2.line_info_get_consumer(info);
        snprintf(buffer, capacity, "%s", consumer ? consumer : "");
        library->v2.line_info_free(info);
    } else {
        struct gpiod_line *line = library->v1.chip_get_line(chip->chip, offset);
        if (line == NULL || library->v1.line_update(line) != 0) return -errno;
        const char *consumer = library->v1.line_consumer(line);
        snprintf(buffer, capacity, "%s", consumer ? consumer : "");
    }
    return 0;
}

void edge_gpiod_chip_close(edge_gpiod_chip *chip) {
    if (chip == NULL) return;
    if (chip->library->api == 2) chip->library->v2.chip_close(chip->chip);
    else chip->library->v1.chip_close(chip->chip);
    free(chip);
}

// MARK: Requests

enum { EDGE_V1_EVENT_BATCH = 16, EDGE_V2_EVENT_BATCH = 64 };
// The kernel's limit on lines per request (GPIO_V2_LINES_MAX, GPIOHANDLES_MAX); Swift's maxLinesPerRequest.
enum { EDGE_MAX_REQUEST_LINES = 64 };

struct edge_gpiod_request {
    const edge_gpiod_library *library;
    size_t count;
    unsigned int *offsets;
    struct pollfd *fds;                      // event fds to poll (v1: one per edge line; v2: one)
    size_t fd_count;
    struct gpiod_line **lines;               // v1: one per offset
    struct gpiod_line_event *v1_events;      // v1: read batch
    struct gpiod_line_request *request;      // v2
    struct gpiod_edge_event_buffer *buffer;  // v2: read batch
};

static int edge_v1_flags(uint32_t flags) {
    int result = 0;
    if (flags & EDGE_GPIOD_ACTIVE_LOW) result |= EDGE_V1_FLAG_ACTIVE_LOW;
    if (flags & EDGE_GPIOD_BIAS_PULL_UP) result |= EDGE_V1_FLAG_BIAS_PULL_UP;
    if (flags & EDGE_GPIOD_BIAS_PULL_DOWN) result |= EDGE_V1_FLAG_BIAS_PULL_DOWN;
    if (flags & EDGE_GPIOD_BIAS_DISABLED) result |= EDGE_V1_FLAG_BIAS_DISABLE;
    if (flags & EDGE_GPIOD_OPEN_DRAIN) result |= EDGE_V1_FLAG_OPEN_DRAIN;
    if (flags & EDGE_GPIOD_OPEN_SOURCE) result |= EDGE_V1_FLAG_OPEN_SOURCE;
    return result;
}

static int edge_v1_request_type(int output, uint32_t flags) {
    if (output) return EDGE_V1_REQUEST_DIRECTION_OUTPUT;
    bool rising = flags & EDGE_GPIOD_EDGE_RISING, falling = flags & EDGE_GPIOD_EDGE_FALLING;
    if (rising && falling) return EDGE_V1_REQUEST_EVENT_BOTH_EDGES;
    if (rising) return EDGE_V1_REQUEST_EVENT_RISING_EDGE;
    if (falling) return EDGE_V1_REQUEST_EVENT_FALLING_EDGE;
    return EDGE_V1_REQUEST_DIRECTION_INPUT;
}

/// v1: one kernel request per line (events are per line in uAPI v1 anyway); undone on failure.
static int edge_v1_request(edge_gpiod_chip *chip, edge_gpiod_request *request, const int32_t *defaults,
                           int output, uint32_t flags, const char *consumer, unsigned int *failed_offset) {
    const edge_gpiod_library *library = chip->library;
    struct gpiod_line_request_config config = {
        .consumer = consumer, .request_type = edge_v1_request_type(output, flags), .flags = edge_v1_flags(flags)
    };
    for (size_t i = 0; i < request->count; i++) {
        struct gpiod_line *line = library->v1.chip_get_line(chip->chip, request->offsets[i]);
        int default_value = output && defaults ? defaults[i] != 0 : 0;
        if (line == NULL || library->v1.line_request(line, &config, default_value) != 0) {
            int error = errno;
            *failed_offset = request->offsets[i];
            for (size_t j = 0; j < i; j++) {
                library->v1.line_release(request->lines[j]);
                request->lines[j] = NULL;
            }
            return -error;
        }
        request->lines[i] = line;
        int fd = library->v1.line_event_get_fd(line);
        if (fd >= 0) request->fds[request->fd_count++] = (struct pollfd){ .fd = fd, .events = POLLIN };
    }
    return 0;
}

/// v2: one request for all lines (one event queue, sequence numbers across lines).
static int edge_v2_request(edge_gpiod_chip *chip, edge_gpiod_request *request, const int32_t *defaults,
                           int output, uint32_t flags, const char *consumer, size_t event_buffer_size,
                           unsigned int *failed_offset) {
    const edge_gpiod_library *library = chip->library;
    struct gpiod_line_settings *settings = library->v2.line_settings_new();
    struct gpiod_line_config *line_config = library->v2.line_config_new();
    struct gpiod_request_config *request_config = library->v2.request_config_new();
    int rc = 0;
    if (settings == NULL || line_config == NULL || request_config == NULL) { rc = -ENOMEM; goto done; }

    library->v2.line_settings_set_direction(settings, output ? EDGE_V2_DIRECTION_OUTPUT : EDGE_V2_DIRECTION_INPUT);
    unsigned int edge = EDGE_V2_EDGE_NONE;
    bool rising = flags & EDGE_GPIOD_EDGE_RISING, falling = flags & EDGE_GPIOD_EDGE_FALLING;
    if (rising && falling) edge = EDGE_V2_EDGE_BOTH;
    else if (rising) edge = EDGE_V2_EDGE_RISING;
    else if (falling) edge = EDGE_V2_EDGE_FALLING;
    library->v2.line_settings_set_edge_detection(settings, edge);
    if (flags & EDGE_GPIOD_BIAS_PULL_UP) library->v2.line_settings_set_bias(settings, EDGE_V2_BIAS_PULL_UP);
    if (flags & EDGE_GPIOD_BIAS_PULL_DOWN) library->v2.line_settings_set_bias(settings, EDGE_V2_BIAS_PULL_DOWN);
    if (flags & EDGE_GPIOD_BIAS_DISABLED) library->v2.line_settings_set_bias(settings, EDGE_V2_BIAS_DISABLED);
    if (flags & EDGE_GPIOD_OPEN_DRAIN) library->v2.line_settings_set_drive(settings, EDGE_V2_DRIVE_OPEN_DRAIN);
    if (flags & EDGE_GPIOD_OPEN_SOURCE) library->v2.line_settings_set_drive(settings, EDGE_V2_DRIVE_OPEN_SOURCE);
    library->v2.line_settings_set_active_low(settings, (flags & EDGE_GPIOD_ACTIVE_LOW) != 0);
    // Settings are copied when added, so one settings object serves every line with its own default.
    for (size_t i = 0; i < request->count; i++) {
        if (output) library->v2.line_settings_set_output_value(settings, defaults && defaults[i] ? 1 : 0);
        if (library->v2.line_config_add_line_settings(line_config, &request->offsets[i], 1, settings) != 0) {
            rc = -errno;
            *failed_offset = request->offsets[i];
            goto done;
        }
    }
    library->v2.request_config_set_consumer(request_config, consumer);
    library->v2.request_config_set_event_buffer_size(request_config, event_buffer_size);
    request->request = library->v2.chip_request_lines(chip->chip, request_config, line_config);
    if (request->request == NULL) {
        rc = -errno;
        *failed_offset = request->offsets[0];
        // v2 fails the request as a whole; for EBUSY, name the first line that someone holds.
        for (size_t i = 0; rc == -EBUSY && i < request->count; i++) {
            struct gpiod_line_info *info = library->v2.chip_get_line_info(chip->chip, request->offsets[i]);
            if (info == NULL) continue;
            bool used = library->v2.line_info_is_used(info);
            library->v2.line_info_free(info);
            if (used) { *failed_offset = request->offsets[i]; break; }
        }
        goto done;
    }
    if (edge != EDGE_V2_EDGE_NONE) {
        request->buffer = library->v2.edge_event_buffer_new(EDGE_V2_EVENT_BATCH);
        if (request->buffer == NULL) { rc = -ENOMEM; goto done; }
        request->fds[request->fd_count++] =
            (struct pollfd){ .fd = library->v2.line_request_get_fd(request->request), .events = POLLIN };
    }
done:
    if (settings) library->v2.line_settings_free(settings);
    if (line_config) library->v2.line_config_free(line_config);
    if (request_config) library->v2.request_config_free(request_config);
    return rc;
}

int edge_gpiod_request_lines(edge_gpiod_chip *chip, const unsigned int *offsets, const int32_t *defaults,
                             size_t count, int output, uint32_t flags, const char *consumer,
                             size_t event_buffer_size, edge_gpiod_request **out, unsigned int *failed_offset) {
    *out = NULL;
    *failed_offset = count > 0 ? offsets[0] : 0;
    if (count == 0 || count > EDGE_MAX_REQUEST_LINES) return -EINVAL;
    edge_gpiod_request *request = calloc(1, sizeof *request);
    if (request == NULL) return -ENOMEM;
    request->library = chip->library;
    request->count = count;
    request->offsets = malloc(count * sizeof *request->offsets);
    request->fds = calloc(count, sizeof *request->fds);
    bool v2 = chip->library->api == 2;
    if (!v2) {
        request->lines = calloc(count, sizeof *request->lines);
        request->v1_events = calloc(EDGE_V1_EVENT_BATCH, sizeof *request->v1_events);
    }
    if (request->offsets == NULL || request->fds == NULL || (!v2 && (request->lines == NULL || request->v1_events == NULL))) {
        edge_gpiod_request_release(request);
        return -ENOMEM;
    }
    memcpy(request->offsets, offsets, count * sizeof *offsets);
    int rc = v2 ? edge_v2_request(chip, request, defaults, output, flags, consumer, event_buffer_size, failed_offset)
                : edge_v1_request(chip, request, defaults, output, flags, consumer, failed_offset);
    if (rc != 0) {
        edge_gpiod_request_release(request);
        return rc;
    }
    *out = request;
    return 0;
}

/// Index of `offset` in the request, or -1.
static long edge_request_index(const edge_gpiod_request *request, unsigned int offset) {
    for (size_t i = 0; i < request->count; i++) {
        if (request->offsets[i] == offset) return (long)i;
    }
    return -1;
}

int edge_gpiod_request_get_value(edge_gpiod_request *request, unsigned int offset) {
    long index = edge_request_index(request, offset);
    if (index < 0) return -EINVAL;
    int value = request->library->api == 2 ? request->library->v2.line_request_get_value(request->request, offset)
                                           : request->library->v1.line_get_value(request->lines[index]);
    return value < 0 ? -errno : value;
}

int edge_gpiod_request_get_values(edge_gpiod_request *request, uint64_t *bits) {
    uint64_t result = 0;
    if (request->library->api == 2) {
        int values[EDGE_MAX_REQUEST_LINES];
        if (request->library->v2.line_request_get_values(request->request, values) < 0) return -errno;
        for (size_t i = 0; i < request->count; i++) result |= (uint64_t)(values[i] == 1) << i;
    } else {
        for (size_t i = 0; i < request->count; i++) {
            int value = request->library->v1.line_get_value(request->lines[i]);
            if (value < 0) return -errno;
            result |= (uint64_t)(value == 1) << i;
        }
    }
    *bits = result;
    return 0;
}

int edge_gpiod_request_set_value(edge_gpiod_request *request, unsigned int offset, int value) {
    long index = edge_request_index(request, offset);
    if (index < 0) return -EINVAL;
    int rc = request->library->api == 2
                 ? request->library->v2.line_request_set_value(request->request, offset, value ? 1 : 0)
                 : request->library->v1.line_set_value(request->lines[index], value ? 1 : 0);
    return rc < 0 ? -errno : 0;
}

/// poll(2) on `fds` for at most `timeout_ns` (negative: forever). Returns the ready count or -errno.
static int edge_poll(struct pollfd *fds, size_t count, int64_t timeout_ns) {
    for (;;) {
#if defined(__APPLE__) // no ppoll: millisecond timeouts, rounded up
        int ready = poll(fds, count, timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000));
#else // glibc, also when built for aarch64-none-none-elf against the board's headers
        struct timespec timeout = { .tv_sec = timeout_ns / 1000000000LL, .tv_nsec = timeout_ns % 1000000000LL };
        int ready = ppoll(fds, count, timeout_ns < 0 ? NULL : &timeout, NULL);
#endif
        if (ready >= 0) return ready;
        if (errno != EINTR) return -errno;
    }
}

int edge_gpiod_request_wait(edge_gpiod_request *request, int64_t timeout_ns) {
    // Without edge detection there is nothing to poll: ppoll/poll on no fds just sleeps the timeout.
    int ready = edge_poll(request->fds, request->fd_count, timeout_ns);
    return ready > 0 ? 1 : ready;
}

/// v1: drains each line's queue in turn while it has events and `events` has room.
static int edge_v1_read(edge_gpiod_request *request, edge_gpiod_event *events, size_t capacity) {
    size_t stored = 0;
    for (size_t i = 0; i < request->count && stored < capacity; i++) {
        int fd = request->library->v1.line_event_get_fd(request->lines[i]);
        if (fd < 0) continue;
        struct pollfd pending = { .fd = fd, .events = POLLIN };
        while (stored < capacity) {
            int ready = edge_poll(&pending, 1, 0);
            if (ready < 0) return ready;
            if (ready == 0) break;
            size_t batch = capacity - stored < EDGE_V1_EVENT_BATCH ? capacity - stored : EDGE_V1_EVENT_BATCH;
            int n = request->library->v1.line_event_read_multiple(request->lines[i], request->v1_events,
                                                                  (unsigned int)batch);
            if (n <= 0) {
                if (n < 0) return -errno;
                break;
            }
            for (int k = 0; k < n; k++) {
                const struct gpiod_line_event *source = &request->v1_events[k];
                events[stored++] = (edge_gpiod_event){
                    .timestamp_ns = (uint64_t)source->ts.tv_sec * 1000000000ULL + (uint64_t)source->ts.tv_nsec,
                    .offset = request->offsets[i],
                    .rising = source->event_type == EDGE_V1_EVENT_RISING_EDGE,
                };
            }
        }
    }
    return (int)stored;
}

/// v2: drains the request's one queue.
static int edge_v2_read(edge_gpiod_request *request, edge_gpiod_event *events, size_t capacity) {
    const edge_gpiod_library *library = request->library;
    size_t stored = 0;
    while (stored < capacity) {
        int ready = edge_poll(request->fds, 1, 0);
        if (ready < 0) return ready;
        if (ready == 0) break;
        size_t batch = capacity - stored < EDGE_V2_EVENT_BATCH ? capacity - stored : EDGE_V2_EVENT_BATCH;
        int n = library->v2.line_request_read_edge_events(request->request, request->buffer, batch);
        if (n <= 0) {
            if (n < 0) return -errno;
            break;
        }
        for (int k = 0; k < n; k++) {
            struct gpiod_edge_event *source = library->v2.edge_event_buffer_get_event(request->buffer, (unsigned long)k);
            events[stored++] = (edge_gpiod_event){
                .timestamp_ns = library->v2.edge_event_get_timestamp_ns(source),
                .line_seqno = library->v2.edge_event_get_line_seqno(source),
                .global_seqno = library->v2.edge_event_get_global_seqno(source),
                .offset = library->v2.edge_event_get_line_offset(source),
                .rising = library->v2.edge_event_get_event_type(source) == EDGE_V2_EDGE_EVENT_RISING,
            };
        }
    }
    return (int)stored;
}

int edge_gpiod_request_read_events(edge_gpiod_request *request, edge_gpiod_event *events, size_t capacity) {
    if (request->fd_count == 0) return 0;
    return request->library->api == 2 ? edge_v2_read(request, events, capacity)
                                      : edge_v1_read(request, events, capacity);
}

void edge_gpiod_request_release(edge_gpiod_request *request) {
    if (request == NULL) return;
    const edge_gpiod_library *library = request->library;
    if (library->api == 2) {
        if (request->request) library->v2.line_request_release(request->request);
        if (request->buffer) library->v2.edge_event_buffer_free(request->buffer);
    } else if (request->lines) {
        for (size_t i = 0; i < request->count; i++) {
            if (request->lines[i]) library->v1.line_release(request->lines[i]);
        }
    }
    free(request->offsets);
    free(request->fds);
    free(request->lines);
    free(request->v1_events);
    free(request);
}
