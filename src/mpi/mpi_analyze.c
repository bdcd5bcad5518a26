/* `netagm analyze` as an MPI job (netagm/mpi.h, docs/cluster.md).
 *
 *   1. rows: a distributed agm run whose one output is rank 0's memory
 *      instead of a file (the owners' sorted rows, merged by rank 0), or a
 *      table rank 0 reads (the caller's part);
 *   2. rank 0 cuts the rows, in output order, into one contiguous range per
 *      rank at multiples of the ML layer's chunk (NAGM_PAR_CHUNK rows) and
 *      sends each rank its range;
 *   3. every rank trains on its range with the ML layer's collective steps
 *      over MPI (mpi_mlcomm.h), which add every sum in the order a single
 *      process does: every rank ends with the single-process model;
 *   4. the assignments and principal components come back to rank 0 in row
 *      order, for assignments.csv and the report.
 *
 * Rank 0 holds every row (it writes them, and the report profiles them);
 * every rank holds its range's rows, encoded matrix and clustering state.
 */
#include <stdlib.h>
#include <string.h>

#include "ml/ml_comm.h"
#include "ml/ml_par.h"
#include "mpi/mpi_agm.h"
#include "mpi/mpi_comm.h"
#include "mpi/mpi_mlcomm.h"
#include "netagm/mpi.h"

#define TAG_ROWS 7311
#define TAG_ASSIGN 7312
#define TAG_PCS 7313
#define PIECE ((size_t)1 << 30) /* bytes per message */

/* ---- 1. rows of a distributed agm run, kept on rank 0 -------------------------- */

typedef struct row_store {
    nagm_agm_row *rows;
    size_t n, cap;
    nagm_stats st;
} row_store;

typedef struct mem_sink {
    nagm_sink base;
    row_store *to;
} mem_sink;

static int mem_write(nagm_sink *s, const nagm_agm_row *rows, size_t n)
{
    row_store *rs = ((mem_sink *)s)->to;
    if (n > rs->cap - rs->n) {
        size_t cap = rs->cap ? rs->cap : 4096;
        while (cap - rs->n < n)
            cap *= 2;
        nagm_agm_row *grown = realloc(rs->rows, cap * sizeof *grown);
        if (!grown) {
            snprintf(s->err, sizeof s->err, "out of memory for %zu rows", rs->n + n);
            return NAGM_SINK_ERROR;
        }
        rs->rows = grown;
        rs->cap = cap;
    }
    memcpy(rs->rows + rs->n, rows, n * sizeof *rows);
    rs->n += n;
    return NAGM_SINK_OK;
}

static int mem_close(nagm_sink *s)
{
    free(s);
    return NAGM_SINK_OK;
}

static nagm_sink *mem_open(void *ctx, const char *path, nagm_format fmt)
{
    (void)path;
    (void)fmt;
    mem_sink *s = calloc(1, sizeof *s);
    if (!s) {
        fprintf(stderr, "netagm analyze: out of memory\n");
        return NULL;
    }
    s->base.write = mem_write;
    s->base.close = mem_close;
    s->to = ctx;
    return &s->base;
}

static int mem_report(void *ctx, const nagm_stats *st)
{
    ((row_store *)ctx)->st = *st;
    return 0;
}

int nagm_mpi_agm_rows(const nagm_run_opts *run, int quiet, nagm_agm_row **rows, size_t *n,
                      nagm_stats *st)
{
    mpc_init();
    row_store rs;
    memset(&rs, 0, sizeof rs);
    nagm_mpi_agm_job job = {run,  "(rows for the analysis)", NAGM_FMT_CSV, 0, quiet, mem_open,
                            &rs,  mem_report,                &rs};
    int status = mpi_agm_run(&job);
    if (status == NAGM_EXIT_ERROR || status == NAGM_EXIT_USAGE) {
        free(rs.rows);
        rs.rows = NULL;
        rs.n = 0;
    }
    *rows = rs.rows;
    *n = rs.n;
    *st = rs.st;
    return status;
}

