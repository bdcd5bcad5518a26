/* Private side of the capture layer: the capture object, the format-reader
 * vtable, and entry points for tests and fuzzing. */
#ifndef NETAGM_CAPTURE_CAPTURE_INT_H
#define NETAGM_CAPTURE_CAPTURE_INT_H

#include <stdint.h>

#include "capture/cap_stream.h"
#include "netagm/capture.h"

/* A format reader (classic pcap, pcapng): like libpcap's pcap_t ops. */
typedef struct cap_ops {
    const char *name;
    /* 1 with a frame, 0 at the end, -NAGM_CAP_E* (after cap_fail). */
    int (*next)(nagm_capture *c, nagm_frame *f);
    /* Up to max frames, as nagm_capture_next_batch returns them (>= 1, or
     * next's result when there is none); NULL: one frame by next. */
    int (*next_batch)(nagm_capture *c, nagm_frame *f, int max);
    /* Decompressed bytes consumed by the frames handed out; NULL: the
     * stream offset. */
    uint64_t (*offset)(const nagm_capture *c);
    /* Release the reader's private state (the stream is closed after). */
    void (*close)(nagm_capture *c);
} cap_ops;

struct nagm_capture {
    const cap_ops *ops;
    void *fmt;           /* reader state */
    cap_stream st;
    char *name;          /* the path, or "stdin" */
    int state;           /* 1 while frames may come, 0 at the end, <0 error */
    char err[NAGM_ERRBUF_SIZE];
};

/* Tuning for the private opens; zeros mean the defaults. */
typedef struct cap_open_opts {
    size_t bufsize;      /* initial stream buffer */
    size_t chunk;        /* largest single read from the source */
} cap_open_opts;

/* Record an error "NAME: offset OFF: reason" (the first one wins), move the
 * capture to the error state and return -code. */
int cap_fail(nagm_capture *c, int code, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Map the stream's pending failure (read error, corrupt or cut compressed
 * data) at record offset off; returns 0 when the stream is fine. */
int cap_stream_fail(nagm_capture *c, uint64_t off);

/* Format readers: set c->ops/c->fmt, reading the file header from c->st.
 * Return 0 or -NAGM_CAP_E* after cap_fail. */
int cap_pcap_open(nagm_capture *c);
int cap_pcapng_open(nagm_capture *c);

/* Open a capture over an already open descriptor (closed by the capture when
 * own_fd) or over a memory block borrowed until nagm_capture_close. name is
 * copied and used in messages. Same results as nagm_capture_open. */
int nagm_capture_open_fd(int fd, int own_fd, const char *name, const cap_open_opts *o,
                         nagm_capture **out, char *errbuf);
int nagm_capture_open_mem(const void *data, size_t len, const char *name,
                          const cap_open_opts *o, nagm_capture **out, char *errbuf);

#endif
