/* netagm analyze: captures or an AGM table -> Numerical AGM -> scaler -> PCA
 * -> clusters -> model.json, assignments.csv (or Parquet), report.html
 * (docs/analysis.md).
 * Under mpirun the rows are read and the model trained by every rank, and
 * rank 0 writes the results (docs/cluster.md). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_parquet.h"
#include "netagm/agm_read.h"
#include "netagm/ml.h"
#include "netagm/mpi.h"
#include "netagm/report.h"
#include "util/clock.h"

enum {
    OPT_AGM = CLI_OPT_FIRST_FREE,
    OPT_OUT,
    OPT_CLUSTER,
    OPT_SEED,
    OPT_NINIT,
    OPT_MAXITER,
    OPT_BANDWIDTH,
    OPT_QUANTILE,
    OPT_MINBIN,
    OPT_PCA,
    OPT_CLUSTER_ON,
    OPT_K_SRC,
    OPT_K_DST,
    OPT_K_FLAGS,
    OPT_ALL_PROTOS,
    OPT_NAGM,
    OPT_DUMP_NAGM,
    OPT_NO_REPORT,
    OPT_TITLE,
    OPT_THREADS,
    OPT_SAVE_AGM,
    OPT_ASSIGNMENTS,
};

static void usage(FILE *fp)
{
    fputs(
        "usage: netagm analyze (-r PATH ... | --agm TABLE) --out DIR [options]\n"
        "\n"
        "Encode AGM records as 51-component Numerical AGM vectors, scale them (z-score),\n"
        "run PCA and cluster them; write a reusable model, the assignment of every\n"
        "source, and an HTML report with charts (docs/analysis.md).\n"
        "\n"
        "Input (one of):\n"
        "  -r, --read PATH        captures, as for netagm agm (TCP packets only unless\n"
        "                         --all-protos or --proto is given)\n"
        "      --agm TABLE        an AGM table (CSV, JSON Lines or Parquet) from agm,\n"
        "                         or - for stdin; build it with --proto tcp for the\n"
        "                         paper's encoding (sources without TCP are dropped)\n"
        "\n"
        "Output:\n"
        "  -o, --out DIR          results directory, created if needed (default: results):\n"
        "                         model.json, assignments.csv, report.html\n"
        "      --assignments FILE write the assignments to FILE instead of\n"
        "                         DIR/assignments.csv: FILE.parquet is Parquet (same\n"
        "                         columns), any other name CSV; - is standard output\n"
        "      --nagm             also write DIR/nagm.csv, the encoded matrix (unscaled)\n"
        "      --dump-nagm FILE   write the encoded matrix to FILE instead\n"
        "      --save-agm         also write DIR/agm.csv, the AGM table analysed\n"
        "      --no-report        do not write report.html\n"
        "      --title TEXT       report title\n" CLI_PARQUET_HELP
        "\n"
        "Encoding:\n"
        "      --all-protos       keep every protocol, not only TCP\n"
        "      --k-src-port N     one-hot columns for src_port_mode (default 10)\n"
        "      --k-dst-port N     one-hot columns for dst_port_mode (default 10)\n"
        "      --k-flags N        one-hot columns for flags_mode (default 16)\n"
        "\n"
        "PCA and clustering:\n"
        "      --pca N            principal components kept (default 3)\n"
        "      --cluster METHOD   bisecting (default, as in the paper), kmeans, meanshift\n"
        "  -k, --clusters N       clusters for bisecting and kmeans (default 4)\n"
        "      --seed N           random seed (default 0); same seed, same result\n"
        "      --n-init N         k-means runs, best kept (default 10; bisecting: 3 per\n"
        "                         split)\n"
        "      --max-iter N       Lloyd iterations per run (default 300)\n"
        "      --bandwidth B      mean shift bandwidth (default: estimated)\n"
        "      --quantile Q       quantile for the bandwidth estimate (default 0.3)\n"
        "      --min-bin-freq N   mean shift: grid cells with fewer points seed nothing\n"
        "                         (default 1)\n"
        "      --cluster-on SPACE scaled (default: the scaled vectors) or pcs (the first\n"
        "                         --pca components)\n"
        "      --threads N        threads for clustering (default: CPUs, at most 8; under\n"
        "                         mpirun 1 per rank); results do not depend on it\n"
        "\n" CLI_INPUT_HELP
        "\n"
        "Exit status: 0 done; 1 fatal error (nothing to analyze, unreadable input);\n"
        "2 usage error; 3 results written but some capture was bad.\n"
        "\n"
        "Examples:\n"
        "  netagm analyze -r day/ --out results/\n"
        "  netagm analyze --agm agm.csv --out results/\n"
        "  netagm analyze -r day/ --cluster kmeans -k 6 --seed 7 --out results/\n"
        "  netagm analyze -r day/ --cluster meanshift --out results/\n"
        "  mpirun -np 16 --hostfile hosts netagm analyze -r /data/day/ --out results/\n"
        "      (every rank reads and trains, rank 0 writes; the model is the\n"
        "      single-process model: docs/cluster.md)\n",
        fp);
}

static int parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        cli_error(cmd, "%s: expected an integer %ld..%ld, got '%s'", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_double(const char *cmd, const char *opt, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || !isfinite(v)) {
        cli_error(cmd, "%s: expected a positive number, got '%s'", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* mkdir -p */
