#!/usr/bin/env python3
"""Reference AGM aggregator built on tshark, for the golden tests.

    tshark_agm.py -r FILE [-w SECONDS] [-o OUT.csv] [--explain] [--tshark PATH]

Writes the AGM CSV of docs/agm.md for one capture, computed from tshark's
dissection only. It shares no code and no parsing logic with netagm: the
capture file is read by tshark (pcap, pcap-nsec, pcapng, gzip), the link layer
is walked by tshark's dissectors, and the per-packet values are tshark's field
values. The script adds only what agm.md defines beyond a dissector's view
(which packets count, snaplen rules, aggregation, output format).

Output format: RFC 4180 CSV, CRLF line ends, one header row, agm.md's column
order; times are ISO 8601 UTC with 6 fractional digits (nanoseconds truncated
toward minus infinity) and a trailing Z; addresses as inet_ntop prints them
(RFC 5952 for IPv6); integers in decimal. Without -w there is one window from
the smallest to the largest timestamp of the counted packets; with -w W a
packet at t belongs to [floor(t/W)*W, floor(t/W)*W + W). Rows are sorted by
window_start, then src_ip (IPv4 before IPv6, numeric).

Exit status: 0 clean, 3 when tshark reported a damaged or truncated input (the
rows of the packets read before the damage are still written), 1 on failure.

How tshark is run
-----------------
Two passes over the file, with the same preferences (IP/IPv6 defragmentation
and TCP reassembly off, so that every frame is dissected on its own):

1. `-T fields -E occurrence=a` for the values: frame.time_epoch,
   frame.encap_type, frame.protocols, the ip.*, ipv6.* (with the next-header
   field of each extension header), tcp/udp/sctp/dccp ports, tcp.flags and the
   ICMP/ICMPv6 type and code. Every field is printed with all its occurrences;
   a tunnel's inner header and the packet quoted inside an ICMP error are later
   occurrences, so the outermost IP header and the layer right after it are
   always occurrence 0 of their protocol (checked against the raw bytes, see
   below).
2. `-T json -x -J frame`: the same frames with tshark's byte ranges of every
   top-level layer. It tells where tshark found the outermost IP header in the
   frame, and gives the captured bytes, so that agm.md's rules about captured
   lengths can be applied at the position tshark chose.

Where tshark's view and agm.md had to be reconciled
---------------------------------------------------
* Link types. Only frames whose encapsulation (frame.encap_type, per
  interface in pcapng) is one agm.md supports count: Ethernet, Linux SLL and
  SLL2, raw IP (LINKTYPE_RAW 101, IPV4 228, IPV6 229), NULL, LOOP, PPP
  (9, 50) and PPP_ETHER (51). The WTAP_ENCAP numbers are tshark 4.0's.
* Link chains. tshark dissects far more than agm.md allows before the first
  IP header (pseudowires, Arista/Cisco metadata, NSH, MACsec, 802.2 LLC/SNAP,
  ...). A frame counts only when the protocols before the outermost IP header
  (frame.protocols) form a chain agm.md lists: Ethernet II, then any number of
  802.1Q/802.1ad tags, then an MPLS label stack or a PPPoE session; SLL/SLL2
  directly; raw IP; NULL/LOOP; PPP; PPPoE-PPP for PPP_ETHER. Ethernet 802.3
  frames (tshark's "llc") never count.
* Ethertype versus IP version. tshark's "ip" dissector hands a version-6
  header to the IPv6 dissector (frame.protocols then shows "ip:ipv6"), and
  shows an "ip" layer without bytes when the version is neither. agm.md checks
  the version named by the link layer, so the IP version nibble must match the
  ethertype (or the SLL/SLL2 protocol, the PPP protocol, or the raw link type
  228/229); otherwise the packet is malformed and does not count. After MPLS
  and on LINKTYPE_RAW the nibble decides.
* Complete IP header. agm.md counts a packet only if version, IHL >= 5 and all
  IHL*4 bytes (IPv6: 40 bytes) are captured. tshark shows partial headers, and
  it refuses headers whose total length is smaller than the header (no ip.src
  then) that agm.md still counts. The check is made on the captured bytes at
  the offset where tshark placed the outermost IP header; when tshark shows no
  value for a header field that agm.md requires, the value is read from those
  bytes (counted as a reconciliation in --explain).
* Captured L4 bytes. tshark cuts an IP payload at the IP total length (drops
  Ethernet padding); the project's rule is "captured bytes after the IP
  header", whatever the total length says. So the number of L4 bytes available is
  cap_len - (IP offset + IP header length [+ IPv6 extension headers]).
  Ports need 4 of them, TCP flags 14; with fewer the field is 0. When tshark
  did not dissect the L4 header (cut by the total length, non-standard
  heuristics) but the bytes are there, the value is read from the bytes.
* ICMP/ICMPv6. dst_port = type * 256 + code needs 4 captured L4 bytes, like
  every port field (agm.md: "Ports need 4 bytes of L4 header"), although tshark
  shows the type and code from 2.
* TCP flags. tshark's tcp.flags is 12 bits (reserved and AE/NS bits
  included); agm.md's flags are the flags byte only: tcp.flags & 0xff.
* Fragments. With defragmentation off tshark dissects the L4 header of a
  first fragment and shows later fragments as data; agm.md agrees (ports and
  flags 0 for offset != 0). ip.frag_offset is used only as zero / non-zero.
* IPv6 extension headers. proto is the first next-header value not in
  {0, 43, 44, 60, 51, 135, 139, 140}. tshark shows each extension header as its
  own layer (ipv6.hopopts, ipv6.routing, ipv6.fraghdr, ipv6.dstopts, ah,
  mipv6, hip, shim6) with its own next-header field; the chain is followed
  through them. A header is walked only if all its bytes were captured;
  otherwise proto is that header's own type and ports and flags are 0. A
  fragment header with offset != 0 ends the walk: proto is its next header.
* len. agm.md takes the header field. tshark shows an IPv4 total length of 0
  (TSO captures) as the frame's length; the reference keeps 0. IPv6 len is
  40 + ipv6.plen (a jumbogram's 0 gives 40).
* dst_ip. With a loose/strict source route option tshark's ip.dst is the
  route's final address and the header field is shown as ip.cur_rt; agm.md
  takes the header field.
* Timestamps. frame.time_epoch is parsed as a decimal string into integer
  nanoseconds (never a float). A frame without a time (pcapng Simple Packet
  Block) stops the script: agm.md cannot place it in a window. tshark prints
  an out-of-range sub-second field unnormalised (10 digits); values where its
  32-bit nanosecond arithmetic may have wrapped stop the script too.
* Addresses. tshark's text is parsed with inet_pton and printed with
  inet_ntop, which is the C library's RFC 5952 form.
* Damaged files. tshark prints the frames before the damage and fails; the
  reference keeps those frames and exits 3.
Any disagreement between a tshark field and the bytes at tshark's own offset
(for a field both show) stops the script with an error: it means the
occurrence bookkeeping above is wrong for that capture.
"""