/* ---- 2-4. training over contiguous ranges ------------------------------------------ */

static void send_big(int dest, int tag, const void *buf, size_t len)
{
    for (size_t at = 0; at < len; at += PIECE)
        mpc_send(dest, tag, (const uint8_t *)buf + at, len - at < PIECE ? len - at : PIECE);
}

/* Receive exactly len bytes (as send_big sent them) into buf. */
static void recv_big(int src, int tag, void *buf, size_t len)
{
    for (size_t at = 0; at < len;) {
        void *piece;
        size_t got;
        if (mpc_recv(src, tag, &piece, &got) != 0)
            mpc_fatal("out of memory receiving from rank %d", src);
        if (got == 0 || got > len - at)
            mpc_fatal("rank %d sent %zu bytes, expected at most %zu", src, got, len - at);
        memcpy((uint8_t *)buf + at, piece, got);
        free(piece);
        at += got;
    }
}

int nagm_mpi_train(const nagm_agm_row *rows, size_t n, const nagm_train_opts *o,
                   nagm_model **out, nagm_assign *assign, double *pcs, char *errbuf)
{
    mpc_init();
    *out = NULL;
    int me = mpc_rank(), p = mpc_size();
    uint64_t nall = n;
    mpc_bcast(&nall, sizeof nall, 0);
    size_t *lo = malloc(((size_t)p + 1) * sizeof *lo);
    if (!lo)
        mpc_fatal("out of memory");
    nagm_par_split((size_t)nall, p, lo);
    size_t nl = lo[me + 1] - lo[me], nl1 = nl ? nl : 1;

    /* Each rank's range of rows (rank 0's is the start of its own). */
    const nagm_agm_row *mine = rows;
    nagm_agm_row *got = NULL;
    if (me == 0) {
        for (int r = 1; r < p; r++)
            send_big(r, TAG_ROWS, rows + lo[r], (lo[r + 1] - lo[r]) * sizeof *rows);
    } else {
        if (!(got = malloc(nl1 * sizeof *got)))
            mpc_fatal("out of memory for %zu rows", nl);
        recv_big(0, TAG_ROWS, got, nl * sizeof *got);
        mine = got;
    }

    /* The number of components the model keeps, as nagm_model_train
     * computes it (a bad K makes the training fail the same way everywhere). */
    size_t d = 15 + (size_t)o->k_src_port + (size_t)o->k_dst_port + (size_t)o->k_flags;
    size_t ncomp = o->pca < 1 ? 1 : o->pca > d ? d : o->pca;
    nagm_assign *la = me == 0 ? assign : malloc(nl1 * sizeof *la);
    double *lp = me == 0 ? pcs : malloc(nl1 * ncomp * sizeof *lp);
    if (!la || !lp)
        mpc_fatal("out of memory for %zu rows", nl);
    nagm_ml_comm comm;
    mpi_mlcomm_init(&comm, lo[me], (size_t)nall);
    int rc = nagm_model_train_comm(mine, nl, o, &comm, out, la, lp, NULL, errbuf);

    if (rc == 0) {
        if (me == 0) {
            for (int r = 1; r < p; r++) {
                size_t k = lo[r + 1] - lo[r];
                recv_big(r, TAG_ASSIGN, assign + lo[r], k * sizeof *assign);
                recv_big(r, TAG_PCS, pcs + lo[r] * ncomp, k * ncomp * sizeof *pcs);
            }
            if (nagm_model_summarize(&(*out)->train, rows, n) != 0)
                mpc_fatal("out of memory summarizing %zu rows", n);
        } else {
            send_big(0, TAG_ASSIGN, la, nl * sizeof *la);
            send_big(0, TAG_PCS, lp, nl * ncomp * sizeof *lp);
        }
    }
    if (me != 0) {
        free(la);
        free(lp);
    }
    free(got);
    free(lo);
    return rc;
}

int nagm_mpi_agree(int status)
{
    mpc_idle_barrier(); /* rank 0 may still be writing: wait without spinning */
    return mpi_agm_agree(status);
}