static int make_dir(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0777) != 0 && errno != EEXIST ? -1 : 0;
    struct stat st;
    if (rc == 0 && (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))) {
        errno = ENOTDIR;
        rc = -1;
    }
    free(p);
    return rc;
}

static char *join_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    size_t o = a;
    if (a && dir[a - 1] != '/')
        p[o++] = '/';
    memcpy(p + o, name, b + 1);
    return p;
}

/* The command line, for the report. */
static char *command_line(int argc, char **argv)
{
    size_t len = 16;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) * 2 + 3;
    char *s = malloc(len), *o = s;
    if (!s)
        return NULL;
    o += sprintf(o, "netagm");
    for (int i = 0; i < argc; i++) {
        int q = argv[i][0] == '\0' || strpbrk(argv[i], " \t'\"$*?;&|<>()") != NULL;
        *o++ = ' ';
        if (q)
            *o++ = '\'';
        for (const char *c = argv[i]; *c; c++) {
            if (*c == '\'' && q) {
                memcpy(o, "'\\''", 4);
                o += 4;
            } else {
                *o++ = *c;
            }
        }
        if (q)
            *o++ = '\'';
    }
    *o = '\0';
    return s;
}

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

static void print_summary(FILE *fp, const nagm_model *m, const nagm_profile *pr,
                          const nagm_agm_row *rows, const nagm_assign *a, size_t n)
{
    char t0[NAGM_TS_STRLEN], t1[NAGM_TS_STRLEN];
    nagm_ts_format(m->train.first_ns, t0);
    nagm_ts_format(m->train.last_ns, t1);
    t0[19] = t1[19] = '\0';
    fprintf(fp, "analysed %zu source record%s: %" PRIu64 " address%s, %" PRIu64 " window%s, %s to %s UTC\n",
            n, n == 1 ? "" : "s", m->train.sources, m->train.sources == 1 ? "" : "es",
            m->train.windows, m->train.windows == 1 ? "" : "s", t0, t1);
    fprintf(fp, "PCA: PC1 %.1f %%, PC2 %.1f %% of the variance\n", m->pca.ratio[0] * 100,
            m->pca.dim > 1 ? m->pca.ratio[1] * 100 : 0.0);
    if (m->clu.method == NAGM_CLU_MEANSHIFT)
        fprintf(fp, "clusters: %d (mean shift, bandwidth %.4g)\n", m->clu.k, m->clu.bandwidth);
    else
        fprintf(fp, "clusters: %d (%s, k=%d, seed %" PRIu64 ")\n", m->clu.k,
                m->clu.method == NAGM_CLU_KMEANS ? "k-means" : "bisecting k-means",
                m->clu.k_requested, m->clu.seed);
    for (int c = 0; c < m->clu.k; c++) {
        char fl[40];
        const nagm_profile *p = &pr[c];
        fprintf(fp, "  %2d  %-32s %8" PRIu64 "  %5.1f %%  dst port %u, %s\n", c, p->label,
                p->size, p->share * 100, p->ntop_dst_port ? p->top_dst_port[0].value : 0,
                p->ntop_flags ? nagm_flags_str(p->top_flags[0].value, fl) : "-");
    }
    if (m->clu.note[0])
        fprintf(fp, "note: %s\n", m->clu.note);
    size_t far = 0;
    for (size_t i = 1; i < n; i++)
        if (a[i].distance > a[far].distance)
            far = i;
    if (n) {
        char addr[NAGM_ADDR_STRLEN];
        nagm_addr_format(&rows[far].src, addr);
        fprintf(fp, "most unusual source: %s (cluster %d, distance %.3g)\n", addr,
                a[far].cluster, a[far].distance);
    }
}

