/* Error reporting shared by the ML layer: a negative code plus a message in
 * the caller's buffer (NAGM_ML_ERRBUF bytes, may be NULL). */
#ifndef NETAGM_ML_ERR_H
#define NETAGM_ML_ERR_H

#include <stdarg.h>
#include <stdio.h>

#include "netagm/ml.h"

static inline int nagm_ml_fail(char *errbuf, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline int nagm_ml_fail(char *errbuf, int code, const char *fmt, ...)
{
    if (errbuf) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, NAGM_ML_ERRBUF, fmt, ap);
        va_end(ap);
    }
    return -code;
}

#endif
