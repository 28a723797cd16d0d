import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A stand-in libgpiod, built by the tests with `cc` as libgpiod-fake-v1.so (v1 API) and
/// libgpiod-fake-v2.so (v2 API), so the request, value and event paths of the backend run without
/// GPIO hardware. Its "chips" are regular files holding "LABEL LINES" (or "EACCES" to refuse opening);
/// it records what was requested and lets the test inject edge events and failures. It implements the
/// documented behaviour the backend relies on, not the kernel: the real-library tests cover the rest.
enum LibgpiodFake {
    static let source = #"""
    #include <errno.h>
    #include <stdbool.h>
    #include <stdint.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <time.h>
    #include <unistd.h>

    enum { MAX_LINES = 64, MAX_EVENTS = 64 };
    typedef struct { uint64_t ts; unsigned offset; int rising; unsigned long line_seq, global_seq; } fake_event;

    /* What the test reads back: per line, the last request. */
    typedef struct { int requested, output, type, flags, direction, edge, bias, drive, active_low, value; char consumer[32]; } fake_line;
    static fake_line lines[MAX_LINES];
    static int busy_offset = -1, no_irq_offset = -1, open_chips = 0;
    /* Event pipes: one per line in v1 (as the kernel's uAPI v1), one per request (slot MAX_LINES) in v2. */
    static int pipes[MAX_LINES + 1][2];
    static int source_of(unsigned offset) { return FAKE_API == 1 ? (int)offset : MAX_LINES; }
    static fake_event queue[MAX_EVENTS];
    static int queued = 0;
    static unsigned long line_seq[MAX_LINES], global_seq = 0;

    struct gpiod_chip { char name[32], label[32]; unsigned num_lines; };

    static struct gpiod_chip *chip_open(const char *path) {
        FILE *file = fopen(path, "r");
        if (!file) return NULL;
        struct gpiod_chip *chip = calloc(1, sizeof *chip);
        int ok = fscanf(file, "%31s %u", chip->label, &chip->num_lines);
        fclose(file);
        if (strcmp(chip->label, "EACCES") == 0) { free(chip); errno = EACCES; return NULL; }
        if (ok != 2) { free(chip); errno = ENOTTY; return NULL; }
        const char *slash = strrchr(path, '/');
        snprintf(chip->name, sizeof chip->name, "%s", slash ? slash + 1 : path);
        open_chips++;
        return chip;
    }
    static void chip_close(struct gpiod_chip *chip) { open_chips--; free(chip); }

    /* Test controls. */
    void fake_reset(void) {
        memset(lines, 0, sizeof lines); busy_offset = no_irq_offset = -1; queued = 0; global_seq = 0;
        memset(line_seq, 0, sizeof line_seq);
        for (int i = 0; i <= MAX_LINES; i++) {
            if (pipes[i][0] > 0) { close(pipes[i][0]); close(pipes[i][1]); }
            pipes[i][0] = pipes[i][1] = 0;
        }
    }
    void fake_set_busy(int offset) { busy_offset = offset; }
    void fake_set_no_irq(int offset) { no_irq_offset = offset; }
    int fake_open_chips(void) { return open_chips; }
    int fake_line_state(unsigned offset, int field) {
        fake_line *l = &lines[offset];
        int fields[] = { l->requested, l->output, l->type, l->flags, l->direction, l->edge, l->bias, l->drive, l->active_low, l->value };
        return fields[field];
    }
    const char *fake_line_consumer(unsigned offset) { return lines[offset].consumer; }
    void fake_set_value(unsigned offset, int value) { lines[offset].value = value; }
    void fake_inject(unsigned offset, int rising, uint64_t ts) {
        queue[queued++] = (fake_event){ ts, offset, rising, ++line_seq[offset], ++global_seq };
        if (write(pipes[source_of(offset)][1], "e", 1) != 1) abort();
    }

    static int start_events(unsigned offset) {
        int *p = pipes[source_of(offset)];
        if (p[0] <= 0 && pipe(p) != 0) abort();
        return p[0];
    }
    /* Pops the first queued event of `offset` (any line when offset < 0). */
    static int pop_event(int offset, fake_event *out) {
        for (int i = 0; i < queued; i++) {
            if (offset >= 0 && queue[i].offset != (unsigned)offset) continue;
            *out = queue[i];
            memmove(&queue[i], &queue[i + 1], (size_t)(queued - i - 1) * sizeof queue[0]);
            queued--;
            char byte;
            if (read(pipes[source_of(out->offset)][0], &byte, 1) != 1) abort();
            return 1;
        }
        return 0;
    }
    static int check_request(unsigned offset, int edges) {
        if ((int)offset == busy_offset) { snprintf(lines[offset].consumer, 32, "other-app"); errno = EBUSY; return -1; }
        if (edges && (int)offset == no_irq_offset) { errno = ENXIO; return -1; }
        return 0;
    }

