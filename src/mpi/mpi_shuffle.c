/* The exact shuffle (mpi_shuffle.h). Each round every rank serializes the
 * next records of its partial state into one buffer per destination, at
 * most chunk / nranks bytes each, and one MPI_Alltoallv moves them all;
 * the receiver merges the segments into the state it owns. Rounds go on
 * until no rank has records left (an all-reduce of "more" per round). The
 * merge is a histogram union, so the order in which segments arrive does
 * not matter and the owner's state equals the one a single process builds. */
#include "mpi/mpi_shuffle.h"

#include <stdlib.h>
#include <string.h>

#include "agg/agg_serial.h"
#include "mpi/mpi_comm.h"

/* Per-destination floor: tiny buffers would mean one round per record. */
#define MIN_PART_BYTES ((size_t)64 * 1024)

void mpi_shuffle(nagm_agg *local, nagm_agg *own, size_t chunk, mpi_shuffle_stats *st)
{
    memset(st, 0, sizeof *st);
    int p = mpc_size(), me = mpc_rank();
    size_t limit = chunk / (size_t)p;
    if (limit < MIN_PART_BYTES && chunk >= MIN_PART_BYTES)
        limit = MIN_PART_BYTES;
    if (limit == 0)
        limit = 1;
    agg_ser *ser = agg_ser_new(local, p, 1);
    agg_buf *bufs = calloc((size_t)p, sizeof *bufs);
    uint8_t **sendp = calloc((size_t)p, sizeof *sendp);
    size_t *sendlen = calloc((size_t)p, sizeof *sendlen);
    size_t *recvlen = calloc((size_t)p, sizeof *recvlen);
    size_t *recvoff = calloc((size_t)p, sizeof *recvoff);
    if (!ser || !bufs || !sendp || !sendlen || !recvlen || !recvoff)
        mpc_fatal("out of memory before the shuffle");
    int more = 1;
    for (;;) {
        if (more) {
            int rc = agg_ser_fill(ser, bufs, limit);
            if (rc < 0)
                mpc_fatal("out of memory while serializing the partial state");
            more = rc;
        } else {
            for (int d = 0; d < p; d++)
                bufs[d].len = 0;
        }
        for (int d = 0; d < p; d++) {
            sendp[d] = bufs[d].p;
            sendlen[d] = bufs[d].len;
            if (d == me)
                st->bytes_self += bufs[d].len;
            else
                st->bytes_out += bufs[d].len;
        }
        uint8_t *recv;
        if (mpc_alltoallv(sendp, sendlen, &recv, recvlen, recvoff) != 0)
            mpc_fatal("out of memory receiving partial state");
        for (int s = 0; s < p; s++) {
            char err[160];
            int rc = recvlen[s] ? agg_ser_merge(own, recv + recvoff[s], recvlen[s], err, sizeof err)
                            : 0;
            if (rc == -1)
                mpc_fatal("out of memory merging partial state from rank %d", s);
            if (rc != 0)
                mpc_fatal("damaged partial state from rank %d: %s", s, err);
        }
        free(recv);
        st->rounds++;
        if (!mpc_max_int(more))
            break;
    }
    st->records = agg_ser_records(ser);
    for (int d = 0; d < p; d++)
        agg_buf_free(&bufs[d]);
    free(bufs);
    free(sendp);
    free(sendlen);
    free(recvlen);
    free(recvoff);
    agg_ser_free(ser);
}
