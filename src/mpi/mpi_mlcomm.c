/* The ML layer's collective steps over MPI (mpi_mlcomm.h, ml/ml_comm.h).
 *
 * sum_ordered must add the partial sums in one fixed order, which an
 * MPI_Allreduce does not promise: rank 0 adds its own partials, then each
 * other rank's in rank order as they arrive, and broadcasts the result.
 * Rank 0 thus holds one rank's partials at a time (one message, or pieces
 * of at most 1 GiB). chain passes its state from rank to rank. The other
 * steps are plain collectives: exact integer sums, maxima, broadcasts and a
 * gather.
 *
 * A rank that waits (for a slower rank's partial sums, or for rank 0's
 * result) polls with short sleeps instead of spinning inside MPI, as the agm
 * driver does: ranks sharing cores (several per node, --oversubscribe, other
 * jobs) would otherwise take the core the rank they wait for needs. */
#include "mpi/mpi_mlcomm.h"

#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi/mpi_comm.h"

#define TAG_PARTS 7301
#define TAG_CHAIN 7302
#define PIECE_DOUBLES ((size_t)1 << 27) /* 1 GiB per message */
#define PIECE_BYTES ((size_t)1 << 30)

/* Complete req: a few quick tests first (balanced ranks arrive together),
 * then sleeps of 20 us doubling to 500 us between tests. */
static void wait_idle(MPI_Request *req)
{
    int done = 0;
    long ns = 20000;
    for (int i = 0; i < 64; i++) {
        MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (done)
            return;
    }
    for (;;) {
        struct timespec ts = {0, ns};
        nanosleep(&ts, NULL);
        MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (done)
            return;
        if (ns < 500000)
            ns *= 2;
    }
}

static void bcast_idle(void *buf, size_t len, int root)
{
    for (size_t at = 0; at < len; at += PIECE_BYTES) {
        size_t k = len - at < PIECE_BYTES ? len - at : PIECE_BYTES;
        MPI_Request req;
        MPI_Ibcast((char *)buf + at, (int)k, MPI_BYTE, root, MPI_COMM_WORLD, &req);
        wait_idle(&req);
    }
}

static void allreduce_idle(void *v, size_t n, MPI_Datatype t, size_t width, MPI_Op op)
{
    size_t piece = PIECE_BYTES / width;
    for (size_t at = 0; at < n; at += piece) {
        size_t k = n - at < piece ? n - at : piece;
        MPI_Request req;
        MPI_Iallreduce(MPI_IN_PLACE, (char *)v + at * width, (int)k, t, op, MPI_COMM_WORLD,
                       &req);
        wait_idle(&req);
    }
}

static void sum_ordered(void *ctx, const double *parts, size_t nparts, size_t width, double *out)
{
    (void)ctx;
    int me = mpc_rank(), p = mpc_size();
    size_t per = PIECE_DOUBLES / width ? PIECE_DOUBLES / width : 1; /* parts per message */
    if (me == 0) {
        for (size_t j = 0; j < width; j++)
            out[j] = 0.0;
        nagm_ml_fold_into(out, parts, nparts, width);
        for (int s = 1; s < p; s++) {
            void *buf;
            size_t len;
            uint64_t count = 0;
            if (mpc_recv_idle(s, TAG_PARTS, &buf, &len) != 0 || len != sizeof count)
                mpc_fatal("bad partial sums from rank %d", s);
            memcpy(&count, buf, sizeof count);
            free(buf);
            for (uint64_t got = 0; got < count;) {
                if (mpc_recv(s, TAG_PARTS, &buf, &len) != 0)
                    mpc_fatal("out of memory receiving partial sums");
                size_t k = len / (width * sizeof *out);
                if (k == 0 || len != k * width * sizeof *out || k > count - got)
                    mpc_fatal("bad partial sums from rank %d", s);
                nagm_ml_fold_into(out, buf, k, width);
                free(buf);
                got += k;
            }
        }
    } else {
        uint64_t count = nparts;
        mpc_send(0, TAG_PARTS, &count, sizeof count);
        for (size_t at = 0; at < nparts; at += per) {
            size_t k = nparts - at < per ? nparts - at : per;
            mpc_send(0, TAG_PARTS, parts + at * width, k * width * sizeof *parts);
        }
    }
    bcast_idle(out, width * sizeof *out, 0);
}

static void sum_u64(void *ctx, uint64_t *v, size_t n)
{
    (void)ctx;
    allreduce_idle(v, n, MPI_UINT64_T, sizeof *v, MPI_SUM);
}

static void max_f64(void *ctx, double *v, size_t n)
{
    (void)ctx;
    allreduce_idle(v, n, MPI_DOUBLE, sizeof *v, MPI_MAX);
}

static void bcast(void *ctx, void *buf, size_t len, int root)
{
    (void)ctx;
    bcast_idle(buf, len, root);
}

static void gather(void *ctx, const void *send, size_t len, uint8_t **recv, size_t *recvlen,
                   size_t *recvoff)
{
    (void)ctx;
    mpc_gatherv(send, len, recv, recvlen, recvoff, 0);
}

static void chain(void *ctx, double *state, size_t width, void (*step)(void *arg, double *state),
                  void *arg)
{
    (void)ctx;
    int me = mpc_rank(), p = mpc_size();
    if (me > 0) {
        void *buf;
        size_t len;
        if (mpc_recv_idle(me - 1, TAG_CHAIN, &buf, &len) != 0 || len != width * sizeof *state)
            mpc_fatal("bad state from rank %d", me - 1);
        memcpy(state, buf, len);
        free(buf);
    }
    step(arg, state);
    if (me < p - 1)
        mpc_send(me + 1, TAG_CHAIN, state, width * sizeof *state);
}

static void abort_job(void *ctx, const char *msg)
{
    (void)ctx;
    mpc_fatal("%s", msg);
}

void mpi_mlcomm_init(nagm_ml_comm *c, size_t row0, size_t n)
{
    memset(c, 0, sizeof *c);
    c->rank = mpc_rank();
    c->size = mpc_size();
    c->row0 = row0;
    c->n = n;
    c->sum_ordered = sum_ordered;
    c->sum_u64 = sum_u64;
    c->max_f64 = max_f64;
    c->bcast = bcast;
    c->gather = gather;
    c->chain = chain;
    c->abort = abort_job;
}