import argparse
import collections
import json
import os
import re
import socket
import subprocess
import sys

TSHARK_PREFS = [
    "-o", "ip.defragment:FALSE",
    "-o", "ipv6.defragment:FALSE",
    "-o", "tcp.desegment_tcp_streams:FALSE",
    "-o", "tcp.analyze_sequence_numbers:FALSE",
]

# tshark 4.0 WTAP_ENCAP_* numbers of the link types agm.md supports.
ENCAP_ETHERNET = 1
ENCAP_PPP = 4          # LINKTYPE_PPP 9, LINKTYPE_PPP_HDLC 50
ENCAP_RAW_IP = 7       # LINKTYPE_RAW 101
ENCAP_NULL = 15        # LINKTYPE_NULL 0
ENCAP_SLL = 25         # LINKTYPE_LINUX_SLL 113
ENCAP_RAW_IP4 = 129    # LINKTYPE_IPV4 228
ENCAP_RAW_IP6 = 130    # LINKTYPE_IPV6 229
ENCAP_PPP_ETHER = 139  # LINKTYPE_PPP_ETHER 51
ENCAP_LOOP = 174       # LINKTYPE_LOOP 108
ENCAP_SLL2 = 210       # LINKTYPE_LINUX_SLL2 276

# Allowed frame.protocols prefixes before the outermost IP header, per encap.
_ETH_CHAIN = r"eth:ethertype(:(vlan|ieee8021ad):ethertype)*(:mpls|:pppoes:ppp)?"
LINK_CHAINS = {
    ENCAP_ETHERNET: re.compile(r"^" + _ETH_CHAIN + r"$"),
    ENCAP_SLL: re.compile(r"^sll(:ethertype)?$"),
    ENCAP_SLL2: re.compile(r"^sll(:ethertype)?$"),
    ENCAP_RAW_IP: re.compile(r"^raw$"),
    ENCAP_RAW_IP4: re.compile(r"^$"),
    ENCAP_RAW_IP6: re.compile(r"^$"),
    ENCAP_NULL: re.compile(r"^null$"),
    ENCAP_LOOP: re.compile(r"^null$"),
    ENCAP_PPP: re.compile(r"^ppp$"),
    ENCAP_PPP_ETHER: re.compile(r"^pppoes:ppp$"),
}

