/* netagm apply: assign new AGM records (a table, or captures) to the clusters
 * of a saved model; the distance to the cluster centre is the anomaly score. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_parquet.h"
#include "netagm/agm_read.h"
#include "netagm/ml.h"

enum { OPT_MODEL = CLI_OPT_FIRST_FREE, OPT_AGM, OPT_ALL_PROTOS, OPT_NPC, OPT_FORMAT };

static void usage(FILE *fp)
{
    fputs("usage: netagm apply --model MODEL.json (--agm TABLE | -r PATH ...) [-o OUT]\n"
          "\n"
          "Encode, scale and project AGM records exactly as the model's training data was,\n"
          "and assign each to the model's clusters. Writes one row per record: src_ip,\n"
          "window, cluster, distance to the cluster centre (the anomaly score), the\n"
          "principal components and the AGM features (the same columns as\n"
          "assignments.csv of netagm analyze), as CSV or Parquet.\n"
          "\n"
          "Options:\n"
          "  -m, --model FILE       model.json written by netagm analyze (required)\n"
          "      --agm TABLE        AGM table (CSV, JSON Lines or Parquet), or - for stdin\n"
          "  -r, --read PATH        captures instead (aggregated as for netagm agm; TCP\n"
          "                         packets only when the model was trained on TCP only)\n"
          "  -o, --output FILE      where the assignments go (default: - for stdout);\n"
          "                         FILE.parquet is Parquet, anything else CSV\n"
          "      --format FMT       csv or parquet (overrides the extension)\n"
          "      --pcs N            principal components per row (default: all the model\n"
          "                         keeps)\n"
          "      --all-protos       keep table rows without TCP (dropped by default for a\n"
          "                         TCP-only model, as in training)\n" CLI_PARQUET_HELP
          "\n" CLI_INPUT_HELP
          "\n"
          "Exit status: 0 done; 1 fatal error (unreadable or damaged model, bad table);\n"
          "2 usage error; 3 written but some capture was bad.\n"
          "\n"
          "Example:\n"
          "  netagm apply --model results/model.json --agm new.csv -o assigned.csv\n",
          fp);
}

int cmd_apply(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_INPUT_LONGOPTS,
        {"model", required_argument, NULL, 'm'},
        {"agm", required_argument, NULL, OPT_AGM},
        {"output", required_argument, NULL, 'o'},
        {"pcs", required_argument, NULL, OPT_NPC},
        {"all-protos", no_argument, NULL, OPT_ALL_PROTOS},
        {"format", required_argument, NULL, OPT_FORMAT},
        CLI_PARQUET_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "apply";
    cli_input ci;
    cli_input_init(&ci);
    const char *model_path = NULL, *agm = NULL, *out = "-";
    int all_protos = 0;
    long npc = -1;
    int opt;
    nagm_format fmt = NAGM_FMT_AUTO;
    cli_parquet pq;
    cli_parquet_init(&pq);
    while ((opt = getopt_long(argc, argv, CLI_INPUT_SHORTOPTS "m:o:h", longopts, NULL)) != -1) {
        int r = cli_input_option(&ci, opt, optarg);
        if (r < 0)
            goto usage_error;
        if (r > 0)
            continue;
        r = cli_parquet_option(&pq, cmd, opt, optarg);
        if (r < 0)
            goto usage_error;
        if (r > 0)
            continue;
        switch (opt) {
        case 'm':
            model_path = optarg;
            break;
        case OPT_AGM:
            agm = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case OPT_NPC: {
            char *end;
            npc = strtol(optarg, &end, 10);
            if (*end || end == optarg || npc < 0 || npc > 100000) {
                cli_error(cmd, "--pcs: expected a count, got '%s'", optarg);
                goto usage_error;
            }
            break;
        }
        case OPT_ALL_PROTOS:
            all_protos = 1;
            break;
        case OPT_FORMAT:
            fmt = nagm_format_from_name(optarg);
            if (fmt != NAGM_FMT_CSV && fmt != NAGM_FMT_PARQUET) {
                cli_error(cmd, "--format: expected csv or parquet, got '%s'", optarg);
                goto usage_error;
            }
            break;
        case 'h':
            usage(stdout);
            cli_input_free(&ci);
            return NAGM_EXIT_OK;
        default:
            usage(stderr);
            goto usage_error;
        }
    }
    if (optind < argc) {
        cli_error(cmd, "unexpected argument '%s'", argv[optind]);
        goto usage_error;
    }
    if (!model_path) {
        cli_error(cmd, "no model: give --model results/model.json");
        goto usage_error;
    }
    if (!!agm == !!ci.ninputs) {
        cli_error(cmd, "give either an AGM table (--agm) or captures (-r)");
        goto usage_error;
    }
    if (agm && (ci.run.window_ns || ci.run.proto_filter || ci.run.bpf)) {
        cli_error(cmd, "-w, --proto and --bpf apply to captures, not to an AGM table");
        goto usage_error;
    }
    /* Parquet by --format or the extension; everything else is CSV, as
     * before Parquet existed here. */
    if (fmt == NAGM_FMT_AUTO)
        fmt = nagm_format_from_path(out) == NAGM_FMT_PARQUET ? NAGM_FMT_PARQUET : NAGM_FMT_CSV;
    if (cli_parquet_format(&pq, cmd, out, fmt, &fmt) != 0)
        goto usage_error;
    int parquet = fmt == NAGM_FMT_PARQUET;
    if (parquet && !strcmp(out, "-") && isatty(STDOUT_FILENO)) {
        cli_error(cmd, "refusing to write binary Parquet to a terminal; redirect standard "
                       "output or give a file name");
        goto usage_error;
    }

    char errbuf[NAGM_ML_ERRBUF > NAGM_ERRBUF_SIZE ? NAGM_ML_ERRBUF : NAGM_ERRBUF_SIZE];
    nagm_model *m = NULL;
    if (nagm_model_load(model_path, &m, errbuf) != 0) {
        cli_error(cmd, "cannot use the model: %s", errbuf);
        cli_input_free(&ci);
        return NAGM_EXIT_ERROR;
    }
    if (!agm) {
        if (m->tcp_only && !ci.run.proto_filter && !all_protos) {
            char eb[NAGM_ERRBUF_SIZE];
            nagm_parse_protos("tcp", &ci.run, eb);
        }
        if (cli_input_finish(&ci, cmd) != 0) {
            nagm_model_free(m);
            goto usage_error;
        }
    }
    /* Fail before any work when the output cannot be written; the Parquet
     * writer itself starts once the rows are assigned. */
    FILE *fp = cli_open_output(out, "w");
    if (!fp) {
        nagm_model_free(m);
        cli_input_free(&ci);
        return NAGM_EXIT_ERROR;
    }
    if (parquet) {
        if (fp != stdout)
            fclose(fp);
        fp = NULL;
    }
    int status = NAGM_EXIT_OK;
    nagm_agm_row *rows = NULL;
    size_t n = 0;
    nagm_assign *a = NULL;
    double *pcs = NULL;
    if (agm) {
        if (nagm_agm_read(agm, NAGM_FMT_AUTO, &rows, &n, errbuf) != 0) {
            cli_error(cmd, "%s", errbuf);
            status = NAGM_EXIT_ERROR;
            goto done;
        }
        if (m->tcp_only && !all_protos) {
            size_t w = 0;
            for (size_t i = 0; i < n; i++)
                if (nagm_nagm_row_has_tcp(&rows[i]))
                    rows[w++] = rows[i];
            if (w < n && !ci.quiet)
                fprintf(stderr,
                        "netagm apply: dropped %zu of %zu rows: sources with no TCP packets "
                        "(the model is TCP only; --all-protos keeps them)\n",
                        n - w, n);
            n = w;
        }
    } else {
        nagm_stats st;
        status = nagm_run_agm(&ci.run, &rows, &n, &st, errbuf);
        if (status == NAGM_EXIT_ERROR || status == NAGM_EXIT_USAGE) {
            cli_error(cmd, "%s", errbuf);
            goto done;
        }
        st.rows = n;
        if (cli_report_stats(&ci, &st) != 0 && status == NAGM_EXIT_OK)
            status = NAGM_EXIT_ERROR;
    }
    size_t nc = m->pca.ncomp;
    a = malloc((n ? n : 1) * sizeof *a);
    pcs = malloc((n ? n : 1) * nc * sizeof *pcs);
    if (!a || !pcs || nagm_model_apply(m, rows, n, a, pcs, errbuf) != 0) {
        cli_error(cmd, "out of memory for %zu rows", n);
        status = NAGM_EXIT_ERROR;
        goto done;
    }
    size_t want_pc = npc < 0 ? nc : (size_t)npc;
    if (parquet) {
        if (nagm_assign_write_parquet(out, rows, a, pcs, nc, want_pc, n, &pq.opts, errbuf) != 0) {
            cli_error(cmd, "%s", errbuf);
            status = NAGM_EXIT_ERROR;
            goto done;
        }
    } else if (nagm_assign_write_csv(fp, rows, a, pcs, nc, want_pc, n) != 0 || fflush(fp) != 0) {
        cli_error(cmd, "cannot write %s: %s", out, strerror(errno));
        status = NAGM_EXIT_ERROR;
        goto done;
    }
    if (!ci.quiet) {
        uint64_t *cnt = calloc((size_t)m->clu.k, sizeof *cnt);
        for (size_t i = 0; cnt && i < n; i++)
            cnt[a[i].cluster]++;
        fprintf(stderr, "netagm apply: %zu rows assigned to %d clusters:", n, m->clu.k);
        for (int c = 0; cnt && c < m->clu.k; c++) {
            fprintf(stderr, "%s %d", c ? "," : "", c);
            if (m->clu.labels && m->clu.labels[c][0])
                fprintf(stderr, " (%s)", m->clu.labels[c]);
            fprintf(stderr, " %" PRIu64, cnt[c]);
        }
        fputc('\n', stderr);
        free(cnt);
    }
done:
    if (fp && fp != stdout && fclose(fp) != 0 && status == NAGM_EXIT_OK) {
        cli_error(cmd, "cannot write %s", out);
        status = NAGM_EXIT_ERROR;
    }
    if (n == 0 && status == NAGM_EXIT_OK && !ci.quiet)
        fprintf(stderr, "netagm apply: no rows to assign\n");
    free(rows);
    free(a);
    free(pcs);
    nagm_model_free(m);
    cli_input_free(&ci);
    return status;

usage_error:
    cli_input_free(&ci);
    return NAGM_EXIT_USAGE;
}
