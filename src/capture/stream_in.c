/* Stream source over capture files and standard input (netagm stream -r).
 *
 * Regular files are read on the caller's thread: a read never waits for
 * long, so poll can simply hand out a budget of frames. A pipe is different:
 * the writer (tcpdump -w -) may be silent for minutes, and the engine must
 * still close windows on its idle timeout and react to signals. So a pipe is
 * read by two threads:
 *
 *   pump:   poll(2) + read(2) on the pipe, every chunk written on to an
 *           internal pipe; it checks a stop flag at least every 100 ms, so
 *           it never hangs in a read nobody can interrupt.
 *   reader: nagm_capture over the internal pipe; each frame is copied into
 *           a bounded single-producer/single-consumer ring of bytes.
 *
 * poll() takes frames out of the ring and waits on it with a timeout. When
 * the ring is full the reader waits (and the pipe's writer with it): the
 * ring is the bounded queue, its fill level is reported as backlog.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture_int.h"
#include "netagm/stream.h"

#define RING_BYTES ((uint64_t)16 << 20)
#define ENTRY_ALIGN 32
#define MAX_FRAME_BYTES ((uint32_t)(RING_BYTES / 4))
#define BUDGET 8192

enum { E_FRAME = 1, E_WRAP, E_END };

/* Ring entry header; the frame bytes follow, the whole padded to 32. */
typedef struct ring_hdr {
    uint32_t size; /* bytes of this entry, header included */
    uint32_t kind;
    int64_t ts_ns;
    uint32_t caplen, wirelen, linktype, pad;
} ring_hdr;
_Static_assert(sizeof(ring_hdr) == ENTRY_ALIGN, "ring header is one alignment unit");

typedef struct ring {
    uint8_t *buf;
    _Atomic uint64_t head, tail; /* bytes written / consumed, ever */
    _Atomic int cons_waiting, prod_waiting;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} ring;

typedef struct files_src {
    nagm_source base;
    nagm_inputs in;
    size_t next;        /* next input to open */
    nagm_capture *cap;  /* direct reading: the current file */
    int ended;
    nagm_source_stats st;

    /* pipe mode */
    int piped;
    ring r;
    pthread_t pump_th, reader_th;
    int threads;        /* 0, or 2 once both run */
    int in_fd;          /* the pipe being read */
    int ipipe[2];       /* pump -> reader */
    _Atomic int stop;
    _Atomic uint64_t raw_bytes;
    char end_err[NAGM_ERRBUF_SIZE]; /* written before the END entry */
    int end_status;                 /* 0 clean, <0 capture error */
    int end_fatal;                  /* not a capture at all, or out of memory */
} files_src;

/* ---- ring ------------------------------------------------------------------- */

static void ring_wake(ring *r, _Atomic int *flag)
{
    if (atomic_load(flag)) {
        pthread_mutex_lock(&r->mu);
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
}

static void timed_wait(ring *r, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&r->cv, &r->mu, &ts);
}

/* Reserve need contiguous bytes; returns the entry pointer or NULL when
 * stopping. Writes a wrap marker when the end of the buffer is too short. */
static uint8_t *ring_reserve(files_src *fs, uint32_t need)
{
    ring *r = &fs->r;
    for (;;) {
        uint64_t head = atomic_load(&r->head), tail = atomic_load(&r->tail);
        uint64_t off = head % RING_BYTES, tail_room = RING_BYTES - off;
        uint64_t want = need <= tail_room ? need : tail_room + need;
        if (RING_BYTES - (head - tail) >= want) {
            if (need > tail_room) {
                ring_hdr *w = (ring_hdr *)(r->buf + off);
                w->size = (uint32_t)tail_room;
                w->kind = E_WRAP;
                atomic_store(&r->head, head + tail_room);
                off = 0;
            }
            return r->buf + off;
        }
        if (atomic_load(&fs->stop))
            return NULL;
        pthread_mutex_lock(&r->mu);
        atomic_store(&r->prod_waiting, 1);
        head = atomic_load(&r->head);
        tail = atomic_load(&r->tail);
        if (RING_BYTES - (head - tail) < want && !atomic_load(&fs->stop))
            timed_wait(r, 50);
        atomic_store(&r->prod_waiting, 0);
        pthread_mutex_unlock(&r->mu);
    }
}

