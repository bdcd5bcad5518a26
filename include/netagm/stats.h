/* netagm: run statistics. Every frame read is accounted for: it is either
 * counted or skipped for exactly one reason. */
#ifndef NETAGM_STATS_H
#define NETAGM_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "netagm/decode.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NAGM_STATS_MAX_LINKTYPES 64

typedef struct nagm_linktype_stats {
    uint32_t linktype;
    uint64_t frames;                    /* frames of this link type */
    uint64_t skipped[NAGM_DEC_NRESULTS]; /* indexed by nagm_dec_result (OK unused) */
} nagm_linktype_stats;

typedef struct nagm_stats {
    uint64_t files_ok;       /* inputs read to a clean end */
    uint64_t files_bad;      /* inputs that could not be opened or ended in damage */
    uint64_t frames;         /* frames read */
    uint64_t bytes;          /* captured bytes of those frames */
    uint64_t input_bytes;    /* bytes of input files consumed (compressed size) */
    uint64_t counted;        /* packets aggregated */
    uint64_t skipped[NAGM_DEC_NRESULTS]; /* by decode result; [OK] unused */
    uint64_t filtered_bpf;   /* frames rejected by --bpf */
    uint64_t filtered_proto; /* packets rejected by --proto */
    uint64_t l4_truncated;   /* counted packets with a field zeroed by snaplen */
    uint64_t late;           /* stream: packets after their window closed */
    uint64_t sources;        /* distinct (window, source) records emitted */
    uint64_t windows;        /* windows emitted */
    uint64_t rows;           /* rows written */
    double elapsed_s;        /* wall time of the run */
    size_t nlinktypes;
    nagm_linktype_stats linktypes[NAGM_STATS_MAX_LINKTYPES];
} nagm_stats;

/* The entry of s for linktype, added if new (once the table is full, the last
 * entry collects every further link type). */
nagm_linktype_stats *nagm_stats_linktype(nagm_stats *s, uint32_t linktype);

/* Account one frame's decode result under its link type. Inline: it runs for
 * every frame. */
static inline void nagm_stats_frame(nagm_stats *s, uint32_t linktype, uint32_t caplen,
                                    nagm_dec_result r)
{
    s->frames++;
    s->bytes += caplen;
    /* (a capture has one link type, nearly always) */
    nagm_linktype_stats *l = s->nlinktypes && s->linktypes[0].linktype == linktype
                                 ? &s->linktypes[0]
                                 : nagm_stats_linktype(s, linktype);
    l->frames++;
    if (r != NAGM_DEC_OK) {
        s->skipped[r]++;
        l->skipped[r]++;
    }
}

/* Add every counter of b into a (elapsed_s is not added). */
void nagm_stats_add(nagm_stats *a, const nagm_stats *b);

/* Human-readable multi-line summary (the end-of-run report on stderr). */
void nagm_stats_print(const nagm_stats *s, FILE *fp);

/* The same as one JSON object. Returns 0, or -1 on a write error. */
int nagm_stats_write_json(const nagm_stats *s, FILE *fp);

#ifdef __cplusplus
}
#endif
#endif
