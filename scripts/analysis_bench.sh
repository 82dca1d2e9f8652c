#!/usr/bin/env bash
# Benchmark of one analysis run (40-page DAO, 12 offers in PDF/Word/Excel, both
# templates): the Rust crate against the Python yardstick doing the same work with
# pypdf, python-docx and openpyxl. Prints wall time and peak memory of each, as
# whole processes (GNU time), over RUNS runs (default 5) after one warm-up.
#
#   pip install pypdf python-docx openpyxl   # once
#   scripts/analysis_bench.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
cargo build --release -q -p analysis --features fixtures --bin analysis-bench
BIN=target/release/analysis-bench
"$BIN" generate "$DIR" >/dev/null
measure() { # label, command...
  local label="$1"; shift
  "$@" >/dev/null # warm-up
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1
  done | sort -n | awk -v l="$label" '{t[NR]=$1; m[NR]=$2} END {
    printf "%-8s median wall %.3f s (min %.3f, max %.3f), median peak RSS %.1f MiB\n",
      l, t[int((NR+1)/2)], t[1], t[NR], m[int((NR+1)/2)]/1024 }'
}
echo "case: $(ls "$DIR"/offers | wc -l) offer documents, $(du -h "$DIR/dao.pdf" | cut -f1) DAO ($(nproc) cores)"
measure rust "$BIN" run "$DIR"
measure python python3 scripts/analysis_yardstick.py "$DIR"
