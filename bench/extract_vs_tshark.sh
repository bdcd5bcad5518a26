#!/usr/bin/env bash
# Benchmark (not a test): `netagm extract` to Parquet with zstd against the
# pipeline it replaces, `tshark -T json | gzip`, on one page-cached capture.
# Prints wall and CPU time (user + system, all processes) and output sizes.
# The goal: extract at least 100x faster, and no larger than the gzipped JSON.
#
# usage: bench/extract_vs_tshark.sh [NETAGM [CAPTURE]]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
NETAGM=${1:-$here/build/netagm}
CAP=${2:-$here/../shared/data/pcaps/lucaderi__sgr/2011-2020/2020/Colella/distribooze/pcaps/instagram.pcap}
command -v tshark >/dev/null || { echo "tshark is needed" >&2; exit 1; }
[ -x "$NETAGM" ] && [ -r "$CAP" ] || { echo "usage: $0 NETAGM CAPTURE" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat "$CAP" >/dev/null # page cache
python3 - "$NETAGM" "$CAP" "$T" <<'PY'
import os, resource, subprocess, sys, time
netagm, cap, tmp = sys.argv[1:4]
def best(cmd, runs):
    w_best = c_best = float("inf")
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, shell=True, check=True, stderr=subprocess.DEVNULL)
        w = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        c = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
        w_best, c_best = min(w_best, w), min(c_best, c)
    return w_best, c_best
pq, js = f"{tmp}/p.parquet", f"{tmp}/p.json.gz"
nw, nc = best(f"'{netagm}' extract -q -r '{cap}' -o '{pq}' --compression zstd", 10)
tw, tc = best(f"tshark -r '{cap}' -T json | gzip > '{js}'", 3)
ps, jsz = os.path.getsize(pq), os.path.getsize(js)
print(f"capture: {cap} ({os.path.getsize(cap)} bytes)")
print(f"netagm extract --compression zstd  wall {nw*1e3:8.1f} ms  cpu {nc*1e3:8.1f} ms  {ps:>10} bytes")
print(f"tshark -T json | gzip              wall {tw*1e3:8.1f} ms  cpu {tc*1e3:8.1f} ms  {jsz:>10} bytes")
print(f"speed-up: wall {tw/nw:.0f}x, cpu {tc/nc:.0f}x; Parquet is {ps/jsz:.4f} of the gzipped JSON")
PY
