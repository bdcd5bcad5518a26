/* Private: which rank reads which input file. */
#ifndef NETAGM_MPI_SPLIT_H
#define NETAGM_MPI_SPLIT_H

#include <stddef.h>
#include <stdint.h>

/* Longest-processing-time-first: files in decreasing size (ties: earlier
 * first) each go to the rank with the least bytes so far (ties: lower rank).
 * One huge file then keeps one rank busy while the others share the rest,
 * and no rank ends with more than the best split plus one file. A file named
 * "-" (standard input, which only rank 0 receives from the launcher) goes to
 * rank 0. Writes owner[i] for each of the n files. Returns 0, or -1 on
 * ENOMEM. Pure: every rank computes the same split. */
int mpi_split_lpt(char *const *paths, const uint64_t *sizes, size_t n, int nranks, int *owner);

#endif
