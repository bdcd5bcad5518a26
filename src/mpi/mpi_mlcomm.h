/* Private: the ML layer's collective steps (ml/ml_comm.h) over MPI. */
#ifndef NETAGM_MPI_MLCOMM_H
#define NETAGM_MPI_MLCOMM_H

#include <stddef.h>

#include "ml/ml_comm.h"

/* Fill c for this rank: its rows start at global row row0 (a multiple of
 * NAGM_PAR_CHUNK), n rows in all. MPI must be running. */
void mpi_mlcomm_init(nagm_ml_comm *c, size_t row0, size_t n);

#endif
