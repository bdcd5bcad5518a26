#!/usr/bin/env bash
# PostgreSQL sink against a real server (Debian's postgresql) that the test
# creates with initdb in a temporary directory and runs on a free loopback
# port: every window's rows equal batch; the table and netagm_windows are
# created; the server is stopped mid-run and started again, and no window is
# missing or written twice; a buffer that overflows while the server is down
# is counted and reported.
. "$NETAGM_SRC/tests/lib.sh"
P=$NETAGM_PCAPS
F="$P/RIPE-NCC__hadoop-pcap/hadoop-pcap-lib/src/test/resources/reversedtest.pcap"
[ -f "$F" ] || { echo "missing corpus file $F"; exit 1; }
PGBIN=/usr/lib/postgresql/15/bin
[ -x "$PGBIN/initdb" ] || { echo "PostgreSQL 15 server binaries not found in $PGBIN"; exit 1; }
command -v psql >/dev/null || { echo "psql is needed"; exit 1; }

PGDIR=$(mktemp -d /tmp/netagm-pg.XXXXXX)
PIDS=()
AS=()
if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$PGDIR"
    AS=(runuser -u postgres --) # initdb refuses to run as root
fi
pgctl() { "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" "$@"; }
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    pgctl stop -m immediate >/dev/null 2>&1
    rm -rf "$PGDIR" "$TMP"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${AS[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres --no-sync >/dev/null 2>&1
check "initdb in a temporary directory" test -f "$PGDIR/data/PG_VERSION"
start_pg() { # the server must not inherit the FIFO's write end (fd 7)
    pgctl -w -t 30 -o "-c listen_addresses=127.0.0.1 -p $PORT -k $PGDIR -c fsync=off" start \
        >/dev/null 7>&-
}
start_pg; check "server started on 127.0.0.1:$PORT" test $? -eq 0
export PGUSER=postgres PGHOST=127.0.0.1 PGPORT=$PORT PGDATABASE=postgres
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
URL="postgresql://127.0.0.1:$PORT/postgres"

# Rows of a table in the batch CSV text form, sorted.
dump() {
    q "COPY (SELECT to_char(window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
        to_char(window_end AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), host(src_ip), pkts,
        dst_ip_uniq, host(dst_ip_mode), dst_ip_mode_pkts, src_port_uniq, src_port_mode, src_port_mode_pkts,
        dst_port_uniq, dst_port_mode, dst_port_mode_pkts, ttl_uniq, ttl_mode, ttl_mode_pkts,
        proto_uniq, proto_mode, proto_mode_pkts, flags_uniq, flags_mode, flags_mode_pkts,
        len_uniq, len_mode, len_mode_pkts FROM $1) TO STDOUT WITH (FORMAT csv)" | sort
}
"$NETAGM" agm -q -r "$F" -w 10 -o "$TMP/batch.csv"
tail -n +2 "$TMP/batch.csv" | tr -d '\r' | sort > "$TMP/batch.sorted"
NB=$(wc -l < "$TMP/batch.sorted")
NW=$(cut -d, -f1 "$TMP/batch.sorted" | sort -u | wc -l)

# ---- a file into a new table ------------------------------------------------------------
timeout 60 "$NETAGM" stream -q -r "$F" -w 10 -o "$URL?table=agm"; rc=$?
check "stream into PostgreSQL: exit 0" test $rc -eq 0
dump agm > "$TMP/t1.sorted"
check "table created; rows equal batch ($NB rows)" cmp -s "$TMP/batch.sorted" "$TMP/t1.sorted"
check "one marker per window ($NW)" test "$(q "SELECT count(*) FROM netagm_windows WHERE tbl = 'agm'")" -eq "$NW"
check "markers count the rows" test "$(q "SELECT sum(nrows) FROM netagm_windows WHERE tbl = 'agm'")" -eq "$NB"
check "src_ip is inet, window_start timestamptz" \
    test "$(q "SELECT pg_typeof(src_ip)::text || ',' || pg_typeof(window_start)::text FROM agm LIMIT 1")" = "inet,timestamp with time zone"

# ---- with a model: cluster and distance columns, as netagm apply -----------------------
"$NETAGM" analyze -q -r "$F" -w 10 --out "$TMP/m" --no-report
"$NETAGM" apply -q --model "$TMP/m/model.json" -r "$F" -w 10 -o "$TMP/apply.csv"
timeout 60 "$NETAGM" stream -q -r "$F" -w 10 --model "$TMP/m/model.json" -o "$URL?table=scored"
q "COPY (SELECT host(src_ip), cluster, distance FROM scored) TO STDOUT WITH (FORMAT csv)" \
    | python3 -c '
import sys
for l in sys.stdin:
    ip, c, d = l.strip().split(",")
    print(ip, c, repr(float(d)), sep=",")' | sort > "$TMP/kp"
tail -n +2 "$TMP/apply.csv" | tr -d '\r' | python3 -c '
import sys
for l in sys.stdin:
    f = l.split(",")
    print(f[0], f[3], repr(float(f[4])), sep=",")' | sort > "$TMP/ka"
check "scored table: cluster and distance equal netagm apply ($(wc -l < "$TMP/ka") rows)" \
    bash -c "[ -s '$TMP/ka' ] && cmp -s '$TMP/ka' '$TMP/kp'"

# ---- server stopped mid-run and started again ---------------------------------------------
python3 - "$F" "$TMP/half1" "$TMP/half2" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
e = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
off, recs = 24, []
while off + 16 <= len(d):
    n = struct.unpack_from(e + "I", d, off + 8)[0]
    recs.append(off); off += 16 + n
cut = recs[len(recs) // 3]
open(sys.argv[2], "wb").write(d[:cut])
open(sys.argv[3], "wb").write(d[cut:])
PY
mkfifo "$TMP/fifo"
timeout 120 "$NETAGM" stream -r - -w 10 --idle-timeout 0 -o "$URL?table=agm2" -o "$TMP/out2.csv" \
    < "$TMP/fifo" > /dev/null 2> "$TMP/s2.err" &
SP=$!; PIDS+=($SP)
exec 7> "$TMP/fifo"
cat "$TMP/half1" >&7
for _ in $(seq 100); do [ "$(q "SELECT count(*) FROM netagm_windows WHERE tbl = 'agm2'" 2>/dev/null)" -ge 2 ] && break; sleep 0.1; done
W1=$(q "SELECT count(*) FROM netagm_windows WHERE tbl = 'agm2'")
check "windows written before the outage ($W1)" test "$W1" -ge 2
pgctl -m fast stop >/dev/null
cat "$TMP/half2" >&7            # windows close while the server is down
sleep 3
check "the run goes on while the server is down" kill -0 $SP
start_pg
exec 7>&-                        # end of input: the run ends once all is written
wait $SP; rc=$?
check "after the restart: exit 0" test $rc -eq 0
check "the outage was reported" grep -q "reconnecting\|cannot connect" "$TMP/s2.err"
dump agm2 > "$TMP/t2.sorted"
check "no window missing or written twice: rows equal batch" cmp -s "$TMP/batch.sorted" "$TMP/t2.sorted"
check "one marker per window after the outage" \
    test "$(q "SELECT count(*) FROM netagm_windows WHERE tbl = 'agm2'")" -eq "$NW"
check "no (window, source) twice" test "$(q "SELECT count(*) FROM (SELECT 1 FROM agm2 GROUP BY window_start, src_ip HAVING count(*) > 1) d")" -eq 0

# ---- overflow while the server is down ------------------------------------------------
rm -f "$TMP/fifo"; mkfifo "$TMP/fifo"
timeout 120 "$NETAGM" stream -q -r - -w 10 --idle-timeout 0 -o "$URL?table=agm3&buffer_rows=100" \
    < "$TMP/fifo" > /dev/null 2> "$TMP/s3.err" &
SP=$!; PIDS+=($SP)
exec 7> "$TMP/fifo"
sleep 0.5
pgctl -m fast stop >/dev/null
cat "$F" >&7
exec 7>&-
wait $SP; rc=$?
check "overflow: exit 1 (rows lost)" test $rc -eq 1
check "overflow: dropped windows counted and reported" grep -q "buffer full" "$TMP/s3.err"
check "overflow: unwritten windows named at the end" grep -q "not written\|dropped" "$TMP/s3.err"
start_pg

# ---- errors ---------------------------------------------------------------------------------
timeout 60 "$NETAGM" stream -q -r "$F" -o "$URL" 2> "$TMP/e1.err"; rc=$?
check "no table given: exit 1, explained" bash -c "[ $rc -eq 1 ] && grep -q 'table=NAME' '$TMP/e1.err'"
timeout 60 "$NETAGM" stream -q -r "$F" -o "$URL?table=x;drop" 2>/dev/null
check "a table name that is not an identifier is refused" test $? -eq 1
timeout 60 "$NETAGM" stream -q -r "$F" -o "postgresql://127.0.0.1:1/postgres?table=t" 2> "$TMP/e2.err"; rc=$?
check "server not reachable at start: exit 1 before any work" bash -c "[ $rc -eq 1 ] && grep -q '127.0.0.1' '$TMP/e2.err'"
finish
