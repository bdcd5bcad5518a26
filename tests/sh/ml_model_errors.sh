#!/usr/bin/env bash
# netagm apply with a damaged, mismatched or missing model file: exit 1 and a
# message that says what is wrong, never a crash or a half-written output.
. "$NETAGM_SRC/tests/lib.sh"
S="$NETAGM_SRC/data/sample.pcap"
[ -f "$S" ] || { echo "missing $S"; exit 1; }

"$NETAGM" analyze -q -r "$S" --out "$TMP/r" --save-agm --no-report
M="$TMP/r/model.json"
A="$TMP/r/agm.csv"
check "a good model applies" "$NETAGM" apply -q --model "$M" --agm "$A" -o "$TMP/ok.csv"

expect() { # expect NAME MODEL-FILE "message part"
    "$NETAGM" apply -q --model "$2" --agm "$A" -o "$TMP/out-$1.csv" 2> "$TMP/$1.err"
    local rc=$?
    check "$1: exit 1" test $rc -eq 1
    check "$1: no output written" test ! -s "$TMP/out-$1.csv"
    if grep -q -- "$3" "$TMP/$1.err"; then ok "$1: says '$3'"; else bad "$1: message was: $(cat "$TMP/$1.err")"; fi
}

expect missing "$TMP/nope.json" "nope.json: No such file"
head -c 3000 "$M" > "$TMP/trunc.json"
expect truncated "$TMP/trunc.json" "not valid JSON at line"
printf '\x00\x01binary' > "$TMP/bin.json"
expect binary "$TMP/bin.json" "not valid JSON"
echo '{"format": "something-else", "version": 1}' > "$TMP/other.json"
expect not-a-model "$TMP/other.json" "not a netagm model"
sed 's/"version":[[:space:]]*1,/"version":\t99,/' "$M" > "$TMP/v99.json"
expect wrong-version "$TMP/v99.json" "model version 99 is not supported (this netagm reads version 1)"
/usr/bin/python3 - "$M" "$TMP" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
d = sys.argv[2]
def dump(name, obj):
    json.dump(obj, open("%s/%s.json" % (d, name), "w"))
a = json.loads(json.dumps(m)); a["scaler"]["std"] = a["scaler"]["std"][:-1]; dump("short", a)
a = json.loads(json.dumps(m)); a["encoding"]["onehot"][2]["k"] = 17; dump("dims", a)
a = json.loads(json.dumps(m)); a["clustering"]["centers"][0][3] = "x"; dump("nonnum", a)
a = json.loads(json.dumps(m)); a["clustering"]["tree"][1]["parent"] = 2; dump("tree", a)
a = json.loads(json.dumps(m)); del a["pca"]["components"]; dump("nopca", a)
a = json.loads(json.dumps(m)); a["clustering"]["space"] = "pcs"; dump("space", a)
a = json.loads(json.dumps(m)); a["pca"]["n_components"] = 60; dump("ncomp", a)
PY
expect short-vector "$TMP/short.json" "scaler.std has 50 values, expected 51"
expect dims "$TMP/dims.json" "encoding.dim is 51 but the fields give 52 columns"
expect non-number "$TMP/nonnum.json" "clustering.centers\[0\]\[3\] must be a finite number"
expect bad-tree "$TMP/tree.json" "clustering.tree\[1\]"
expect missing-part "$TMP/nopca.json" "pca.components"
expect wrong-space "$TMP/space.json" "clustering.dim is 51, but the principal component space has 3"
expect too-many-pcs "$TMP/ncomp.json" "pca.n_components must be an integer in 1..51"
finish