    #if FAKE_API == 1
    struct gpiod_line { struct gpiod_chip *chip; unsigned offset; };
    struct gpiod_line_request_config { const char *consumer; int request_type; int flags; };
    struct gpiod_line_event { struct timespec ts; int event_type; };
    static struct gpiod_line line_objects[MAX_LINES];

    struct gpiod_chip *gpiod_chip_open(const char *path) { return chip_open(path); }
    void gpiod_chip_close(struct gpiod_chip *chip) { chip_close(chip); }
    const char *gpiod_chip_name(struct gpiod_chip *chip) { return chip->name; }
    const char *gpiod_chip_label(struct gpiod_chip *chip) { return chip->label; }
    unsigned int gpiod_chip_num_lines(struct gpiod_chip *chip) { return chip->num_lines; }
    struct gpiod_line *gpiod_chip_get_line(struct gpiod_chip *chip, unsigned int offset) {
        if (offset >= chip->num_lines) { errno = EINVAL; return NULL; }
        line_objects[offset] = (struct gpiod_line){ chip, offset };
        return &line_objects[offset];
    }
    int gpiod_line_update(struct gpiod_line *line) { (void)line; return 0; }
    const char *gpiod_line_consumer(struct gpiod_line *line) { return lines[line->offset].consumer; }
    int gpiod_line_request(struct gpiod_line *line, const struct gpiod_line_request_config *config, int default_val) {
        if (check_request(line->offset, config->request_type >= 4) != 0) return -1;
        fake_line *l = &lines[line->offset];
        l->requested = 1; l->type = config->request_type; l->flags = config->flags; l->output = config->request_type == 3;
        if (l->output) l->value = default_val;
        snprintf(l->consumer, sizeof l->consumer, "%s", config->consumer);
        if (config->request_type >= 4) start_events(line->offset);
        return 0;
    }
    void gpiod_line_release(struct gpiod_line *line) { lines[line->offset].requested = 0; }
    int gpiod_line_get_value(struct gpiod_line *line) { return lines[line->offset].value; }
    int gpiod_line_set_value(struct gpiod_line *line, int value) { lines[line->offset].value = value; return 0; }
    int gpiod_line_event_get_fd(struct gpiod_line *line) {
        if (lines[line->offset].type < 4) { errno = EPERM; return -1; }
        return pipes[line->offset][0];
    }
    int gpiod_line_event_read_multiple(struct gpiod_line *line, struct gpiod_line_event *events, unsigned int num) {
        unsigned n = 0;
        fake_event event;
        while (n < num && pop_event((int)line->offset, &event)) {
            events[n].ts.tv_sec = (time_t)(event.ts / 1000000000u);
            events[n].ts.tv_nsec = (long)(event.ts % 1000000000u);
            events[n].event_type = event.rising ? 1 : 2;
            n++;
        }
        return (int)n;
    }
    const char *gpiod_version_string(void) { return "1.6.99-fake"; }
    #else
    struct gpiod_chip_info { char name[32], label[32]; size_t num_lines; };
    struct gpiod_line_info { char consumer[32]; bool used; };
    struct gpiod_line_settings { unsigned direction, edge, bias, drive; bool active_low; int value; };
    struct gpiod_line_config { unsigned count; unsigned offsets[MAX_LINES]; struct gpiod_line_settings settings[MAX_LINES]; };
    struct gpiod_request_config { char consumer[32]; size_t buffer; };
    struct gpiod_line_request { unsigned count; unsigned offsets[MAX_LINES]; bool edges; };
    struct gpiod_edge_event_buffer { size_t count; fake_event events[MAX_EVENTS]; };
    struct gpiod_edge_event { fake_event event; };