int cmd_analyze(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_INPUT_LONGOPTS,
        {"agm", required_argument, NULL, OPT_AGM},
        {"out", required_argument, NULL, 'o'},
        {"output", required_argument, NULL, 'o'},
        {"cluster", required_argument, NULL, OPT_CLUSTER},
        {"clusters", required_argument, NULL, 'k'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"n-init", required_argument, NULL, OPT_NINIT},
        {"max-iter", required_argument, NULL, OPT_MAXITER},
        {"bandwidth", required_argument, NULL, OPT_BANDWIDTH},
        {"quantile", required_argument, NULL, OPT_QUANTILE},
        {"min-bin-freq", required_argument, NULL, OPT_MINBIN},
        {"pca", required_argument, NULL, OPT_PCA},
        {"cluster-on", required_argument, NULL, OPT_CLUSTER_ON},
        {"k-src-port", required_argument, NULL, OPT_K_SRC},
        {"k-dst-port", required_argument, NULL, OPT_K_DST},
        {"k-flags", required_argument, NULL, OPT_K_FLAGS},
        {"all-protos", no_argument, NULL, OPT_ALL_PROTOS},
        {"nagm", no_argument, NULL, OPT_NAGM},
        {"dump-nagm", required_argument, NULL, OPT_DUMP_NAGM},
        {"no-report", no_argument, NULL, OPT_NO_REPORT},
        {"title", required_argument, NULL, OPT_TITLE},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"save-agm", no_argument, NULL, OPT_SAVE_AGM},
        {"assignments", required_argument, NULL, OPT_ASSIGNMENTS},
        CLI_PARQUET_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "analyze";
    cli_input ci;
    cli_input_init(&ci);
    nagm_train_opts to;
    nagm_train_opts_init(&to);
    to.cluster.threads = default_threads();
    const char *agm = NULL, *outdir = "results", *dump = NULL, *title = NULL;
    const char *assign_path = NULL;
    cli_parquet pq;
    cli_parquet_init(&pq);
    int all_protos = 0, want_nagm = 0, no_report = 0, save_agm = 0, threads_given = 0;
    long v;
    int opt;
    cli_mute muted;
    cli_mute_ranks(&muted);
    while ((opt = getopt_long(argc, argv, CLI_INPUT_SHORTOPTS "o:k:h", longopts, NULL)) != -1) {
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
        case OPT_AGM:
            agm = optarg;
            break;
        case 'o':
            outdir = optarg;
            break;
        case OPT_CLUSTER: {
            int m = nagm_cluster_method_parse(optarg);
            if (m < 0) {
                cli_error(cmd, "--cluster: expected bisecting, kmeans or meanshift, got '%s'",
                          optarg);
                goto usage_error;
            }
            to.cluster.method = (nagm_cluster_method)m;
            break;
        }
        case 'k':
            if (parse_long(cmd, "-k", optarg, 1, 100000, &v))
                goto usage_error;
            to.cluster.k = (int)v;
            break;
        case OPT_SEED: {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-') {
                cli_error(cmd, "--seed: expected a non-negative integer, got '%s'", optarg);
                goto usage_error;
            }
            to.cluster.seed = s;
            break;
        }
        case OPT_NINIT:
            if (parse_long(cmd, "--n-init", optarg, 1, 1000, &v))
                goto usage_error;
            to.cluster.n_init = (int)v;
            break;
        case OPT_MAXITER:
            if (parse_long(cmd, "--max-iter", optarg, 1, 100000, &v))
                goto usage_error;
            to.cluster.max_iter = (int)v;
            break;
        case OPT_BANDWIDTH:
            if (parse_double(cmd, "--bandwidth", optarg, &to.cluster.bandwidth))
                goto usage_error;
            break;
        case OPT_QUANTILE:
            if (parse_double(cmd, "--quantile", optarg, &to.cluster.quantile))
                goto usage_error;
            if (to.cluster.quantile > 1) {
                cli_error(cmd, "--quantile: expected a number in (0, 1], got '%s'", optarg);
                goto usage_error;
            }
            break;
        case OPT_MINBIN:
            if (parse_long(cmd, "--min-bin-freq", optarg, 1, 1000000000, &v))
                goto usage_error;
            to.cluster.min_bin_freq = (int)v;
            break;
        case OPT_PCA:
            if (parse_long(cmd, "--pca", optarg, 1, 100000, &v))
                goto usage_error;
            to.pca = (size_t)v;
            break;
        case OPT_CLUSTER_ON:
            if (!strcmp(optarg, "pcs"))
                to.cluster_on_pcs = 1;
            else if (!strcmp(optarg, "scaled"))
                to.cluster_on_pcs = 0;
            else {
                cli_error(cmd, "--cluster-on: expected scaled or pcs, got '%s'", optarg);
                goto usage_error;
            }
            break;
        case OPT_K_SRC:
        case OPT_K_DST:
        case OPT_K_FLAGS:
            if (parse_long(cmd, "--k-*", optarg, 1, NAGM_NAGM_MAX_K, &v))
                goto usage_error;
            if (opt == OPT_K_SRC)
                to.k_src_port = (int)v;
            else if (opt == OPT_K_DST)
                to.k_dst_port = (int)v;
            else
                to.k_flags = (int)v;
            break;
        case OPT_ALL_PROTOS:
            all_protos = 1;
            break;
        case OPT_NAGM:
            want_nagm = 1;
            break;
        case OPT_DUMP_NAGM:
            dump = optarg;
            break;
        case OPT_NO_REPORT:
            no_report = 1;
            break;
        case OPT_TITLE:
            title = optarg;
            break;
        case OPT_THREADS:
            if (parse_long(cmd, "--threads", optarg, 1, 64, &v))
                goto usage_error;
            to.cluster.threads = (int)v;
            threads_given = 1;
            break;
        case OPT_SAVE_AGM:
            save_agm = 1;
            break;
        case OPT_ASSIGNMENTS:
            assign_path = optarg;
            break;
        case 'h':
            usage(stdout);
            cli_unmute_ranks(&muted);
            cli_input_free(&ci);
            return NAGM_EXIT_OK;
        default:
            usage(stderr);
            goto usage_error;
        }
    }
    if (optind < argc) {
        cli_error(cmd, "unexpected argument '%s' (inputs are given with -r or --agm)",
                  argv[optind]);
        goto usage_error;
    }
    if (agm && ci.ninputs) {
        cli_error(cmd, "give either captures (-r) or an AGM table (--agm), not both");
        goto usage_error;
    }
    if (!agm && ci.ninputs == 0) {
        cli_error(cmd, "no input: give captures with -r PATH or an AGM table with --agm FILE");
        goto usage_error;
    }
    if (agm && (ci.run.window_ns || ci.run.proto_filter || ci.run.bpf)) {
        cli_error(cmd, "-w, --proto and --bpf apply to captures, not to an AGM table");
        goto usage_error;
    }
    /* The assignments are CSV unless their file is named .parquet. */
    nagm_format assign_fmt;
    if (cli_parquet_format(&pq, cmd, assign_path ? assign_path : "assignments.csv",
                           assign_path && nagm_format_from_path(assign_path) == NAGM_FMT_PARQUET
                               ? NAGM_FMT_PARQUET
                               : NAGM_FMT_CSV,
                           &assign_fmt) != 0)
        goto usage_error;
    int to_stdout = (dump && !strcmp(dump, "-")) + (assign_path && !strcmp(assign_path, "-"));
    if (to_stdout > 1) {
        cli_error(cmd, "--dump-nagm - and --assignments - cannot both use standard output");
        goto usage_error;
    }
    if (!agm) {
        /* The paper keeps TCP packets only; an explicit --proto wins. */
        if (!ci.run.proto_filter && !all_protos) {
            char eb[NAGM_ERRBUF_SIZE];
            nagm_parse_protos("tcp", &ci.run, eb);
        }
        if (cli_input_finish(&ci, cmd) != 0)
            goto usage_error;
    }
    to.tcp_only = !all_protos;
    if (!agm && ci.run.proto_filter) {
        uint8_t tcp[32] = {0};
        tcp[0] = 1 << 6;
        to.tcp_only = !memcmp(tcp, ci.run.protos, sizeof tcp);
    }
    int quiet = ci.quiet;
    cli_unmute_ranks(&muted);

    /* Under mpirun: every rank reads and trains, rank 0 writes. */
    int dist = nagm_mpi_active(), me = dist ? nagm_mpi_rank() : 0;
    if (dist && nagm_mpi_size() < nagm_mpi_launched()) {
        if (nagm_mpi_launched_rank() == 0)
            cli_error(cmd, "started by an MPI launcher with %d ranks, but this netagm was built "
                           "without MPI support (docs/cluster.md)",
                      nagm_mpi_launched());
        cli_input_free(&ci);
        return NAGM_EXIT_ERROR;
    }
    if (dist && !threads_given)
        to.cluster.threads = 1; /* one rank per core is the way to use more */

    int mk = me == 0 ? make_dir(outdir) : 0;
    if (mk != 0)
        cli_error(cmd, "cannot create %s: %s", outdir, strerror(errno));
    if (dist)
        mk = nagm_mpi_agree(mk != 0 ? NAGM_EXIT_ERROR : NAGM_EXIT_OK) != NAGM_EXIT_OK;
    if (mk != 0) {
        cli_input_free(&ci);
        if (dist)
            nagm_mpi_finalize();
        return NAGM_EXIT_ERROR;
    }
    char *p_model = join_path(outdir, "model.json");
    char *p_assign = assign_path ? strdup(assign_path) : join_path(outdir, "assignments.csv");
    char *p_report = join_path(outdir, "report.html");
    char *p_nagm = want_nagm ? join_path(outdir, "nagm.csv") : NULL;
    char *p_agm = save_agm ? join_path(outdir, "agm.csv") : NULL;
    char *cmdline = command_line(argc, argv);
    nagm_agm_row *rows = NULL;
    size_t n = 0;
    nagm_stats st;
    memset(&st, 0, sizeof st);
    int have_stats = 0, status = NAGM_EXIT_OK;
    uint64_t rows_read = 0, dropped = 0, mixed = 0;
    nagm_model *model = NULL;
    nagm_assign *assign = NULL;
    double *pcs = NULL, *X = NULL;
    nagm_profile *prof = NULL;
    char input_desc[1024] = "";
    char errbuf[NAGM_ML_ERRBUF > NAGM_ERRBUF_SIZE ? NAGM_ML_ERRBUF : NAGM_ERRBUF_SIZE] = "";
    if (!p_model || !p_assign || !p_report || (want_nagm && !p_nagm) || (save_agm && !p_agm) ||
        !cmdline) {
        cli_error(cmd, "out of memory");
        status = NAGM_EXIT_ERROR;
        goto done;
    }

    /* ---- read ---- */
    double t0 = nagm_now_s();
    if (agm && me != 0) {
        /* rank 0 reads the table and sends each rank its share */
    } else if (agm) {
        if (nagm_agm_read(agm, NAGM_FMT_AUTO, &rows, &n, errbuf) != 0) {
            cli_error(cmd, "%s", errbuf);
            status = NAGM_EXIT_ERROR;
            goto read_done;
        }
        rows_read = n;
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            if (!all_protos && !nagm_nagm_row_has_tcp(&rows[i])) {
                dropped++;
                continue;
            }
            mixed += rows[i].uniq[NAGM_F_PROTO] > 1 ||
                     (rows[i].uniq[NAGM_F_PROTO] == 1 && rows[i].mode[NAGM_F_PROTO] != 6);
            rows[w++] = rows[i];
        }
        n = w;
        if (all_protos)
            mixed = 0;
        snprintf(input_desc, sizeof input_desc, "AGM table %s", agm);
        if (!quiet && dropped)
            fprintf(stderr,
                    "netagm analyze: dropped %" PRIu64 " of %" PRIu64
                    " rows: sources with no TCP packets (--all-protos keeps them)\n",
                    dropped, rows_read);
        if (!quiet && mixed)
            fprintf(stderr,
                    "netagm analyze: warning: %" PRIu64 " rows mix TCP with other protocols; "
                    "for the paper's encoding build the table with 'netagm agm --proto tcp'\n",
                    mixed);
    } else {
        if (dist) {
            /* The ranks report their own errors. */
            status = nagm_mpi_agm_rows(&ci.run, quiet, &rows, &n, &st);
            if (status == NAGM_EXIT_ERROR || status == NAGM_EXIT_USAGE)
                goto read_done;
        } else {
            status = nagm_run_agm(&ci.run, &rows, &n, &st, errbuf);
            if (status == NAGM_EXIT_ERROR || status == NAGM_EXIT_USAGE) {
                cli_error(cmd, "%s", errbuf);
                goto read_done;
            }
        }
        have_stats = 1;
        st.rows = n;
        size_t len = (size_t)snprintf(input_desc, sizeof input_desc, "captures");
        for (size_t i = 0; i < ci.ninputs && len < sizeof input_desc; i++)
            len += (size_t)snprintf(input_desc + len, sizeof input_desc - len, "%s %s",
                                    i ? "," : "", ci.inputs[i]);
        if (len < sizeof input_desc)
            snprintf(input_desc + len, sizeof input_desc - len, " (%" PRIu64 " file%s%s)",
                     st.files_ok + st.files_bad, st.files_ok + st.files_bad == 1 ? "" : "s",
                     to.tcp_only ? ", TCP packets" : "");
        if (me == 0 && cli_report_stats(&ci, &st) != 0 && status == NAGM_EXIT_OK)
            status = NAGM_EXIT_ERROR;
    }
