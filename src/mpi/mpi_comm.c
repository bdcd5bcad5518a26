/* The MPI operations of the distributed driver (mpi_comm.h), and the public
 * entry points that say whether this process is a rank (netagm/mpi.h). */
#include "mpi/mpi_comm.h"

#include <limits.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netagm/mpi.h"

/* Largest single MPI transfer we issue; counts are C ints. */
#define MPC_PIECE ((size_t)1 << 30)

static int g_on;       /* MPI initialised by us and not finalised */
static int g_started;  /* mpc_init ran */
static int g_rank, g_size = 1;
static char g_who[48] = "netagm";

void mpc_init(void)
{
    if (g_started)
        return;
    g_started = 1;
    if (nagm_mpi_launched() <= 0)
        return;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(NULL, NULL) != MPI_SUCCESS) {
        fprintf(stderr, "netagm: MPI_Init failed\n");
        exit(1);
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    snprintf(g_who, sizeof g_who, "netagm[rank %d]", g_rank);
    g_on = 1;
}

int mpc_on(void) { return g_on; }
int mpc_rank(void) { return g_rank; }
int mpc_size(void) { return g_size; }
const char *mpc_who(void) { return g_who; }

void mpc_fatal(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: fatal: %s; ending the job\n", g_who, msg);
    fflush(stderr);
    if (g_on)
        MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1);
}

static MPI_Op op_of(mpc_op op)
{
    return op == MPC_MIN ? MPI_MIN : op == MPC_MAX ? MPI_MAX : MPI_SUM;
}

static void allreduce(void *v, size_t n, MPI_Datatype t, size_t width, mpc_op op)
{
    if (!g_on || n == 0)
        return;
    /* Large vectors (a covariance matrix) go in pieces that fit an int count. */
    size_t piece = MPC_PIECE / width;
    for (size_t at = 0; at < n; at += piece) {
        size_t k = n - at < piece ? n - at : piece;
        MPI_Allreduce(MPI_IN_PLACE, (char *)v + at * width, (int)k, t, op_of(op), MPI_COMM_WORLD);
    }
}

void mpc_allreduce_i64(int64_t *v, size_t n, mpc_op op)
{
    allreduce(v, n, MPI_INT64_T, sizeof *v, op);
}

void mpc_allreduce_u64(uint64_t *v, size_t n, mpc_op op)
{
    allreduce(v, n, MPI_UINT64_T, sizeof *v, op);
}

void mpc_allreduce_f64(double *v, size_t n, mpc_op op)
{
    allreduce(v, n, MPI_DOUBLE, sizeof *v, op);
}

int mpc_max_int(int v)
{
    if (g_on)
        MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return v;
}

void mpc_bcast(void *buf, size_t len, int root)
{
    if (!g_on)
        return;
    for (size_t at = 0; at < len; at += MPC_PIECE) {
        size_t k = len - at < MPC_PIECE ? len - at : MPC_PIECE;
        MPI_Bcast((char *)buf + at, (int)k, MPI_BYTE, root, MPI_COMM_WORLD);
    }
}

void mpc_gather(const void *send, size_t len, void *recv, int root)
{
    if (!g_on) {
        memcpy(recv, send, len);
        return;
    }
    if (len > INT_MAX)
        mpc_fatal("gather of %zu bytes per rank is too large", len);
    MPI_Gather(send, (int)len, MPI_BYTE, recv, (int)len, MPI_BYTE, root, MPI_COMM_WORLD);
}

void mpc_gatherv(const void *send, size_t len, uint8_t **recv, size_t *recvlen, size_t *recvoff,
                 int root)
{
    *recv = NULL;
    if (!g_on) {
        recvoff[0] = 0;
        recvlen[0] = len;
        if (len && !(*recv = malloc(len)))
            mpc_fatal("out of memory");
        if (len)
            memcpy(*recv, send, len);
        return;
    }
    if (len > INT_MAX)
        mpc_fatal("gather of %zu bytes is too large", len);
    int n = (int)len, *cnt = NULL, *dis = NULL;
    if (g_rank == root) {
        cnt = malloc(sizeof *cnt * (size_t)g_size);
        dis = malloc(sizeof *dis * (size_t)g_size);
        if (!cnt || !dis)
            mpc_fatal("out of memory");
    }
    MPI_Gather(&n, 1, MPI_INT, cnt, 1, MPI_INT, root, MPI_COMM_WORLD);
    if (g_rank == root) {
        size_t total = 0;
        for (int s = 0; s < g_size; s++) {
            if ((size_t)cnt[s] > (size_t)INT_MAX - total)
                mpc_fatal("gather of more than 2 GiB");
            dis[s] = (int)total;
            recvoff[s] = total;
            recvlen[s] = (size_t)cnt[s];
            total += (size_t)cnt[s];
        }
        if (total && !(*recv = malloc(total)))
            mpc_fatal("out of memory");
    }
    MPI_Gatherv(len ? send : (const void *)&n, n, MPI_BYTE, *recv ? *recv : (uint8_t *)&n, cnt,
                dis, MPI_BYTE, root, MPI_COMM_WORLD);
    free(cnt);
    free(dis);
}

