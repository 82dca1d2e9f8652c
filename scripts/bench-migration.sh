#!/usr/bin/env bash
# The migration CLI against the raw clients, on one PostgreSQL server and on
# SQLite: `up` on an empty database against `psql -1 -f` of the same schema
# and rows (the script `upgrade head --sql` prints), `current` against a
# `psql` select, each with TLS as the server offers it and with
# `sslmode=disable`; `up` on a new SQLite file against `sqlite3` reading the
# same script. Runs alternate (migration, client, migration, ...) and each
# ratio is taken pair by pair; the medians are printed, with the CLI's peak
# memory.
#
# usage: scripts/bench-migration.sh [RUNS]
#   BENCH_POSTGRES_URL  server to use (default postgres://postgres@127.0.0.1:5432);
#                       it creates and drops databases named dms_bench_*.
# needs: psql, sqlite3, /usr/bin/time (GNU time).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-10}
server=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
server=${server%/}

for tool in psql sqlite3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing (install it, then run again)" >&2; exit 1; }
done

cargo build --release --quiet -p migration
bin=$PWD/target/release/migration
work=$(mktemp -d)
cleanup() {
  psql -q -d "$server/postgres" -Atc "SELECT 'DROP DATABASE IF EXISTS ' || datname || ';' FROM pg_database WHERE datname LIKE 'dms_bench_%'" 2>/dev/null \
    | psql -q -d "$server/postgres" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

fresh_pg() { psql -q -d "$server/postgres" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null 2>&1; }

# One timed run: wall seconds (bash's clock, microseconds) and peak KiB (GNU time).
timed() {
  local start end
  start=$EPOCHREALTIME
  /usr/bin/time -f %M -o "$work/peak" "$@" >/dev/null 2>"$work/err" || {
    echo "error: '$*' failed: $(tail -n 1 "$work/err") (fix it, then run again)" >&2
    exit 1
  }
  end=$EPOCHREALTIME
  echo "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.6f", e - s }') $(tail -n 1 "$work/peak")"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The scripts the raw clients run: the chain's own SQL, bookkeeping included.
# psql -1 wraps it in one transaction, so the per-revision BEGIN/COMMIT go.
"$bin" -u "$server/x" upgrade head --sql | grep -Ev '^(BEGIN|COMMIT);$' > pg.sql
"$bin" -u "sqlite://x.db" upgrade head --sql > sqlite.sql
echo "SELECT version_num FROM alembic_version;" > current.sql

printf '%-34s %12s %12s %8s %10s\n' "what (median of $runs pairs)" "migration" "raw client" "ratio" "CLI peak"

# bench NAME PREPARE_A A PREPARE_B B: A and B are commands with {} for the run number.
bench() {
  local name=$1 prep_a=$2 a=$3 prep_b=$4 b=$5 i ta tb
  : > a.txt; : > b.txt; : > ratio.txt; : > peak.txt
  for i in $(seq 0 "$runs"); do
    eval "${prep_a//\{\}/$i}"
    read -r ta pa <<< "$(timed ${a//\{\}/$i})"
    eval "${prep_b//\{\}/$i}"
    read -r tb _ <<< "$(timed ${b//\{\}/$i})"
    # Run 0 warms the caches and is not counted.
    if [ "$i" -gt 0 ]; then
      echo "$ta" >> a.txt; echo "$tb" >> b.txt; echo "$pa" >> peak.txt
      awk -v a="$ta" -v b="$tb" 'BEGIN { printf "%.4f\n", a / b }' >> ratio.txt
    fi
  done
  printf '%-34s %10.3f s %10.3f s %7.2fx %7.1f MiB\n' "$name" \
    "$(median < a.txt)" "$(median < b.txt)" "$(median < ratio.txt)" \
    "$(sort -g peak.txt | tail -n 1 | awk '{ print $1 / 1024 }')"
}

for mode in tls plain; do
  query=""; label="TLS as offered"
  if [ "$mode" = plain ]; then query="?sslmode=disable"; label="sslmode=disable"; fi
  bench "PostgreSQL up, $label" \
    "fresh_pg dms_bench_a{}" "$bin -u $server/dms_bench_a{}$query up" \
    "fresh_pg dms_bench_b{}" "psql -q -1 -v ON_ERROR_STOP=1 -d $server/dms_bench_b{}$query -f pg.sql"
  bench "PostgreSQL current, $label" \
    ":" "$bin -u $server/dms_bench_a1$query current" \
    ":" "psql -d $server/dms_bench_a1$query -At -f current.sql"
done
bench "SQLite up, new file" \
  ":" "$bin -u sqlite://$work/a{}.db?mode=rwc up" \
  ":" "sqlite3 -bail -init sqlite.sql $work/b{}.db .quit"
