/* Timestamp formatting (UTC, ISO 8601, microseconds). */
#include <time.h>

#include "netagm/pkt.h"

/* Days since 1970-01-01 to a civil date (proleptic Gregorian), valid for the
 * whole int64 range used here; avoids gmtime's locale and range limits. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static char *put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

size_t nagm_ts_format(int64_t ts_ns, char *out)
{
    int64_t us = floor_div(ts_ns, 1000);
    int64_t secs = floor_div(us, 1000000);
    unsigned frac = (unsigned)(us - secs * 1000000);
    int64_t days = floor_div(secs, 86400);
    unsigned sod = (unsigned)(secs - days * 86400);
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    /* By hand: printf costs about as much as the rest of a row. Nanoseconds
     * in an int64 span the years 1677 to 2262, always four digits. */
    char *p = out;
    p = put2(p, (unsigned)y / 100);
    p = put2(p, (unsigned)y % 100);
    *p++ = '-';
    p = put2(p, m);
    *p++ = '-';
    p = put2(p, d);
    *p++ = 'T';
    p = put2(p, sod / 3600);
    *p++ = ':';
    p = put2(p, sod / 60 % 60);
    *p++ = ':';
    p = put2(p, sod % 60);
    *p++ = '.';
    p = put2(p, frac / 10000);
    p = put2(p, frac / 100 % 100);
    p = put2(p, frac % 100);
    *p++ = 'Z';
    *p = '\0';
    return (size_t)(p - out);
}
