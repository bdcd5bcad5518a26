# Shared setup of the MPI script tests (sourced by tests/sh/mpi*.sh; not a
# test itself). Exits 77 (reported as skipped) when MPI tests cannot run.
. "$NETAGM_SRC/tests/lib.sh"

mpi_skip() {
    echo "SKIP: $*"
    exit 77
}
[ "${NETAGM_HAVE_MPI:-0}" = 1 ] || mpi_skip "netagm was built without MPI support (no MPI C library found by CMake)"
MPIRUN=${NETAGM_MPIEXEC:-}
[ -n "$MPIRUN" ] && [ -x "$MPIRUN" ] || MPIRUN=$(command -v mpirun || true)
[ -n "$MPIRUN" ] || mpi_skip "no mpirun in PATH"

MPI_IS_OMPI=0
"$MPIRUN" --version 2>&1 | grep -qiE "open ?mpi|openrte|open-mpi" && MPI_IS_OMPI=1

# Open MPI, through its environment so the commands stay launcher-neutral:
# allow root (containers, CI), more ranks than cores, and no cross-memory
# attach (often forbidden by container seccomp/ptrace rules).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# Under AddressSanitizer, LeakSanitizer reports Open MPI's own allocations
# that live until exit: leak checking is off for processes started by the
# launcher only (mpi_env); every run without it keeps it.
MPI_ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
mpi_env() { ASAN_OPTIONS=$MPI_ASAN_OPTIONS "$@"; }

# The launcher itself must work here (netagm version does not touch MPI).
if ! probe=$(mpi_env timeout 60 "$MPIRUN" -np 2 "$NETAGM" version 2>&1); then
    mpi_skip "$MPIRUN cannot start 2 processes here: $(echo "$probe" | head -5)"
fi

# mpi NP ARGS...: run netagm ARGS on NP ranks, bounded in time.
MPI_TIMEOUT=${MPI_TIMEOUT:-120}
mpi() {
    local np=$1
    shift
    mpi_env timeout "$MPI_TIMEOUT" "$MPIRUN" -np "$np" "$NETAGM" "$@"
}

# corpus_quarter DIR: fill DIR with links to a fixed quarter of the corpus
# (by checksum): pcap, pcapng, nanosecond pcap, gzip, IPv4 and IPv6, and a
# few files that are not captures at all. One -r DIR then stands for ~660
# files (some launchers fail on command lines of a thousand arguments).
corpus_quarter() {
    mkdir -p "$1"
    awk -F'\t' -v d="$NETAGM_PCAPS" 'NR > 1 && $9 ~ /^[0-3]/ { print d "/" $1 }' \
        "$NETAGM_PCAPS/INVENTORY.tsv" | {
        local i=0 f
        while IFS= read -r f; do
            i=$((i + 1))
            ln -s "$f" "$1/$(printf '%04d' $i)-${f##*/}"
        done
    }
    [ "$(ls "$1" | wc -l)" -gt 500 ] || { echo "corpus missing under $NETAGM_PCAPS"; exit 1; }
}
