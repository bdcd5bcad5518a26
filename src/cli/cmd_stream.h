/* Pieces shared by netagm stream and netagm publish. */
#ifndef NETAGM_CLI_CMD_STREAM_H
#define NETAGM_CLI_CMD_STREAM_H

#include <signal.h>
#include <stdint.h>

#include "netagm/stream.h"

/* Set by the signal handlers installed with stream_signals_install. */
extern volatile sig_atomic_t stream_stop_signal; /* SIGINT or SIGTERM seen */
extern volatile sig_atomic_t stream_hup;         /* SIGHUP seen */

/* SIGINT/SIGTERM set stream_stop_signal, SIGHUP sets stream_hup, SIGPIPE is
 * ignored (a closed reader is a write error, not a death). */
void stream_signals_install(void);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t stream_now_ns(void);

/* Parse a byte count with an optional K, M or G suffix (powers of 1024).
 * Returns 0 or -1. */
int stream_parse_bytes(const char *s, int64_t *out);

#endif
