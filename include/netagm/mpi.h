/* netagm: batch runs across machines as MPI ranks (docs/cluster.md).
 *
 * The same binary runs with or without an MPI launcher. MPI is initialised
 * only when the process was started by one (mpirun, mpiexec, srun), which is
 * seen from the environment the launcher sets; a plain run never touches MPI.
 *
 * A distributed `agm` run: rank 0 lists the inputs; files are spread over the
 * ranks by size, largest first, each to the least loaded rank; every rank
 * aggregates its files into a partial state; partial records move to the rank
 * that owns hash(window, source) in bounded MPI_Alltoallv rounds and are
 * merged there exactly (histogram union); owners finalize their rows, and
 * rank 0 merges the owners' sorted rows into one output in spec order (or
 * every rank writes its own part file). The rows are byte-identical to a
 * single-process run.
 *
 * A distributed analyze run (nagm_mpi_agm_rows, nagm_mpi_train): the rows
 * come to rank 0 in output order (from a distributed agm run, or from a
 * table rank 0 reads); every rank takes a contiguous range of them and the
 * model is trained with sums over every rank, added in the order a single
 * process adds them, so the model is the single-process model, bit for bit.
 *
 * Built without MPI (NETAGM_HAVE_MPI undefined), the functions below are
 * inline stand-ins: a job started by a launcher with several ranks is refused
 * with a message instead of running the same work N times.
 */
#ifndef NETAGM_MPI_H
#define NETAGM_MPI_H

#include <stdio.h>
#include <stdlib.h>

#include "netagm/ml.h"
#include "netagm/pipeline.h"
#include "netagm/sink.h"
#include "netagm/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of ranks the launcher started, from its environment (Open MPI,
 * MPICH/Hydra, PMI/PMIx, e.g. Slurm's srun --mpi=pmix), or 0 when this process
 * was not started by an MPI launcher; 1 under a PMIx launcher that does not
 * say the size. Does not initialise MPI. Thread-safe. */
static inline int nagm_mpi_launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 0)
            return atoi(v);
    }
    if (getenv("PMIX_RANK"))
        return 1; /* PMIx without a size variable: at least this one */
    return 0;
}

/* This process's rank as the launcher's environment gives it (0 when not
 * started by a launcher). Does not initialise MPI. Thread-safe. */
static inline int nagm_mpi_launched_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v)
            return atoi(v);
    }
    return 0;
}

/* For a subcommand that does not run distributed: when a launcher started
 * several ranks, every one of them would repeat the whole job and write the
 * same outputs. Returns 1 in that case, after rank 0 printed why (the caller
 * then exits with NAGM_EXIT_USAGE); 0 otherwise. Does not initialise MPI. */
static inline int nagm_mpi_refuse(const char *cmd)
{
    int n = nagm_mpi_launched();
    if (n <= 1)
        return 0;
    if (nagm_mpi_launched_rank() == 0)
        fprintf(stderr, "netagm %s: does not run under MPI (%d ranks would each repeat the whole "
                        "job); run it without mpirun (docs/cluster.md)\n",
                cmd, n);
    return 1;
}

/* How a distributed agm run writes its rows. */
typedef struct nagm_mpi_agm_job {
    const nagm_run_opts *run;  /* inputs and filters, as for nagm_run_agm (jobs
                                  and progress are ignored: one thread per rank) */
    const char *out;           /* -o: a file ("-" = stdout of rank 0), or with
                                  output_parts a directory */
    nagm_format fmt;           /* NAGM_FMT_AUTO: from out's extension */
    int output_parts;          /* 1: rank r writes OUT/part-RRRRR.EXT and rank 0
                                  writes OUT/_SUCCESS when all parts are good */
    int quiet;                 /* no MPI summary lines on stderr */
    /* Open a row sink for path in fmt (never NAGM_FMT_AUTO); print the error
     * and return NULL on failure. Called on rank 0 only, or on every rank
     * with output_parts, before any input is read. */
    nagm_sink *(*open_sink)(void *ctx, const char *path, nagm_format fmt);
    void *sink_ctx;
    /* Report the statistics of the whole job (every rank's counters added);
     * called on rank 0 only, at the end. Returns 0, or -1 if reporting
     * failed (the job then exits 1). May be NULL. */
    int (*report)(void *ctx, const nagm_stats *st);
    void *report_ctx;
} nagm_mpi_agm_job;

#ifdef NETAGM_HAVE_MPI

/* 1 when this process should run as one rank of an MPI job: it was started
 * by an MPI launcher (nagm_mpi_launched() > 0). MPI is initialised on the
 * first call that returns 1 and finalised at exit. Not thread-safe: call it
 * from the main thread before starting threads. */