IPV6_EXT = {0, 43, 44, 60, 51, 135, 139, 140}
# tshark layer name and next-header field of each IPv6 extension header.
IPV6_EXT_LAYER = {
    0: ("ipv6.hopopts", "ipv6.hopopts.nxt"),
    43: ("ipv6.routing", "ipv6.routing.nxt"),
    44: ("ipv6.fraghdr", "ipv6.fraghdr.nxt"),
    60: ("ipv6.dstopts", "ipv6.dstopts.nxt"),
    51: ("ah", "ah.next_header"),
    135: ("mipv6", "mip6.proto"),
    139: ("hip", "hip.proto"),
    140: ("shim6", "shim6.nxt"),
}
PORT_PROTOS = {6: "tcp", 17: "udp", 132: "sctp", 136: "udplite", 33: "dccp"}
# tshark shows UDP-Lite ports in the udp.* fields.
PORT_FIELDS = {"tcp": "tcp", "udp": "udp", "udplite": "udp", "sctp": "sctp", "dccp": "dccp"}

FIELDS = [
    "frame.number", "frame.time_epoch", "frame.encap_type", "frame.cap_len",
    "frame.protocols",
    "ip.version", "ip.hdr_len", "ip.len", "ip.frag_offset", "ip.ttl", "ip.proto",
    "ip.src", "ip.dst", "ip.cur_rt",
    "ipv6.version", "ipv6.plen", "ipv6.nxt", "ipv6.hlim", "ipv6.src", "ipv6.dst",
    "ipv6.hopopts.nxt", "ipv6.routing.nxt", "ipv6.fraghdr.nxt", "ipv6.fraghdr.offset",
    "ipv6.dstopts.nxt", "ah.next_header", "mip6.proto", "hip.proto", "shim6.nxt",
    "tcp.srcport", "tcp.dstport", "tcp.flags",
    "udp.srcport", "udp.dstport", "sctp.srcport", "sctp.dstport",
    "dccp.srcport", "dccp.dstport",
    "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code",
]

COLUMNS = [
    "window_start", "window_end", "src_ip", "pkts",
    "dst_ip_uniq", "dst_ip_mode", "dst_ip_mode_pkts",
    "src_port_uniq", "src_port_mode", "src_port_mode_pkts",
    "dst_port_uniq", "dst_port_mode", "dst_port_mode_pkts",
    "ttl_uniq", "ttl_mode", "ttl_mode_pkts",
    "proto_uniq", "proto_mode", "proto_mode_pkts",
    "flags_uniq", "flags_mode", "flags_mode_pkts",
    "len_uniq", "len_mode", "len_mode_pkts",
]
AGG_FIELDS = ["dst_ip", "src_port", "dst_port", "ttl", "proto", "flags", "len"]

DAMAGE_RE = re.compile(r"cut short|damaged or corrupt|doesn't support|isn't a capture file"
                       r"|unknown or unsupported|Not enough data", re.I)


