#!/usr/bin/env bash
# Benchmark of the analysis (not part of make test):
#   tests/ml/bench_ml.sh [BUILD_DIR] [N] [METHOD]
# builds tests/ml/bench_ml.c against BUILD_DIR/libnetagm.a (default: build)
# and trains on N synthetic sources (default 1,000,000) with METHOD
# (default bisecting).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-$ROOT/build}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cc -std=c11 -O2 -D_GNU_SOURCE -I"$ROOT/include" -I"$ROOT/src" "$ROOT/tests/ml/bench_ml.c" \
    "$B/libnetagm.a" $(pkg-config --libs libpcap zlib libzstd libcjson) -lsnappy -ldl \
    -lpthread -lm -o "$OUT/bench_ml"
"$OUT/bench_ml" "${2:-1000000}" "${3:-bisecting}"
