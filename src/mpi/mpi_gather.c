/* Rank 0's streaming k-way merge of the owners' sorted rows (mpi_gather.h).
 *
 * Protocol, per owner r > 0: rank 0 sends a request (one int: 1 = next
 * chunk, 0 = stop); r answers a 1 with its next chunk_rows rows, or with an
 * empty message when it has none left, after which both sides are done with
 * each other. A request-driven pull keeps rank 0's memory at one chunk per
 * owner however many rows the owners hold. */
#include "mpi/mpi_gather.h"

#include <stdlib.h>
#include <string.h>

#include "mpi/mpi_comm.h"

#define TAG_REQ 7101
#define TAG_ROWS 7102
#define WRITE_BATCH 4096

typedef struct stream {
    const nagm_agm_row *rows; /* current chunk */
    void *owned;              /* the received chunk to free, or NULL */
    size_t n, pos;
} stream;

/* Ask owner r for its next chunk. Returns 1 with rows, 0 when r has none. */
static int pull(stream *s, int r)
{
    int req = 1;
    free(s->owned);
    s->owned = NULL;
    mpc_send(r, TAG_REQ, &req, sizeof req);
    void *buf;
    size_t len;
    if (mpc_recv(r, TAG_ROWS, &buf, &len) != 0)
        mpc_fatal("out of memory receiving rows from rank %d", r);
    if (len % sizeof(nagm_agm_row) != 0)
        mpc_fatal("rank %d sent a partial row (%zu bytes)", r, len);
    s->owned = buf;
    s->rows = buf;
    s->n = len / sizeof(nagm_agm_row);
    s->pos = 0;
    return s->n > 0;
}

static int stream_less(const stream *ss, int a, int b)
{
    return nagm_agm_row_cmp(&ss[a].rows[ss[a].pos], &ss[b].rows[ss[b].pos]) < 0;
}

static void sift_down(const stream *ss, int *heap, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, m = i;
        if (l < n && stream_less(ss, heap[l], heap[m]))
            m = l;
        if (l + 1 < n && stream_less(ss, heap[l + 1], heap[m]))
            m = l + 1;
        if (m == i)
            return;
        int t = heap[i];
        heap[i] = heap[m];
        heap[m] = t;
        i = m;
    }
}

static void serve(const nagm_agm_row *rows, size_t n, size_t chunk_rows)
{
    size_t pos = 0;
    for (;;) {
        void *buf;
        size_t len;
        int req = 0;
        if (mpc_recv_idle(0, TAG_REQ, &buf, &len) != 0)
            mpc_fatal("out of memory");
        if (len == sizeof req)
            memcpy(&req, buf, sizeof req);
        free(buf);
        if (!req)
            return;
        size_t k = n - pos < chunk_rows ? n - pos : chunk_rows;
        mpc_send(0, TAG_ROWS, k ? rows + pos : NULL, k * sizeof *rows);
        pos += k;
        if (k == 0)
            return;
    }
}

void mpi_gather_write(const nagm_agm_row *rows, size_t n, nagm_sink *sink, size_t chunk_rows,
                      mpi_gather_result *res)
{
    memset(res, 0, sizeof *res);
    if (chunk_rows == 0)
        chunk_rows = 1;
    int p = mpc_size();
    if (mpc_rank() != 0) {
        serve(rows, n, chunk_rows);
        return;
    }
    stream *ss = calloc((size_t)p, sizeof *ss);
    int *heap = malloc(sizeof *heap * (size_t)p);
    nagm_agm_row *batch = malloc(sizeof *batch * WRITE_BATCH);
    int *live = calloc((size_t)p, sizeof *live); /* owner still has rows to send */
    if (!ss || !heap || !batch || !live)
        mpc_fatal("out of memory before gathering rows");
    int nh = 0;
    ss[0].rows = rows;
    ss[0].n = n;
    if (n)
        heap[nh++] = 0;
    for (int r = 1; r < p; r++)
        if ((live[r] = pull(&ss[r], r)))
            heap[nh++] = r;
    for (int i = nh / 2 - 1; i >= 0; i--)
        sift_down(ss, heap, nh, i);
    size_t nb = 0;
    int64_t last_window = 0;
    while (nh > 0 && !res->write_failed) {
        int r = heap[0];
        const nagm_agm_row *row = &ss[r].rows[ss[r].pos++];
        if (res->rows == 0 || row->window_start_ns != last_window)
            res->windows++;
        last_window = row->window_start_ns;
        res->rows++;
        batch[nb++] = *row;
        if (nb == WRITE_BATCH) {
            if (sink->write(sink, batch, nb) != NAGM_SINK_OK)
                res->write_failed = 1;
            nb = 0;
        }
        if (ss[r].pos == ss[r].n && !(r > 0 && (live[r] = pull(&ss[r], r)))) {
            heap[0] = heap[--nh]; /* this owner is exhausted */
        }
        sift_down(ss, heap, nh, 0);
    }
    if (nb && !res->write_failed && sink->write(sink, batch, nb) != NAGM_SINK_OK)
        res->write_failed = 1;
    /* After a write error, release the owners that still wait. */
    for (int r = 1; r < p; r++) {
        if (live[r]) {
            int stop = 0;
            mpc_send(r, TAG_REQ, &stop, sizeof stop);
        }
        free(ss[r].owned);
    }
    free(live);
    free(batch);
    free(heap);
    free(ss);
}
