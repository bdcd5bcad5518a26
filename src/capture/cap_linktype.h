/* LINKTYPE_ (capture files, pcap-linktype(7)) <-> DLT_ (libpcap's in-memory
 * values, which differ per platform for a few types). */
#ifndef NETAGM_CAPTURE_CAP_LINKTYPE_H
#define NETAGM_CAPTURE_CAP_LINKTYPE_H

#include <stdint.h>

/* LINKTYPE_ value for a DLT_ value as pcap_datalink() reports it, or for a
 * link-type field read from a file that holds a platform DLT_ value instead
 * of a LINKTYPE_ one (12 or 14 for raw IP). Unknown values pass through.
 * Pure function. */
uint32_t cap_linktype_from_dlt(int dlt);

/* DLT_ value to give pcap_open_dead() for a LINKTYPE_ value. Pure. */
int cap_dlt_from_linktype(uint32_t linktype);

#endif
