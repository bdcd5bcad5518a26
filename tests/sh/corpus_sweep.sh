#!/usr/bin/env bash
# The whole capture corpus in one run (every file, including the malformed,
# truncated and exotic ones): no crash, no hang, no sanitizer report (under
# `make asan` this binary is built with ASan + UBSan), every file accounted
# for as read cleanly or bad, and every frame in exactly one bucket.
. "$NETAGM_SRC/tests/lib.sh"
[ -d "$NETAGM_PCAPS" ] || { echo "corpus not found at $NETAGM_PCAPS"; exit 1; }
nfiles=$(find "$NETAGM_PCAPS" -type f ! -name '.*' | wc -l)
for j in 1 2; do
    timeout 900 "$NETAGM" agm -q -j $j -w 60 -r "$NETAGM_PCAPS" -o "$TMP/sweep$j.csv" \
        --stats-json "$TMP/st$j.json" 2> "$TMP/err$j.txt"
    rc=$?
    check "-j $j: exit status 0 or 3 (got $rc)" bash -c "[ $rc -eq 0 ] || [ $rc -eq 3 ]"
    check "-j $j: no sanitizer report" bash -c "! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' '$TMP/err$j.txt'"
    check "-j $j: every file accounted for" python3 - "$TMP/st$j.json" "$nfiles" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
print("files_ok", s["files_ok"], "files_bad", s["files_bad"], "of", n,
      "frames", s["frames"], "counted", s["counted"])
ok = s["files_ok"] + s["files_bad"] == n
tot = s["counted"] + sum(s["skipped"].values()) + s["filtered_bpf"] + s["filtered_proto"]
sys.exit(0 if ok and tot == s["frames"] and s["counted"] > 100000 else 1)
PY
    check "-j $j: one error line per bad file" python3 - "$TMP/st$j.json" "$TMP/err$j.txt" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
lines = [l for l in open(sys.argv[2], errors="replace") if l.startswith("netagm: ")]
sys.exit(0 if len(lines) == s["files_bad"] else 1)
PY
done
check "-j 1 and -j 2 give identical rows over the corpus" cmp -s "$TMP/sweep1.csv" "$TMP/sweep2.csv"
finish
