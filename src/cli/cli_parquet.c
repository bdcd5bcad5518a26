/* Parquet output options shared by agm and extract. */
#include "cli/cli_parquet.h"

#include "cli/cli.h"

void cli_parquet_init(cli_parquet *p)
{
    nagm_parquet_opts_init(&p->opts);
    p->given = 0;
}

int cli_parquet_option(cli_parquet *p, const char *cmd, int opt, const char *arg)
{
    uint64_t v;
    switch (opt) {
    case CLI_OPT_COMPRESSION:
        if (nagm_pq_codec_from_name(arg, &p->opts.codec) != 0) {
            cli_error(cmd, "--compression: expected zstd, snappy, gzip or none, got '%s'", arg);
            return -1;
        }
        break;
    case CLI_OPT_ROW_GROUP:
        if (nagm_pq_parse_size(arg, &v) != 0) {
            cli_error(cmd, "--row-group-size: expected a byte count such as 4096 or 64M, got '%s'",
                      arg);
            return -1;
        }
        p->opts.row_group_bytes = v;
        break;
    case CLI_OPT_PAGE_SIZE:
        if (nagm_pq_parse_size(arg, &v) != 0 || v > 256u * 1024 * 1024) {
            cli_error(cmd, "--page-size: expected a byte count up to 256M, got '%s'", arg);
            return -1;
        }
        p->opts.page_bytes = (uint32_t)v;
        break;
    default:
        return 0;
    }
    p->given = 1;
    return 1;
}

int cli_parquet_format(const cli_parquet *p, const char *cmd, const char *path, nagm_format fmt,
                       nagm_format *out)
{
    if (fmt == NAGM_FMT_AUTO)
        fmt = nagm_format_from_path(path);
    if (fmt == NAGM_FMT_AUTO)
        fmt = NAGM_FMT_CSV;
    if (p->given && fmt != NAGM_FMT_PARQUET) {
        cli_error(cmd, "--compression, --row-group-size and --page-size apply to Parquet output "
                       "only (use -o FILE.parquet or --format parquet)");
        return -1;
    }
    *out = fmt;
    return 0;
}
