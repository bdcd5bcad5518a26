/* The batch pipeline: inputs -> capture -> filter/decode -> callback.
 * nagm_run_agm (shards.c) plugs the aggregator in as the callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "netagm/capture.h"
#include "netagm/decode.h"
#include "netagm/pipeline.h"

static const struct {
    const char *name;
    int proto;
} proto_names[] = {
    {"icmp", 1}, {"igmp", 2}, {"ipip", 4}, {"tcp", 6},     {"udp", 17},    {"ipv6", 41},
    {"gre", 47}, {"esp", 50}, {"ah", 51},  {"icmp6", 58},  {"icmpv6", 58}, {"sctp", 132},
    {"dccp", 33}, {"udplite", 136},
};

int nagm_parse_protos(const char *list, nagm_run_opts *o, char *errbuf)
{
    memset(o->protos, 0, sizeof o->protos);
    char *copy = strdup(list);
    if (!copy) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
        return -1;
    }
    int rc = 0, any = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int p = -1;
        for (size_t i = 0; i < sizeof proto_names / sizeof proto_names[0]; i++)
            if (!strcasecmp(tok, proto_names[i].name))
                p = proto_names[i].proto;
        if (p < 0) {
            char *end;
            long v = strtol(tok, &end, 10);
            if (*tok && !*end && v >= 0 && v <= 255)
                p = (int)v;
        }
        if (p < 0) {
            snprintf(errbuf, NAGM_ERRBUF_SIZE,
                     "--proto: unknown protocol '%s' (use a name such as tcp, udp, icmp, icmpv6, "
                     "sctp, or a number 0-255)",
                     tok);
            rc = -1;
            break;
        }
        o->protos[p >> 3] |= (uint8_t)(1u << (p & 7));
        any = 1;
    }
    free(copy);
    if (rc == 0 && !any) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "--proto: empty list");
        rc = -1;
    }
    o->proto_filter = rc == 0;
    return rc;
}

int nagm_filter_init(nagm_filter *flt, const nagm_run_opts *o, char *errbuf)
{
    memset(flt, 0, sizeof *flt);
    flt->proto_filter = o->proto_filter;
    memcpy(flt->protos, o->protos, sizeof flt->protos);
    if (o->bpf && nagm_bpf_new(o->bpf, &flt->bpf, errbuf) != 0)
        return -1;
    return 0;
}

void nagm_filter_free(nagm_filter *flt)
{
    nagm_bpf_free(flt->bpf);
    flt->bpf = NULL;
}

/* nagm_filter_frame's work, inlined into the batch loop of nagm_run_file. */
static inline __attribute__((always_inline)) int filter_one(nagm_filter *flt, const nagm_frame *f,
                                                            nagm_pkt *p, nagm_stats *st)
{
    if (flt->bpf && !nagm_bpf_match(flt->bpf, f)) {
        nagm_stats_frame(st, f->linktype, f->caplen, NAGM_DEC_OK);
        st->filtered_bpf++;
        return 0;
    }
    nagm_dec_result r = nagm_decode(f->linktype, f->data, f->caplen, p);
    nagm_stats_frame(st, f->linktype, f->caplen, r);
    if (r != NAGM_DEC_OK)
        return 0;
    if (flt->proto_filter && !(flt->protos[p->proto >> 3] & (1u << (p->proto & 7)))) {
        st->filtered_proto++;
        return 0;
    }
    p->ts_ns = f->ts_ns;
    p->caplen = f->caplen;
    p->wirelen = f->wirelen;
    st->counted++;
    st->l4_truncated += p->l4_trunc;
    return 1;
}

int nagm_filter_frame(nagm_filter *flt, const nagm_frame *f, nagm_pkt *p, nagm_stats *st)
{
    return filter_one(flt, f, p, st);
}

/* Progress line on stderr (TTY only; the caller decides). */
static void progress(const nagm_stats *st, uint64_t raw_now, double t0, size_t file, size_t nfiles,
                     int final)
{
    double dt = nagm_now_s() - t0;
    if (dt <= 0)
        dt = 1e-9;
    uint64_t bytes = st->input_bytes + raw_now;
    fprintf(stderr, "\r\033[K  %.1f MB read, %.1f MB/s, %.2f Mpkt/s, file %zu/%zu", bytes / 1e6,
            bytes / 1e6 / dt, st->frames / 1e6 / dt, file, nfiles);
    if (final)
        fputc('\n', stderr);
}

/* Frames read at once (their data stay put until the next read), and how
 * many frames pass between looks at the clock for the progress line. */
