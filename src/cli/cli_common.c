/* Shared option handling and reporting for the capture-reading subcommands. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "netagm/parquet.h"

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "netagm %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_input_init(cli_input *ci)
{
    memset(ci, 0, sizeof *ci);
    ci->run.jobs = 1;
}

void cli_input_free(cli_input *ci)
{
    free(ci->inputs);
    ci->inputs = NULL;
}

int cli_parse_seconds(const char *s, int64_t *ns)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 9.2e9 || isnan(v))
        return -1;
    *ns = (int64_t)llround(v * 1e9);
    return 0;
}

int cli_input_option(cli_input *ci, int opt, const char *arg)
{
    char errbuf[NAGM_ERRBUF_SIZE];
    switch (opt) {
    case 'r':
        if (ci->ninputs == ci->capinputs) {
            size_t ncap = ci->capinputs ? ci->capinputs * 2 : 8;
            const char **n = realloc(ci->inputs, sizeof *n * ncap);
            if (!n)
                return -1;
            ci->inputs = n;
            ci->capinputs = ncap;
        }
        ci->inputs[ci->ninputs++] = arg;
        return 1;
    case 'w':
        if (cli_parse_seconds(arg, &ci->run.window_ns) != 0 || ci->run.window_ns == 0) {
            fprintf(stderr, "netagm: -w: expected a positive number of seconds, got '%s'\n", arg);
            return -1;
        }
        return 1;
    case 'j': {
        char *end;
        long v = strtol(arg, &end, 10);
        if (*end || v < 1 || v > 256) {
            fprintf(stderr, "netagm: -j: expected 1..256 threads, got '%s'\n", arg);
            return -1;
        }
        ci->run.jobs = (int)v;
        return 1;
    }
    case 'q':
    case CLI_OPT_QUIET:
        ci->quiet = 1;
        return 1;
    case CLI_OPT_PROTO:
        if (nagm_parse_protos(arg, &ci->run, errbuf) != 0) {
            fprintf(stderr, "netagm: %s\n", errbuf);
            return -1;
        }
        return 1;
    case CLI_OPT_BPF:
        ci->run.bpf = arg;
        return 1;
    case CLI_OPT_STRICT:
        ci->run.strict = 1;
        return 1;
    case CLI_OPT_STATS_JSON:
        ci->stats_json = arg;
        return 1;
    default:
        return 0;
    }
}

int cli_input_finish(cli_input *ci, const char *cmd)
{
    if (ci->ninputs == 0) {
        cli_error(cmd, "no input: give at least one -r PATH (or -r - for stdin)");
        return -1;
    }
    ci->run.inputs = ci->inputs;
    ci->run.ninputs = ci->ninputs;
    ci->run.progress = !ci->quiet && isatty(STDERR_FILENO);
    if (ci->stats_json) {
        /* Fail before any work if the statistics cannot be written. */
        FILE *f = cli_open_output(ci->stats_json, "a");
        if (!f)
            return -1;
        if (f != stdout)
            fclose(f);
    }
    return 0;
}

int cli_report_stats(const cli_input *ci, const nagm_stats *st)
{
    if (!ci->quiet)
        nagm_stats_print(st, stderr);
    if (!ci->stats_json)
        return 0;
    FILE *f = !strcmp(ci->stats_json, "-") ? stdout : fopen(ci->stats_json, "w");
    if (!f) {
        fprintf(stderr, "netagm: %s: %s\n", ci->stats_json, strerror(errno));
        return -1;
    }
    int rc = nagm_stats_write_json(st, f);
    if (f != stdout && fclose(f) != 0)
        rc = -1;
    return rc;
}

FILE *cli_open_output(const char *path, const char *mode)
{
    if (!strcmp(path, "-"))
        return stdout;
    FILE *f = fopen(path, mode);
    if (!f)
        fprintf(stderr, "netagm: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

nagm_sink *cli_open_agm_sink(const char *path, nagm_format fmt)
{
    if (fmt == NAGM_FMT_AUTO)
        fmt = nagm_format_from_path(path);
    if (fmt == NAGM_FMT_AUTO)
        fmt = NAGM_FMT_CSV;
    if (fmt == NAGM_FMT_PARQUET) {
        char perr[NAGM_PQ_ERRBUF_SIZE];
        nagm_sink *s = nagm_sink_parquet_new(path, NULL, perr);
        if (!s)
            fprintf(stderr, "netagm: cannot write %s\n", perr);
        return s;
    }
    FILE *f = cli_open_output(path, "w");
    if (!f)
        return NULL;
    nagm_sink *s = fmt == NAGM_FMT_JSONL ? nagm_sink_jsonl_new(f, f != stdout)
                                         : nagm_sink_csv_new(f, f != stdout);
    if (!s) {
        fprintf(stderr, "netagm: out of memory\n");
        if (f != stdout)
            fclose(f);
    }
    return s;
}