    struct gpiod_chip *gpiod_chip_open(const char *path) { return chip_open(path); }
    void gpiod_chip_close(struct gpiod_chip *chip) { chip_close(chip); }
    struct gpiod_chip_info *gpiod_chip_get_info(struct gpiod_chip *chip) {
        struct gpiod_chip_info *info = calloc(1, sizeof *info);
        memcpy(info->name, chip->name, 32); memcpy(info->label, chip->label, 32); info->num_lines = chip->num_lines;
        return info;
    }
    void gpiod_chip_info_free(struct gpiod_chip_info *info) { free(info); }
    const char *gpiod_chip_info_get_name(struct gpiod_chip_info *info) { return info->name; }
    const char *gpiod_chip_info_get_label(struct gpiod_chip_info *info) { return info->label; }
    size_t gpiod_chip_info_get_num_lines(struct gpiod_chip_info *info) { return info->num_lines; }
    struct gpiod_line_info *gpiod_chip_get_line_info(struct gpiod_chip *chip, unsigned int offset) {
        if (offset >= chip->num_lines) { errno = EINVAL; return NULL; }
        struct gpiod_line_info *info = calloc(1, sizeof *info);
        memcpy(info->consumer, lines[offset].consumer, 32);
        info->used = lines[offset].requested || (int)offset == busy_offset;
        return info;
    }
    void gpiod_line_info_free(struct gpiod_line_info *info) { free(info); }
    const char *gpiod_line_info_get_consumer(struct gpiod_line_info *info) { return info->consumer; }
    bool gpiod_line_info_is_used(struct gpiod_line_info *info) { return info->used; }
    struct gpiod_line_settings *gpiod_line_settings_new(void) {
        struct gpiod_line_settings *s = calloc(1, sizeof *s);
        s->direction = 1; s->edge = 1; s->bias = 1; s->drive = 1;
        return s;
    }
    void gpiod_line_settings_free(struct gpiod_line_settings *s) { free(s); }
    int gpiod_line_settings_set_direction(struct gpiod_line_settings *s, unsigned v) { s->direction = v; return 0; }
    int gpiod_line_settings_set_edge_detection(struct gpiod_line_settings *s, unsigned v) { s->edge = v; return 0; }
    int gpiod_line_settings_set_bias(struct gpiod_line_settings *s, unsigned v) { s->bias = v; return 0; }
    int gpiod_line_settings_set_drive(struct gpiod_line_settings *s, unsigned v) { s->drive = v; return 0; }
    void gpiod_line_settings_set_active_low(struct gpiod_line_settings *s, bool v) { s->active_low = v; }
    int gpiod_line_settings_set_output_value(struct gpiod_line_settings *s, int v) { s->value = v; return 0; }
    struct gpiod_line_config *gpiod_line_config_new(void) { return calloc(1, sizeof(struct gpiod_line_config)); }
    void gpiod_line_config_free(struct gpiod_line_config *c) { free(c); }
    int gpiod_line_config_add_line_settings(struct gpiod_line_config *c, const unsigned *offsets, size_t n,
                                            struct gpiod_line_settings *s) {
        for (size_t i = 0; i < n; i++) { c->offsets[c->count] = offsets[i]; c->settings[c->count++] = *s; }
        return 0;
    }
    struct gpiod_request_config *gpiod_request_config_new(void) { return calloc(1, sizeof(struct gpiod_request_config)); }
    void gpiod_request_config_free(struct gpiod_request_config *c) { free(c); }
    void gpiod_request_config_set_consumer(struct gpiod_request_config *c, const char *name) { snprintf(c->consumer, 32, "%s", name); }
    void gpiod_request_config_set_event_buffer_size(struct gpiod_request_config *c, size_t n) { c->buffer = n; }
    struct gpiod_line_request *gpiod_chip_request_lines(struct gpiod_chip *chip, struct gpiod_request_config *rc,
                                                        struct gpiod_line_config *lc) {
        for (unsigned i = 0; i < lc->count; i++) {
            if (lc->offsets[i] >= chip->num_lines) { errno = EINVAL; return NULL; }
            if (check_request(lc->offsets[i], lc->settings[i].edge != 1) != 0) return NULL;
        }
        struct gpiod_line_request *r = calloc(1, sizeof *r);
        for (unsigned i = 0; i < lc->count; i++) {
            const struct gpiod_line_settings *s = &lc->settings[i];
            fake_line *l = &lines[lc->offsets[i]];
            l->requested = 1; l->output = s->direction == 3; l->direction = (int)s->direction; l->edge = (int)s->edge;
            l->bias = (int)s->bias; l->drive = (int)s->drive; l->active_low = s->active_low;
            if (l->output) l->value = s->value;
            snprintf(l->consumer, 32, "%s", rc->consumer);
            r->offsets[r->count++] = lc->offsets[i];
            if (s->edge != 1) r->edges = true;
        }
        if (r->edges) start_events(0);
        return r;
    }
    void gpiod_line_request_release(struct gpiod_line_request *r) {
        for (unsigned i = 0; i < r->count; i++) lines[r->offsets[i]].requested = 0;
        free(r);
    }
    static int in_request(struct gpiod_line_request *r, unsigned offset) {
        for (unsigned i = 0; i < r->count; i++) if (r->offsets[i] == offset) return 1;
        errno = EINVAL;
        return 0;
    }
    int gpiod_line_request_get_value(struct gpiod_line_request *r, unsigned offset) {
        return in_request(r, offset) ? lines[offset].value : -1;
    }
    int gpiod_line_request_get_values(struct gpiod_line_request *r, int *values) {
        for (unsigned i = 0; i < r->count; i++) values[i] = lines[r->offsets[i]].value;
        return 0;
    }
    int gpiod_line_request_set_value(struct gpiod_line_request *r, unsigned offset, int value) {
        if (!in_request(r, offset)) return -1;
        if (!lines[offset].output) { errno = EPERM; return -1; }
        lines[offset].value = value;
        return 0;
    }
    int gpiod_line_request_get_fd(struct gpiod_line_request *r) { (void)r; return pipes[MAX_LINES][0]; }
    int gpiod_line_request_read_edge_events(struct gpiod_line_request *r, struct gpiod_edge_event_buffer *b, size_t max) {
        (void)r;
        b->count = 0;
        while (b->count < max && pop_event(-1, &b->events[b->count])) b->count++;
        return (int)b->count;
    }
    struct gpiod_edge_event_buffer *gpiod_edge_event_buffer_new(size_t capacity) {
        (void)capacity;
        return calloc(1, sizeof(struct gpiod_edge_event_buffer));
    }
    void gpiod_edge_event_buffer_free(struct gpiod_edge_event_buffer *b) { free(b); }
    struct gpiod_edge_event *gpiod_edge_event_buffer_get_event(struct gpiod_edge_event_buffer *b, unsigned long i) {
        return (struct gpiod_edge_event *)&b->events[i];
    }
    unsigned gpiod_edge_event_get_event_type(struct gpiod_edge_event *e) { return e->event.rising ? 1 : 2; }
    uint64_t gpiod_edge_event_get_timestamp_ns(struct gpiod_edge_event *e) { return e->event.ts; }
    unsigned gpiod_edge_event_get_line_offset(struct gpiod_edge_event *e) { return e->event.offset; }
    unsigned long gpiod_edge_event_get_line_seqno(struct gpiod_edge_event *e) { return e->event.line_seq; }
    unsigned long gpiod_edge_event_get_global_seqno(struct gpiod_edge_event *e) { return e->event.global_seq; }
    const char *gpiod_api_version(void) { return "2.2.99-fake"; }
    #endif
    """#

    /// Path of the built fake for `api` (1 or 2), or nil when there is no C compiler.
    static let libraries: [Int: String] = {
        guard let compiler = GpiodHeaderCheck.compiler else { return [:] }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("edge-gpiod-fake-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let sourceFile = directory.appendingPathComponent("fake.c")
        guard (try? source.write(to: sourceFile, atomically: true, encoding: .utf8)) != nil else { return [:] }
        var built: [Int: String] = [:]
        for api in [1, 2] {
            let output = directory.appendingPathComponent("libgpiod-fake-v\(api).so").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: compiler)
            process.arguments = ["-shared", "-fPIC", "-O1", "-DFAKE_API=\(api)", "-o", output, sourceFile.path]
            guard (try? process.run()) != nil else { continue }
            process.waitUntilExit()
            if process.terminationStatus == 0 { built[api] = output }
        }
        return built
    }()

    /// The test's own handle on the fake (the same instance the backend dlopens: same path).
    final class Controls {
        let handle: UnsafeMutableRawPointer

        init(path: String) {
            handle = dlopen(path, RTLD_NOW)!
        }

        func function<T>(_ name: String, as type: T.Type) -> T {
            unsafeBitCast(dlsym(handle, name)!, to: type)
        }

        func reset() { function("fake_reset", as: (@convention(c) () -> Void).self)() }
        func setBusy(_ offset: Int32) { function("fake_set_busy", as: (@convention(c) (Int32) -> Void).self)(offset) }
        func setNoIRQ(_ offset: Int32) { function("fake_set_no_irq", as: (@convention(c) (Int32) -> Void).self)(offset) }
        var openChips: Int32 { function("fake_open_chips", as: (@convention(c) () -> Int32).self)() }
        func setValue(_ offset: UInt32, _ value: Int32) {
            function("fake_set_value", as: (@convention(c) (UInt32, Int32) -> Void).self)(offset, value)
        }
        func inject(_ offset: UInt32, rising: Bool, atNs: UInt64) {
            function("fake_inject", as: (@convention(c) (UInt32, Int32, UInt64) -> Void).self)(offset, rising ? 1 : 0, atNs)
        }

        /// What the fake recorded for a line.
        enum Field: Int32 { case requested, output, type, flags, direction, edge, bias, drive, activeLow, value }

        func state(_ offset: UInt32, _ field: Field) -> Int32 {
            function("fake_line_state", as: (@convention(c) (UInt32, Int32) -> Int32).self)(offset, field.rawValue)
        }

        func consumer(_ offset: UInt32) -> String {
            String(cString: function("fake_line_consumer", as: (@convention(c) (UInt32) -> UnsafePointer<CChar>).self)(offset))
        }
    }
}