int mpc_alltoallv(uint8_t *const *send, const size_t *sendlen, uint8_t **recv, size_t *recvlen,
                  size_t *recvoff)
{
    *recv = NULL;
    if (!g_on) {
        recvoff[0] = 0;
        recvlen[0] = sendlen[0];
        if (sendlen[0]) {
            if (!(*recv = malloc(sendlen[0])))
                return -1;
            memcpy(*recv, send[0], sendlen[0]);
        }
        return 0;
    }
    int p = g_size;
    int *scnt = calloc((size_t)p, sizeof *scnt), *sdis = calloc((size_t)p, sizeof *sdis);
    int *rcnt = calloc((size_t)p, sizeof *rcnt), *rdis = calloc((size_t)p, sizeof *rdis);
    uint8_t *packed = NULL;
    int rc = -1;
    if (!scnt || !sdis || !rcnt || !rdis)
        goto out;
    size_t total = 0;
    for (int d = 0; d < p; d++) {
        if (sendlen[d] > (size_t)INT_MAX - total)
            mpc_fatal("one exchange round would send more than 2 GiB; lower NETAGM_MPI_CHUNK");
        sdis[d] = (int)total;
        scnt[d] = (int)sendlen[d];
        total += sendlen[d];
    }
    if (total && !(packed = malloc(total)))
        goto out;
    for (int d = 0; d < p; d++)
        if (sendlen[d])
            memcpy(packed + sdis[d], send[d], sendlen[d]);
    MPI_Alltoall(scnt, 1, MPI_INT, rcnt, 1, MPI_INT, MPI_COMM_WORLD);
    size_t rtotal = 0;
    for (int s = 0; s < p; s++) {
        if ((size_t)rcnt[s] > (size_t)INT_MAX - rtotal)
            mpc_fatal("one exchange round would receive more than 2 GiB; lower NETAGM_MPI_CHUNK");
        rdis[s] = (int)rtotal;
        recvoff[s] = rtotal;
        recvlen[s] = (size_t)rcnt[s];
        rtotal += (size_t)rcnt[s];
    }
    /* A rank that cannot hold what it receives must not leave the others
     * waiting inside the exchange: the caller ends the job. */
    if (rtotal && !(*recv = malloc(rtotal)))
        goto out;
    MPI_Alltoallv(packed ? packed : (uint8_t *)sdis, scnt, sdis, MPI_BYTE,
                  *recv ? *recv : (uint8_t *)rdis, rcnt, rdis, MPI_BYTE, MPI_COMM_WORLD);
    rc = 0;
out:
    free(packed);
    free(scnt);
    free(sdis);
    free(rcnt);
    free(rdis);
    return rc;
}

void mpc_send(int dest, int tag, const void *buf, size_t len)
{
    if (len > INT_MAX)
        mpc_fatal("message of %zu bytes is too large", len);
    MPI_Send(len ? buf : (const void *)&len, (int)len, MPI_BYTE, dest, tag, MPI_COMM_WORLD);
}

int mpc_recv(int src, int tag, void **buf, size_t *len)
{
    MPI_Status st;
    int n = 0;
    MPI_Probe(src, tag, MPI_COMM_WORLD, &st);
    MPI_Get_count(&st, MPI_BYTE, &n);
    *buf = NULL;
    *len = (size_t)n;
    char dummy;
    if (n > 0 && !(*buf = malloc((size_t)n)))
        return -1;
    MPI_Recv(n ? *buf : &dummy, n, MPI_BYTE, src, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    return 0;
}

/* Sleep a little between polls: 20 us, doubling to 1 ms. */
static void idle_sleep(long *ns)
{
    struct timespec ts = {0, *ns};
    nanosleep(&ts, NULL);
    if (*ns < 1000000)
        *ns *= 2;
}

int mpc_recv_idle(int src, int tag, void **buf, size_t *len)
{
    int flag = 0;
    long ns = 20000;
    for (;;) {
        MPI_Iprobe(src, tag, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
        if (flag)
            return mpc_recv(src, tag, buf, len);
        idle_sleep(&ns);
    }
}

void mpc_idle_barrier(void)
{
    if (!g_on)
        return;
    MPI_Request req;
    int done = 0;
    long ns = 20000;
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    for (;;) {
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (done)
            return;
        idle_sleep(&ns);
    }
}

void mpc_barrier(void)
{
    if (g_on)
        MPI_Barrier(MPI_COMM_WORLD);
}

void mpc_finalize(void)
{
    if (!g_on)
        return;
    g_on = 0;
    MPI_Finalize();
}

/* ---- public (netagm/mpi.h) --------------------------------------------------- */

int nagm_mpi_active(void)
{
    if (nagm_mpi_launched() <= 0)
        return 0;
    mpc_init();
    return 1;
}

int nagm_mpi_rank(void) { return g_rank; }
int nagm_mpi_size(void) { return g_size; }

void nagm_mpi_finalize(void)
{
    mpc_finalize();
}
