/* Capture objects: open a path, stdin, descriptor or memory block, detect the
 * format from the first decompressed bytes and hand frames out through the
 * format reader's vtable. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture_int.h"

int cap_fail(nagm_capture *c, int code, uint64_t off, const char *fmt, ...)
{
    if (c->state >= 0) {
        int n = snprintf(c->err, sizeof c->err, "%s: offset %llu: ", c->name,
                         (unsigned long long)off);
        if (n < 0)
            n = 0;
        if ((size_t)n < sizeof c->err) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err + n, sizeof c->err - (size_t)n, fmt, ap);
            va_end(ap);
        }
        c->state = -code;
    }
    return c->state;
}

int cap_stream_fail(nagm_capture *c, uint64_t off)
{
    const cap_stream *s = &c->st;
    switch (s->err) {
    case CS_EREAD:
        return cap_fail(c, NAGM_CAP_EOPEN, off, "%s", s->msg);
    case CS_ECODEC:
        return cap_fail(c, NAGM_CAP_EDAMAGED, off, "%s", s->msg);
    case CS_ENOMEM:
        return cap_fail(c, NAGM_CAP_ENOMEM, off, "%s", s->msg);
    default:
        break;
    }
    if (s->incomplete)
        return cap_fail(c, NAGM_CAP_ETRUNC, off,
                        "%s data ends before the end of its compressed stream",
                        cs_codec_name(s->codec));
    return 0;
}

static int is_pcap_magic(uint32_t m)
{
    switch (m) {
    case 0xa1b2c3d4: /* microseconds */
    case 0xd4c3b2a1:
    case 0xa1b23c4d: /* nanoseconds */
    case 0x4d3cb2a1:
    case 0xa1b2cd34: /* Kuznetzov's modified format */
    case 0x34cdb2a1:
        return 1;
    default:
        return 0;
    }
}

/* Detect the format and open its reader. */
static int cap_detect(nagm_capture *c)
{
    size_t n;
    const uint8_t *p = cs_ensure(&c->st, 4, &n);
    if (c->st.err)
        return cap_stream_fail(c, 0);
    const char *in_codec = c->st.codec == CS_GZIP   ? " in gzip data"
                           : c->st.codec == CS_ZSTD ? " in zstd data"
                                                    : "";
    if (n == 0) {
        if (c->st.incomplete)
            return cap_stream_fail(c, 0);
        return cap_fail(c, NAGM_CAP_EFORMAT, 0,
                        "empty file%s, not a pcap or pcapng capture", in_codec);
    }
    if (n < 4)
        return cap_fail(c, NAGM_CAP_EFORMAT, 0,
                        "not a pcap or pcapng capture (only %zu bytes%s)", n, in_codec);
    uint32_t magic = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
                     ((uint32_t)p[2] << 8) | p[3];
    if (magic == 0x0a0d0d0a)
        return cap_pcapng_open(c);
    if (is_pcap_magic(magic))
        return cap_pcap_open(c);
    return cap_fail(c, NAGM_CAP_EFORMAT, 0,
                    "not a pcap or pcapng capture (magic 0x%08x%s)", magic, in_codec);
}

static nagm_capture *cap_new(const char *name)
{
    nagm_capture *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->name = strdup(name);
    if (!c->name) {
        free(c);
        return NULL;
    }
    c->state = 1;
    c->st.fd = -1;
    return c;
}

/* Shared tail of every open: detect, or report and free. */
static int cap_finish_open(nagm_capture *c, int stream_rc, nagm_capture **out, char *errbuf)
{
    int rc = stream_rc < 0 ? cap_stream_fail(c, 0) : cap_detect(c);
    if (rc == 0 && c->state < 0)
        rc = c->state;
    if (rc < 0) {
        if (c->state >= 0) /* a stream failure that set no class */
            cap_fail(c, NAGM_CAP_EOPEN, 0, "cannot read the input");
        if (errbuf)
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "%s", c->err);
        rc = c->state;
        nagm_capture_close(c);
        *out = NULL;
        return rc;
    }
    *out = c;
    return 0;
}

static int cap_oom(nagm_capture **out, char *errbuf, const char *name)
{
    if (errbuf)
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "%s: offset 0: out of memory", name);
    *out = NULL;
    return -NAGM_CAP_ENOMEM;
}

int nagm_capture_open_fd(int fd, int own_fd, const char *name, const cap_open_opts *o,
                         nagm_capture **out, char *errbuf)
{
    nagm_capture *c = cap_new(name);
    if (!c) {
        if (own_fd)
            close(fd);
        return cap_oom(out, errbuf, name);
    }
    int rc = cs_open_fd(&c->st, fd, own_fd, o ? o->bufsize : 0, o ? o->chunk : 0);
    return cap_finish_open(c, rc, out, errbuf);
}

int nagm_capture_open_mem(const void *data, size_t len, const char *name,
                          const cap_open_opts *o, nagm_capture **out, char *errbuf)
{
    nagm_capture *c = cap_new(name);
    if (!c)
        return cap_oom(out, errbuf, name);
    int rc = cs_open_mem(&c->st, data, len, o ? o->bufsize : 0, o ? o->chunk : 0);
    return cap_finish_open(c, rc, out, errbuf);
}

int nagm_capture_open(const char *path, nagm_capture **out, char *errbuf)
{
    if (strcmp(path, "-") == 0)
        return nagm_capture_open_fd(STDIN_FILENO, 0, "stdin", NULL, out, errbuf);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errbuf)
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "%s: offset 0: %s", path, strerror(errno));
        *out = NULL;
        return errno == ENOMEM ? -NAGM_CAP_ENOMEM : -NAGM_CAP_EOPEN;
    }
    /* Captures are read once, front to back. */
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return nagm_capture_open_fd(fd, 1, path, NULL, out, errbuf);
}

int nagm_capture_next(nagm_capture *c, nagm_frame *f)
{
    if (c->state != 1)
        return c->state;
    int r = c->ops->next(c, f);
    if (r <= 0 && c->state == 1)
        c->state = r;
    return r;
}

int nagm_capture_next_batch(nagm_capture *c, nagm_frame *f, int max)
{
    if (c->state != 1)
        return c->state;
    /* Without a batch reader one frame: the next read may move the buffer
     * the frame's data lies in. */
    int r = c->ops->next_batch ? c->ops->next_batch(c, f, max) : c->ops->next(c, f);
    if (r <= 0 && c->state == 1)
        c->state = r;
    return r;
}

const char *nagm_capture_error(const nagm_capture *c)
{
    return c->err;
}

uint64_t nagm_capture_offset(const nagm_capture *c)
{
    if (c->ops && c->ops->offset)
        return c->ops->offset(c);
    return cs_offset(&c->st);
}

uint64_t nagm_capture_raw_bytes(const nagm_capture *c)
{
    return c->st.raw_bytes;
}

void nagm_capture_close(nagm_capture *c)
{
    if (!c)
        return;
    if (c->ops && c->ops->close)
        c->ops->close(c);
    cs_close(&c->st);
    free(c->name);
    free(c);
}
