# Sourced by the tests that read Parquet back with DuckDB, an independent
# reader (@duckdb/node-api, pinned in tests/duckdb/package-lock.json).
#
# duckdb_setup installs it once per build directory into $NETAGM_BUILD/duckdb
# (reinstalling when the pinned files change; concurrent tests wait on a lock),
# exports NODE_PATH, and defines $DUCKDB_JS (the scripts' folder).
# Reading back is a hard requirement: a missing node/npm, a failed install or a
# DuckDB that does not load FAILS the test. Only when the npm registry itself
# cannot be reached does the test print SKIPPED and exit 0.

duckdb_setup() {
    local src="${NETAGM_SRC:?NETAGM_SRC not set}/tests/duckdb"
    local dir="${NETAGM_BUILD:?NETAGM_BUILD not set}/duckdb"
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        echo "FAIL: node and npm are needed to read Parquet back with DuckDB" >&2
        exit 1
    fi
    mkdir -p "$dir"
    local want rc=0
    want=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)
    (
        flock 9
        if [ "$(cat "$dir/.installed" 2>/dev/null)" != "$want" ]; then
            rm -f "$dir/.installed"
            cp "$src/package.json" "$src/package-lock.json" "$dir/"
            if ! npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >"$dir/npm.log" 2>&1; then
                if ! timeout 60 npm ping >/dev/null 2>&1; then
                    exit 77
                fi
                cat "$dir/npm.log" >&2
                exit 1
            fi
            echo "$want" >"$dir/.installed"
        fi
    ) 9>"$dir/.lock" || rc=$?
    if [ "$rc" = 77 ]; then
        echo "SKIPPED: the npm registry is unreachable; Parquet files were not read back with DuckDB"
        exit 0
    elif [ "$rc" != 0 ]; then
        echo "FAIL: could not install @duckdb/node-api into $dir (npm output above)" >&2
        exit 1
    fi
    export NODE_PATH="$dir/node_modules"
    if ! node -e 'require("@duckdb/node-api")'; then
        echo "FAIL: @duckdb/node-api is installed in $dir but does not load" >&2
        exit 1
    fi
    DUCKDB_JS="$src"
}
