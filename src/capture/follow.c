/* Stream source: a directory of rotating capture files (netagm stream
 * --follow DIR), as written by tcpdump -G SECONDS -w 'DIR/%Y%m%d-%H%M%S.pcap'.
 *
 * Files are read whole, in byte-wise name order, once complete:
 *   - a file with a later name exists (the writer has moved on), and the
 *     file's size did not change between two scans; or
 *   - with settle_ns, its size and mtime have not changed for that long (the
 *     last file of a rotation that stopped).
 * Hidden files (starting with '.') and *.tmp are ignored.
 *
 * Progress is a small text file, rewritten atomically (tmp + rename):
 *
 *   netagm-follow 1
 *   window NS
 *   closed_before NS
 *   file MAX_TS NAME        one line per file read (MAX_TS: latest frame time)
 *
 * A file is retired once every window its packets fall in has been emitted
 * (its latest frame time is before closed_before). On restart, retired files
 * are skipped; files read but not retired are read again, their packets of
 * windows ending at or before closed_before dropped as replayed (they went
 * out before the restart); the engine's closed_before is restored, so new
 * packets for those windows count as late. So a restart reads every packet
 * into exactly one emitted window.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "netagm/stream.h"

#define BUDGET 8192
#define STATE_MAGIC "netagm-follow 1"

typedef struct seen {
    char *name;
    int64_t size;       /* at the last scan */
    int64_t mtime_ns;
    int64_t stable_since; /* monotonic ns the size/mtime were first seen */
    int scans_same;     /* consecutive scans with the same size */
    int state;          /* 0 new, 1 done (this run or before), 2 to re-read */
    int64_t max_ts;     /* latest frame time, INT64_MIN if none */
    int retired;
} seen;

typedef struct follow_src {
    nagm_source base;
    char *dir, *state_path, *state_tmp;
    int64_t window_ns, settle_ns, scan_ns;
    seen *files;
    size_t nfiles, capfiles;
    int64_t saved_cb;       /* closed_before from the state file */
    int64_t next_scan;
    nagm_capture *cap;      /* the file being read */
    seen *cur;
    int64_t cur_max;        /* its latest frame time so far */
    int dirty;              /* state to write */
    int64_t written_cb;
    nagm_source_stats st;
    int warned_dir;
} follow_src;

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static seen *find(follow_src *fs, const char *name)
{
    /* files[] is sorted by name */
    size_t lo = 0, hi = fs->nfiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(fs->files[mid].name, name);
        if (c == 0)
            return &fs->files[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static seen *add(follow_src *fs, const char *name)
{
    size_t lo = 0, hi = fs->nfiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(fs->files[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (fs->nfiles == fs->capfiles) {
        size_t ncap = fs->capfiles ? fs->capfiles * 2 : 64;
        seen *n = realloc(fs->files, sizeof *n * ncap);
        if (!n)
            return NULL;
        fs->files = n;
        fs->capfiles = ncap;
    }
    char *copy = strdup(name);
    if (!copy)
        return NULL;
    memmove(&fs->files[lo + 1], &fs->files[lo], sizeof *fs->files * (fs->nfiles - lo));
    seen *s = &fs->files[lo];
    memset(s, 0, sizeof *s);
    s->name = copy;
    s->size = -1;
    s->max_ts = INT64_MIN;
    fs->nfiles++;
    return s;
}

/* ---- state file --------------------------------------------------------------- */

/* A file whose reading did not finish is recorded with MAX_TS INT64_MAX,
 * so that it is read again. */
static int retired_by(const follow_src *fs, const seen *f, int64_t cb)
{
    if (f->max_ts == INT64_MAX)
        return 0;
    if (fs->window_ns <= 0)
        return 1; /* no windows (publish): read and delivered means done */
    return f->max_ts == INT64_MIN || f->max_ts < cb;
}

static int write_state(follow_src *fs, int64_t cb)
{
    FILE *f = fopen(fs->state_tmp, "w");
    if (!f)
        return -1;
    fprintf(f, STATE_MAGIC "\nwindow %" PRId64 "\nclosed_before %" PRId64 "\n", fs->window_ns, cb);
    for (size_t i = 0; i < fs->nfiles; i++) {
        const seen *s = &fs->files[i];
        if (s == fs->cur) /* being read: read it again after a restart */
            fprintf(f, "file %" PRId64 " %s\n", INT64_MAX, s->name);
        else if (s->state == 2 || (s->state == 1 && !(s->size < 0 && retired_by(fs, s, cb))))
            fprintf(f, "file %" PRId64 " %s\n", s->max_ts, s->name);
    }
    int rc = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(fs->state_tmp, fs->state_path) != 0)
        rc = -1;
    return rc;
}

/* Load the state: done files, and those to read again. */
static int load_state(follow_src *fs, char *errbuf)
{
    FILE *f = fopen(fs->state_path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "%.300s: %s", fs->state_path, strerror(errno));
        return -1;
    }
    char line[4352];
    int64_t w = 0, cb = INT64_MIN;
    int ok = fgets(line, sizeof line, f) && !strncmp(line, STATE_MAGIC, strlen(STATE_MAGIC));
    while (ok && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        int64_t v;
        int off = 0;
        if (sscanf(line, "window %" SCNd64, &v) == 1) {
            w = v;
        } else if (sscanf(line, "closed_before %" SCNd64, &v) == 1) {
            cb = v;
        } else if (sscanf(line, "file %" SCNd64 " %n", &v, &off) == 1 && off > 0 && line[off]) {
            seen *s = add(fs, line + off);
            if (!s) {
                fclose(f);
                snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
                return -1;
            }
            s->state = 1;
            s->max_ts = v;
        } else {
            ok = 0;
        }
    }
    fclose(f);
    if (!ok) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE,
                 "%.300s: not a progress file of netagm --follow (remove it to start over)",
                 fs->state_path);
        return -1;
    }
    if (w != fs->window_ns && fs->window_ns > 0) {
        fprintf(stderr,
                "netagm: %s: recorded with another window length; files read before are "
                "skipped, windows open at the last stop are lost\n",
                fs->state_path);
        cb = INT64_MIN;
        for (size_t i = 0; i < fs->nfiles; i++)
            fs->files[i].retired = 1;
        fs->saved_cb = INT64_MIN;
        return 0;
    }
    fs->saved_cb = cb;
    for (size_t i = 0; i < fs->nfiles; i++) {
        seen *s = &fs->files[i];
        s->retired = retired_by(fs, s, cb);
        if (!s->retired)
            s->state = 2; /* packets in windows not emitted: read again */
    }
    fs->written_cb = cb;
    return 0;
}

