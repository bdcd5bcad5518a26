/* BLAS and LAPACK, loaded when the first PCA is fitted instead of linked.
 *
 * Linked into the program, OpenBLAS starts its thread pool before main, and
 * the pool's threads spin for about 0.1 s waiting for work: CPU taken from
 * every command, `agm -j N`'s own threads included, though only the PCA of
 * `analyze` uses them. Loaded here, only a fit pays for it. The libraries are
 * the ones the build found (Debian: liblapacke, libopenblas0); OpenBLAS then
 * runs on one thread, because its split of the work changes the last bits of
 * the results and a model must not depend on the machine's core count.
 */
#include "ml/blas_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

#include "ml/ml_err.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static nagm_blas table;
static int loaded;
static char why[NAGM_ML_ERRBUF];

/* Symbol name of library lib, or NULL with why set. */
static void *sym(void *lib, const char *libname, const char *name)
{
    void *p = dlsym(lib, name);
    if (!p)
        nagm_ml_fail(why, NAGM_ML_ELAPACK, "PCA: %s has no %s", libname, name);
    return p;
}

static void load(void)
{
    static const char blas_name[] = "libopenblas.so.0", lapacke_name[] = "liblapacke.so.3";
    void *blas = dlopen(blas_name, RTLD_NOW | RTLD_LOCAL);
    void *lapacke = blas ? dlopen(lapacke_name, RTLD_NOW | RTLD_LOCAL) : NULL;
    if (!lapacke) {
        nagm_ml_fail(why, NAGM_ML_ELAPACK,
                     "PCA needs BLAS and LAPACK: %s (install libopenblas0 and liblapacke)",
                     dlerror());
        return;
    }
    void (*set_threads)(int) = (void (*)(int))sym(blas, blas_name, "openblas_set_num_threads");
    table.dsyrk = (__typeof__(table.dsyrk))sym(blas, blas_name, "cblas_dsyrk");
    table.dsyevr = (__typeof__(table.dsyevr))sym(lapacke, lapacke_name, "LAPACKE_dsyevr");
    if (!set_threads || !table.dsyrk || !table.dsyevr)
        return;
    set_threads(1);
    loaded = 1;
}

const nagm_blas *nagm_blas_get(char *errbuf)
{
    pthread_once(&once, load);
    if (!loaded) {
        nagm_ml_fail(errbuf, NAGM_ML_ELAPACK, "%s", why);
        return NULL;
    }
    return &table;
}
