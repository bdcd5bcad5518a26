/* Private: moving partial AGM state to the owning ranks. */
#ifndef NETAGM_MPI_SHUFFLE_H
#define NETAGM_MPI_SHUFFLE_H

#include <stddef.h>
#include <stdint.h>

#include "netagm/agg.h"

typedef struct mpi_shuffle_stats {
    uint64_t bytes_out;   /* serialized bytes sent to other ranks */
    uint64_t bytes_self;  /* serialized bytes this rank kept (sent to itself) */
    uint64_t records;     /* partial records written */
    uint64_t rounds;      /* exchange rounds */
} mpi_shuffle_stats;

/* Collective: every rank calls it. Sends each record of local to the rank
 * owning hash(window, source) (agg_ser_owner) and merges every record
 * received into own, in rounds of one MPI_Alltoallv each, so that a rank
 * never holds more than about chunk bytes of outgoing and chunk bytes of
 * incoming serialized state at a time (a single record larger than that is
 * sent alone). local is consumed: its windows are freed as they are sent,
 * which keeps the peak near the larger of the two states, not their sum.
 * On ENOMEM or a damaged segment the job ends (mpc_fatal): the other ranks
 * are inside the same exchange and cannot go on without this one. */
void mpi_shuffle(nagm_agg *local, nagm_agg *own, size_t chunk, mpi_shuffle_stats *st);

#endif
