/* Private: the few MPI operations the distributed driver uses, over
 * MPI_COMM_WORLD. In a job of one rank started without a launcher they are
 * done locally without MPI, so the driver has a single code path.
 *
 * Every MPI call runs with MPI_ERRORS_ARE_FATAL: a failing transfer (a peer
 * died, a link broke) ends the whole job instead of returning into code that
 * would wait for it forever.
 */
#ifndef NETAGM_MPI_COMM_H
#define NETAGM_MPI_COMM_H

#include <stddef.h>
#include <stdint.h>

/* Start: initialise MPI when the process was started by a launcher (once;
 * later calls do nothing), else a local job of one rank. */
void mpc_init(void);

/* 1 when MPI is initialised (and not yet finalised). */
int mpc_on(void);
int mpc_rank(void);
int mpc_size(void);

/* "netagm[rank R]" under MPI, "netagm" otherwise: the prefix of messages. */
const char *mpc_who(void);

/* Print "netagm[rank R]: fatal: MESSAGE" and end the whole job (MPI_Abort;
 * exit(1) without MPI). Does not return. */
void mpc_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

typedef enum { MPC_MIN, MPC_MAX, MPC_SUM } mpc_op;

/* In-place all-reduce of n values over every rank. */
void mpc_allreduce_i64(int64_t *v, size_t n, mpc_op op);
void mpc_allreduce_u64(uint64_t *v, size_t n, mpc_op op);
void mpc_allreduce_f64(double *v, size_t n, mpc_op op);

/* The largest v over every rank. */
int mpc_max_int(int v);

/* Broadcast len bytes at buf from root (len must be the same everywhere). */
void mpc_bcast(void *buf, size_t len, int root);

/* Gather len bytes from every rank into recv (size * len bytes) on root;
 * recv is ignored elsewhere. */
void mpc_gather(const void *send, size_t len, void *recv, int root);

/* Gather len bytes from every rank (len may differ) on root: there *recv
 * is one malloc'd buffer (caller frees; may be NULL when empty) with rank
 * s's bytes at recvoff[s], recvlen[s] long (arrays of size ranks, used on
 * root only). ENOMEM on root ends the job. */
void mpc_gatherv(const void *send, size_t len, uint8_t **recv, size_t *recvlen, size_t *recvoff,
                 int root);

/* All-to-all exchange: send[d] (sendlen[d] bytes) goes to rank d. On return
 * *recv is one malloc'd buffer (caller frees; NULL when nothing arrived)
 * holding what rank s sent at recv + recvoff[s], recvlen[s] bytes. Packs the
 * sends into one buffer first. Returns 0, or -1 on ENOMEM (the caller must
 * then end the job: the other ranks are inside the same exchange). */
int mpc_alltoallv(uint8_t *const *send, const size_t *sendlen, uint8_t **recv, size_t *recvlen,
                  size_t *recvoff);

/* Point to point, for rank 0's streaming merge. mpc_recv allocates *buf
 * (caller frees; NULL for an empty message) and sets *len. */
void mpc_send(int dest, int tag, const void *buf, size_t len);
int mpc_recv(int src, int tag, void **buf, size_t *len);

/* Point to point as mpc_recv, but waiting without spinning a core (a probe
 * every 20 us to 1 ms): for a rank that has nothing to do but wait, so that
 * ranks sharing its cores (several ranks per node, --oversubscribe) run. */
int mpc_recv_idle(int src, int tag, void **buf, size_t *len);

void mpc_barrier(void);

/* A barrier that waits without spinning (see mpc_recv_idle): for the point
 * where fast ranks wait for slow ones, before a collective. */
void mpc_idle_barrier(void);

/* Finalise MPI if initialised. Every rank must reach it. */
void mpc_finalize(void);

#endif