static void ring_publish(files_src *fs, uint32_t size)
{
    atomic_fetch_add(&fs->r.head, size);
    ring_wake(&fs->r, &fs->r.cons_waiting);
}

/* ---- threads ------------------------------------------------------------------ */

static void *pump_main(void *arg)
{
    files_src *fs = arg;
    uint8_t *buf = malloc(1 << 16);
    while (buf && !atomic_load(&fs->stop)) {
        struct pollfd pfd = {.fd = fs->in_fd, .events = POLLIN};
        int pr = poll(&pfd, 1, 100);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr <= 0)
            continue;
        ssize_t n = read(fs->in_fd, buf, 1 << 16);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        atomic_fetch_add(&fs->raw_bytes, (uint64_t)n);
        for (ssize_t at = 0; at < n && !atomic_load(&fs->stop);) {
            ssize_t w = write(fs->ipipe[1], buf + at, (size_t)(n - at));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) { /* the reader has gone (EPIPE): nothing more to do */
                atomic_store(&fs->stop, 1);
                break;
            }
            at += w;
        }
    }
    free(buf);
    close(fs->ipipe[1]);
    fs->ipipe[1] = -1;
    return NULL;
}

static void push_end(files_src *fs)
{
    uint8_t *e = ring_reserve(fs, ENTRY_ALIGN);
    if (!e)
        return;
    ring_hdr *h = (ring_hdr *)e;
    memset(h, 0, sizeof *h);
    h->size = ENTRY_ALIGN;
    h->kind = E_END;
    ring_publish(fs, ENTRY_ALIGN);
}

static void *reader_main(void *arg)
{
    files_src *fs = arg;
    nagm_capture *c;
    char err[NAGM_ERRBUF_SIZE];
    int fd = fs->ipipe[0];
    fs->ipipe[0] = -1;
    if (nagm_capture_open_fd(fd, 1, "stdin", NULL, &c, err) != 0) {
        snprintf(fs->end_err, sizeof fs->end_err, "%s", err);
        fs->end_status = -1;
        fs->end_fatal = 1;
        push_end(fs);
        return NULL;
    }
    nagm_frame f;
    int rc;
    while ((rc = nagm_capture_next(c, &f)) == 1) {
        uint32_t caplen = f.caplen < MAX_FRAME_BYTES ? f.caplen : MAX_FRAME_BYTES;
        uint32_t size = (uint32_t)((sizeof(ring_hdr) + caplen + ENTRY_ALIGN - 1) &
                                   ~(size_t)(ENTRY_ALIGN - 1));
        uint8_t *e = ring_reserve(fs, size);
        if (!e)
            break;
        ring_hdr *h = (ring_hdr *)e;
        h->size = size;
        h->kind = E_FRAME;
        h->ts_ns = f.ts_ns;
        h->caplen = caplen;
        h->wirelen = f.wirelen;
        h->linktype = f.linktype;
        h->pad = 0;
        if (caplen)
            memcpy(e + sizeof *h, f.data, caplen);
        ring_publish(fs, size);
    }
    if (rc < 0) {
        snprintf(fs->end_err, sizeof fs->end_err, "%s", nagm_capture_error(c));
        fs->end_status = rc;
        fs->end_fatal = nagm_capture_fatal(rc); /* not the input's fault */
    }
    nagm_capture_close(c);
    push_end(fs);
    return NULL;
}