class RefError(Exception):
    pass


def parse_decimal_ns(s):
    """'1084443427.311224000' -> integer ns, exactly (no float)."""
    s = s.strip()
    neg = s.startswith("-")
    if neg or s.startswith("+"):
        s = s[1:]
    whole, _, frac = s.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        raise RefError("bad decimal time %r" % s)
    if len(frac) > 9:
        # tshark prints an out-of-range sub-second count (a pcap record with
        # 1000000 microseconds) unnormalised, as 10 digits of nanoseconds.
        # Beyond 2^31 its 32-bit nanosecond count has wrapped: refuse.
        if neg or int(frac) >= 2 ** 31:
            raise RefError("bad decimal time %r" % s)
        return int(whole) * 1_000_000_000 + int(frac)
    ns = int(whole) * 1_000_000_000 + int((frac + "000000000")[:9])
    return -ns if neg else ns


def fmt_ts(ns):
    sec, rem = divmod(ns, 1_000_000_000)   # floor: toward minus infinity
    us = rem // 1000
    days, sod = divmod(sec, 86400)
    y, m, d = civil_from_days(days)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (
        y, m, d, sod // 3600, sod // 60 % 60, sod % 60, us)


def civil_from_days(z):
    """Days since 1970-01-01 -> (year, month, day), proleptic Gregorian."""
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + (1 if m <= 2 else 0), m, d)


def tshark_cmd(tshark, path):
    return [tshark, "-n", "-r", path] + TSHARK_PREFS


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = p.stderr.decode("utf-8", "replace")
    err = "\n".join(l for l in err.splitlines() if "Running as user" not in l)
    return p.returncode, p.stdout, err


