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
#include <stdlib.h>
#include <sys/mman.h>

#include "ml/ml_err.h"

/* Address space that must be free for OpenBLAS's work buffer, with room to
 * spare for its alignment. */
#define BLAS_BUFFER_PROBE ((size_t)144 << 20)

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
    /* One thread from the start: with more, OpenBLAS's constructor starts
     * worker threads that each allocate a buffer, and a worker whose buffer
     * cannot be had (memory limits) retries forever, so that the exit, which
     * joins it, hangs. (Set here, when the fit runs: no other thread of ours
     * is reading the environment then.) */
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
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
    /* OpenBLAS maps a work buffer (128 MiB of address space, 64 in some
     * builds) on its first call and retries a failed mapping forever: under
     * an address-space limit the PCA would hang instead of failing. So check,
     * with the libraries loaded, that such a mapping can be had, and make
     * OpenBLAS take its buffer right away (a 1x1 product), while it can; it
     * keeps it for the process's life. */
    void *probe = mmap(NULL, BLAS_BUFFER_PROBE, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (probe == MAP_FAILED) {
        nagm_ml_fail(why, NAGM_ML_ENOMEM,
                     "PCA: out of memory (no room for BLAS's %d MiB work buffer)",
                     (int)(BLAS_BUFFER_PROBE >> 20));
        return;
    }
    munmap(probe, BLAS_BUFFER_PROBE);
    double a = 0, c = 0;
    table.dsyrk(CblasRowMajor, CblasUpper, CblasTrans, 1, 1, 1.0, &a, 1, 0.0, &c, 1);
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
