#!/usr/bin/env python3
"""Build data/sample.pcap, the capture `make demo` analyses.

usage: scripts/make_sample.py [--corpus DIR] [--out data/sample.pcap]

The packets are real packets of the test corpus (arkime's
tests/pcap/arkime_synthetic.pcap, Apache-2.0): one TCP SYN, SYN-ACK, ACK,
PSH-ACK and FIN-ACK, one UDP DNS query and one ICMP echo request serve as
templates. Each output packet is a template with its addresses, ports, TTL,
IP identification, IP total length and (for resets) flags rewritten, and
its IP checksum recomputed. Frames are cut at 80 bytes (snaplen), as a
header-only capture would store them; the IP length still says how long the
packet was.

The population, chosen with a fixed seed so every run writes the same file:
  horizontal scanners  SYN to one service port on many hosts (masscan/zmap style)
  vertical scanners    SYN to many ports of one or two hosts (nmap style)
  clients              TCP sessions to web, mail and ssh servers
  servers              the answers of those sessions
  backscatter          SYN-ACK / RST from victims of spoofed floods to random hosts
  RST responders       closed ports answering the scanners
  UDP and ICMP senders dropped by the default TCP-only analysis
Only python3's standard library is used.
"""
import argparse
import os
import random
import struct
import sys

SNAP = 80
BASE_TS = 1709287200  # 2024-03-01T10:00:00Z
SPAN = 600            # ten minutes


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        end = "<"
    elif magic == b"\xa1\xb2\xc3\xd4":
        end = ">"
    else:
        raise SystemExit("%s: not a classic microsecond pcap" % path)
    linktype = struct.unpack(end + "I", data[20:24])[0]
    pos, out = 24, []
    while pos + 16 <= len(data):
        ts, us, cap, wire = struct.unpack(end + "IIII", data[pos:pos + 16])
        out.append((linktype, data[pos + 16:pos + 16 + cap]))
        pos += 16 + cap
    return out


def templates(pkts):
    """First Ethernet/IPv4 packet of each kind."""
    found = {}
    for lt, fr in pkts:
        if lt != 1 or len(fr) < 34 or fr[12:14] != b"\x08\x00":
            continue
        ip = fr[14:]
        ihl = (ip[0] & 15) * 4
        if ip[0] >> 4 != 4 or ihl != 20 or struct.unpack(">H", ip[6:8])[0] & 0x3fff:
            continue
        proto = ip[9]
        l4 = ip[ihl:]
        kind = None
        if proto == 6 and len(l4) >= 20:
            flags = l4[13]
            hlen = (l4[12] >> 4) * 4
            plen = struct.unpack(">H", ip[2:4])[0] - ihl - hlen
            kind = {0x02: "syn", 0x12: "synack", 0x11: "finack"}.get(flags)
            if flags == 0x10 and plen == 0:
                kind = "ack"
            if flags == 0x18 and plen >= 100 and len(l4) >= hlen + 40:
                kind = "pshack"
            if kind and hlen != 20:
                kind = None  # keep the 20-byte header templates
        elif proto == 17 and len(l4) >= 8 and struct.unpack(">H", l4[2:4])[0] == 53:
            kind = "dns"
        elif proto == 1 and len(l4) >= 8 and l4[0] == 8:
            kind = "echo"
        if kind and kind not in found:
            found[kind] = fr
    missing = {"syn", "synack", "ack", "pshack", "finack", "dns", "echo"} - set(found)
    if missing:
        raise SystemExit("templates not found: %s" % ", ".join(sorted(missing)))
    return found


# TCP options of header-only packets longer than 40 bytes, by length: MSS
# (nmap's probe); NOP NOP timestamps (an ACK); MSS SACK-permitted
# timestamps NOP window-scale (a Linux SYN).
OPTIONS = {
    4: bytes.fromhex("020405b4"),
    12: bytes.fromhex("0101080a0000000100000000"),
    20: bytes.fromhex("020405b40402080a000000010000000001030307"),
}


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip4(s):
    return bytes(int(x) for x in s.split("."))


