/* Run statistics: accounting, the end-of-run summary, and its JSON form. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "netagm/stats.h"

nagm_linktype_stats *nagm_stats_linktype(nagm_stats *s, uint32_t linktype)
{
    for (size_t i = 0; i < s->nlinktypes; i++)
        if (s->linktypes[i].linktype == linktype)
            return &s->linktypes[i];
    if (s->nlinktypes == NAGM_STATS_MAX_LINKTYPES)
        return &s->linktypes[NAGM_STATS_MAX_LINKTYPES - 1]; /* overflow bucket */
    nagm_linktype_stats *l = &s->linktypes[s->nlinktypes++];
    memset(l, 0, sizeof *l);
    l->linktype = linktype;
    return l;
}

void nagm_stats_add(nagm_stats *a, const nagm_stats *b)
{
    a->files_ok += b->files_ok;
    a->files_bad += b->files_bad;
    a->frames += b->frames;
    a->bytes += b->bytes;
    a->input_bytes += b->input_bytes;
    a->counted += b->counted;
    for (int i = 0; i < NAGM_DEC_NRESULTS; i++)
        a->skipped[i] += b->skipped[i];
    a->filtered_bpf += b->filtered_bpf;
    a->filtered_proto += b->filtered_proto;
    a->l4_truncated += b->l4_truncated;
    a->late += b->late;
    a->sources += b->sources;
    a->windows += b->windows;
    a->rows += b->rows;
    for (size_t i = 0; i < b->nlinktypes; i++) {
        nagm_linktype_stats *l = nagm_stats_linktype(a, b->linktypes[i].linktype);
        l->frames += b->linktypes[i].frames;
        for (int k = 0; k < NAGM_DEC_NRESULTS; k++)
            l->skipped[k] += b->linktypes[i].skipped[k];
    }
}

void nagm_stats_print(const nagm_stats *s, FILE *fp)
{
    double t = s->elapsed_s > 0 ? s->elapsed_s : 1e-9;
    fprintf(fp, "netagm: %" PRIu64 " files read cleanly, %" PRIu64 " bad\n", s->files_ok,
            s->files_bad);
    fprintf(fp, "  frames        %12" PRIu64 "  (%" PRIu64 " bytes captured)\n", s->frames,
            s->bytes);
    fprintf(fp, "  counted       %12" PRIu64 "\n", s->counted);
    for (int r = 1; r < NAGM_DEC_NRESULTS; r++)
        fprintf(fp, "  %-13s %12" PRIu64 "\n", nagm_dec_result_name((nagm_dec_result)r),
                s->skipped[r]);
    fprintf(fp, "  filtered_bpf  %12" PRIu64 "\n  filtered_proto%12" PRIu64 "\n", s->filtered_bpf,
            s->filtered_proto);
    fprintf(fp, "  l4_truncated  %12" PRIu64 "  (counted, some fields zero)\n", s->l4_truncated);
    if (s->late)
        fprintf(fp, "  late          %12" PRIu64 "\n", s->late);
    for (size_t i = 0; i < s->nlinktypes; i++) {
        const nagm_linktype_stats *l = &s->linktypes[i];
        fprintf(fp, "  linktype %-20s frames %" PRIu64, nagm_linktype_name(l->linktype), l->frames);
        for (int r = 1; r < NAGM_DEC_NRESULTS; r++)
            if (l->skipped[r])
                fprintf(fp, ", %s %" PRIu64, nagm_dec_result_name((nagm_dec_result)r),
                        l->skipped[r]);
        fputc('\n', fp);
    }
    fprintf(fp, "  sources       %12" PRIu64 "  (window, source records)\n", s->sources);
    fprintf(fp, "  windows       %12" PRIu64 "\n", s->windows);
    fprintf(fp, "  elapsed       %12.3f s   %.1f MB/s   %.0f packets/s\n", s->elapsed_s,
            (double)s->input_bytes / 1e6 / t, (double)s->frames / t);
}

int nagm_stats_write_json(const nagm_stats *s, FILE *fp)
{
    double t = s->elapsed_s > 0 ? s->elapsed_s : 1e-9;
    fprintf(fp,
            "{\"files_ok\":%" PRIu64 ",\"files_bad\":%" PRIu64 ",\"frames\":%" PRIu64
            ",\"bytes\":%" PRIu64 ",\"input_bytes\":%" PRIu64 ",\"counted\":%" PRIu64 ",\"skipped\":{",
            s->files_ok, s->files_bad, s->frames, s->bytes, s->input_bytes, s->counted);
    for (int r = 1; r < NAGM_DEC_NRESULTS; r++)
        fprintf(fp, "%s\"%s\":%" PRIu64, r > 1 ? "," : "", nagm_dec_result_name((nagm_dec_result)r),
                s->skipped[r]);
    fprintf(fp,
            "},\"filtered_bpf\":%" PRIu64 ",\"filtered_proto\":%" PRIu64
            ",\"l4_truncated\":%" PRIu64 ",\"late\":%" PRIu64 ",\"sources\":%" PRIu64
            ",\"windows\":%" PRIu64 ",\"rows\":%" PRIu64 ",\"elapsed_s\":%.6f,\"mb_per_s\":%.3f,"
            "\"packets_per_s\":%.1f,\"linktypes\":[",
            s->filtered_bpf, s->filtered_proto, s->l4_truncated, s->late, s->sources, s->windows,
            s->rows, s->elapsed_s, (double)s->input_bytes / 1e6 / t, (double)s->frames / t);
    for (size_t i = 0; i < s->nlinktypes; i++) {
        const nagm_linktype_stats *l = &s->linktypes[i];
        fprintf(fp, "%s{\"linktype\":%" PRIu32 ",\"name\":\"%s\",\"frames\":%" PRIu64, i ? "," : "",
                l->linktype, nagm_linktype_name(l->linktype), l->frames);
        for (int r = 1; r < NAGM_DEC_NRESULTS; r++)
            fprintf(fp, ",\"%s\":%" PRIu64, nagm_dec_result_name((nagm_dec_result)r), l->skipped[r]);
        fputc('}', fp);
    }
    fputs("]}\n", fp);
    return ferror(fp) ? -1 : 0;
}