read_done:;
    double t_read = nagm_now_s() - t0;
    int fatal = status == NAGM_EXIT_ERROR || status == NAGM_EXIT_USAGE;
    if (!fatal && me == 0 && n == 0) {
        if (agm && rows_read)
            cli_error(cmd, "nothing to analyze: none of the %" PRIu64 " rows of %s has TCP "
                           "packets (--all-protos analyzes every protocol)",
                      rows_read, agm);
        else if (agm)
            cli_error(cmd, "nothing to analyze: %s holds no AGM rows", agm);
        else
            cli_error(cmd, "nothing to analyze: the input holds no %spackets (%" PRIu64
                           " frames read)",
                      to.tcp_only ? "TCP " : "", st.frames);
        status = NAGM_EXIT_ERROR;
        fatal = 1;
    }
    size_t d = 15 + (size_t)to.k_src_port + (size_t)to.k_dst_port + (size_t)to.k_flags;
    size_t ncomp = to.pca > d ? d : to.pca;
    if (!fatal && me == 0) {
        assign = malloc(n * sizeof *assign);
        pcs = malloc(n * ncomp * sizeof *pcs);
        if (!assign || !pcs) {
            cli_error(cmd, "out of memory for %zu rows", n);
            status = NAGM_EXIT_ERROR;
            fatal = 1;
        }
    }
    if (dist) {
        /* Every rank goes on only if rank 0 has rows to train on. */
        int go = nagm_mpi_agree(fatal ? status : NAGM_EXIT_OK);
        if (go == NAGM_EXIT_ERROR || go == NAGM_EXIT_USAGE) {
            status = fatal ? status : go;
            goto done;
        }
    } else if (fatal) {
        goto done;
    }

    /* ---- train ---- */
    double t1 = nagm_now_s();
    int rc;
    if (dist) {
        rc = nagm_mpi_train(rows, n, &to, &model, assign, pcs, errbuf);
        /* The encoded matrix, as training computed it (encoding is pure). */
        if (!rc && me == 0 && (want_nagm || dump)) {
            if (!(X = malloc(n * nagm_model_dim(model) * sizeof *X))) {
                cli_error(cmd, "out of memory for %zu rows", n);
                status = NAGM_EXIT_ERROR;
                goto finish;
            }
            nagm_nagm_encode(&model->enc, rows, n, X);
        }
    } else {
        rc = nagm_model_train(rows, n, &to, &model, assign, pcs, (want_nagm || dump) ? &X : NULL,
                              errbuf);
    }
    if (rc) {
        if (me == 0)
            cli_error(cmd, "%s", errbuf);
        status = NAGM_EXIT_ERROR;
        goto finish;
    }
    if (me != 0)
        goto finish; /* rank 0 writes the results */
    snprintf(model->train.input, sizeof model->train.input, "%s", input_desc);
    if (nagm_profiles_compute(rows, assign, n, model->clu.k, &prof) != 0 ||
        !(model->clu.labels = calloc((size_t)model->clu.k, sizeof *model->clu.labels))) {
        cli_error(cmd, "out of memory");
        status = NAGM_EXIT_ERROR;
        goto finish;
    }
    for (int c = 0; c < model->clu.k; c++)
        snprintf(model->clu.labels[c], sizeof model->clu.labels[c], "%s", prof[c].label);
    double t_train = nagm_now_s() - t1;

    /* ---- write ---- */
    if (nagm_model_save(model, p_model, errbuf) != 0) {
        cli_error(cmd, "%s", errbuf);
        status = NAGM_EXIT_ERROR;
        goto finish;
    }
    FILE *f;
    if (assign_fmt == NAGM_FMT_PARQUET) {
        if (nagm_assign_write_parquet(p_assign, rows, assign, pcs, model->pca.ncomp,
                                      model->pca.ncomp, n, &pq.opts, errbuf) != 0) {
            cli_error(cmd, "%s", errbuf);
            status = NAGM_EXIT_ERROR;
            goto finish;
        }
    } else {
        int is_stdout = !strcmp(p_assign, "-");
        f = is_stdout ? stdout : fopen(p_assign, "w");
        if (!f || nagm_assign_write_csv(f, rows, assign, pcs, model->pca.ncomp, model->pca.ncomp,
                                        n) ||
            (is_stdout ? fflush(f) : fclose(f)) != 0) {
            cli_error(cmd, "cannot write %s: %s", p_assign, strerror(errno));
            status = NAGM_EXIT_ERROR;
            goto finish;
        }
    }
    const char *nagm_out = dump ? dump : p_nagm;
    if (nagm_out) {
        f = cli_open_output(nagm_out, "w");
        if (!f) {
            status = NAGM_EXIT_ERROR;
            goto finish;
        }
        int bad = nagm_nagm_write_csv(f, &model->enc, rows, X, n) != 0;
        if (f != stdout)
            bad |= fclose(f) != 0;
        else
            bad |= fflush(f) != 0;
        if (bad) {
            cli_error(cmd, "cannot write %s", nagm_out);
            status = NAGM_EXIT_ERROR;
            goto finish;
        }
    }
    if (p_agm) {
        nagm_sink *s = cli_open_agm_sink(p_agm, NAGM_FMT_CSV);
        int bad = !s;
        if (s) {
            bad = s->write(s, rows, n) != NAGM_SINK_OK;
            bad |= s->close(s) != NAGM_SINK_OK;
        }
        if (bad) {
            cli_error(cmd, "cannot write %s", p_agm);
            status = NAGM_EXIT_ERROR;
            goto finish;
        }
    }
    if (!no_report) {
        nagm_report_in ri;
        memset(&ri, 0, sizeof ri);
        ri.title = title;
        ri.input_desc = input_desc;
        ri.command = cmdline;
        ri.rows = rows;
        ri.n = n;
        ri.model = model;
        ri.assign = assign;
        ri.pcs = pcs;
        ri.profiles = prof;
        ri.stats = have_stats ? &st : NULL;
        ri.rows_read = rows_read;
        ri.rows_dropped = dropped;
        ri.rows_mixed = mixed;
        ri.t_read = t_read;
        ri.t_train = t_train;
        int o = 0;
        ri.outputs[o++] = p_model;
        ri.outputs[o++] = p_assign;
        ri.outputs[o++] = p_report;
        if (nagm_out)
            ri.outputs[o++] = nagm_out;
        if (p_agm)
            ri.outputs[o++] = p_agm;
        char *tmp = join_path(outdir, "report.html.tmp");
        f = tmp ? fopen(tmp, "w") : NULL;
        char rerr[256] = "";
        int bad = !f || nagm_report_write_html(&ri, f, rerr) != 0;
        if (f)
            bad |= fclose(f) != 0;
        if (!bad && rename(tmp, p_report) != 0)
            bad = 1;
        if (bad) {
            cli_error(cmd, "cannot write %s%s%s", p_report, rerr[0] ? ": " : "", rerr);
            if (tmp)
                remove(tmp);
            free(tmp);
            status = NAGM_EXIT_ERROR;
            goto finish;
        }
        free(tmp);
    }
    if (!quiet) {
        /* The summary goes to stdout unless a table went there. */
        FILE *so = to_stdout ? stderr : stdout;
        print_summary(so, model, prof, rows, assign, n);
        fprintf(so, "wrote %s\n      %s\n", p_model, p_assign);
        if (nagm_out && strcmp(nagm_out, "-"))
            fprintf(so, "      %s\n", nagm_out);
        if (p_agm)
            fprintf(so, "      %s\n", p_agm);
        if (!no_report)
            fprintf(so, "report: %s\n", p_report);
        fflush(so);
    }

finish:
    /* Under mpirun every rank exits with the job's status. */
    if (dist)
        status = nagm_mpi_agree(status);

done:
    free(p_model);
    free(p_assign);
    free(p_report);
    free(p_nagm);
    free(p_agm);
    free(cmdline);
    free(rows);
    free(assign);
    free(pcs);
    free(X);
    free(prof);
    nagm_model_free(model);
    cli_input_free(&ci);
    if (dist)
        nagm_mpi_finalize();
    return status;

usage_error:
    cli_input_free(&ci);
    return cli_usage_exit(&muted);
}
