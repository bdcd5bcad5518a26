/* `netagm agm` as an MPI job (netagm/mpi.h, docs/cluster.md).
 *
 *   1. rank 0 expands the -r arguments and broadcasts the file list;
 *   2. every rank computes the same size-balanced split (mpi_split.h) and
 *      reads its files into one partial state, reporting bad files itself;
 *   3. the ranks agree on the outcome (the most severe status wins) and, for
 *      one window over the whole input, on its first and last timestamps;
 *   4. partial records move to their owners and merge (mpi_shuffle.h);
 *   5. owners finalize their rows, already in output order; rank 0 merges
 *      them into the one output (mpi_gather.h), or every rank writes its own
 *      part file;
 *   6. statistics are summed on rank 0, which reports them.
 *
 * Every step that can fail on one rank only is followed by an agreement (an
 * all-reduce), so all ranks take the same branch and nobody waits for a rank
 * that gave up. Failures inside an exchange end the job with MPI_Abort.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "agg/agg_serial.h"
#include "mpi/mpi_agm.h"
#include "mpi/mpi_comm.h"
#include "mpi/mpi_gather.h"
#include "mpi/mpi_shuffle.h"
#include "mpi/mpi_split.h"
#include "netagm/agg.h"
#include "netagm/capture.h"
#include "netagm/mpi.h"
#include "util/clock.h"

#define DEFAULT_CHUNK ((size_t)64 << 20)

/* ---- statuses: agreeing on the most severe ------------------------------------ */

static int severity(int status)
{
    switch (status) {
    case NAGM_EXIT_OK:
        return 0;
    case NAGM_EXIT_BADINPUT:
        return 1;
    case NAGM_EXIT_USAGE:
        return 2;
    default:
        return 3;
    }
}

static int agree(int status)
{
    static const int back[] = {NAGM_EXIT_OK, NAGM_EXIT_BADINPUT, NAGM_EXIT_USAGE,
                               NAGM_EXIT_ERROR};
    return back[mpc_max_int(severity(status))];
}

int mpi_agm_agree(int status)
{
    return agree(status);
}

static int fatal_status(int status)
{
    return status == NAGM_EXIT_ERROR || status == NAGM_EXIT_USAGE;
}

/* Bytes per exchange round (NETAGM_MPI_CHUNK, with K/M/G suffixes). */
static size_t chunk_bytes(void)
{
    const char *v = getenv("NETAGM_MPI_CHUNK");
    if (!v || !*v)
        return DEFAULT_CHUNK;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end == 'K' || *end == 'k')
        n <<= 10, end++;
    else if (*end == 'M' || *end == 'm')
        n <<= 20, end++;
    else if (*end == 'G' || *end == 'g')
        n <<= 30, end++;
    if (*end || n == 0) {
        if (mpc_rank() == 0)
            fprintf(stderr, "netagm: NETAGM_MPI_CHUNK='%s' is not a byte count; using %zu\n", v,
                    DEFAULT_CHUNK);
        return DEFAULT_CHUNK;
    }
    return (size_t)n;
}

/* ---- 1. the input list, expanded once on rank 0 ----------------------------------- */

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Layout: per file, size u64 | path length u64 | path bytes. */
static int share_inputs(const nagm_run_opts *o, nagm_inputs *in, char *errbuf)
{
    memset(in, 0, sizeof *in);
    uint64_t hdr[2] = {0, 0}; /* status (0 ok, 1 failed), bytes */
    uint8_t *blob = NULL;
    if (mpc_rank() == 0) {
        if (nagm_inputs_expand(o->inputs, o->ninputs, in, errbuf) != 0) {
            hdr[0] = 1;
        } else {
            for (size_t i = 0; i < in->n; i++)
                hdr[1] += 16 + strlen(in->paths[i]);
            if (!(blob = malloc(hdr[1] ? hdr[1] : 1)))
                mpc_fatal("out of memory listing the inputs");
            uint8_t *p = blob;
            for (size_t i = 0; i < in->n; i++) {
                size_t len = strlen(in->paths[i]);
                put64(p, in->sizes[i]);
                put64(p + 8, len);
                memcpy(p + 16, in->paths[i], len);
                p += 16 + len;
            }
        }
    }
    mpc_bcast(hdr, sizeof hdr, 0);
    if (hdr[0]) {
        if (mpc_rank() != 0)
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "rank 0 could not list the inputs");
        return -1;
    }
    if (mpc_rank() != 0 && !(blob = malloc(hdr[1] ? hdr[1] : 1)))
        mpc_fatal("out of memory receiving the input list");
    mpc_bcast(blob, hdr[1], 0);
    if (mpc_rank() != 0) {
        size_t cap = 0;
        for (const uint8_t *p = blob; p < blob + hdr[1]; p += 16 + get64(p + 8))
            cap++;
        in->paths = calloc(cap ? cap : 1, sizeof *in->paths);
        in->sizes = calloc(cap ? cap : 1, sizeof *in->sizes);
        if (!in->paths || !in->sizes)
            mpc_fatal("out of memory receiving the input list");
        for (const uint8_t *p = blob; p < blob + hdr[1]; p += 16 + get64(p + 8)) {
            size_t len = (size_t)get64(p + 8);
            char *s = malloc(len + 1);
            if (!s)
                mpc_fatal("out of memory receiving the input list");
            memcpy(s, p + 16, len);
            s[len] = 0;
            in->sizes[in->n] = get64(p);
            in->paths[in->n++] = s;
        }
    }
    free(blob);
    return 0;
}

