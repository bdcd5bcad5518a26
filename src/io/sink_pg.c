/* PostgreSQL sink for netagm stream.
 *
 * A writer thread owns the connection, so that the stream loop never waits
 * for the database. Each window is one transaction:
 *
 *   BEGIN;
 *   -- skip when netagm_windows already has (table, run, window_start):
 *   --   a commit whose acknowledgement was lost with the connection
 *   INSERT INTO netagm_windows (tbl, run, window_start, window_end, nrows) ...;
 *   COPY table (columns) FROM STDIN (FORMAT csv);   -- in batches of rows
 *   COMMIT;
 *
 * so a window is either entirely in the table, with its marker, or absent,
 * and a window retried after a reconnect is never written twice. The table
 * and netagm_windows are created if absent.
 *
 * While the server is unreachable the windows wait in memory, at most
 * buffer_rows rows in all; when a new window does not fit, the oldest
 * waiting windows are dropped and counted (recent windows matter most to
 * someone watching a network). Reconnection backs off from 0.1 s to 5 s.
 * A statement that fails on a working connection (a table with other
 * columns, say) is not retried: the window is dropped and counted as an
 * error, with the server's message on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netagm/stream.h"

#define DEFAULT_BUFFER_ROWS 1000000
#define DEFAULT_BATCH_ROWS 10000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

typedef struct pg_job {
    struct pg_job *next;
    struct timespec queued;
    int64_t start_ns, end_ns;
    nagm_agm_row *rows;
    nagm_row_score *score;
    size_t n;
} pg_job;

typedef struct pg_sink {
    nagm_wsink base;
    char name[160];
    char *conninfo;
    char *table;        /* as given (validated identifier[.identifier]) */
    char *qtable;       /* quoted for SQL */
    char run[128];
    int scored;
    size_t buffer_rows, batch_rows;

    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pg_job *head, *tail;  /* guarded by mu */
    size_t queued_rows;   /* guarded by mu */
    int busy;             /* the writer holds head (guarded by mu) */
    int stop;             /* guarded by mu */
    nagm_wsink_stats st;  /* guarded by mu */

    /* writer thread only */
    PGconn *conn;
    int table_ready;
    time_t last_err;
    char *text;
    size_t tlen, tcap;
} pg_sink;

static void job_free(pg_job *j)
{
    if (!j)
        return;
    free(j->rows);
    free(j->score);
    free(j);
}

static void say(pg_sink *ps, int always, const char *fmt, const char *detail)
{
    time_t now = time(NULL);
    if (!always && now - ps->last_err < 10)
        return;
    ps->last_err = now;
    char line[600];
    snprintf(line, sizeof line, fmt, detail ? detail : "");
    /* libpq messages end with a newline */
    size_t l = strlen(line);
    while (l && (line[l - 1] == '\n' || line[l - 1] == ' '))
        line[--l] = '\0';
    fprintf(stderr, "netagm stream: %s: %s\n", ps->name, line);
}

/* ---- SQL ---------------------------------------------------------------------- */

