/* Private: bringing the owners' finished rows together in output order. */
#ifndef NETAGM_MPI_GATHER_H
#define NETAGM_MPI_GATHER_H

#include <stddef.h>
#include <stdint.h>

#include "netagm/agm.h"
#include "netagm/sink.h"

typedef struct mpi_gather_result {
    uint64_t rows;     /* rows written (rank 0) */
    uint64_t windows;  /* distinct windows among them (rank 0) */
    int write_failed;  /* rank 0: the sink returned an error (message in sink->err) */
} mpi_gather_result;

/* Collective. Every rank passes its own rows, already in output order
 * (window, then source); rank 0 passes the sink. Rank 0 merges the ranks'
 * sorted streams (a k-way merge over a heap) and writes them to the sink in
 * batches; each other rank sends its rows in chunks of chunk_rows when rank 0
 * asks for them, so rank 0 holds at most one chunk per rank. Because every
 * (window, source) lives on exactly one rank, the merged stream is the
 * single-process output, row for row. After a write error rank 0 stops
 * asking and tells the others to stop. ENOMEM ends the job (mpc_fatal). */
void mpi_gather_write(const nagm_agm_row *rows, size_t n, nagm_sink *sink, size_t chunk_rows,
                      mpi_gather_result *res);

#endif
