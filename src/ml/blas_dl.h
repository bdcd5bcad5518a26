/* Private: BLAS and LAPACK, loaded on first use (see blas_dl.c). */
#ifndef NETAGM_ML_BLAS_DL_H
#define NETAGM_ML_BLAS_DL_H

#include <cblas.h>
#include <lapacke.h>

/* The routines the PCA uses, with the headers' own prototypes. */
typedef struct nagm_blas {
    __typeof__(cblas_dsyrk) *dsyrk;
    __typeof__(LAPACKE_dsyevr) *dsyevr;
} nagm_blas;

/* The loaded routines, OpenBLAS set to one thread; the first call loads the
 * libraries, later calls return the same table. Thread-safe. Returns NULL
 * with errbuf (NAGM_ML_ERRBUF bytes, may be NULL) naming what could not be loaded. */
const nagm_blas *nagm_blas_get(char *errbuf);

#endif