/* ---- 2. reading this rank's files ---------------------------------------------- */

static int add_packets(void *agg, const nagm_pkt *pkts, size_t n)
{
    return nagm_agg_add_batch(agg, pkts, n);
}

/* This rank's files through nagm_run_file, with the rank in every message. */
static int read_files(const nagm_run_opts *o, nagm_filter *flt, const nagm_inputs *in,
                      const int *owner, nagm_agg *agg, nagm_stats *st, uint64_t *nfiles,
                      char *errbuf)
{
    int status = NAGM_EXIT_OK, me = mpc_rank();
    for (size_t i = 0; i < in->n; i++) {
        if (owner[i] != me)
            continue;
        (*nfiles)++;
        int rc = nagm_run_file(in->paths[i], o, flt, add_packets, agg, st, mpc_who(), NULL,
                               errbuf);
        if (rc == NAGM_EXIT_ERROR)
            return rc;
        if (rc == NAGM_EXIT_BADINPUT)
            status = rc;
    }
    return status;
}

/* ---- 5. output ------------------------------------------------------------------- */

static const char *format_ext(nagm_format f)
{
    return f == NAGM_FMT_JSONL ? "jsonl" : f == NAGM_FMT_PARQUET ? "parquet" : "csv";
}

/* Rank 0: make the parts directory, or empty it of an earlier run's parts
 * (part-NNNNN.* and _SUCCESS only: anything else stays). Returns 0 or -1
 * after printing. */
static int prepare_parts_dir(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "netagm: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "netagm: --output-parts: %s exists and is not a directory\n", dir);
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "netagm: cannot read %s: %s\n", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        int ours = !strcmp(n, "_SUCCESS") ||
                   (!strncmp(n, "part-", 5) && strspn(n + 5, "0123456789") == 5 && n[10] == '.');
        if (!ours)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, n);
        if (unlink(path) != 0) {
            fprintf(stderr, "netagm: cannot remove the old part %s: %s\n", path, strerror(errno));
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}

