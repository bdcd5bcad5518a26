/* netagm: the batch pipeline, wired once and shared by every subcommand:
 * inputs -> capture -> decode -> filters -> (aggregate | packet callback). */
#ifndef NETAGM_PIPELINE_H
#define NETAGM_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "netagm/agm.h"
#include "netagm/capture.h"
#include "netagm/pkt.h"
#include "netagm/sink.h"
#include "netagm/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nagm_run_opts {
    const char *const *inputs; /* -r arguments: files, directories, "-" */
    size_t ninputs;
    int64_t window_ns;         /* -w in ns; 0 = one window */
    int jobs;                  /* -j: aggregation shards/threads (>= 1) */
    const char *bpf;           /* --bpf expression or NULL */
    int proto_filter;          /* 1 when --proto was given */
    uint8_t protos[32];        /* bitset of allowed IP protocols (bit p) */
    int strict;                /* --strict: stop at the first bad input */
    int progress;              /* show progress on stderr (caller checks TTY) */
} nagm_run_opts;

/* Exit statuses shared by all subcommands (documented in the README). */
enum nagm_exit {
    NAGM_EXIT_OK = 0,        /* everything read cleanly */
    NAGM_EXIT_ERROR = 1,     /* fatal: nothing useful written */
    NAGM_EXIT_USAGE = 2,     /* bad command line */
    NAGM_EXIT_BADINPUT = 3   /* output written, but some input was bad */
};

/* Parse a --proto list ("tcp,udp,icmp,17") into o->protos and set
 * o->proto_filter. Returns 0, or -1 with errbuf set. */
int nagm_parse_protos(const char *list, nagm_run_opts *o, char *errbuf);

/* The frame -> counted packet step shared by batch and stream: BPF filter,
 * decode, --proto filter and the statistics of each. */
typedef struct nagm_filter {
    nagm_bpf *bpf;     /* NULL: no --bpf */
    int proto_filter;
    uint8_t protos[32];
} nagm_filter;

/* Set up a filter from options. Returns 0, or -1 with errbuf set (bad BPF
 * expression). Release with nagm_filter_free. */
int nagm_filter_init(nagm_filter *flt, const nagm_run_opts *o, char *errbuf);
void nagm_filter_free(nagm_filter *flt);

/* Account frame f in *st and decode it into *p. Returns 1 when the packet
 * counts (p fully filled, including ts_ns, caplen, wirelen), else 0 (the
 * reason is counted in *st). Allocates nothing; not thread-safe (BPF cache). */
int nagm_filter_frame(nagm_filter *flt, const nagm_frame *f, nagm_pkt *p,
                      nagm_stats *st);

/* Most packets handed to a nagm_pkt_cb at once. */
#define NAGM_PKT_BATCH 256

/* Packet callback: pkts[0..n-1] (1 <= n <= NAGM_PKT_BATCH) are the next
 * counted packets in input order, valid during the call only. Return 0 to go
 * on, non-zero to stop the run. Packets are decoded straight into the batch
 * and handed over together, so the per-packet cost is one decode, no copy
 * and no call. */
typedef int (*nagm_pkt_cb)(void *ctx, const nagm_pkt *pkts, size_t n);

/* Run the inputs through decode and the filters, calling cb with the counted
 * packets in input order (single thread; a file's last batch is handed over
 * before the next file is opened). Statistics go to *st (zeroed first).
 * Bad inputs are reported on stderr (one line each) and skipped.
 * Returns a nagm_exit code; errbuf holds the fatal message for
 * NAGM_EXIT_ERROR. */
int nagm_run_packets(const nagm_run_opts *o, nagm_pkt_cb cb, void *ctx, nagm_stats *st,
                     char *errbuf);

/* Progress state of a run (opaque; for nagm_run_file). */
typedef struct nagm_progress nagm_progress;

/* Read one input (a file or "-") through flt into cb, accounting every frame
 * and the file itself (files_ok / files_bad, input_bytes) in *st. A bad input
 * gets one line "WHO: PATH: offset N: reason" on stderr. pr may be NULL (no
 * progress line). Returns NAGM_EXIT_OK, NAGM_EXIT_BADINPUT (the packets
 * before the damage were delivered), or NAGM_EXIT_ERROR with errbuf set
 * (--strict and a bad input, cb failed, or memory ran out while reading: not
 * the input's fault, so not a bad input). */
int nagm_run_file(const char *path, const nagm_run_opts *o, nagm_filter *flt, nagm_pkt_cb cb,
                  void *ctx, nagm_stats *st, const char *who, nagm_progress *pr, char *errbuf);

/* Rows callback: rows[0..n-1] (n >= 1) are the next rows in output order,
 * all of one window, in a malloc'd array that the callback now owns (it
 * frees it, or keeps it). Return 0 to go on, non-zero to stop. */
typedef int (*nagm_rows_cb)(void *ctx, nagm_agm_row *rows, size_t n);

/* Run the inputs through the AGM aggregation (o->jobs shards) and hand the
 * rows to emit one window at a time, in output order, once the input is
 * read: only one window's rows are in memory at once (with one window over
 * the whole input, all of them). st->sources and st->windows count what was
 * handed over. Returns a nagm_exit code as nagm_run_packets; when emit
 * stopped the run, NAGM_EXIT_ERROR with errbuf "stopped by the row
 * consumer" (the consumer knows why). */
int nagm_run_agm_each(const nagm_run_opts *o, nagm_rows_cb emit, void *ctx, nagm_stats *st,
                      char *errbuf);

/* nagm_run_agm_each collecting every row: *rows is malloc'd (caller frees),
 * *nrows its length (NULL and 0 when there are none). */
int nagm_run_agm(const nagm_run_opts *o, nagm_agm_row **rows, size_t *nrows, nagm_stats *st,
                 char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