def read_fields(tshark, path):
    cmd = tshark_cmd(tshark, path) + ["-T", "fields", "-E", "separator=/t",
                                      "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    rc, out, err = run(cmd)
    frames = []
    for line in out.decode("utf-8", "replace").split("\n"):
        if not line:
            continue
        vals = line.split("\t")
        if len(vals) != len(FIELDS):
            raise RefError("tshark fields: %d columns, expected %d" % (len(vals), len(FIELDS)))
        frames.append({f: (v.split(",") if v != "" else []) for f, v in zip(FIELDS, vals)})
    return rc, frames, err


def _pairs(pairs):
    return pairs


def read_layers(tshark, path):
    """Per frame: (frame bytes, [(layer, offset, length), ...] top-level, in order)."""
    cmd = tshark_cmd(tshark, path) + ["-T", "json", "-x", "-J", "frame"]
    rc, out, err = run(cmd)
    text = out.decode("utf-8", "replace").strip()
    if not text:
        return rc, [], err
    try:
        pkts = json.loads(text, object_pairs_hook=_pairs)
    except ValueError:
        # A damaged file can end the array early; keep whole packets.
        cut = text.rfind("\n  },")
        pkts = json.loads(text[:cut + 4] + "\n]", object_pairs_hook=_pairs) if cut > 0 else []
    res = []
    for pkt in pkts:
        src = dict(pkt)["_source"]
        layers = dict(src)["layers"]
        raw = None
        lst = []
        number = None
        for k, v in layers:
            if k == "frame_raw":
                try:
                    raw = bytes.fromhex(v[0])
                except ValueError:
                    raise RefError("tshark gives no bytes for frame %s: %r" % (number, v[0][:40]))
            elif k == "frame":
                number = int(dict(v)["frame.number"])
            elif k.endswith("_raw") and not k.startswith("_ws"):
                if v and isinstance(v[0], list):   # a layer shown twice under one key
                    for one in v:
                        lst.append((k[:-4], int(one[1]), int(one[2])))
                else:
                    lst.append((k[:-4], int(v[1]), int(v[2])))
        res.append((number, raw if raw is not None else b"", lst))
    return rc, res, err


def u16(b, o):
    return (b[o] << 8) | b[o + 1]


def first(fr, name, idx=0):
    v = fr[name]
    return v[idx] if len(v) > idx else None


def tint(v):
    return None if v is None else int(v, 0)


class Stats:
    def __init__(self):
        self.c = collections.Counter()

    def add(self, key, n=1):
        self.c[key] += n


def check_equal(what, tval, rval, ctx):
    if tval is not None and tval != rval:
        raise RefError("%s: tshark shows %s=%r, bytes at tshark's offset say %r"
                       % (ctx, what, tval, rval))


def has_source_route(opts):
    """True if IPv4 options hold a loose or strict source route (131, 137)."""
    i = 0
    while i < len(opts):
        t = opts[i]
        if t == 0:
            return False
        if t == 1:
            i += 1
            continue
        if t in (131, 137):
            return True
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            return False
        i += opts[i + 1]
    return False


def decode(fr, raw, layers, st):
    """Return the agm.md fields of one frame as a dict, or None if it does not count."""
    ctx = "frame %s" % fr["frame.number"][0]
    encap = first(fr, "frame.encap_type")
    encap = int(encap) if encap not in (None, "") else None
    if encap not in LINK_CHAINS:
        st.add("skip: link type %s" % encap)
        return None
    protos = first(fr, "frame.protocols") or ""
    toks = protos.split(":") if protos else []
    ip_i = next((i for i, t in enumerate(toks) if t in ("ip", "ipv6")), None)
    if ip_i is None:
        st.add("skip: no IP layer")
        return None
    chain = ":".join(toks[:ip_i])
    if not LINK_CHAINS[encap].match(chain):
        st.add("skip: link chain %s" % chain)
        return None
    name = toks[ip_i]
    pos = next((o for (l, o, n) in layers if l in ("ip", "ipv6")), None)
    lname = next((l for (l, o, n) in layers if l in ("ip", "ipv6")), None)
    if pos is None:
        # tshark named the layer but gave it no bytes: it stopped at the
        # first byte (bogus version).
        st.add("skip: malformed (tshark shows an empty %s layer)" % name)
        return None
    if lname == "ipv6" and name == "ip" and toks[ip_i + 1:ip_i + 2] == ["ipv6"]:
        # tshark's "ip" dissector passed a version-6 header on to "ipv6".
        st.add("skip: malformed (link says 4, header version 6)")
        return None
    if lname != name:
        raise RefError("%s: json layers %r do not match frame.protocols %s" % (ctx, layers, protos))
    caplen = len(raw)
    if first(fr, "frame.cap_len") is not None and int(first(fr, "frame.cap_len")) != caplen:
        raise RefError("%s: frame_raw has %d bytes, cap_len %s" % (ctx, caplen, fr["frame.cap_len"]))
    if pos >= caplen:
        st.add("skip: malformed (no IP byte)")
        return None
    version = raw[pos] >> 4
    want = 4 if name == "ip" else 6
    if version != want:
        st.add("skip: malformed (version %d in %s layer)" % (version, name))
        return None
    # The version must agree with what the link layer announced.
    announced = None
    if encap == ENCAP_SLL2:
        # SLL2 starts with the protocol; the address field follows it.
        announced = {0x0800: 4, 0x86DD: 6}.get(u16(raw, 0), -1)
    elif chain.endswith("ethertype") or (encap == ENCAP_SLL and chain == "sll"):
        announced = {0x0800: 4, 0x86DD: 6}.get(u16(raw, pos - 2), -1)
    elif encap == ENCAP_RAW_IP4:
        announced = 4
    elif encap == ENCAP_RAW_IP6:
        announced = 6
    elif chain.endswith("ppp"):
        # 0x0021 / 0x0057, or 0x21 / 0x57 with protocol-field compression.
        announced = {0x21: 4, 0x57: 6}.get(raw[pos - 1], -1)
    if announced is not None and announced != version:
        st.add("skip: malformed (link says %s, header version %d)" % (announced, version))
        return None

    out = {}
    if version == 4:
        ihl = raw[pos] & 15
        if ihl < 5 or pos + ihl * 4 > caplen:
            st.add("skip: malformed (IPv4 header incomplete or IHL < 5)")
            return None
        r_src = raw[pos + 12:pos + 16]
        r_dst = raw[pos + 16:pos + 20]
        r_len = u16(raw, pos + 2)
        r_ttl = raw[pos + 8]
        r_proto = raw[pos + 9]
        r_off = u16(raw, pos + 6) & 0x1FFF
        t_src = first(fr, "ip.src")
        t_dst = first(fr, "ip.dst")
        t_src = socket.inet_pton(socket.AF_INET, t_src) if t_src else None
        t_dst = socket.inet_pton(socket.AF_INET, t_dst) if t_dst else None
        t_len, t_ttl, t_proto = tint(first(fr, "ip.len")), tint(first(fr, "ip.ttl")), tint(first(fr, "ip.proto"))
        t_off = tint(first(fr, "ip.frag_offset"))
        if t_len is not None and r_len == 0 and t_len != 0:
            # tshark shows a 0 total length as the frame's length (TSO).
            st.add("reconciled: ip.len 0 shown by tshark as %s" % "the TSO length")
            t_len = 0
        if t_dst is not None and t_dst != r_dst and has_source_route(raw[pos + 20:pos + ihl * 4]) \
                and socket.inet_ntop(socket.AF_INET, r_dst) in fr["ip.cur_rt"]:
            # With a source route option tshark's ip.dst is the final hop and
            # the header's address is ip.cur_rt.
            st.add("reconciled: ip.dst is the header field (ip.cur_rt), not the source route's end")
            t_dst = r_dst
        for what, t, r in (("ip.src", t_src, r_src), ("ip.dst", t_dst, r_dst), ("ip.len", t_len, r_len),
                           ("ip.ttl", t_ttl, r_ttl), ("ip.proto", t_proto, r_proto)):
            check_equal(what, t, r, ctx)
            if t is None:
                st.add("reconciled: %s read from bytes" % what)
        if t_off is not None and (t_off != 0) != (r_off != 0):
            raise RefError("%s: ip.frag_offset %r vs bytes %r" % (ctx, t_off, r_off))
        out.update(src=(4, r_src), dst_ip=r_dst, len=r_len, ttl=r_ttl, proto=r_proto)
        l4 = pos + ihl * 4
        nonfirst = r_off != 0
        proto = r_proto
        l4_name_expected = ip_i + 1
    else:
        if pos + 40 > caplen:
            st.add("skip: malformed (IPv6 header incomplete)")
            return None
        r_src = raw[pos + 8:pos + 24]
        r_dst = raw[pos + 24:pos + 40]
        r_plen = u16(raw, pos + 4)
        r_nxt = raw[pos + 6]
        r_hlim = raw[pos + 7]
        t_src = first(fr, "ipv6.src")
        t_dst = first(fr, "ipv6.dst")
        t_src = socket.inet_pton(socket.AF_INET6, t_src) if t_src else None
        t_dst = socket.inet_pton(socket.AF_INET6, t_dst) if t_dst else None
        for what, t, r in (("ipv6.src", t_src, r_src), ("ipv6.dst", t_dst, r_dst),
                           ("ipv6.plen", tint(first(fr, "ipv6.plen")), r_plen),
                           ("ipv6.nxt", tint(first(fr, "ipv6.nxt")), r_nxt),
                           ("ipv6.hlim", tint(first(fr, "ipv6.hlim")), r_hlim)):
            check_equal(what, t, r, ctx)
            if t is None:
                st.add("reconciled: %s read from bytes" % what)
        out.update(src=(6, r_src), dst_ip=r_dst, len=40 + r_plen, ttl=r_hlim)
        # Walk the extension headers, following tshark's layers alongside.
        nh = r_nxt
        off = pos + 40
        nonfirst = False
        li = ip_i + 1
        seen = collections.Counter()
        cut = False
        while nh in IPV6_EXT:
            lname_e, nfield = IPV6_EXT_LAYER[nh]
            if off + 2 > caplen:
                cut = True
                break
            if nh == 44:
                hlen = 8
            elif nh == 51:
                hlen = (raw[off + 1] + 2) * 4
            else:
                hlen = (raw[off + 1] + 1) * 8
            if off + hlen > caplen:
                cut = True
                break
            r_next = raw[off]
            # tshark's view of the same header, if it dissected it.
            if li < len(toks) and toks[li] == lname_e:
                t_next = tint(first(fr, nfield, seen[nfield]))
                check_equal(nfield, t_next, r_next, ctx)
                if t_next is None:
                    st.add("reconciled: %s read from bytes" % nfield)
                seen[nfield] += 1
                li += 1
            else:
                st.add("reconciled: IPv6 extension %d not shown by tshark, walked on bytes" % nh)
            if nh == 44:
                fo = u16(raw, off + 2) >> 3
                t_fo = tint(first(fr, "ipv6.fraghdr.offset", seen["ipv6.fraghdr.nxt"] - 1)) \
                    if toks[li - 1:li] == ["ipv6.fraghdr"] else None
                if t_fo is not None and (t_fo != 0) != (fo != 0):
                    raise RefError("%s: ipv6.fraghdr.offset %r vs bytes %r" % (ctx, t_fo, fo))
                if fo != 0:
                    nonfirst = True
                    nh = r_next
                    off += hlen
                    break
            nh = r_next
            off += hlen
        proto = nh
        out["proto"] = proto
        l4 = off
        l4_name_expected = li
        if cut:
            st.add("l4_truncated: IPv6 extension chain cut by snaplen")
            out.update(src_port=0, dst_port=0, flags=0)
            return out

    avail = caplen - l4
    sport = dport = flags = 0
    l4_layer = toks[l4_name_expected] if l4_name_expected < len(toks) else None
    if nonfirst:
        pass
    elif proto in PORT_PROTOS:
        lname_4 = PORT_PROTOS[proto]
        tshown = l4_layer == lname_4
        if avail >= 4:
            r_s, r_d = u16(raw, l4), u16(raw, l4 + 2)
            pf = PORT_FIELDS[lname_4]
            t_s = tint(first(fr, pf + ".srcport")) if tshown else None
            t_d = tint(first(fr, pf + ".dstport")) if tshown else None
            check_equal(pf + ".srcport", t_s, r_s, ctx)
            check_equal(pf + ".dstport", t_d, r_d, ctx)
            if t_s is None or t_d is None:
                st.add("reconciled: %s ports read from bytes (layer after IP: %s)" % (lname_4, l4_layer))
            sport, dport = r_s, r_d
        else:
            st.add("l4_truncated: ports (%d L4 bytes)" % avail)
        if proto == 6:
            if avail >= 14:
                r_f = raw[l4 + 13]
                t_f = tint(first(fr, "tcp.flags")) if tshown else None
                t_f = None if t_f is None else t_f & 0xFF
                check_equal("tcp.flags", t_f, r_f, ctx)
                if t_f is None:
                    st.add("reconciled: tcp flags read from bytes")
                flags = r_f
            else:
                st.add("l4_truncated: tcp flags (%d L4 bytes)" % avail)
    elif proto in (1, 58):
        lname_4 = "icmp" if proto == 1 else "icmpv6"
        if avail >= 4:
            r_t, r_c = raw[l4], raw[l4 + 1]
            tshown = l4_layer == lname_4
            t_t = tint(first(fr, lname_4 + ".type")) if tshown else None
            t_c = tint(first(fr, lname_4 + ".code")) if tshown else None
            check_equal(lname_4 + ".type", t_t, r_t, ctx)
            check_equal(lname_4 + ".code", t_c, r_c, ctx)
            if t_t is None or t_c is None:
                st.add("reconciled: %s type/code read from bytes (layer after IP: %s)" % (lname_4, l4_layer))
            dport = r_t * 256 + r_c
        else:
            st.add("l4_truncated: icmp type/code (%d L4 bytes)" % avail)
    out.update(src_port=sport, dst_port=dport, flags=flags)
    return out


def mode_of(counter):
    best = max(counter.values())
    val = min(k for k, v in counter.items() if v == best)
    return val, best


def aggregate(pkts, window_ns):
    """pkts: list of (ts_ns, fields). Returns the CSV text."""
    if not pkts:
        wins = {}
    elif window_ns:
        wins = {}
        for ts, f in pkts:
            ws = (ts // window_ns) * window_ns
            wins.setdefault((ws, ws + window_ns), []).append(f)
    else:
        lo = min(ts for ts, _ in pkts)
        hi = max(ts for ts, _ in pkts)
        wins = {(lo, hi): [f for _, f in pkts]}
    lines = [",".join(COLUMNS)]
    for (ws, we) in sorted(wins):
        by_src = collections.defaultdict(list)
        for f in wins[(ws, we)]:
            by_src[f["src"]].append(f)
        for src in sorted(by_src):
            fl = by_src[src]
            fam = socket.AF_INET if src[0] == 4 else socket.AF_INET6
            row = [fmt_ts(ws), fmt_ts(we), socket.inet_ntop(fam, src[1]), str(len(fl))]
            for name in AGG_FIELDS:
                c = collections.Counter(f[name] for f in fl)
                val, n = mode_of(c)
                if name == "dst_ip":
                    val = socket.inet_ntop(fam, val)
                row += [str(len(c)), str(val), str(n)]
            lines.append(",".join(row))
    return "".join(l + "\r\n" for l in lines)


def parse_window(s):
    if s is None:
        return 0
    ns = parse_decimal_ns(s)
    if ns <= 0:
        raise RefError("window must be > 0")
    return ns


def check_version(tshark):
    """The WTAP_ENCAP numbers above are tshark 4.0's; warn on another version."""
    rc, out, _ = run([tshark, "--version"])
    first_line = out.decode("utf-8", "replace").split("\n", 1)[0]
    if not re.search(r"\b4\.0\.\d+", first_line):
        print("tshark_agm: warning: written for tshark 4.0, running %r; check the "
              "WTAP_ENCAP numbers" % first_line, file=sys.stderr)


def reference(path, window_ns, tshark="tshark"):
    """Returns (csv_text, exit_status, stats)."""
    st = Stats()
    rc1, frames, err1 = read_fields(tshark, path)
    rc2, layers, err2 = read_layers(tshark, path)
    if len(layers) != len(frames):
        raise RefError("%s: %d frames from -T fields, %d from -T json" % (path, len(frames), len(layers)))
    pkts = []
    for fr, (num, raw, lay) in zip(frames, layers):
        if str(num) != fr["frame.number"][0]:
            raise RefError("frame numbers out of step: %s vs %s" % (num, fr["frame.number"]))
        st.add("frames")
        d = decode(fr, raw, lay, st)
        if d is None:
            continue
        if not fr["frame.time_epoch"]:
            # pcapng Simple Packet Blocks carry no time; agm.md cannot place them.
            raise RefError("frame %s counts but has no timestamp" % num)
        st.add("counted")
        pkts.append((parse_decimal_ns(fr["frame.time_epoch"][0]), d))
    status = 0
    if rc1 != 0 or rc2 != 0 or DAMAGE_RE.search(err1):
        if not frames and not DAMAGE_RE.search(err1):
            raise RefError("tshark failed on %s: %s" % (path, err1.strip()))
        status = 3
        st.add("input damaged: " + " | ".join(err1.strip().splitlines())[:200])
    return aggregate(pkts, window_ns), status, st


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-r", required=True, metavar="FILE")
    ap.add_argument("-w", metavar="SECONDS")
    ap.add_argument("-o", metavar="OUT.csv")
    ap.add_argument("--tshark", default=os.environ.get("TSHARK", "tshark"))
    ap.add_argument("--explain", action="store_true",
                    help="print per-reason frame counts and reconciliations on stderr")
    a = ap.parse_args(argv)
    check_version(a.tshark)
    try:
        text, status, st = reference(a.r, parse_window(a.w), a.tshark)
    except (RefError, OSError) as e:
        print("tshark_agm: %s" % e, file=sys.stderr)
        return 1
    if a.o:
        with open(a.o, "w", newline="") as fp:
            fp.write(text)
    else:
        sys.stdout.write(text)
    if a.explain:
        for k, v in sorted(st.c.items()):
            print("  %8d  %s" % (v, k), file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