/* Close a sink, reporting a failure (with what) on stderr. Returns a status. */
static int close_sink(nagm_sink *sink, int write_failed, const char *what)
{
    if (!sink)
        return NAGM_EXIT_OK;
    char serr[sizeof sink->err];
    memcpy(serr, sink->err, sizeof serr);
    if (sink->close(sink) != NAGM_SINK_OK || write_failed) {
        fprintf(stderr, "%s: writing %s failed%s%s\n", mpc_who(), what, serr[0] ? ": " : "",
                serr);
        return NAGM_EXIT_ERROR;
    }
    return NAGM_EXIT_OK;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

/* Collective in parts mode: the number of distinct windows over every
 * rank's rows (a window usually has rows on several ranks), on rank 0. */
static uint64_t count_windows(const nagm_agm_row *rows, size_t n)
{
    int64_t *starts = malloc(sizeof *starts * (n ? n : 1));
    if (!starts)
        mpc_fatal("out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || rows[i].window_start_ns != starts[k - 1])
            starts[k++] = rows[i].window_start_ns;
    int p = mpc_size();
    size_t *len = calloc((size_t)p, sizeof *len), *off = calloc((size_t)p, sizeof *off);
    uint8_t *all;
    if (!len || !off)
        mpc_fatal("out of memory");
    mpc_gatherv(starts, k * sizeof *starts, &all, len, off, 0);
    uint64_t nw = 0;
    if (mpc_rank() == 0) {
        size_t total = 0;
        for (int r = 0; r < p; r++)
            total += len[r] / sizeof *starts;
        int64_t *v = (int64_t *)(void *)all;
        if (total)
            qsort(v, total, sizeof *v, cmp_i64);
        for (size_t i = 0; i < total; i++)
            if (i == 0 || v[i] != v[i - 1])
                nw++;
    }
    free(all);
    free(len);
    free(off);
    free(starts);
    return nw;
}

/* ---- the job ------------------------------------------------------------------------- */

typedef struct mpi_extra {
    uint64_t files;      /* inputs this rank read */
    uint64_t bytes;      /* their size on disk */
    double read_s;       /* time spent reading them */
} mpi_extra;

static void report_mpi(const mpi_shuffle_stats *sh, const mpi_extra *ex, double shuffle_s,
                       double write_s)
{
    int p = mpc_size();
    uint64_t v[4] = {sh->bytes_out, sh->bytes_self, sh->records, sh->rounds};
    mpc_allreduce_u64(v, 3, MPC_SUM);
    mpc_allreduce_u64(v + 3, 1, MPC_MAX);
    mpi_extra *all = malloc(sizeof *all * (size_t)p);
    if (!all)
        mpc_fatal("out of memory");
    mpc_gather(ex, sizeof *ex, all, 0);
    if (mpc_rank() == 0) {
        fprintf(stderr, "netagm: mpi: %d rank%s; files per rank", p, p == 1 ? "" : "s");
        for (int r = 0; r < p; r++)
            fprintf(stderr, "%s%" PRIu64, r ? "/" : " ", all[r].files);
        fprintf(stderr, "; read s per rank");
        for (int r = 0; r < p; r++)
            fprintf(stderr, "%s%.2f", r ? "/" : " ", all[r].read_s);
        fprintf(stderr,
                "\nnetagm: mpi: shuffle %" PRIu64 " partial records, %" PRIu64
                " bytes between ranks + %" PRIu64 " kept local, %" PRIu64
                " rounds, %.3f s; output %.3f s\n",
                v[2], v[0], v[1], v[3], shuffle_s, write_s);
    }
    free(all);
}

int mpi_agm_run(const nagm_mpi_agm_job *job)
{
    const nagm_run_opts *o = job->run;
    double t0 = nagm_now_s();
    int me = mpc_rank(), p = mpc_size();
    char errbuf[NAGM_ERRBUF_SIZE] = "";
    nagm_stats st;
    memset(&st, 0, sizeof st);

    nagm_format fmt = job->fmt;
    if (fmt == NAGM_FMT_AUTO)
        fmt = nagm_format_from_path(job->out);
    if (fmt == NAGM_FMT_AUTO)
        fmt = NAGM_FMT_CSV;
    if (job->output_parts && !strcmp(job->out, "-")) {
        if (me == 0)
            fprintf(stderr, "netagm agm: --output-parts writes one file per rank into a "
                            "directory: give it with -o DIR\n");
        return NAGM_EXIT_USAGE;
    }

    /* 1. inputs, filters */
    nagm_inputs in;
    if (share_inputs(o, &in, errbuf) != 0) {
        if (me == 0)
            fprintf(stderr, "netagm agm: %s\n", errbuf);
        return NAGM_EXIT_ERROR;
    }
    nagm_filter flt;
    int status = nagm_filter_init(&flt, o, errbuf) == 0 ? NAGM_EXIT_OK : NAGM_EXIT_USAGE;
    if (status != NAGM_EXIT_OK && me == 0)
        fprintf(stderr, "netagm agm: %s\n", errbuf);
    if ((status = agree(status)) != NAGM_EXIT_OK) {
        nagm_filter_free(&flt);
        nagm_inputs_free(&in);
        return status;
    }

    /* Output first, so that an unwritable path fails before any work. */
    nagm_sink *sink = NULL;
    char part[4096] = "";
    int ok = 1;
    if (!job->output_parts) {
        if (me == 0 && !(sink = job->open_sink(job->sink_ctx, job->out, fmt)))
            ok = 0;
    } else {
        if (me == 0 && prepare_parts_dir(job->out) != 0)
            ok = 0;
        if (mpc_max_int(!ok) == 0) {
            snprintf(part, sizeof part, "%s/part-%05d.%s", job->out, me, format_ext(fmt));
            if (!(sink = job->open_sink(job->sink_ctx, part, fmt)))
                ok = 0;
        }
    }
    if (mpc_max_int(!ok)) {
        if (sink)
            sink->close(sink);
        nagm_filter_free(&flt);
        nagm_inputs_free(&in);
        return NAGM_EXIT_ERROR;
    }

    /* 2. split and read */
    int *owner = malloc(sizeof *owner * (in.n ? in.n : 1));
    nagm_agg *local = nagm_agg_new(o->window_ns);
    nagm_agg *own = nagm_agg_new(o->window_ns);
    if (!owner || !local || !own || mpi_split_lpt(in.paths, in.sizes, in.n, p, owner) != 0)
        mpc_fatal("out of memory before reading");
    mpi_extra ex = {0, 0, 0};
    for (size_t i = 0; i < in.n; i++)
        if (owner[i] == me)
            ex.bytes += in.sizes[i];
    status = read_files(o, &flt, &in, owner, local, &st, &ex.files, errbuf);
    ex.read_s = nagm_now_s() - t0;
    free(owner);
    nagm_filter_free(&flt);
    nagm_inputs_free(&in);
    mpc_idle_barrier(); /* ranks done reading leave their cores to the others */
    int job_status = agree(status);
    if (fatal_status(job_status)) {
        if (fatal_status(status))
            fprintf(stderr, "%s: %s\n", mpc_who(), errbuf);
        close_sink(sink, 0, "");
        nagm_agg_free(local);
        nagm_agg_free(own);
        return job_status;
    }

    /* 3. one window over everything: its ends are the job's first and last packets */
    int64_t t_lo = nagm_agg_min_ts(local), t_hi = nagm_agg_max_ts(local);
    mpc_allreduce_i64(&t_lo, 1, MPC_MIN);
    mpc_allreduce_i64(&t_hi, 1, MPC_MAX);

    /* 4. shuffle */
    double ts = nagm_now_s();
    mpi_shuffle_stats sh;
    size_t chunk = chunk_bytes();
    if (p > 1) {
        mpi_shuffle(local, own, chunk, &sh);
        nagm_agg_free(local);
    } else {
        /* One rank owns everything: its partial state is the final one. */
        memset(&sh, 0, sizeof sh);
        sh.records = nagm_agg_nrecords(local);
        nagm_agg_free(own);
        own = local;
    }
    double shuffle_s = nagm_now_s() - ts;

    /* 5. finalize and write */
    ts = nagm_now_s();
    nagm_agm_row *rows;
    size_t n = nagm_agg_take(own, INT64_MAX, &rows);
    if (n == (size_t)-1)
        mpc_fatal("out of memory finalizing rows");
    nagm_agg_free(own);
    if (o->window_ns == 0)
        for (size_t i = 0; i < n; i++) {
            rows[i].window_start_ns = t_lo;
            rows[i].window_end_ns = t_hi;
        }
    int wstatus = NAGM_EXIT_OK;
    uint64_t out_rows = 0, out_windows = 0;
    if (!job->output_parts) {
        size_t chunk_rows = chunk / (size_t)p / sizeof *rows;
        mpi_gather_result gr;
        mpi_gather_write(rows, n, sink, chunk_rows ? chunk_rows : 1, &gr);
        if (me == 0) {
            int wf = gr.write_failed;
            if (!wf && sink->flush && sink->flush(sink) != NAGM_SINK_OK)
                wf = 1;
            wstatus = close_sink(sink, wf, job->out);
            out_rows = gr.rows;
            out_windows = gr.windows;
        }
    } else {
        int wf = n && sink->write(sink, rows, n) != NAGM_SINK_OK;
        if (!wf && sink->flush && sink->flush(sink) != NAGM_SINK_OK)
            wf = 1;
        wstatus = close_sink(sink, wf, part);
        out_rows = n;
        out_windows = count_windows(rows, n);
    }
    free(rows);
    double write_s = nagm_now_s() - ts;
    wstatus = agree(wstatus);
    if (job->output_parts && wstatus == NAGM_EXIT_OK && me == 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/_SUCCESS", job->out);
        FILE *f = fopen(path, "w");
        if (!f || fclose(f) != 0) {
            fprintf(stderr, "netagm: cannot write %s: %s\n", path, strerror(errno));
            wstatus = NAGM_EXIT_ERROR;
        }
    }

    /* 6. statistics of the whole job, on rank 0 */
    if (!job->quiet)
        report_mpi(&sh, &ex, shuffle_s, write_s);
    st.sources = out_rows;
    st.rows = out_rows;
    st.windows = out_windows;
    nagm_stats *all = me == 0 ? malloc(sizeof *all * (size_t)p) : NULL;
    nagm_stats dummy;
    if (me == 0 && !all)
        mpc_fatal("out of memory gathering statistics");
    mpc_gather(&st, sizeof st, all ? all : &dummy, 0);
    int rstatus = NAGM_EXIT_OK;
    if (me == 0) {
        nagm_stats tot;
        memset(&tot, 0, sizeof tot);
        for (int r = 0; r < p; r++)
            nagm_stats_add(&tot, &all[r]);
        if (job->output_parts)
            tot.windows = out_windows;
        tot.elapsed_s = nagm_now_s() - t0;
        if (job->report && job->report(job->report_ctx, &tot) != 0)
            rstatus = NAGM_EXIT_ERROR;
    }
    free(all);
    int final = status;
    if (severity(wstatus) > severity(final))
        final = wstatus;
    if (severity(rstatus) > severity(final))
        final = rstatus;
    /* Once one rank exits non-zero the launcher may kill the others: nothing
     * may still sit in a stdio buffer by then. */
    fflush(NULL);
    return agree(final);
}

int nagm_mpi_agm(const nagm_mpi_agm_job *job)
{
    mpc_init();
    int status = mpi_agm_run(job);
    mpc_finalize();
    return status;
}
