/* netagm: capture sources (files, compressed files, stdin) yielding frames.
 *
 * Both file formats are read by the project's own bounded readers straight
 * from the input buffer: classic pcap (micro- and nanosecond, either byte
 * order, Kuznetzov's format) without libpcap's per-packet copies, tested
 * frame for frame against libpcap; pcapng so that every interface keeps its
 * own link type (libpcap rejects pcapng files whose interfaces differ).
 * libpcap does live capture and BPF filters. gzip and zstd input is detected
 * from its magic bytes and decompressed on the fly.
 */
#ifndef NETAGM_CAPTURE_H
#define NETAGM_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NAGM_ERRBUF_SIZE 512

/* One captured frame. data is borrowed: valid until the next call on the
 * capture it came from. */
typedef struct nagm_frame {
    int64_t ts_ns;      /* nanoseconds since the Unix epoch */
    uint32_t caplen;    /* bytes at data */
    uint32_t wirelen;   /* original length on the wire */
    uint32_t linktype;  /* LINKTYPE_ value (pcap-linktype(7)), not a DLT_ value */
    const uint8_t *data;
} nagm_frame;

/* Error classes returned (negated) by the capture functions. */
enum nagm_cap_err {
    NAGM_CAP_EOPEN = 1,   /* cannot open or read the path */
    NAGM_CAP_EFORMAT,     /* not a pcap/pcapng capture (bad magic or file header) */
    NAGM_CAP_ETRUNC,      /* file ends in the middle of a record */
    NAGM_CAP_EDAMAGED,    /* a record header or block is invalid */
    NAGM_CAP_ENOMEM
};

typedef struct nagm_capture nagm_capture;

/* Open a capture. path "-" reads standard input. gzip/zstd compression and the
 * pcap/pcapng format are detected from the content, not the name.
 * On success returns 0 and sets *out (close with nagm_capture_close).
 * On failure returns -NAGM_CAP_E*, writes "PATH: offset N: reason" into errbuf
 * (NAGM_ERRBUF_SIZE bytes) and sets *out to NULL. */
int nagm_capture_open(const char *path, nagm_capture **out, char *errbuf);

/* Read the next frame into *f.
 * Returns 1 with a frame, 0 at a clean end of input, or -NAGM_CAP_E* when the
 * input is damaged; then nagm_capture_error() names the file and the byte
 * offset (in the decompressed stream) of the damaged record. Frames returned
 * before an error are valid. After 0 or an error, further calls return the
 * same value. Not thread-safe per capture. */
int nagm_capture_next(nagm_capture *c, nagm_frame *f);

/* Read up to max (>= 1) frames into f[0..max). Returns how many (>= 1), or,
 * when there is none, what nagm_capture_next would (0 at a clean end,
 * -NAGM_CAP_E*). The frames' data stay valid until the next call on c. A
 * reader hands out more than one frame only while they lie in its buffer, so
 * a batch may be short anywhere; an error met after some frames is returned
 * by the next call. Not thread-safe per capture. */
int nagm_capture_next_batch(nagm_capture *c, nagm_frame *f, int max);

/* Is rc (a result of the calls above) an error that is not the input's
 * fault, so that a run must stop rather than count the input as bad and go
 * on? Today: running out of memory. */
static inline int nagm_capture_fatal(int rc)
{
    return rc == -NAGM_CAP_ENOMEM;
}

/* Last error message ("PATH: offset N: reason"), or "" if none. Borrowed. */
const char *nagm_capture_error(const nagm_capture *c);

/* Bytes of the (decompressed) capture consumed so far. */
uint64_t nagm_capture_offset(const nagm_capture *c);

/* Bytes of the underlying file (compressed, if it is) consumed so far; for
 * progress reporting. */
uint64_t nagm_capture_raw_bytes(const nagm_capture *c);

/* Close and free. Accepts NULL. */
void nagm_capture_close(nagm_capture *c);

/* ---- input lists ---------------------------------------------------------- */

/* Expanded list of input paths. */
typedef struct nagm_inputs {
    char **paths;      /* owned */
    uint64_t *sizes;   /* file sizes in bytes (0 for stdin) */
    size_t n;
} nagm_inputs;

/* Expand the -r arguments: a file stays itself, "-" is stdin, a directory is
 * replaced by every regular file below it, recursively, in byte-wise name
 * order (hidden files, starting with '.', are skipped). Order of arguments is
 * kept. Returns 0, or -1 with errbuf set if an argument does not exist.
 * Free with nagm_inputs_free. */
int nagm_inputs_expand(const char *const *args, size_t nargs, nagm_inputs *out,
                       char *errbuf);
void nagm_inputs_free(nagm_inputs *in);

/* ---- BPF filters ---------------------------------------------------------- */

/* A tcpdump-syntax filter, compiled lazily with libpcap once per link type
 * (pcapng files may mix link types). */
typedef struct nagm_bpf nagm_bpf;

/* Compile-check expr against Ethernet and prepare the filter.
 * Returns 0, or -1 with errbuf set (invalid expression). */
int nagm_bpf_new(const char *expr, nagm_bpf **out, char *errbuf);

/* 1 if the frame matches, 0 if not. A link type for which the expression
 * cannot be compiled matches nothing (counted by the caller as filtered).
 * Not thread-safe. */
int nagm_bpf_match(nagm_bpf *b, const nagm_frame *f);
void nagm_bpf_free(nagm_bpf *b);

#ifdef __cplusplus
}
#endif
#endif
