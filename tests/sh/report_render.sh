#!/usr/bin/env bash
# The HTML report renders in a real browser: headless Chromium draws it into a
# PNG without network access, and the picture is not blank (it has ink, and
# the report's chart colours). Skipped, saying so, where Chromium is absent.
. "$NETAGM_SRC/tests/lib.sh"
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROME" ]; then
    echo "SKIP: Chromium is not installed (Debian: apt-get install chromium); the report was not rendered"
    exit 0
fi
F="$NETAGM_PCAPS/RIPE-NCC__hadoop-pcap/hadoop-pcap-lib/src/test/resources/reversedtest.pcap"
[ -f "$F" ] || F="$NETAGM_SRC/data/sample.pcap"
"$NETAGM" analyze -q -r "$F" --out "$TMP/r"
check "analyze writes report.html" test -s "$TMP/r/report.html"

# Half scale keeps the PNG small enough for a pure-python check.
timeout 180 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --disable-extensions \
    --user-data-dir="$TMP/profile" --window-size=1100,2600 --force-device-scale-factor=0.5 \
    --hide-scrollbars --screenshot="$TMP/report.png" "file://$TMP/r/report.html" \
    > "$TMP/chrome.log" 2>&1
rc=$?
check "Chromium rendered the report (exit $rc)" test $rc -eq 0 -a -s "$TMP/report.png"
[ $rc -eq 0 ] || tail -5 "$TMP/chrome.log"
if [ -s "$TMP/report.png" ]; then
    /usr/bin/python3 "$NETAGM_SRC/tests/ml/png.py" check "$TMP/report.png"
    check "the rendered report is not blank and shows the charts' colours" test $? -eq 0
fi
finish