static int start_pipe(files_src *fs, int fd)
{
    fs->in_fd = fd;
    fs->r.buf = malloc(RING_BYTES);
    if (!fs->r.buf || pipe2(fs->ipipe, O_CLOEXEC) != 0) {
        snprintf(fs->base.err, sizeof fs->base.err, "cannot set up the input queue: %s",
                 strerror(errno));
        return -1;
    }
    pthread_mutex_init(&fs->r.mu, NULL);
    pthread_cond_init(&fs->r.cv, NULL);
    sigset_t old;
    sigset_t all;
    sigfillset(&all);
    /* The threads start with every signal blocked: signals (SIGTERM, SIGPIPE
     * from a closed internal pipe) stay with the main thread. */
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&fs->pump_th, NULL, pump_main, fs);
    if (rc == 0 && pthread_create(&fs->reader_th, NULL, reader_main, fs) != 0) {
        atomic_store(&fs->stop, 1);
        pthread_join(fs->pump_th, NULL);
        rc = -1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(fs->base.err, sizeof fs->base.err, "cannot start the input threads");
        return -1;
    }
    fs->threads = 2;
    return 0;
}

/* ---- poll ----------------------------------------------------------------------- */

static int poll_pipe(files_src *fs, const nagm_source_cb *cb, int timeout_ms)
{
    ring *r = &fs->r;
    int n = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (n < BUDGET) {
        uint64_t head = atomic_load(&r->head), tail = atomic_load(&r->tail);
        if (head == tail) {
            if (n > 0)
                break;
            struct timespec t1;
            clock_gettime(CLOCK_MONOTONIC, &t1);
            long el = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
            if (el >= timeout_ms)
                break;
            pthread_mutex_lock(&r->mu);
            atomic_store(&r->cons_waiting, 1);
            if (atomic_load(&r->head) == atomic_load(&r->tail))
                timed_wait(r, (int)(timeout_ms - el < 50 ? timeout_ms - el : 50));
            atomic_store(&r->cons_waiting, 0);
            pthread_mutex_unlock(&r->mu);
            continue;
        }
        ring_hdr *h = (ring_hdr *)(r->buf + tail % RING_BYTES);
        if (h->kind == E_WRAP) {
            atomic_store(&r->tail, tail + h->size);
            continue;
        }
        if (h->kind == E_END) {
            atomic_store(&r->tail, tail + h->size);
            fs->ended = 1;
            fs->st.input_bytes = atomic_load(&fs->raw_bytes);
            if (fs->end_status == 0) {
                fs->st.files_ok++;
            } else {
                fs->st.files_bad++;
                if (fs->end_fatal) {
                    snprintf(fs->base.err, sizeof fs->base.err, "%s", fs->end_err);
                    return NAGM_SRC_ERROR;
                }
                fprintf(stderr, "netagm: %s\n", fs->end_err);
            }
            return n > 0 ? n : NAGM_SRC_END;
        }
        nagm_frame f = {.ts_ns = h->ts_ns,
                        .caplen = h->caplen,
                        .wirelen = h->wirelen,
                        .linktype = h->linktype,
                        .data = (const uint8_t *)h + sizeof *h};
        nagm_src_meta m = {.lane = 0, .pos = -1};
        int crc = cb->frame(cb->ctx, &m, &f);
        atomic_store(&r->tail, tail + h->size);
        ring_wake(r, &r->prod_waiting);
        n++;
        if (crc != 0)
            return crc;
    }
    return n;
}

/* Open the next input for direct reading. Returns 1 opened, 0 none left,
 * NAGM_SRC_ERROR when stdin is not a capture (fatal: nothing else comes). */
static int open_next(files_src *fs)
{
    while (fs->next < fs->in.n) {
        const char *p = fs->in.paths[fs->next++];
        char err[NAGM_ERRBUF_SIZE];
        if (!strcmp(p, "-")) {
            struct stat sb;
            if (fstat(STDIN_FILENO, &sb) == 0 && !S_ISREG(sb.st_mode)) {
                if (start_pipe(fs, STDIN_FILENO) != 0)
                    return NAGM_SRC_ERROR;
                fs->piped = 1;
                return 1;
            }
            if (nagm_capture_open(p, &fs->cap, err) != 0) {
                fs->st.files_bad++;
                snprintf(fs->base.err, sizeof fs->base.err, "%s", err);
                return NAGM_SRC_ERROR;
            }
            return 1;
        }
        int orc = nagm_capture_open(p, &fs->cap, err);
        if (orc == 0)
            return 1;
        if (nagm_capture_fatal(orc)) { /* not the file's fault: stop */
            snprintf(fs->base.err, sizeof fs->base.err, "%s", err);
            return NAGM_SRC_ERROR;
        }
        fprintf(stderr, "netagm: %s\n", err);
        fs->st.files_bad++;
    }
    return 0;
}