/* ---- scanning ------------------------------------------------------------------- */

static int ignored(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' || (n > 4 && !strcmp(name + n - 4, ".tmp"));
}

/* Update sizes; return the first complete file not read yet, or NULL. */
static seen *scan(follow_src *fs, int64_t now)
{
    DIR *d = opendir(fs->dir);
    if (!d) {
        if (!fs->warned_dir++)
            fprintf(stderr, "netagm: --follow %s: %s (waiting for it)\n", fs->dir, strerror(errno));
        return NULL;
    }
    fs->warned_dir = 0;
    struct dirent *e;
    char path[4352];
    while ((e = readdir(d)) != NULL) {
        if (ignored(e->d_name))
            continue;
        snprintf(path, sizeof path, "%s/%s", fs->dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (fs->state_path && !strcmp(path, fs->state_path))
            continue;
        seen *s = find(fs, e->d_name);
        if (!s && !(s = add(fs, e->d_name)))
            break;
        int64_t mt = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
        if (sb.st_size == s->size && mt == s->mtime_ns) {
            s->scans_same++;
        } else {
            s->size = sb.st_size;
            s->mtime_ns = mt;
            s->scans_same = 0;
            s->stable_since = now;
        }
    }
    closedir(d);
    /* The first file (in name order) still to read, if complete. */
    for (size_t i = 0; i < fs->nfiles; i++) {
        seen *s = &fs->files[i];
        if (s->state == 1 || s->size < 0)
            continue;
        int later = 0;
        for (size_t k = i + 1; k < fs->nfiles && !later; k++)
            later = fs->files[k].size >= 0;
        if (later && s->scans_same >= 1)
            return s;
        if (fs->settle_ns > 0 && now - s->stable_since >= fs->settle_ns)
            return s;
        return NULL; /* strictly in name order */
    }
    return NULL;
}

/* ---- source interface ----------------------------------------------------------------- */

static int follow_poll(nagm_source *s, const nagm_source_cb *cb, int timeout_ms)
{
    follow_src *fs = (follow_src *)s;
    int n = 0;
    int64_t deadline = mono_ns() + (int64_t)timeout_ms * 1000000;
    while (n < BUDGET) {
        if (!fs->cap) {
            int64_t now = mono_ns();
            if (now < fs->next_scan) {
                if (n > 0 || now >= deadline)
                    return n;
                int64_t until = fs->next_scan < deadline ? fs->next_scan : deadline;
                struct timespec ts = {(time_t)((until - now) / 1000000000),
                                      (long)((until - now) % 1000000000)};
                nanosleep(&ts, NULL);
                continue;
            }
            fs->next_scan = now + fs->scan_ns;
            seen *f = scan(fs, now);
            if (!f)
                continue;
            char path[4352], err[NAGM_ERRBUF_SIZE];
            snprintf(path, sizeof path, "%s/%s", fs->dir, f->name);
            if (cb->lane)
                cb->lane(cb->ctx, 0, NAGM_LANE_OPEN, f->state == 2 ? fs->saved_cb : INT64_MIN);
            int orc = nagm_capture_open(path, &fs->cap, err);
            if (nagm_capture_fatal(orc)) { /* not the file's fault: stop */
                snprintf(fs->base.err, sizeof fs->base.err, "%s", err);
                return NAGM_SRC_ERROR;
            }
            if (orc != 0) {
                fprintf(stderr, "netagm: %s\n", err);
                fs->st.files_bad++;
                f->state = 1;
                fs->dirty = 1;
                continue;
            }
            fs->cur = f;
            fs->cur_max = INT64_MIN;
            fs->next_scan = 0; /* look for the next file right after this one */
        }
        nagm_frame fr;
        int rc = nagm_capture_next(fs->cap, &fr);
        if (rc == 1) {
            if (fr.ts_ns > fs->cur_max)
                fs->cur_max = fr.ts_ns;
            nagm_src_meta m = {.lane = 0, .pos = -1};
            n++;
            int crc = cb->frame(cb->ctx, &m, &fr);
            if (crc)
                return crc;
            continue;
        }
        if (nagm_capture_fatal(rc)) { /* not the file's fault: stop, keep it */
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
        fs->cur->max_ts = fs->cur_max;
        fs->cur->state = 1;
        fs->cur->retired = 0;
        fs->cur = NULL;
        fs->dirty = 1;
    }
    return n;
}

static int follow_commit(nagm_source *s, const nagm_stream *eng, int final)
{
    (void)final;
    follow_src *fs = (follow_src *)s;
    int64_t cb = eng ? nagm_stream_closed_before(eng) : INT64_MAX;
    if (!fs->dirty && cb == fs->written_cb)
        return 0;
    /* Only files read completely count; the one being read stays to read. */
    if (write_state(fs, cb) != 0) {
        fs->st.commit_errors++;
        fprintf(stderr, "netagm: cannot write %s: %s\n", fs->state_path, strerror(errno));
        return -1;
    }
    fs->st.commits++;
    fs->dirty = 0;
    fs->written_cb = cb;
    return 0;
}

static void follow_stats(nagm_source *s, nagm_source_stats *out)
{
    follow_src *fs = (follow_src *)s;
    *out = fs->st;
    size_t waiting = 0;
    for (size_t i = 0; i < fs->nfiles; i++)
        waiting += fs->files[i].state != 1;
    out->backlog = waiting;
}

static void follow_close(nagm_source *s)
{
    follow_src *fs = (follow_src *)s;
    if (!fs)
        return;
    nagm_capture_close(fs->cap);
    for (size_t i = 0; i < fs->nfiles; i++)
        free(fs->files[i].name);
    free(fs->files);
    free(fs->dir);
    free(fs->state_path);
    free(fs->state_tmp);
    free(fs);
}

int64_t nagm_source_follow_closed_before(const nagm_source *s)
{
    return ((const follow_src *)s)->saved_cb;
}

nagm_source *nagm_source_follow_new(const nagm_follow_opts *o, char *errbuf)
{
    struct stat sb;
    if (stat(o->dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "--follow %.300s: not a directory", o->dir);
        return NULL;
    }
    follow_src *fs = calloc(1, sizeof *fs);
    if (!fs) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
        return NULL;
    }
    fs->dir = strdup(o->dir);
    size_t dl = strlen(o->dir);
    while (dl > 1 && fs->dir && fs->dir[dl - 1] == '/')
        fs->dir[--dl] = '\0';
    if (o->state_path) {
        fs->state_path = strdup(o->state_path);
    } else if (fs->dir) {
        size_t n = dl + 32;
        fs->state_path = malloc(n);
        if (fs->state_path)
            snprintf(fs->state_path, n, "%s/.netagm-follow.state", fs->dir);
    }
    if (fs->state_path) {
        size_t n = strlen(fs->state_path) + 5;
        fs->state_tmp = malloc(n);
        if (fs->state_tmp)
            snprintf(fs->state_tmp, n, "%s.tmp", fs->state_path);
    }
    if (!fs->dir || !fs->state_path || !fs->state_tmp) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
        follow_close(&fs->base);
        return NULL;
    }
    fs->window_ns = o->window_ns;
    fs->settle_ns = o->settle_ns;
    fs->scan_ns = o->scan_ns > 0 ? o->scan_ns : 200000000;
    fs->saved_cb = INT64_MIN;
    fs->written_cb = INT64_MIN;
    if (load_state(fs, errbuf) != 0) {
        follow_close(&fs->base);
        return NULL;
    }
    /* The progress file must be writable before any work. */
    FILE *t = fopen(fs->state_tmp, "w");
    if (!t) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "cannot write the progress file %.300s: %s",
                 fs->state_tmp, strerror(errno));
        follow_close(&fs->base);
        return NULL;
    }
    fclose(t);
    unlink(fs->state_tmp);
    fs->base.kind = "follow";
    fs->base.poll = follow_poll;
    fs->base.commit = follow_commit;
    fs->base.replayable = 1;
    fs->base.stats = follow_stats;
    fs->base.close = follow_close;
    return &fs->base;
}
