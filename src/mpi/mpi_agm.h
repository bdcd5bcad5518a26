/* Private: the distributed agm run as a step of a longer job (analyze),
 * without nagm_mpi_agm's MPI start and finish. */
#ifndef NETAGM_MPI_AGM_H
#define NETAGM_MPI_AGM_H

#include "netagm/mpi.h"

/* Collective: the run of nagm_mpi_agm (MPI already started, left running).
 * Returns the job's status, the same on every rank. */
int mpi_agm_run(const nagm_mpi_agm_job *job);

/* Collective: the most severe of every rank's status (ERROR, then USAGE,
 * then BADINPUT, then OK). */
int mpi_agm_agree(int status);

#endif