int nagm_mpi_active(void);

/* Run `netagm agm` as one rank of the job (every rank calls it with the same
 * arguments). Without a launcher (plain process, e.g. for output_parts) it
 * runs as a job of one rank without initialising MPI.
 * Bad inputs are named on stderr as "netagm[rank R]: PATH: offset N: reason"
 * and skipped (--strict: the job stops with exit 1). A fatal error inside a
 * collective step ends the whole job through MPI_Abort with one message.
 * Returns the job's nagm_exit status, the same on every rank: the most severe
 * over all ranks (ERROR, then USAGE, then BADINPUT, then OK). */
int nagm_mpi_agm(const nagm_mpi_agm_job *job);

/* Rank of this process and number of ranks (0 and 1 without MPI). */
int nagm_mpi_rank(void);
int nagm_mpi_size(void);

/* Collective (analyze -r): aggregate run's inputs as nagm_mpi_agm does
 * (bad inputs reported by the rank that read them; the MPI summary lines
 * unless quiet) and hand every row to rank 0 in output order: there *rows
 * (malloc'd, caller frees) and *n, and *st the statistics of the whole job.
 * Other ranks get NULL, 0 and zeroed statistics. MPI stays initialised.
 * Returns the job's nagm_exit status, the same on every rank. */
int nagm_mpi_agm_rows(const nagm_run_opts *run, int quiet, nagm_agm_row **rows, size_t *n,
                      nagm_stats *st);

/* Collective: train a model on the n rows rank 0 holds (rows and n are
 * ignored elsewhere; n >= 1). Each rank gets a contiguous range of them,
 * cut at multiples of the ML layer's 8,192-row chunks, and every sum goes
 * over all ranks in chunk order (docs/cluster.md), so every rank gets the
 * model nagm_model_train computes on all the rows, bit for bit. On rank 0,
 * assign and pcs (n and n x ncomp) receive every row's assignment and PCs,
 * and the model's training summary covers every row; elsewhere they may be
 * NULL. Returns 0 or a negative NAGM_ML_E* code (errbuf set), the same on
 * every rank. Out of memory ends the job (MPI_Abort). */
int nagm_mpi_train(const nagm_agm_row *rows, size_t n, const nagm_train_opts *o,
                   nagm_model **out, nagm_assign *assign, double *pcs, char *errbuf);

/* Collective: the most severe of every rank's status (ERROR, then USAGE,
 * then BADINPUT, then OK), after waiting for every rank without spinning. */
int nagm_mpi_agree(int status);

/* Finalise MPI if it was initialised (idempotent; also run at exit). */
void nagm_mpi_finalize(void);

#else /* built without MPI */

static inline int nagm_mpi_active(void)
{
    /* Several copies of one job would all write the same output: refuse. */
    return nagm_mpi_launched() > 1;
}

static inline int nagm_mpi_agm(const nagm_mpi_agm_job *job)
{
    if (nagm_mpi_launched() > 1)
        fprintf(stderr, "netagm: started by an MPI launcher with %d ranks, but this netagm was "
                        "built without MPI support (install an MPI, e.g. libopenmpi-dev, and "
                        "rebuild; docs/cluster.md)\n",
                nagm_mpi_launched());
    else if (job->output_parts)
        fprintf(stderr, "netagm: --output-parts needs a netagm built with MPI support "
                        "(docs/cluster.md)\n");
    return job->output_parts && nagm_mpi_launched() <= 1 ? NAGM_EXIT_USAGE : NAGM_EXIT_ERROR;
}

static inline int nagm_mpi_rank(void) { return 0; }
static inline int nagm_mpi_size(void) { return 1; }

static inline int nagm_mpi_agm_rows(const nagm_run_opts *run, int quiet, nagm_agm_row **rows,
                                    size_t *n, nagm_stats *st)
{
    (void)run;
    (void)quiet;
    (void)st;
    *rows = NULL;
    *n = 0;
    fprintf(stderr, "netagm: this netagm was built without MPI support (docs/cluster.md)\n");
    return NAGM_EXIT_ERROR;
}

/* One process: the plain training. */
static inline int nagm_mpi_train(const nagm_agm_row *rows, size_t n, const nagm_train_opts *o,
                                 nagm_model **out, nagm_assign *assign, double *pcs,
                                 char *errbuf)
{
    return nagm_model_train(rows, n, o, out, assign, pcs, NULL, errbuf);
}

static inline int nagm_mpi_agree(int status) { return status; }
static inline void nagm_mpi_finalize(void) {}

#endif

#ifdef __cplusplus
}
#endif
#endif