static int files_poll(nagm_source *s, const nagm_source_cb *cb, int timeout_ms)
{
    files_src *fs = (files_src *)s;
    int n = 0;
    while (n < BUDGET) {
        if (fs->piped && !fs->ended) {
            int r = poll_pipe(fs, cb, timeout_ms);
            if (r == NAGM_SRC_END) {
                fs->piped = 0; /* threads are joined at close */
                continue;
            }
            return r < 0 ? r : n + r;
        }
        if (!fs->cap) {
            int r = open_next(fs);
            if (r < 0)
                return r;
            if (r == 0)
                return n > 0 ? n : NAGM_SRC_END;
            continue;
        }
        nagm_frame f;
        int rc = nagm_capture_next(fs->cap, &f);
        if (rc == 1) {
            nagm_src_meta m = {.lane = 0, .pos = -1};
            n++;
            int crc = cb->frame(cb->ctx, &m, &f);
            if (crc != 0)
                return crc;
            continue;
        }
        if (nagm_capture_fatal(rc)) { /* not the file's fault: stop */
            snprintf(fs->base.err, sizeof fs->base.err, "%s", nagm_capture_error(fs->cap));
            return NAGM_SRC_ERROR;
        }
        if (rc < 0) {
            fprintf(stderr, "netagm: %s\n", nagm_capture_error(fs->cap));
            fs->st.files_bad++;
        } else {
            fs->st.files_ok++;
        }
        fs->st.input_bytes += nagm_capture_raw_bytes(fs->cap);
        nagm_capture_close(fs->cap);
        fs->cap = NULL;
    }
    return n;
}

static void files_stats(nagm_source *s, nagm_source_stats *out)
{
    files_src *fs = (files_src *)s;
    *out = fs->st;
    if (fs->threads) {
        out->input_bytes = atomic_load(&fs->raw_bytes);
        out->backlog = atomic_load(&fs->r.head) - atomic_load(&fs->r.tail);
    } else if (fs->cap) {
        out->input_bytes += nagm_capture_raw_bytes(fs->cap);
    }
}

static void files_close(nagm_source *s)
{
    files_src *fs = (files_src *)s;
    if (!fs)
        return;
    if (fs->threads) {
        atomic_store(&fs->stop, 1);
        pthread_mutex_lock(&fs->r.mu);
        pthread_cond_broadcast(&fs->r.cv);
        pthread_mutex_unlock(&fs->r.mu);
        pthread_join(fs->pump_th, NULL);
        pthread_join(fs->reader_th, NULL);
        pthread_mutex_destroy(&fs->r.mu);
        pthread_cond_destroy(&fs->r.cv);
    }
    if (fs->ipipe[0] >= 0)
        close(fs->ipipe[0]);
    if (fs->ipipe[1] >= 0)
        close(fs->ipipe[1]);
    free(fs->r.buf);
    nagm_capture_close(fs->cap);
    nagm_inputs_free(&fs->in);
    free(fs);
}

nagm_source *nagm_source_files_new(const char *const *paths, size_t n, char *errbuf)
{
    files_src *fs = calloc(1, sizeof *fs);
    if (!fs) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
        return NULL;
    }
    fs->ipipe[0] = fs->ipipe[1] = -1;
    if (nagm_inputs_expand(paths, n, &fs->in, errbuf) != 0) {
        free(fs);
        return NULL;
    }
    int has_stdin = 0;
    for (size_t i = 0; i < fs->in.n; i++)
        has_stdin |= !strcmp(fs->in.paths[i], "-");
    fs->base.kind = has_stdin ? "stdin" : "files";
    fs->base.poll = files_poll;
    fs->base.stats = files_stats;
    fs->base.close = files_close;
    return &fs->base;
}
