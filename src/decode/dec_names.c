/* Names for statistics: decode results and LINKTYPE_ values. */
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "netagm/decode.h"

static const char *const result_names[NAGM_DEC_NRESULTS] = {
    [NAGM_DEC_OK] = "ok",
    [NAGM_DEC_LINK_UNSUPPORTED] = "link_unsupported",
    [NAGM_DEC_NOT_IP] = "not_ip",
    [NAGM_DEC_MALFORMED] = "malformed",
};

const char *nagm_dec_result_name(nagm_dec_result r)
{
    return ((unsigned)r < NAGM_DEC_NRESULTS) ? result_names[r] : "unknown";
}

/* LINKTYPE_ values whose DLT_ value differs (libpcap pcap-common.c). The
 * rest of 0..10 and 104 upwards are the same in both spaces; values 11..99
 * are not LINKTYPE_ values at all, and old writers stored DLT_ values there,
 * so they are looked up as DLT_ values as libpcap does. */
static int dlt_of(uint32_t lt)
{
    switch (lt) {
    case 100:
        return DLT_ATM_RFC1483;
    case 101:
        return DLT_RAW;
    case 102:
        return DLT_SLIP_BSDOS;
    case 103:
        return DLT_PPP_BSDOS;
    case 106:
        return DLT_ATM_CLIP;
    case 246:
        return DLT_PFSYNC;
    case 258:
        return DLT_PKTAP;
    default:
        return lt > 0x7fffffffu ? -1 : (int)lt;
    }
}

/* "LINKTYPE_<n>" for values libpcap has no name for. Values below
 * FALLBACK_DIRECT have a slot each, filled once for all; larger ones are
 * interned into a few more slots under a lock (statistics only, never the
 * per-packet path). The strings live for the whole process. */
enum { FALLBACK_DIRECT = 1024, FALLBACK_EXTRA = 32, FALLBACK_LEN = 24 };

static char fallback_direct[FALLBACK_DIRECT][FALLBACK_LEN];
static pthread_once_t fallback_once = PTHREAD_ONCE_INIT;

static struct {
    uint32_t value;
    char name[FALLBACK_LEN];
} fallback_extra[FALLBACK_EXTRA];
static unsigned fallback_nextra;
static pthread_mutex_t fallback_lock = PTHREAD_MUTEX_INITIALIZER;

static void fallback_init(void)
{
    for (unsigned i = 0; i < FALLBACK_DIRECT; i++)
        snprintf(fallback_direct[i], FALLBACK_LEN, "LINKTYPE_%u", i);
}

static const char *fallback_name(uint32_t lt)
{
    if (lt < FALLBACK_DIRECT) {
        pthread_once(&fallback_once, fallback_init);
        return fallback_direct[lt];
    }
    const char *name = "LINKTYPE_OTHER";
    pthread_mutex_lock(&fallback_lock);
    for (unsigned i = 0; i < fallback_nextra; i++) {
        if (fallback_extra[i].value == lt) {
            name = fallback_extra[i].name;
            goto out;
        }
    }
    if (fallback_nextra < FALLBACK_EXTRA) {
        fallback_extra[fallback_nextra].value = lt;
        snprintf(fallback_extra[fallback_nextra].name, FALLBACK_LEN, "LINKTYPE_%u", lt);
        name = fallback_extra[fallback_nextra++].name;
    }
out:
    pthread_mutex_unlock(&fallback_lock);
    return name;
}

const char *nagm_linktype_name(uint32_t lt)
{
    /* 12 is DLT_RAW on most systems and 14 on OpenBSD; the decoder takes
     * both as raw IP, so both are named so whatever this platform's DLT_RAW. */
    if (lt == 12 || lt == 14)
        return "RAW";
    int dlt = dlt_of(lt);
    const char *name = dlt >= 0 ? pcap_datalink_val_to_name(dlt) : NULL;
    return name ? name : fallback_name(lt);
}