enum { FRAME_BATCH = 64, PROGRESS_FRAMES = 65536 };

/* Progress of a whole run, for the TTY line. */
struct nagm_progress {
    double t0, next;
    size_t file, nfiles;
};

int nagm_run_file(const char *path, const nagm_run_opts *o, nagm_filter *flt, nagm_pkt_cb cb,
                  void *ctx, nagm_stats *st, const char *who, nagm_progress *pr, char *errbuf)
{
    nagm_capture *c;
    char cerr[NAGM_ERRBUF_SIZE];
    int orc = nagm_capture_open(path, &c, cerr);
    if (nagm_capture_fatal(orc)) {
        /* Not the file's fault: the run cannot go on. */
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "%.500s", cerr);
        return NAGM_EXIT_ERROR;
    }
    if (orc != 0) {
        fprintf(stderr, "%s: %s\n", who, cerr);
        st->files_bad++;
        if (o->strict) {
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "--strict: stopping at bad input: %.440s", cerr);
            return NAGM_EXIT_ERROR;
        }
        return NAGM_EXIT_BADINPUT;
    }
    int status = NAGM_EXIT_OK, rc;
    nagm_frame fr[FRAME_BATCH];
    nagm_pkt batch[NAGM_PKT_BATCH];
    size_t nb = 0;
    uint64_t n = 0, check = PROGRESS_FRAMES;
    while ((rc = nagm_capture_next_batch(c, fr, FRAME_BATCH)) > 0) {
        for (int i = 0; i < rc; i++) {
            nb += (size_t)filter_one(flt, &fr[i], &batch[nb], st);
            if (nb == NAGM_PKT_BATCH) {
                nb = 0;
                if (cb(ctx, batch, NAGM_PKT_BATCH) != 0) {
                    status = NAGM_EXIT_ERROR;
                    break;
                }
            }
        }
        if (status != NAGM_EXIT_OK)
            break;
        if (pr && (n += (uint64_t)rc) >= check) {
            check = n + PROGRESS_FRAMES;
            if (nagm_now_s() >= pr->next) {
                progress(st, nagm_capture_raw_bytes(c), pr->t0, pr->file, pr->nfiles, 0);
                pr->next = nagm_now_s() + 0.25;
            }
        }
    }
    if (status == NAGM_EXIT_OK && nb && cb(ctx, batch, nb) != 0)
        status = NAGM_EXIT_ERROR;
    if (status == NAGM_EXIT_ERROR)
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory while aggregating");
    if (nagm_capture_fatal(rc)) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "%.500s", nagm_capture_error(c));
        status = NAGM_EXIT_ERROR;
    } else if (rc < 0) {
        fprintf(stderr, "%s: %s\n", who, nagm_capture_error(c));
        st->files_bad++;
        if (status == NAGM_EXIT_OK)
            status = NAGM_EXIT_BADINPUT;
        if (o->strict) {
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "--strict: stopping at bad input: %.440s",
                     nagm_capture_error(c));
            status = NAGM_EXIT_ERROR;
        }
    } else if (status == NAGM_EXIT_OK) {
        st->files_ok++;
    }
    st->input_bytes += nagm_capture_raw_bytes(c);
    nagm_capture_close(c);
    return status;
}

int nagm_run_packets(const nagm_run_opts *o, nagm_pkt_cb cb, void *ctx, nagm_stats *st,
                     char *errbuf)
{
    memset(st, 0, sizeof *st);
    double t0 = nagm_now_s();
    nagm_inputs in;
    if (nagm_inputs_expand(o->inputs, o->ninputs, &in, errbuf) != 0)
        return NAGM_EXIT_ERROR;
    nagm_filter flt;
    if (nagm_filter_init(&flt, o, errbuf) != 0) {
        nagm_inputs_free(&in);
        return NAGM_EXIT_USAGE;
    }
    int status = NAGM_EXIT_OK;
    nagm_progress pr = {t0, t0 + 0.25, 0, in.n};
    for (size_t i = 0; i < in.n; i++) {
        pr.file = i + 1;
        int rc = nagm_run_file(in.paths[i], o, &flt, cb, ctx, st, "netagm",
                               o->progress ? &pr : NULL, errbuf);
        if (rc == NAGM_EXIT_ERROR) {
            status = rc;
            break;
        }
        if (rc == NAGM_EXIT_BADINPUT)
            status = rc;
    }
    if (o->progress)
        progress(st, 0, t0, in.n, in.n, 1);
    nagm_filter_free(&flt);
    nagm_inputs_free(&in);
    st->elapsed_s = nagm_now_s() - t0;
    return status;
}
