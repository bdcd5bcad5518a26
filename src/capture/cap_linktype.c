/* LINKTYPE_ <-> DLT_ mapping, after libpcap's pcap-common.c: values 0..10
 * and 104 upwards are the same in both spaces except for the few listed. */
#include "capture/cap_linktype.h"

#include <pcap/dlt.h>

enum {
    LT_ATM_RFC1483 = 100,
    LT_RAW = 101,
    LT_SLIP_BSDOS = 102,
    LT_PPP_BSDOS = 103,
    LT_ATM_CLIP = 106,
    LT_PFSYNC = 246,
    LT_PKTAP = 258,
};

uint32_t cap_linktype_from_dlt(int dlt)
{
    switch (dlt) {
    case DLT_ATM_RFC1483:
        return LT_ATM_RFC1483;
    case 12: /* DLT_RAW almost everywhere */
    case 14: /* DLT_RAW on OpenBSD (and BSD/OS) */
        return LT_RAW;
    case DLT_SLIP_BSDOS:
        return LT_SLIP_BSDOS;
    case DLT_PPP_BSDOS:
        return LT_PPP_BSDOS;
    case DLT_ATM_CLIP:
        return LT_ATM_CLIP;
    case DLT_PFSYNC:
        return LT_PFSYNC;
    case DLT_PKTAP:
        return LT_PKTAP;
    default:
        return dlt < 0 ? 0xffffffffu : (uint32_t)dlt;
    }
}

int cap_dlt_from_linktype(uint32_t linktype)
{
    switch (linktype) {
    case LT_ATM_RFC1483:
        return DLT_ATM_RFC1483;
    case LT_RAW:
        return DLT_RAW;
    case LT_SLIP_BSDOS:
        return DLT_SLIP_BSDOS;
    case LT_PPP_BSDOS:
        return DLT_PPP_BSDOS;
    case LT_ATM_CLIP:
        return DLT_ATM_CLIP;
    case LT_PFSYNC:
        return DLT_PFSYNC;
    case LT_PKTAP:
        return DLT_PKTAP;
    default:
        return linktype > 0x7fffffffu ? -1 : (int)linktype;
    }
}