class Builder:
    def __init__(self, tpl, rng):
        self.tpl = tpl
        self.rng = rng
        self.frames = []  # (ts_us, seq, wirelen, bytes)
        self.ipid = 1

    def emit(self, ts_us, kind, src, dst, sport, dport, ttl, iplen=None, flags=None):
        fr = bytearray(self.tpl[kind])
        eth, ip = fr[:14], fr[14:]
        proto = ip[9]
        l4 = ip[20:]
        if proto == 6:
            hdr = bytearray(l4[:20])
            payload = bytes(l4[20:])
            struct.pack_into(">HH", hdr, 0, sport, dport)
            struct.pack_into(">I", hdr, 4, self.rng.getrandbits(32))
            if flags is not None:
                hdr[13] = flags
            if hdr[13] & 0x10 == 0:
                struct.pack_into(">I", hdr, 8, 0)
            opt = OPTIONS.get((iplen or 40) - 40) if not payload else None
            if opt:
                hdr[12] = (20 + len(opt)) // 4 << 4
                payload = opt
            l4 = bytes(hdr) + payload
            minlen = 40
        elif proto == 17:
            hdr = bytearray(l4[:8])
            struct.pack_into(">HH", hdr, 0, sport, dport)
            l4 = bytes(hdr) + bytes(l4[8:])
            minlen = 28
        else:
            l4 = bytes(l4)
            minlen = 28
        if iplen is None:
            iplen = 20 + len(l4)
        iplen = max(iplen, minlen)
        body = l4
        while 20 + len(body) < min(iplen, SNAP - 14):
            body += l4[minlen - 20:] or b"\0"  # repeat the template's payload
        body = body[:iplen - 20]
        iph = bytearray(ip[:20])
        struct.pack_into(">H", iph, 2, iplen)
        struct.pack_into(">H", iph, 4, self.ipid & 0xffff)
        self.ipid += 1
        iph[8] = ttl
        iph[12:16] = ip4(src)
        iph[16:20] = ip4(dst)
        struct.pack_into(">H", iph, 10, 0)
        struct.pack_into(">H", iph, 10, csum(bytes(iph)))
        frame = bytes(eth) + bytes(iph) + body
        wire = 14 + iplen
        self.frames.append((ts_us, len(self.frames), wire, frame[:SNAP]))

    def write(self, path):
        self.frames.sort()
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, SNAP, 1))
            for ts, _, wire, fr in self.frames:
                f.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(fr), wire))
                f.write(fr)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=os.path.join(root, "..", "shared", "data", "pcaps"))
    ap.add_argument("--out", default=os.path.join(root, "data", "sample.pcap"))
    a = ap.parse_args()
    src = os.path.join(a.corpus, "arkime__arkime", "tests", "pcap", "arkime_synthetic.pcap")
    if not os.path.exists(src):
        sys.exit("%s not found: give --corpus DIR (the test corpus of real captures)" % src)
    rng = random.Random(20240301)
    b = Builder(templates(read_pcap(src)), rng)

    def t():
        return BASE_TS * 1000000 + rng.randrange(SPAN * 1000000)

    def ephemeral():
        return rng.randrange(32768, 61000)

    internet = ["198.51.100.%d" % i for i in range(1, 255)] + \
               ["203.0.113.%d" % i for i in range(1, 255)] + \
               ["100.%d.%d.%d" % (64 + i // 4000, i // 250 % 16, i % 250 + 1) for i in range(4000)]
    rng.shuffle(internet)
    pool = iter(internet)
    inside = ["10.1.%d.%d" % (i // 250, i % 250 + 1) for i in range(3000)]
    servers = {"10.1.0.10": 443, "10.1.0.11": 443, "10.1.0.12": 80, "10.1.0.13": 80,
               "10.1.0.20": 25, "10.1.0.21": 22, "10.1.0.30": 443, "10.1.0.31": 8080}
    counts = {}

    # Horizontal scanners: one service, many hosts, fixed source port.
    scan_ports = [23, 23, 23, 22, 22, 445, 3389, 80, 8080, 2323, 5555, 6379, 443, 1433]
    for _ in range(130):
        s, port = next(pool), rng.choice(scan_ports)
        ttl = rng.choice([240, 241, 243, 246, 48, 50, 52, 112, 113, 116])
        sport = rng.choice([rng.randrange(1024, 65535), 54321, 61000, 40000])
        for h in rng.sample(inside, rng.choice([1, 1, 2, 3, 5, 8, 12, 20, 30, 45])):
            b.emit(t(), "syn", s, h, sport, port, ttl)
        counts["horizontal scanners"] = counts.get("horizontal scanners", 0) + 1
    # Vertical scanners: many ports of one or two hosts, nmap-like 44-byte SYNs.
    for _ in range(18):
        s, ttl = next(pool), rng.choice([37, 38, 44, 51, 58])
        sport = rng.randrange(33000, 65000)
        for h in rng.sample(inside[:40], rng.choice([1, 1, 2])):
            for p in rng.sample(range(1, 10000), rng.randrange(25, 110)):
                b.emit(t(), "syn", s, h, sport, p, ttl, iplen=44)
        counts["vertical scanners"] = counts.get("vertical scanners", 0) + 1
    # Clients and the servers answering them.
    srv = list(servers)
    for _ in range(170):
        c = rng.choice(inside[200:]) if rng.random() < 0.7 else next(pool)
        ttl = rng.choice([64, 64, 128, 128, 63, 127])
        for _ in range(rng.choice([1, 1, 2, 3])):
            sv = rng.choice(srv)
            port, cp = servers[sv], ephemeral()
            t0 = t()
            n = rng.randrange(2, 10)
            b.emit(t0, "syn", c, sv, cp, port, ttl, iplen=60)
            b.emit(t0 + 300, "synack", sv, c, port, cp, 64, iplen=60)
            b.emit(t0 + 600, "ack", c, sv, cp, port, ttl, iplen=52)
            for i in range(n):
                ts = t0 + 1000 + i * 20000
                b.emit(ts, "pshack", c, sv, cp, port, ttl, iplen=rng.randrange(100, 600))
                b.emit(ts + 400, "pshack", sv, c, port, cp, 64, iplen=rng.choice([1500, 1500, 1400, 900]))
                b.emit(ts + 800, "ack", c, sv, cp, port, ttl, iplen=52)
            b.emit(t0 + 1000 + n * 20000, "finack", c, sv, cp, port, ttl, iplen=52)
            b.emit(t0 + 1300 + n * 20000, "finack", sv, c, port, cp, 64, iplen=52)
        counts["clients"] = counts.get("clients", 0) + 1
    counts["servers"] = len(servers)
    # Backscatter: victims of spoofed SYN floods answer random addresses.
    for _ in range(70):
        s = next(pool)
        port = rng.choice([80, 443, 443, 53, 25])
        kind, fl = rng.choice([("synack", None), ("synack", None), ("ack", 0x14)])
        ttl = rng.choice([52, 57, 115, 116, 243])
        for _ in range(rng.randrange(1, 9)):
            b.emit(t(), kind, s, rng.choice(inside), port, rng.randrange(1024, 65535), ttl,
                   iplen=44 if kind == "synack" else 40, flags=fl)
        counts["backscatter"] = counts.get("backscatter", 0) + 1
    # Closed ports answering the scanners with resets.
    for h in rng.sample(inside[:200], 35):
        for _ in range(rng.randrange(1, 12)):
            b.emit(t(), "ack", h, rng.choice(internet[:300]), rng.choice(scan_ports),
                   rng.randrange(1024, 65535), 64, iplen=40, flags=0x14)
        counts["RST responders"] = counts.get("RST responders", 0) + 1
    # UDP and ICMP only: dropped by the TCP-only analysis.
    for _ in range(30):
        s = rng.choice(inside[500:])
        for _ in range(rng.randrange(1, 6)):
            if rng.random() < 0.6:
                b.emit(t(), "dns", s, "10.1.0.53", ephemeral(), 53, 64)
            else:
                b.emit(t(), "echo", s, rng.choice(inside), 0, 0, 64)
        counts["UDP/ICMP senders"] = counts.get("UDP/ICMP senders", 0) + 1

    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    b.write(a.out)
    size = os.path.getsize(a.out)
    print("%s: %d packets, %d bytes" % (a.out, len(b.frames), size))
    for k, v in counts.items():
        print("  %-20s %d" % (k, v))
    if size >= 1 << 20:
        sys.exit("the sample is %d bytes, over 1 MiB" % size)


if __name__ == "__main__":
    main()