static int exec_ok(pg_sink *ps, const char *sql, ExecStatusType want)
{
    PGresult *r = PQexec(ps->conn, sql);
    int ok = PQresultStatus(r) == want;
    if (!ok)
        say(ps, 1, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

static int create_tables(pg_sink *ps)
{
    char sql[4096];
    int n = snprintf(sql, sizeof sql,
                     "CREATE TABLE IF NOT EXISTS %s (window_start timestamptz NOT NULL, "
                     "window_end timestamptz NOT NULL, src_ip inet NOT NULL, pkts bigint NOT NULL",
                     ps->qtable);
    for (int f = 0; f < NAGM_NFIELDS; f++) {
        const char *fn = nagm_field_name(f);
        n += snprintf(sql + n, sizeof sql - (size_t)n,
                      ", %s_uniq bigint NOT NULL, %s_mode %s NOT NULL, %s_mode_pkts bigint NOT NULL",
                      fn, fn, f == NAGM_F_DST_IP ? "inet" : "integer", fn);
    }
    if (ps->scored)
        n += snprintf(sql + n, sizeof sql - (size_t)n,
                      ", cluster integer, distance double precision");
    snprintf(sql + n, sizeof sql - (size_t)n, ")");
    if (!exec_ok(ps, sql, PGRES_COMMAND_OK))
        return -1;
    return exec_ok(ps,
                   "CREATE TABLE IF NOT EXISTS netagm_windows (tbl text NOT NULL, run text NOT NULL, "
                   "window_start timestamptz NOT NULL, window_end timestamptz NOT NULL, "
                   "nrows bigint NOT NULL, written_at timestamptz NOT NULL DEFAULT now(), "
                   "PRIMARY KEY (tbl, run, window_start))",
                   PGRES_COMMAND_OK)
               ? 0
               : -1;
}

/* Outcome of writing one window. */
enum { W_DONE = 0, W_RETRY, W_DROP };

/* The connection is gone (as opposed to a statement failing on it). */
static int conn_lost(pg_sink *ps)
{
    return PQstatus(ps->conn) != CONNECTION_OK;
}

static int fail_stmt(pg_sink *ps, PGresult *r)
{
    int lost = conn_lost(ps);
    if (!lost)
        say(ps, 1, "window not written: %s", r ? PQresultErrorMessage(r) : PQerrorMessage(ps->conn));
    PQclear(r);
    if (!lost) {
        PGresult *rb = PQexec(ps->conn, "ROLLBACK");
        PQclear(rb);
    }
    return lost ? W_RETRY : W_DROP;
}

static int write_window(pg_sink *ps, const pg_job *j)
{
    char ts0[NAGM_TS_STRLEN], ts1[NAGM_TS_STRLEN], nrows[32];
    nagm_ts_format(j->start_ns, ts0);
    nagm_ts_format(j->end_ns, ts1);
    snprintf(nrows, sizeof nrows, "%zu", j->n);
    PGresult *r = PQexec(ps->conn, "BEGIN");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return fail_stmt(ps, r);
    PQclear(r);
    const char *p3[3] = {ps->table, ps->run, ts0};
    r = PQexecParams(ps->conn,
                     "SELECT 1 FROM netagm_windows WHERE tbl = $1 AND run = $2 AND window_start = $3",
                     3, NULL, p3, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return fail_stmt(ps, r);
    int present = PQntuples(r) > 0;
    PQclear(r);
    if (present) { /* committed before the connection broke */
        r = PQexec(ps->conn, "ROLLBACK");
        PQclear(r);
        return W_DONE;
    }
    const char *p5[5] = {ps->table, ps->run, ts0, ts1, nrows};
    r = PQexecParams(ps->conn,
                     "INSERT INTO netagm_windows (tbl, run, window_start, window_end, nrows) "
                     "VALUES ($1, $2, $3, $4, $5)",
                     5, NULL, p5, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return fail_stmt(ps, r);
    PQclear(r);
    char sql[256];
    snprintf(sql, sizeof sql, "COPY %s FROM STDIN WITH (FORMAT csv)", ps->qtable);
    r = PQexec(ps->conn, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN)
        return fail_stmt(ps, r);
    PQclear(r);
    /* The rows in CSV (the batch writer's text), batch_rows at a time. */
    for (size_t at = 0; at < j->n; at += ps->batch_rows) {
        size_t k = j->n - at < ps->batch_rows ? j->n - at : ps->batch_rows;
        ps->tlen = 0;
        if (nagm_rows_format(NAGM_FMT_CSV, j->rows + at, j->score ? j->score + at : NULL, k, 0,
                             &ps->text, &ps->tlen, &ps->tcap) != 0) {
            PQputCopyEnd(ps->conn, "out of memory");
            PQclear(PQgetResult(ps->conn));
            return fail_stmt(ps, NULL);
        }
        if (PQputCopyData(ps->conn, ps->text, (int)ps->tlen) != 1) {
            PQputCopyEnd(ps->conn, "send failed");
            return fail_stmt(ps, PQgetResult(ps->conn));
        }
    }
    if (PQputCopyEnd(ps->conn, NULL) != 1)
        return fail_stmt(ps, NULL);
    r = PQgetResult(ps->conn);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return fail_stmt(ps, r);
    PQclear(r);
    while ((r = PQgetResult(ps->conn)) != NULL)
        PQclear(r);
    r = PQexec(ps->conn, "COMMIT");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return fail_stmt(ps, r);
    PQclear(r);
    return W_DONE;
}

/* ---- writer thread ---------------------------------------------------------------- */

static void sleep_ms(pg_sink *ps, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&ps->mu);
    if (!ps->stop)
        pthread_cond_timedwait(&ps->cv, &ps->mu, &ts);
    pthread_mutex_unlock(&ps->mu);
}

/* "relation already exists, skipping" and the like are not for the user. */
static void no_notices(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static int connect_db(pg_sink *ps)
{
    if (ps->conn && PQstatus(ps->conn) == CONNECTION_OK)
        return 0;
    if (ps->conn) {
        PQfinish(ps->conn);
        ps->conn = NULL;
    }
    ps->table_ready = 0;
    ps->conn = PQconnectdb(ps->conninfo);
    if (PQstatus(ps->conn) != CONNECTION_OK) {
        say(ps, 0, "cannot connect (windows are kept until it works): %s",
            PQerrorMessage(ps->conn));
        PQfinish(ps->conn);
        ps->conn = NULL;
        return -1;
    }
    PQsetNoticeProcessor(ps->conn, no_notices, NULL);
    return 0;
}

static void *writer_main(void *arg)
{
    pg_sink *ps = arg;
    int backoff = BACKOFF_MIN_MS;
    for (;;) {
        pthread_mutex_lock(&ps->mu);
        while (!ps->head && !ps->stop)
            pthread_cond_wait(&ps->cv, &ps->mu);
        if (!ps->head) { /* stopping, nothing left */
            pthread_mutex_unlock(&ps->mu);
            break;
        }
        if (ps->stop == 2) { /* stopping now, even with windows left */
            pthread_mutex_unlock(&ps->mu);
            break;
        }
        pg_job *j = ps->head;
        ps->busy = 1;
        pthread_mutex_unlock(&ps->mu);

        int outcome = W_RETRY;
        if (connect_db(ps) == 0) {
            if (!ps->table_ready) {
                if (create_tables(ps) == 0)
                    ps->table_ready = 1;
                else if (!conn_lost(ps))
                    outcome = W_DROP; /* the server refuses: retrying will not help */
            }
            if (ps->table_ready)
                outcome = write_window(ps, j);
        }
        pthread_mutex_lock(&ps->mu);
        ps->busy = 0;
        if (outcome == W_RETRY) {
            ps->st.retries++;
            pthread_mutex_unlock(&ps->mu);
            if (ps->conn && conn_lost(ps)) {
                say(ps, 0, "connection lost, reconnecting%s", "");
                PQfinish(ps->conn);
                ps->conn = NULL;
            }
            sleep_ms(ps, backoff);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        backoff = BACKOFF_MIN_MS;
        ps->head = j->next;
        if (!ps->head)
            ps->tail = NULL;
        ps->queued_rows -= j->n;
        if (outcome == W_DONE) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            ps->st.acked_windows++;
            ps->st.last_ack_ms = (double)(now.tv_sec - j->queued.tv_sec) * 1e3 +
                                 (double)(now.tv_nsec - j->queued.tv_nsec) / 1e6;
            if (ps->st.last_ack_ms > ps->st.max_ack_ms)
                ps->st.max_ack_ms = ps->st.last_ack_ms;
        } else {
            ps->st.errors++;
            ps->st.dropped_windows++;
            ps->st.dropped_rows += j->n;
        }
        pthread_cond_broadcast(&ps->cv);
        pthread_mutex_unlock(&ps->mu);
        job_free(j);
    }
    if (ps->conn)
        PQfinish(ps->conn);
    ps->conn = NULL;
    return NULL;
}

/* ---- sink interface ------------------------------------------------------------------- */

static int pg_write(nagm_wsink *s, const nagm_window_out *w)
{
    pg_sink *ps = (pg_sink *)s;
    pg_job *j = calloc(1, sizeof *j);
    if (!j)
        goto oom;
    j->start_ns = w->start_ns;
    j->end_ns = w->end_ns;
    j->n = w->n;
    clock_gettime(CLOCK_MONOTONIC, &j->queued);
    if (w->n) {
        j->rows = malloc(sizeof *j->rows * w->n);
        if (!j->rows)
            goto oom;
        memcpy(j->rows, w->rows, sizeof *j->rows * w->n);
        if (ps->scored && w->score) {
            j->score = malloc(sizeof *j->score * w->n);
            if (!j->score)
                goto oom;
            memcpy(j->score, w->score, sizeof *j->score * w->n);
        }
    }
    pthread_mutex_lock(&ps->mu);
    ps->st.windows++;
    ps->st.rows += w->n;
    /* Make room: drop the oldest waiting windows (not the one being written). */
    pg_job **pp = ps->busy ? &ps->head->next : &ps->head;
    while (*pp && ps->queued_rows + j->n > ps->buffer_rows) {
        pg_job *old = *pp;
        *pp = old->next;
        if (ps->tail == old)
            ps->tail = ps->busy ? ps->head : NULL;
        ps->queued_rows -= old->n;
        ps->st.dropped_windows++;
        ps->st.dropped_rows += old->n;
        if (ps->st.dropped_windows == 1 || ps->st.dropped_windows % 100 == 0)
            fprintf(stderr,
                    "netagm stream: %s: buffer full (%zu rows): %" PRIu64 " windows dropped so far\n",
                    ps->name, ps->buffer_rows, ps->st.dropped_windows);
        job_free(old);
    }
    if (ps->queued_rows + j->n > ps->buffer_rows) { /* larger than the whole buffer */
        ps->st.dropped_windows++;
        ps->st.dropped_rows += j->n;
        pthread_mutex_unlock(&ps->mu);
        fprintf(stderr, "netagm stream: %s: buffer full (%zu rows): a window of %zu rows dropped\n",
                ps->name, ps->buffer_rows, j->n);
        job_free(j);
        return NAGM_SINK_OK;
    }
    if (ps->tail)
        ps->tail->next = j;
    else
        ps->head = j;
    ps->tail = j;
    ps->queued_rows += j->n;
    pthread_cond_broadcast(&ps->cv);
    pthread_mutex_unlock(&ps->mu);
    return NAGM_SINK_OK;
oom:
    job_free(j);
    snprintf(s->err, sizeof s->err, "out of memory");
    return NAGM_SINK_ERROR;
}

static void pg_stats(nagm_wsink *s, nagm_wsink_stats *out)
{
    pg_sink *ps = (pg_sink *)s;
    pthread_mutex_lock(&ps->mu);
    ps->st.queue_depth = ps->queued_rows;
    *out = ps->st;
    pthread_mutex_unlock(&ps->mu);
}

static int pg_close(nagm_wsink *s, int timeout_ms)
{
    pg_sink *ps = (pg_sink *)s;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    dl.tv_sec += dl.tv_nsec / 1000000000L;
    dl.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&ps->mu);
    ps->stop = 1; /* drain, then stop */
    pthread_cond_broadcast(&ps->cv);
    while (ps->head && pthread_cond_timedwait(&ps->cv, &ps->mu, &dl) != ETIMEDOUT)
        ;
    int left = 0;
    for (pg_job *j = ps->head; j; j = j->next)
        left++;
    ps->stop = 2;
    pthread_cond_broadcast(&ps->cv);
    pthread_mutex_unlock(&ps->mu);
    pthread_join(ps->th, NULL);
    int rc = NAGM_SINK_OK;
    if (left) {
        fprintf(stderr, "netagm stream: %s: %d windows not written within %d ms (server down?)\n",
                ps->name, left, timeout_ms);
        rc = NAGM_SINK_ERROR;
    }
    if (ps->st.dropped_windows)
        rc = NAGM_SINK_ERROR;
    while (ps->head) {
        pg_job *j = ps->head;
        ps->head = j->next;
        job_free(j);
    }
    pthread_mutex_destroy(&ps->mu);
    pthread_cond_destroy(&ps->cv);
    free(ps->conninfo);
    free(ps->table);
    free(ps->qtable);
    free(ps->text);
    free(ps);
    return rc;
}

/* ---- spec ------------------------------------------------------------------------------ */

/* identifier[.identifier], each [A-Za-z_][A-Za-z0-9_]* */
static int valid_table(const char *t)
{
    int at_start = 1, dots = 0;
    if (!*t)
        return 0;
    for (const char *c = t; *c; c++) {
        if (*c == '.') {
            if (at_start || ++dots > 1)
                return 0;
            at_start = 1;
            continue;
        }
        int alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_';
        int digit = *c >= '0' && *c <= '9';
        if (!alpha && !(digit && !at_start))
            return 0;
        at_start = 0;
    }
    return !at_start;
}

nagm_wsink *nagm_wsink_pg_new(const char *spec, int scored, char *errbuf)
{
    pg_sink *ps = calloc(1, sizeof *ps);
    if (!ps) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
        return NULL;
    }
    ps->scored = scored;
    ps->buffer_rows = DEFAULT_BUFFER_ROWS;
    ps->batch_rows = DEFAULT_BATCH_ROWS;
    size_t cap = strlen(spec) + 64;
    ps->conninfo = malloc(cap);
    if (!ps->conninfo)
        goto oom;
    const char *q = strchr(spec, '?');
    size_t base = q ? (size_t)(q - spec) : strlen(spec);
    memcpy(ps->conninfo, spec, base);
    size_t at = base;
    char sep = '?';
    int has_timeout = 0;
    if (q) {
        const char *c = q + 1;
        while (*c) {
            const char *amp = strchr(c, '&');
            size_t len = amp ? (size_t)(amp - c) : strlen(c);
            const char *eq = memchr(c, '=', len);
            size_t klen = eq ? (size_t)(eq - c) : len;
            const char *v = eq ? eq + 1 : c + len;
            size_t vlen = (size_t)(c + len - v);
#define KEY(k) (klen == strlen(k) && !strncmp(c, k, klen))
            if (KEY("table")) {
                free(ps->table);
                ps->table = strndup(v, vlen);
            } else if (KEY("run")) {
                snprintf(ps->run, sizeof ps->run, "%.*s", (int)(vlen < 127 ? vlen : 127), v);
            } else if (KEY("buffer_rows") || KEY("batch_rows")) {
                char num[32];
                snprintf(num, sizeof num, "%.*s", (int)(vlen < 31 ? vlen : 31), v);
                char *end;
                unsigned long long x = strtoull(num, &end, 10);
                if (*end || x == 0) {
                    snprintf(errbuf, NAGM_ERRBUF_SIZE, "%.*s: expected a positive number",
                             (int)klen, c);
                    goto fail;
                }
                if (KEY("buffer_rows"))
                    ps->buffer_rows = (size_t)x;
                else
                    ps->batch_rows = (size_t)x;
            } else if (len) {
                has_timeout |= KEY("connect_timeout");
                ps->conninfo[at++] = sep;
                sep = '&';
                memcpy(ps->conninfo + at, c, len);
                at += len;
            }
#undef KEY
            c += len + (amp != NULL);
        }
    }
    if (!has_timeout) {
        /* A server that does not answer must not hold the writer forever. */
        at += (size_t)snprintf(ps->conninfo + at, cap - at, "%cconnect_timeout=5", sep);
        sep = '&';
    }
    snprintf(ps->conninfo + at, cap - at, "%capplication_name=netagm", sep);
    if (!ps->table || !valid_table(ps->table)) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE,
                 "%.200s: give the table as ?table=NAME (letters, digits, _; optionally "
                 "schema.NAME)",
                 spec);
        goto fail;
    }
    /* quote each part: "schema"."name" */
    ps->qtable = malloc(strlen(ps->table) * 2 + 8);
    if (!ps->qtable)
        goto oom;
    char *o = ps->qtable;
    *o++ = '"';
    for (const char *c = ps->table; *c; c++) {
        if (*c == '.') {
            *o++ = '"';
            *o++ = '.';
            *o++ = '"';
        } else {
            *o++ = *c;
        }
    }
    *o++ = '"';
    *o = '\0';
    if (!ps->run[0]) {
        char host[64] = "host";
        gethostname(host, sizeof host - 1);
        snprintf(ps->run, sizeof ps->run, "%.60s-%d-%lld", host, (int)getpid(),
                 (long long)time(NULL));
    }
    {
        /* name for messages: the spec without parameters or password */
        const char *at_sign = memchr(spec, '@', base);
        const char *host = at_sign ? at_sign + 1 : spec + (strncmp(spec, "postgres://", 11) ? 13 : 11);
        snprintf(ps->name, sizeof ps->name, "postgresql://%.*s?table=%.40s",
                 (int)(spec + base - host > 100 ? 100 : spec + base - host), host, ps->table);
    }
    ps->base.name = ps->name;
    ps->base.write = pg_write;
    ps->base.stats = pg_stats;
    ps->base.close = pg_close;
    pthread_mutex_init(&ps->mu, NULL);
    pthread_cond_init(&ps->cv, NULL);
    /* Check the server and the table once before any work: a wrong URL
     * fails the start instead of filling the buffer. */
    ps->conn = PQconnectdb(ps->conninfo);
    if (PQstatus(ps->conn) != CONNECTION_OK) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "%s: %s", ps->name, PQerrorMessage(ps->conn));
        size_t l = strlen(errbuf);
        while (l && errbuf[l - 1] == '\n')
            errbuf[--l] = '\0';
        PQfinish(ps->conn);
        ps->conn = NULL;
        pthread_mutex_destroy(&ps->mu);
        pthread_cond_destroy(&ps->cv);
        goto fail;
    }
    PQsetNoticeProcessor(ps->conn, no_notices, NULL);
    if (create_tables(ps) != 0) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "%s: cannot create the tables (see above)", ps->name);
        PQfinish(ps->conn);
        ps->conn = NULL;
        pthread_mutex_destroy(&ps->mu);
        pthread_cond_destroy(&ps->cv);
        goto fail;
    }
    ps->table_ready = 1;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&ps->th, NULL, writer_main, ps);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "%s: cannot start the writer thread", ps->name);
        PQfinish(ps->conn);
        pthread_mutex_destroy(&ps->mu);
        pthread_cond_destroy(&ps->cv);
        goto fail;
    }
    return &ps->base;
oom:
    snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
fail:
    free(ps->conninfo);
    free(ps->table);
    free(ps->qtable);
    free(ps);
    return NULL;
}
